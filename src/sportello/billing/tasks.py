"""Billing background tasks: thin wrappers around the services (STYLE 2.7)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_periodic_task(crontab(minute="*/15"))
@lock_task("billing-close-expired")
def tickets_close_expired() -> int:
    """Close the resolved tickets whose reopen window has ended (their charges freeze)."""
    from .closing import tickets_close_expired as close

    return close()


@db_task()
def statements_draft_month(period: str, organisation_id: int | None, user_id: int | None) -> int:
    """Draft the month's statements in the background (the month-close page's button),
    recording its progress for the page (``billing.drafting``)."""
    from datetime import date

    from django.contrib.auth import get_user_model

    from sportello.customers.models import Organisation
    from sportello.tickets.services import Actor

    from .drafting import drafting_run

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    org = Organisation.objects.filter(pk=organisation_id).first() if organisation_id else None
    status = drafting_run(
        period=date.fromisoformat(period), organisation=org, actor=Actor(user=user)
    )
    return status.drafted
