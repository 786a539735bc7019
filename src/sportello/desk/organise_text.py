"""The timeline's sentences for tags, merges, splits and links (``event_sentence``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sportello.tickets.models import TicketEvent

ORGANISE_KINDS = (
    TicketEvent.Kind.TAGS,
    TicketEvent.Kind.MERGED,
    TicketEvent.Kind.SPLIT,
    TicketEvent.Kind.LINKED,
)


def organise_sentence(event: TicketEvent) -> str:
    data = event.data or {}
    if event.kind == TicketEvent.Kind.TAGS:
        before, after = (data.get("tags") or [[], []])[:2]
        added = [t for t in after if t not in before]
        removed = [t for t in before if t not in after]
        parts = []
        if added:
            parts.append(_("Tags added: %(names)s") % {"names": ", ".join(added)})
        if removed:
            parts.append(_("Tags removed: %(names)s") % {"names": ", ".join(removed)})
        return "; ".join(parts) or _("Tags unchanged")
    if event.kind == TicketEvent.Kind.MERGED:
        if "merged_into" in data:
            return _("Merged into ticket %(number)s") % {"number": data["merged_into"]}
        counts = {k: int(data.get(k, 0)) for k in ("messages", "interventions", "attachments")}
        moved = ", ".join(
            (
                ngettext("%(n)d message", "%(n)d messages", counts["messages"])
                % {"n": counts["messages"]},
                ngettext("%(n)d intervention", "%(n)d interventions", counts["interventions"])
                % {"n": counts["interventions"]},
                ngettext("%(n)d attachment", "%(n)d attachments", counts["attachments"])
                % {"n": counts["attachments"]},
            )
        )
        return _("Ticket %(number)s merged here, moved: %(moved)s") % {
            "number": data.get("merged", "?"),
            "moved": moved,
        }
    if event.kind == TicketEvent.Kind.SPLIT:
        if "split_to" in data:
            return _("A message was moved to the new ticket %(number)s") % {
                "number": data["split_to"]
            }
        return _("Opened from a message of ticket %(number)s") % {
            "number": data.get("split_from", "?")
        }
    if event.kind == TicketEvent.Kind.LINKED:
        old, new = (data.get("related") or [None, None])[:2]
        if new:
            return _("Related to ticket %(number)s") % {"number": new}
        return _("No longer related to ticket %(number)s") % {"number": old}
    return ""
