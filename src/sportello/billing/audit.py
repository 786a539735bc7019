"""The billing audit trail in one list: statements' ``BillingAudit`` rows and the ticket
events that change money (charges frozen or unfrozen, call-out fee waivers,
out-of-hours overrides and requests, billable marks).

Both tables stay append-only where they are; this module only reads them. The list is
one ``UNION ALL`` of the two, ordered newest first and paged in the database, so a page
costs the same on the first day and after years of entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import CharField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from sportello.tickets.models import TicketEvent

from .models import BillingAudit

# What a billing user filters by; each a set of BillingAudit actions or a ticket-event test.
CATEGORIES = ("statement", "manual_line", "bundle", "charge", "waiver", "override", "billable")

STATEMENT_ACTIONS = ("draft_created", "draft_rebuilt", "ticket_added", "ticket_deferred", "issued")
LINE_ACTIONS = ("line_added", "line_removed")
WAIVER_FIELDS = ("waive_call_fee", "waive_reason", "official_channels_possible")
BILLABLE_FIELDS = ("billable", "non_billable_reason")


def category_labels() -> dict[str, str]:
    return {
        "statement": _("statements and notes"),
        "manual_line": _("manual lines"),
        "bundle": _("prepaid hours"),
        "charge": _("charges frozen or repriced"),
        "waiver": _("call-out fee waivers"),
        "override": _("out-of-hours overrides"),
        "billable": _("billable or not"),
    }


def _has_any(prefix: str, keys) -> Q:
    q = Q()
    for key in keys:
        q |= Q(**{f"{prefix}__has_key": key})
    return q


def _event_q(category: str | None) -> Q | None:
    """Which ticket events belong to ``category`` (None: to any); None if none can."""
    billing = Q(kind=TicketEvent.Kind.BILLING)
    tests = {
        "charge": billing & Q(data__has_key="charges"),
        "waiver": billing & _has_any("data", WAIVER_FIELDS),
        "billable": billing & _has_any("data", BILLABLE_FIELDS),
        "override": (
            Q(
                kind__in=(TicketEvent.Kind.INTERVENTION, TicketEvent.Kind.INTERVENTION_CHANGED),
                data__has_key="out_of_hours_override",
            )
            | (billing & Q(data__has_key="out_of_hours_requested"))
        ),
    }
    if category is None:
        q = Q()
        for test in tests.values():
            q |= test
        return q
    return tests.get(category)


def _audit_q(category: str | None) -> Q | None:
    if category is None:
        return Q()
    if category == "statement":
        return Q(action__in=STATEMENT_ACTIONS) | Q(action__startswith="note")
    if category == "manual_line":
        return Q(action__in=LINE_ACTIONS)
    if category == "bundle":
        return Q(action__startswith="bundle") | Q(action__startswith="prepaid")
    return None


@dataclass(frozen=True)
class AuditFilter:
    category: str | None = None
    who: str = ""
    since: date | None = None
    until: date | None = None  # included
    ticket: str = ""


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def entries(flt: AuditFilter):
    """A queryset of ``{"source", "pk", "created_at"}`` rows, newest first."""
    audit_q, event_q = _audit_q(flt.category), _event_q(flt.category)
    common = Q()
    if flt.who:
        common &= Q(actor_label__icontains=flt.who.strip())
    if flt.since:
        common &= Q(created_at__gte=_day_start(flt.since))
    if flt.until:
        common &= Q(created_at__lt=_day_start(flt.until + date.resolution))
    parts = []
    if audit_q is not None:
        audits = BillingAudit.objects.filter(audit_q, common)
        if flt.ticket:
            audits = audits.filter(
                Q(statement__ticket_rows__ticket__number=flt.ticket.strip())
                | Q(before__ticket=flt.ticket.strip())
                | Q(after__ticket=flt.ticket.strip())
            ).distinct()
        parts.append(audits.annotate(source=Value("audit", CharField())))
    if event_q is not None:
        events = TicketEvent.objects.filter(event_q, common)
        if flt.ticket:
            events = events.filter(ticket__number=flt.ticket.strip())
        parts.append(events.annotate(source=Value("event", CharField())))
    if not parts:
        return (
            BillingAudit.objects.none()
            .annotate(source=Value("audit"))
            .values("source", "pk", "created_at")
        )
    columns = ("source", "pk", "created_at")
    query = parts[0].order_by().values(*columns)
    if len(parts) == 2:
        query = query.union(parts[1].order_by().values(*columns), all=True)
    return query.order_by("-created_at", "-pk")


@dataclass(frozen=True)
class Entry:
    """One line of the audit list as a billing user reads it."""

    when: datetime
    who: str
    category: str
    what: str
    subject: str  # the statement or ticket it is about
    statement_id: int | None
    ticket_id: int | None
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]

    @property
    def category_label(self) -> str:
        return category_labels().get(self.category, self.category)


def _action_labels() -> dict[str, str]:
    return {
        "draft_created": _("draft created"),
        "draft_rebuilt": _("draft rebuilt"),
        "ticket_added": _("ticket added"),
        "ticket_deferred": _("ticket moved to next month"),
        "line_added": _("manual line added"),
        "line_removed": _("manual line removed"),
        "issued": _("issued"),
    }


def _pairs(data) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return [("", str(data))] if data not in (None, "") else []
    return [(str(key), _text(value)) for key, value in data.items()]


def _text(value) -> str:
    if value is None:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


def _audit_category(action: str) -> str:
    if action in LINE_ACTIONS:
        return "manual_line"
    if action.startswith(("bundle", "prepaid")):
        return "bundle"
    return "statement"


def _event_category(event: TicketEvent) -> str:
    data = event.data or {}
    if "charges" in data:
        return "charge"
    if "out_of_hours_override" in data or "out_of_hours_requested" in data:
        return "override"
    if any(key in data for key in BILLABLE_FIELDS):
        return "billable"
    return "waiver"


def _from_audit(row: BillingAudit) -> Entry:
    statement = row.statement
    if statement is None:
        subject = row.after.get("ticket") or row.before.get("ticket") or ""
    else:
        subject = f"{statement.organisation.name} · " + (
            statement.display_number or f"{_('draft')} {statement.period:%m/%Y}"
        )
    return Entry(
        when=row.created_at,
        who=row.actor_label,
        category=_audit_category(row.action),
        what=_action_labels().get(row.action, row.action.replace("_", " ")),
        subject=subject,
        statement_id=row.statement_id,
        ticket_id=None,
        before=_pairs(row.before),
        after=_pairs(row.after),
    )


def _from_event(event: TicketEvent) -> Entry:
    """Ticket events store changes as ``{field: [old, new]}``; the others (charges
    frozen, an intervention logged with an override) hold the new state only."""
    before, after = [], []
    for key, value in (event.data or {}).items():
        if isinstance(value, list) and len(value) == 2:
            before.append((key, _text(value[0])))
            after.append((key, _text(value[1])))
        elif key == "previous_total":
            before.append(("total", _text(value)))
        else:
            after.append((key, _text(value)))
    return Entry(
        when=event.created_at,
        who=event.actor_label,
        category=_event_category(event),
        what=str(event.get_kind_display()),
        subject=f"{event.ticket.number} · {event.ticket.subject}",
        statement_id=None,
        ticket_id=event.ticket_id,
        before=before,
        after=after,
    )


def resolve(rows) -> list[Entry]:
    """The page's rows (from ``entries``) as ``Entry`` values, in the same order."""
    rows = list(rows)
    audit_ids = [r["pk"] for r in rows if r["source"] == "audit"]
    event_ids = [r["pk"] for r in rows if r["source"] == "event"]
    audits = BillingAudit.objects.select_related("statement__organisation").in_bulk(audit_ids)
    events = TicketEvent.objects.select_related("ticket").in_bulk(event_ids)
    out = []
    for row in rows:
        if row["source"] == "audit" and row["pk"] in audits:
            out.append(_from_audit(audits[row["pk"]]))
        elif row["source"] == "event" and row["pk"] in events:
            out.append(_from_event(events[row["pk"]]))
    return out
