"""The month close in the browser, for billing users (``staff.roles.can_bill``).

Mounted at ``/desk/billing/``. Thin views: each parses the request, calls one service
or selector of ``billing.statements`` / ``billing.exports`` and renders; a BillingError
becomes a message on the page, never a 500. Every page is private and not cached.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from sportello.staff.roles import can_bill
from sportello.tickets.models import Ticket
from sportello.tickets.services import Actor

from . import exports, fatturapa
from . import statements as st
from .drafting import drafting_queued, drafting_running, drafting_status
from .errors import BillingError
from .models import NATURA_CHOICES, Statement, StatementLine
from .tasks import statements_draft_month
from .vat import totals


def billing_view(view):
    """Sign-in (the staff login) and the billing role; a customer or agent gets 403."""

    @never_cache
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.SPORTELLO_STAFF_LOGIN_URL)
        if not can_bill(request.user):
            raise PermissionDenied
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _period(request) -> date:
    value = request.GET.get("month") or request.POST.get("month")
    if not value:
        today = timezone.localdate()
        last = today.replace(day=1) - date.resolution
        return last.replace(day=1)
    try:
        return st.month_parse(value)
    except BillingError as exc:
        raise _BadMonth(str(exc))


class _BadMonth(Exception):
    pass


@billing_view
def month_close(request):
    """The months's organisations: drafts, issued statements, blockers; draft them."""
    try:
        period = _period(request)
    except _BadMonth as exc:
        messages.error(request, str(exc))
        return redirect("billing:month")
    if request.method == "POST":
        org = request.POST.get("organisation") or None
        if drafting_running(drafting_status(period)):
            messages.info(request, _("The drafts of this month are already being generated."))
        else:
            drafting_queued(period, Actor(user=request.user))
            statements_draft_month(
                period.isoformat(), int(org) if org and org.isdigit() else None, request.user.pk
            )
            messages.success(
                request,
                _("Drafts for %(month)s are being generated; the progress is shown below.")
                % {"month": period.strftime("%m/%Y")},
            )
        return redirect(f"{reverse('billing:month')}?month={period:%Y-%m}")
    drafting = drafting_status(period)
    rows = st.month_overview(period)
    return render(
        request,
        "billing/month.html",
        {
            "billing_page": "month",
            "period": period,
            "previous": (period - date.resolution).replace(day=1),
            "next": st.month_next(period),
            "rows": rows,
            "issued_count": sum(len(r.issued) for r in rows),
            "drafting": drafting,
            "polling": drafting_running(drafting),
        },
    )


@billing_view
def statement_detail(request, pk: int):
    """Review a draft (tickets, lines, explanations), change it, issue it; or read an
    issued statement and correct it with a note."""
    statement = get_object_or_404(Statement.objects.select_related("organisation"), pk=pk)
    actor = Actor(user=request.user)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            _act(request, statement, action, actor)
        except BillingError as exc:
            messages.error(request, str(exc))
        return redirect("billing:statement", pk=statement.pk)
    lines = list(statement.lines.select_related("ticket_row__ticket").order_by("position"))
    _net, _vat, summary = totals(lines)
    is_draft = statement.state == Statement.State.DRAFT
    return render(
        request,
        "billing/statement.html",
        {
            "statement": statement,
            "rows": list(statement.ticket_rows.select_related("ticket").order_by("ticket__number")),
            "lines": lines,
            "summary": summary,
            "blockers": st.statement_blockers(statement) if is_draft else [],
            "offered": st.provisional_tickets(statement.organisation, statement.period)
            if is_draft and statement.kind == Statement.Kind.INVOICE
            else [],
            "natura_choices": NATURA_CHOICES,
            "notes": list(statement.notes.order_by("number")),
            "audit": [_audit_row(entry) for entry in statement.audit.order_by("created_at", "pk")],
        },
    )


def _audit_actions() -> dict[str, str]:
    return {
        "draft_created": _("draft created"),
        "draft_rebuilt": _("draft rebuilt"),
        "ticket_added": _("ticket added"),
        "ticket_deferred": _("ticket moved to next month"),
        "line_added": _("manual line added"),
        "line_removed": _("manual line removed"),
        "issued": _("issued"),
    }


def _audit_row(entry) -> dict:
    def text(data: dict) -> str:
        return ", ".join(f"{key}: {value}" for key, value in data.items())

    return {
        "when": entry.created_at,
        "who": entry.actor_label,
        "what": _audit_actions().get(entry.action, entry.action),
        "before": text(entry.before),
        "after": text(entry.after),
    }


def _act(request, statement: Statement, action: str, actor: Actor) -> None:
    post = request.POST
    if action == "add_line":
        st.statement_line_add(
            statement=statement,
            description=post.get("description", ""),
            amount=post.get("amount", ""),
            reason=post.get("reason", ""),
            vat_percent=post.get("vat_percent") or None,
            natura=post.get("natura", ""),
            actor=actor,
        )
        messages.success(request, _("Line added."))
    elif action == "remove_line":
        line = get_object_or_404(StatementLine, pk=post.get("line"), statement=statement)
        st.statement_line_remove(line=line, actor=actor)
        messages.success(request, _("Line removed."))
    elif action == "defer":
        ticket = get_object_or_404(Ticket, pk=post.get("ticket"))
        deferral = st.ticket_defer(
            ticket=ticket, period=statement.period, actor=actor, reason=post.get("reason", "")
        )
        messages.success(
            request,
            _("Ticket %(number)s moved to %(month)s.")
            % {"number": ticket.number, "month": deferral.until.strftime("%m/%Y")},
        )
    elif action == "add_ticket":
        ticket = get_object_or_404(Ticket, pk=post.get("ticket"))
        st.statement_ticket_add(statement=statement, ticket=ticket, actor=actor)
        messages.success(request, _("Ticket %(number)s added.") % {"number": ticket.number})
    elif action == "redraft":
        st.statement_draft(
            organisation=statement.organisation, period=statement.period, actor=actor
        )
        messages.success(request, _("Draft rebuilt from the tickets."))
    elif action == "issue":
        issued = st.statement_issue(statement=statement, actor=actor)
        messages.success(
            request, _("Statement %(number)s issued.") % {"number": issued.display_number}
        )
    elif action in ("credit_note", "debit_note"):
        note = st.note_issue(
            statement=statement,
            kind=action,
            lines=[{"description": post.get("description", ""), "amount": post.get("amount", "")}],
            reason=post.get("reason", ""),
            actor=actor,
        )
        messages.success(request, _("Note %(number)s issued.") % {"number": note.display_number})
    else:
        messages.error(request, _("Unknown action."))


def _issued_or_404(pk: int) -> Statement:
    return get_object_or_404(
        Statement.objects.select_related("organisation", "corrects"),
        pk=pk,
        state=Statement.State.ISSUED,
    )


def _download(content: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@billing_view
def statement_pdf(request, pk: int):
    statement = _issued_or_404(pk)
    return _download(
        exports.statement_pdf(statement), exports.pdf_name(statement), "application/pdf"
    )


@billing_view
def statement_xml(request, pk: int):
    """The FatturaPA file, only when it validates; otherwise a page naming the element."""
    statement = _issued_or_404(pk)
    try:
        xml = fatturapa.render(statement)
    except fatturapa.FatturaPAInvalidError as exc:
        return render(
            request, "billing/invalid.html", {"statement": statement, "error": exc}, status=409
        )
    return _download(xml, fatturapa.file_name(statement), "application/xml")


@billing_view
def month_download(request, fmt: str):
    """The month's FatturaPA zip or CSV (``?excel=1``: ``;`` and decimal commas)."""
    try:
        period = _period(request)
    except _BadMonth as exc:
        messages.error(request, str(exc))
        return redirect("billing:month")
    statements = list(exports.issued(period))
    if fmt == "csv":
        excel = request.GET.get("excel") == "1"
        text = exports.statements_csv(statements, excel=excel)
        data = text.encode("utf-8-sig" if excel else "utf-8")
        return _download(data, f"addebiti-{period:%Y-%m}.csv", "text/csv; charset=utf-8")
    buffer = io.BytesIO()
    try:
        files = [(fatturapa.file_name(s), fatturapa.render(s)) for s in statements]
    except fatturapa.FatturaPAInvalidError as exc:
        return render(request, "billing/invalid.html", {"error": exc}, status=409)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, xml in files:
            zf.writestr(name, xml)
    return _download(buffer.getvalue(), f"fatturapa-{period:%Y-%m}.zip", "application/zip")
