"""What counts as a written message (SPEC 5, the tariff's N) has one rule: asked of a
message in memory or of the database, the answer is the same for every kind of message."""

from __future__ import annotations

import itertools

import pytest
from django.db.models import Count

from sportello.tickets import services
from sportello.tickets.models import Direction, Message, MessageKind, written_messages
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db


def test_the_rule_in_memory_and_in_the_database_agree_on_every_message():
    people = cast()
    ticket = services.ticket_open(subject="Prova", channel="phone", contact=people["alice"])
    rows = [
        Message.objects.create(
            ticket=ticket,
            kind=kind,
            direction=direction,
            automatic=automatic,
            text="x",
            created_at=ticket.created_at,
        )
        for kind, direction, automatic in itertools.product(
            MessageKind.values, Direction.values, (False, True)
        )
    ]
    counted = set(
        Message.objects.filter(written_messages(), ticket=ticket).values_list("pk", flat=True)
    )
    assert {m.pk for m in rows if m.counts_as_written} == counted
    # SPEC 5: e-mail, portal and chat by people, both directions; nothing automatic.
    assert len(counted) == 3 * 2
    with_count = ticket.__class__.objects.filter(pk=ticket.pk)

    [n] = with_count.annotate(
        n=Count("messages", filter=written_messages("messages__"))
    ).values_list("n", flat=True)
    assert n == 6
