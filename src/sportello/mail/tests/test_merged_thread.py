"""A reply to a ticket merged into another (tickets.merging) is filed on the ticket kept,
where its conversation went; the merged one stays closed."""

from __future__ import annotations

import pytest

from sportello.mail.services import ingest_raw
from sportello.mail.tests.builders import customer_mail
from sportello.tickets import merging
from sportello.tickets.models import Status, Ticket
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db


def test_a_reply_tagged_with_a_merged_ticket_lands_on_the_ticket_kept(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast()
    with django_capture_on_commit_callbacks(execute=True):
        kept = Ticket.objects.get(number=ingest_raw(customer_mail(), source="pipe").ticket_number)
        merged = Ticket.objects.get(
            number=ingest_raw(customer_mail(subject="Toner"), source="pipe").ticket_number
        )
    merging.ticket_merge(source=merged, target=kept)
    with django_capture_on_commit_callbacks(execute=True):
        ingest_raw(
            customer_mail(subject=f"Re: [Ticket#{merged.number}] Toner", body="E il toner?"),
            source="smtp",
        )
    merged.refresh_from_db()
    assert merged.status == Status.CLOSED and not merged.messages.exists()
    assert kept.messages.filter(text__contains="E il toner?").exists()
