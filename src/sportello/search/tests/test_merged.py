"""A merge or a split moves messages between tickets: search follows them."""

from __future__ import annotations

import pytest

from sportello.search.selectors import Filters, ticket_search
from sportello.tickets import merging
from sportello.tickets.inputs import MessageInput
from sportello.tickets.services import message_add, ticket_open
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db


def numbers(user, q) -> list[str]:
    return [h.ticket.number for h in ticket_search(user=user, q=q, filters=Filters()).hits]


def test_a_merged_tickets_words_find_the_ticket_kept():
    people = cast()
    bob = people["bob"].user
    kept = ticket_open(
        subject="Stampante", channel="email", message=MessageInput(text="Non stampa")
    )
    merged = ticket_open(
        subject="Toner", channel="email", message=MessageInput(text="Il toner perde polvere")
    )
    merging.ticket_merge(source=merged, target=kept)
    assert kept.number in numbers(bob, "polvere")


def test_a_split_messages_words_find_the_new_ticket():
    people = cast()
    bob = people["bob"].user
    ticket = ticket_open(
        subject="Stampante", channel="email", message=MessageInput(text="Non stampa")
    )
    second = message_add(ticket=ticket, message=MessageInput(kind="email", text="Wifi ballerino"))
    new = merging.message_split(message=second)
    assert numbers(bob, "ballerino") == [new.number]
