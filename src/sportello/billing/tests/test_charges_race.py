"""Two requests pricing a never-priced ticket at once (two agents logging a call on a
bulk-loaded ticket) make one charges row between them, and neither fails."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from sportello.billing.models import TicketCharges
from sportello.billing.services import charges_refresh
from sportello.core.testenv import wait_for
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_two_first_pricings_at_once_make_one_row_and_no_error(people):
    ticket = services.ticket_open(
        subject="Stampante",
        channel="email",
        contact=people["alice"],
        message=MessageInput(text="Non stampa"),
    )
    TicketCharges.objects.filter(ticket=ticket).delete()  # as bench-data leaves it
    first_priced, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                charges_refresh(ticket=Ticket.objects.get(pk=ticket.pk))
                first_priced.set()
                release.wait(60)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
            first_priced.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_priced.wait(60)
            with transaction.atomic():
                charges_refresh(ticket=Ticket.objects.get(pk=ticket.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_priced.wait(60)
    if connection.vendor == "postgresql":
        # The second is inside its pricing, waiting for the first's uncommitted row.
        wait_for(_waiting_on_a_lock, what="the second pricing to wait for the first")
    release.set()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert TicketCharges.objects.filter(ticket=ticket).count() == 1
    assert TicketCharges.objects.get(ticket=ticket).total > 0
