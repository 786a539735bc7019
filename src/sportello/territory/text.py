"""A visit's event on the ticket's timeline as a sentence (STYLE 2.10: no codes)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import VisitKind, VisitState


def _when(value) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return "—"
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def visit_sentence(data: dict, agents: dict[int, str]) -> str:
    """``Ritiro pianificato il 04/12/2026 09:30 per Mario Rossi`` and the like."""
    try:
        kind = str(VisitKind(data.get("kind")).label).capitalize()
    except ValueError:
        kind = _("Visit")
    who = agents.get(data.get("technician"), "?")
    state = data.get("visit_state")
    if state == VisitState.SCHEDULED:
        return _("%(kind)s planned for %(when)s, technician %(name)s") % {
            "kind": kind,
            "when": _when(data.get("scheduled_at")),
            "name": who,
        }
    if state == VisitState.DONE:
        return _("%(kind)s done on %(when)s by %(name)s (recorded as a leg)") % {
            "kind": kind,
            "when": _when(data.get("started_at") or data.get("scheduled_at")),
            "name": who,
        }
    if state == VisitState.CANCELLED:
        sentence = _("%(kind)s of %(when)s cancelled") % {
            "kind": kind,
            "when": _when(data.get("scheduled_at")),
        }
        if data.get("reason"):
            sentence += ": " + data["reason"]
        return sentence
    return ""
