"""Billing background tasks: thin wrappers around the services (STYLE 2.7)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="*/15"))
@lock_task("billing-close-expired")
def tickets_close_expired() -> int:
    """Close the resolved tickets whose reopen window has ended (their charges freeze)."""
    from .closing import tickets_close_expired as close

    return close()
