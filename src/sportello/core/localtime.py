"""Times people type in a form, read in the site's zone (Europe/Rome, STYLE 2.6)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def parse_local_datetime(value: str) -> datetime | None:
    """``2026-12-02T10:00`` from a ``datetime-local`` field as an aware datetime in the
    current time zone (DST included); an aware value is kept as it is; None when the
    text is not a date and time, so the caller says which field to fix."""
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    if timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, timezone.get_current_timezone())
