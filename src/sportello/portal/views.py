"""Portal views: parse the request, call one selector or service, render (STYLE 2.1).

An htmx request (``HX-Request``) gets the partial of the thing it updates; the same
URLs work as plain links and forms without JavaScript.
"""

from __future__ import annotations

import logging
from functools import wraps

from allauth.account.views import ConfirmEmailView
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from sportello.core.hours import support_hours
from sportello.core.models import SupportSettings
from sportello.errors import SportelloError

from . import selectors, services
from .forms import (
    PER_PAGE_CHOICES,
    ContactRequestForm,
    RatingForm,
    ReplyForm,
    TicketFilterForm,
    TicketForm,
)

log = logging.getLogger(__name__)

# Id URLs check access before the method: a foreign id is 404 whatever the method.
SAFE_METHODS = ["GET", "HEAD"]


def _is_htmx(request) -> bool:
    # A history restore asks for the whole page, not the fragment.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _render(request, template, context, *, partial=None, status=200):
    name = partial if partial and _is_htmx(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def customer_required(view):
    """Signed in, with an approved customer account; otherwise the page saying why."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        contact = selectors.contact_for(request.user)
        if not selectors.account_is_active(contact):
            if kwargs:  # an id URL of an account that may see nothing: "not found"
                raise Http404
            return render(request, "portal/pending.html", {"contact": contact}, status=200)
        request.contact = contact
        return view(request, *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------
# Public pages


@require_GET
def support(request):
    context = selectors.support_overview(user=request.user)
    return render(request, "portal/support.html", context)


@require_GET
def init_notice(request):
    return render(request, "portal/init.html", selectors.support_overview(user=request.user))


@require_GET
def cookies(request):
    return render(request, "portal/cookies.html")


@require_GET
def privacy(request):
    return render(
        request,
        "portal/privacy.html",
        {"support": SupportSettings.load(), "version": settings.SPORTELLO_PRIVACY_VERSION},
    )


@require_http_methods(["GET", "POST"])
def contact(request):
    form = ContactRequestForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.consume(request, action="portal_contact_form"):
            return render(
                request, "portal/contact.html", {"form": form, "limited": True}, status=429
            )
        if form.honeypot_filled():
            log.info("contact form: honeypot filled, ignored")
            return redirect("portal:contact_sent")
        if form.is_valid():
            data = form.cleaned_data
            services.contact_request_file(
                name=data["name"],
                email=data["email"],
                message=data["message"],
                company=data["company"],
                phone=data["phone"],
            )
            return redirect("portal:contact_sent")
    return render(request, "portal/contact.html", {"form": form})


@require_GET
def contact_sent(request):
    return render(request, "portal/contact_sent.html")


# ---------------------------------------------------------------------------
# Tickets


@customer_required
@require_GET
def tickets(request):
    form = TicketFilterForm(request.GET or None)
    status = q = ""
    if form.is_valid():
        status, q = form.cleaned_data["status"], form.cleaned_data["q"]
    try:
        per_page = int(request.GET.get("per_page", PER_PAGE_CHOICES[0]))
    except ValueError:
        per_page = PER_PAGE_CHOICES[0]
    per_page = per_page if per_page in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]
    rows = selectors.ticket_list_for(user=request.user, status=status, q=q)
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "is_manager": selectors.is_manager(request.contact),
        "filtered": bool(status or q),
    }
    return _render(request, "portal/tickets.html", context, partial="portal/_ticket_rows.html")


@customer_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    form = TicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="portal_ticket_open", user=request.user):
            form.add_error(None, _("Too many requests in a short time: try again later."))
        else:
            data = form.cleaned_data
            try:
                ticket = services.portal_ticket_open(
                    user=request.user,
                    contact=request.contact,
                    subject=data["subject"],
                    description=data["description"],
                    category=data["category"],
                    priority=data["priority"],
                    uploads=data["attachments"],
                )
            except SportelloError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("portal:ticket_created", number=ticket.number)
    return render(request, "portal/ticket_new.html", {"form": form})


@customer_required
def ticket_created(request, number):
    ticket = selectors.ticket_get_for(user=request.user, number=number)
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    hours = support_hours(SupportSettings.load().support_windows)
    return render(request, "portal/ticket_created.html", {"ticket": ticket, "hours": hours})


def _ticket_context(request, ticket, **extra) -> dict:
    rating = getattr(ticket, "rating", None)  # select_related; missing -> None
    context = {
        "ticket": ticket,
        "conversation": selectors.conversation_for(ticket=ticket),
        "loose_attachments": selectors.loose_attachments_for(ticket=ticket),
        "charges": selectors.charges_for(user=request.user, ticket=ticket),
        "is_manager": selectors.is_manager(request.contact),
        "reply_form": ReplyForm(),
        "rating": rating,
        "rating_form": RatingForm(),
        "reopen_deadline": services.reopen_deadline(ticket),
        "can_reopen": services.can_reopen(ticket),
    }
    context.update(extra)
    return context


@customer_required
def ticket_detail(request, number):
    ticket = selectors.ticket_get_for(user=request.user, number=number)
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    return render(request, "portal/ticket.html", _ticket_context(request, ticket))


def _action(request, number):
    """Access first (a foreign ticket is 404 for any method), then the method."""
    ticket = selectors.ticket_get_for(user=request.user, number=number)
    if request.method != "POST":
        return ticket, redirect("portal:ticket", number=ticket.number)
    return ticket, None


@customer_required
def ticket_reply(request, number):
    ticket, early = _action(request, number)
    if early:
        return early
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        if not ratelimit.consume(request, action="portal_reply", user=request.user):
            form.add_error(
                None,
                _(
                    "You sent many replies in a short time: wait a few minutes and try "
                    "again, or write to us by e-mail."
                ),
            )
            context = _ticket_context(request, ticket, reply_form=form)
            return render(request, "portal/ticket.html", context, status=429)
        try:
            services.portal_reply(
                user=request.user,
                contact=request.contact,
                ticket=ticket,
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["attachments"],
            )
        except SportelloError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your reply has been added to the ticket."))
            return redirect(reverse("portal:ticket", args=[ticket.number]) + "#conversation-end")
    context = _ticket_context(request, ticket, reply_form=form)
    return render(request, "portal/ticket.html", context, status=400)


def _status_action(request, number, service, done_message):
    ticket, early = _action(request, number)
    if early:
        return early
    try:
        service(user=request.user, ticket=ticket)
    except SportelloError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done_message)
    return redirect("portal:ticket", number=ticket.number)


@customer_required
def ticket_close(request, number):
    return _status_action(
        request, number, services.portal_close, _("The ticket is closed. Thank you.")
    )


@customer_required
def ticket_reopen(request, number):
    return _status_action(request, number, services.portal_reopen, _("The ticket is open again."))


@customer_required
def ticket_rate(request, number):
    ticket, early = _action(request, number)
    if early:
        return early
    form = RatingForm(request.POST)
    error = None
    rating = None
    if form.is_valid():
        try:
            rating = services.portal_rate(
                user=request.user,
                ticket=ticket,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except SportelloError as exc:
            error = exc.message
    if _is_htmx(request):
        context = {"ticket": ticket, "rating": rating, "rating_form": form, "error": error}
        return _render(request, "portal/_rating.html", context, status=200 if rating else 400)
    if rating:
        messages.success(request, _("Thank you for your rating."))
    elif error:
        messages.error(request, error)
    else:
        messages.error(request, _("Choose a rating from 1 to 5."))
    return redirect(reverse("portal:ticket", args=[ticket.number]) + "#rating")


@customer_required
def attachment(request, number, pk):
    """Download an attachment: only raster images whose bytes match are shown inline."""
    item = selectors.attachment_get_for(user=request.user, number=number, pk=pk)
    if request.method not in SAFE_METHODS:
        return HttpResponseNotAllowed(SAFE_METHODS)
    handle = item.file.open("rb")
    head = handle.read(16)
    handle.seek(0)
    inline = services.attachment_is_safe_image(content_type=item.content_type, head=head)
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=item.filename,
        content_type=item.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@customer_required
@require_GET
def charges(request):
    months = selectors.charges_months_for(user=request.user)
    chosen = request.GET.get("mese", "")
    month = next((m for m in months if m.strftime("%Y-%m") == chosen), None)
    rows = selectors.charges_list_for(user=request.user, month=month)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/charges.html",
        {
            "page": page,
            "organisation": request.contact.organisation,
            "months": months,
            "month": month,
            "totals": selectors.charges_totals(rows),
            "query": f"mese={month:%Y-%m}" if month else "",
        },
    )


@login_required
@require_GET
def account(request):
    """The signed-in person's account: e-mail, password, two-factor authentication."""
    return render(
        request,
        "portal/account.html",
        {
            "contact": selectors.contact_for(request.user),
            "consents": selectors.consents_for(user=request.user),
        },
    )


class EmailConfirm(ConfirmEmailView):
    """allauth's confirmation page, telling an already used link from a broken one.

    allauth answers both with "expired or invalid"; a customer who opens the link a
    second time (a mail client that previews links does it too) should read that the
    address is confirmed and they can sign in.
    """

    template_name = "account/email_confirm.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["already_used"] = not self.object and selectors.email_confirmation_used(
            key=self.kwargs["key"]
        )
        return context


@customer_required
@require_GET
def prepaid_hours(request):
    """Prepaid hours of the organisation, for its contact-managers (403 for others)."""
    summary, movements = selectors.prepaid_for(user=request.user)
    return render(
        request,
        "portal/prepaid.html",
        {"organisation": request.contact.organisation, "summary": summary, "movements": movements},
    )
