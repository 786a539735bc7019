"""The territory's desk pages: "La mia agenda", visits planned from the ticket page and
closed from the agenda, the calendar feed's secret address; and the feed itself, which
a phone's calendar reads without a session (the token is the key).

Thin views (STYLE 2.1): parse the request, call one selector or service, render or
redirect back. The desk's own rules apply: a signed-out visitor goes to the desk's
login, a role that may not gets 403, an unknown object 404, and nothing is changed.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from sportello.core.localtime import parse_local_datetime
from sportello.errors import SportelloError
from sportello.staff import roles
from sportello.staff.models import Agent
from sportello.tickets.models import Ticket

from . import selectors, services
from .errors import TerritoryInputError, TerritoryPermissionError
from .ical import agenda_calendar, site_url
from .models import VisitKind

AGENDA_DAYS = 7


def staff_view(view):
    """Signed in (else the desk login) as an active staff role (else 403); private."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("desk:login"))
        if not roles.can_work_tickets(request.user):
            raise PermissionDenied
        try:
            response = view(request, *args, **kwargs)
        except TerritoryPermissionError:
            raise PermissionDenied
        except SportelloError as exc:
            messages.error(request, exc.message)
            response = _back(request, reverse("territory:agenda"))
        add_never_cache_headers(response)
        patch_cache_control(response, private=True, no_store=True)
        return response

    return wrapper


def _back(request, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return HttpResponseRedirect(target or default)


def _me(request) -> Agent:
    agent = roles.agent_for(request.user)
    if agent is None:
        # A superuser without an agent record has no agenda of their own.
        raise TerritoryPermissionError(_("Only a technician has an agenda."))
    return agent


def _start(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()


def _feed_url(token: str) -> str:
    return site_url() + reverse("territory:feed", args=[token])


def _agenda(request, *, new_token: str = "", status: int = 200):
    agent = _me(request)
    start = _start(request.GET.get("from", ""))
    today = timezone.localdate()
    feed_url = _feed_url(new_token) if new_token else ""
    context = {
        "agent": agent,
        "days": selectors.agenda_days(agent=agent, start=start, days=AGENDA_DAYS),
        "overdue": selectors.agenda_overdue(agent=agent, before=min(start, today)),
        "start": start,
        "today": today,
        "previous": (start - timedelta(days=AGENDA_DAYS)).isoformat(),
        "following": (start + timedelta(days=AGENDA_DAYS)).isoformat(),
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "feed": selectors.feed_of(agent=agent),
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else "",
    }
    return render(request, "territory/agenda.html", context, status=status)


@staff_view
@require_GET
def agenda(request):
    """La mia agenda: this week's visits of the signed-in technician, by day."""
    return _agenda(request)


@staff_view
@require_POST
def feed_token(request):
    """Issue a new secret address for the feed (the old one stops) or revoke it."""
    agent = _me(request)
    if request.POST.get("action") == "revoke":
        services.agenda_feed_revoke(agent=agent)
        messages.success(request, _("Calendar address revoked: it answers nobody from now on."))
        return HttpResponseRedirect(reverse("territory:agenda"))
    token = services.agenda_feed_issue(agent=agent)
    # Shown on this response only: the token is not stored, so it cannot be shown again.
    return _agenda(request, new_token=token)


def _minutes(value: str) -> int:
    value = (value or "").strip() or "60"
    if not value.isdigit():
        raise TerritoryInputError(
            _("Write the expected duration in whole minutes, e.g. 60."), field="duration_minutes"
        )
    return int(value)


def _km(value: str) -> Decimal | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        return Decimal(value).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise TerritoryInputError(_("Write the distance in km, e.g. 42,5."), field="km")


def _when(value: str, *, field: str, required: bool = True):
    moment = parse_local_datetime(value)
    if moment is None and (required or (value or "").strip()):
        raise TerritoryInputError(
            _("Write the date and the time, e.g. 04/12/2026 09:30."), field=field
        )
    return moment


@staff_view
@require_POST
def visit_schedule(request, pk: int):
    ticket = get_object_or_404(Ticket.objects.select_related("organisation"), pk=pk)
    back = reverse("desk:ticket", args=[pk]) + "#visits"
    value = request.POST.get("technician", "me")
    if value in ("", "me"):
        technician = _me(request)
    else:
        technician = get_object_or_404(Agent, pk=value) if value.isdigit() else None
        if technician is None:
            raise TerritoryInputError(_("Choose a technician from the list."), field="technician")
    kind = request.POST.get("kind", "")
    try:
        visit = services.visit_schedule(
            ticket=ticket,
            technician=technician,
            kind=kind,
            scheduled_at=_when(request.POST.get("scheduled_at", ""), field="scheduled_at"),
            duration_minutes=_minutes(request.POST.get("duration_minutes", "")),
            notes=request.POST.get("notes", ""),
            user=request.user,
        )
    except TerritoryPermissionError:
        raise
    except SportelloError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(
        request,
        _("%(kind)s planned for %(name)s.")
        % {"kind": str(VisitKind(visit.kind).label).capitalize(), "name": technician},
    )
    return HttpResponseRedirect(back)


@staff_view
@require_POST
def visit_done(request, pk: int):
    visit = selectors.visit_get_for(user=request.user, pk=pk)
    services.visit_done(
        visit=visit,
        user=request.user,
        started_at=_when(request.POST.get("started_at", ""), field="started_at", required=False),
        km=_km(request.POST.get("km", "")),
        notes=request.POST.get("notes", ""),
    )
    messages.success(request, _("Visit done: the leg is recorded on the ticket."))
    return _back(request, reverse("territory:agenda"))


@staff_view
@require_POST
def visit_cancel(request, pk: int):
    visit = selectors.visit_get_for(user=request.user, pk=pk)
    services.visit_cancel(visit=visit, user=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, _("Visit cancelled."))
    return _back(request, reverse("territory:agenda"))


@require_safe  # GET, and HEAD, which some calendar apps send before subscribing
def feed(request, token: str):
    """The technician's agenda for their phone: public, the token is the key. A wrong or
    revoked token is 404; the response sets no cookie and nothing may store it."""
    try:
        agent = selectors.feed_agent(token=token)
    except Http404:
        # Plain text: the site's 404 page has forms, whose CSRF token would set a cookie.
        response = HttpResponseNotFound(
            _("No such calendar: the address is wrong or was revoked."),
            content_type="text/plain; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        return response
    with translation.override(agent.language_code):
        body = agenda_calendar(
            agent=agent, visits=selectors.feed_visits(agent=agent), now=timezone.now()
        )
    services.agenda_feed_seen(agent=agent)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
