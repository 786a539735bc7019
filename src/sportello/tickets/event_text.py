"""An event of the ticket's trail as a person reads it: labels, not codes or JSON.

``TicketEvent.data`` keeps ids, choice codes and ISO times (stable, for the audit); what
an agent reads names the field, shows the choice's label in their language, the time in
the site's zone (Europe/Rome) and money as the tariff writes it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sportello.tariff.text import format_money, language_of

from .models import (
    Channel,
    Direction,
    InterventionKind,
    MessageKind,
    NonBillableReason,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)

CHOICES = {
    "status": Status,
    "channel": Channel,
    "priority": Priority,
    "non_billable_reason": NonBillableReason,
    "direction": Direction,
}
MONEY = {"total", "previous_total"}


def _labels() -> dict[str, str]:
    ticket_fields = {f.name: str(f.verbose_name) for f in Ticket._meta.fields}
    return {
        **ticket_fields,
        "message": _("message"),
        "intervention": _("intervention"),
        "kind": _("kind"),
        "direction": _("direction"),
        "started_at": _("start"),
        "duration_seconds": _("duration"),
        "out_of_hours_override": _("out of hours (override)"),
        "override_reason": _("override reason"),
        "attachment": _("attachment"),
        "filename": _("file"),
        "charges": _("charges"),
        "total": _("total"),
        "previous_total": _("previous total"),
        "tariff_version": _("tariff version"),
        "rating": _("rating"),
        "comment": _("comment"),
        "assignee": _("assignee"),
        "team": _("team"),
        "tags": _("tags"),
        "merged_into": _("merged into"),
        "merged": _("merged here"),
        "split_to": _("message moved to"),
        "split_from": _("split from"),
        "related": _("related ticket"),
        "messages": _("messages"),
        "interventions": _("interventions"),
        "attachments": _("attachments"),
    }


def _value(key: str, value, event: TicketEvent) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in CHOICES:
        try:
            return str(CHOICES[key](value).label)
        except ValueError:
            return str(value)
    if key == "kind":
        for choices in (InterventionKind, MessageKind):
            if value in choices.values:
                return str(choices(value).label)
    if key == "charges":
        return {"frozen": _("frozen"), "unfrozen": _("priced again")}.get(value, str(value))
    if key in MONEY:
        try:
            return format_money(Decimal(str(value)), _language())
        except InvalidOperation:
            return str(value)
    if key == "duration_seconds" and isinstance(value, int):
        minutes, seconds = divmod(value, 60)
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    if key in ("organisation", "contact", "assignee", "team", "linked_to") and isinstance(
        value, int
    ):
        return _related(key, value)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    return str(value)


def _related(key: str, pk: int) -> str:
    field = Ticket._meta.get_field(key)
    row = field.related_model.objects.filter(pk=pk).first()
    return str(row) if row is not None else f"#{pk}"


def _language() -> str:
    return language_of(get_language())


def event_text(event: TicketEvent) -> str:
    """``status: Aperto → Risolto; assegnatario: — → Mario Verdi`` for one event."""
    labels = _labels()
    parts = []
    for key, value in (event.data or {}).items():
        if key in ("message", "intervention", "attachment", "ticket") and isinstance(value, int):
            continue  # an id: the row itself is listed on the ticket
        label = labels.get(key, key.replace("_", " "))
        if isinstance(value, list) and len(value) == 2:
            shown = f"{_value(key, value[0], event)} → {_value(key, value[1], event)}"
        else:
            shown = _value(key, value, event)
        parts.append(f"{label}: {shown}")
    return "; ".join(parts)
