"""Tags, merge, split and related tickets, through the services and a real database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from sportello.billing.models import ChargeLine, TicketCharges
from sportello.tickets import merging, services, tagging
from sportello.tickets.errors import TicketInputError
from sportello.tickets.event_text import event_text
from sportello.tickets.events import Actor
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import (
    Attachment,
    Intervention,
    Message,
    NonBillableReason,
    Status,
    Tag,
    Ticket,
    TicketEvent,
)
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db
# A Wednesday morning, in support hours.
IN_HOURS = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Rome"))


@pytest.fixture
def people(db):
    return cast()


def open_ticket(people, subject="Stampante", text="Non stampa", **kw):
    return services.ticket_open(
        subject=subject,
        channel=kw.pop("channel", "email"),
        contact=kw.pop("contact", people["alice"]),
        message=MessageInput(text=text, sender="alice@alice.example.it"),
        **kw,
    )


def call(ticket, people, minutes=12):
    return services.intervention_add(
        ticket=ticket,
        kind="phone",
        started_at=IN_HOURS,
        duration_seconds=minutes * 60,
        technician=people["bob"],
    )


def charges(ticket) -> TicketCharges:
    return TicketCharges.objects.get(ticket=ticket)


@pytest.mark.parametrize(
    "typed, names",
    [
        ("VPN", ["vpn"]),
        (" vpn ,  Stampante  ", ["vpn", "stampante"]),
        ("vpn, VPN, vpn", ["vpn"]),
        ("Rete   Lenta", ["rete lenta"]),
        (",, ,", []),
    ],
)
def test_tag_names_are_cleaned_lower_cased_and_kept_once(typed, names):
    assert tagging.tag_names_parse(typed) == names


def test_a_tag_longer_than_50_characters_is_refused_with_its_name():
    with pytest.raises(TicketInputError, match="x" * 51):
        tagging.tag_names_parse("x" * 51)


def test_tags_are_added_and_removed_with_one_event_each(people):
    ticket = open_ticket(people)
    actor = Actor(user=people["bob"].user)
    assert tagging.ticket_tags_change(ticket=ticket, add=["VPN", "toner"], actor=actor) == [
        "toner",
        "vpn",
    ]
    assert tagging.ticket_tags_change(ticket=ticket, add=["vpn"], actor=actor) == ["toner", "vpn"]
    assert tagging.ticket_tags_set(ticket=ticket, names=["vpn", "rete"], actor=actor) == [
        "rete",
        "vpn",
    ]
    events = list(ticket.events.filter(kind=TicketEvent.Kind.TAGS).order_by("pk"))
    assert [e.data["tags"] for e in events] == [
        [[], ["toner", "vpn"]],
        [["toner", "vpn"], ["rete", "vpn"]],
    ]
    assert events[0].actor == people["bob"].user
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["rete", "toner", "vpn"]
    assert "vpn" in event_text(events[1]) and "toner" in event_text(events[1])


def test_the_database_keeps_tags_lower_cased_and_unique(people):
    Tag.objects.create(name="vpn")
    for name in ("vpn", "VPN"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Tag.objects.create(name=name)


def test_merging_moves_the_work_and_bills_it_once_on_the_ticket_kept(people):
    kept = open_ticket(people, "Stampante")
    merged = open_ticket(people, "Stampante (di nuovo)", "Sempre lei")
    services.attachment_add(ticket=merged, filename="foto.jpg", content=b"jpg")
    call(merged, people)
    tagging.ticket_tags_change(ticket=merged, add=["stampante"])
    before = charges(merged).total
    assert before > 0
    merging.ticket_merge(source=merged, target=kept, actor=Actor(user=people["bob"].user))
    merged.refresh_from_db()
    kept.refresh_from_db()
    assert Message.objects.filter(ticket=merged).count() == 0
    assert Message.objects.filter(ticket=kept).count() == 2
    assert Intervention.objects.get().ticket == kept
    assert Attachment.objects.get().ticket == kept
    assert list(kept.tags.values_list("name", flat=True)) == ["stampante"]
    # B: closed, a duplicate, pointing to A, its charges frozen at zero.
    assert merged.status == Status.CLOSED and merged.merged_into == kept
    assert not merged.billable and merged.non_billable_reason == NonBillableReason.DUPLICATE
    assert charges(merged).frozen and charges(merged).total == Decimal("0.00")
    # A: priced again with the call, which is billed once in all.
    assert charges(kept).total >= before
    phone_lines = ChargeLine.objects.filter(details__has_key="band_over")
    assert phone_lines.count() == 1 and phone_lines.get().charges.ticket == kept
    assert "30,00" in phone_lines.get().description_it
    assert kept.events.get(kind=TicketEvent.Kind.MERGED).data["interventions"] == 1
    assert merged.events.get(kind=TicketEvent.Kind.MERGED).data["merged_into"] == kept.number


@pytest.mark.parametrize("closed", ["source", "target"])
def test_a_closed_ticket_is_neither_merged_nor_merged_into(people, closed):
    a, b = open_ticket(people), open_ticket(people, "Altro")
    services.ticket_change_status(ticket=a if closed == "target" else b, status="closed")
    with pytest.raises(TicketInputError, match="closed|chiuso"):
        merging.ticket_merge(source=b, target=a)
    assert Message.objects.filter(ticket=b).count() == 1


def test_a_ticket_is_not_merged_into_itself_nor_twice(people):
    a, b, c = open_ticket(people), open_ticket(people, "B"), open_ticket(people, "C")
    with pytest.raises(TicketInputError):
        merging.ticket_merge(source=a, target=a)
    merging.ticket_merge(source=b, target=a)
    with pytest.raises(TicketInputError):
        merging.ticket_merge(source=c, target=Ticket.objects.get(pk=b.pk))


def test_a_bulk_merge_moves_every_selected_ticket_into_one(people):
    a, b, c = open_ticket(people), open_ticket(people, "B"), open_ticket(people, "C")
    merging.tickets_merge(sources=[b, c], target=a)
    assert Message.objects.filter(ticket=a).count() == 3
    assert set(Ticket.objects.filter(merged_into=a).values_list("pk", flat=True)) == {b.pk, c.pk}


def test_splitting_a_message_opens_a_related_ticket_for_its_author(people):
    ticket = open_ticket(people, "Stampante e rete")
    second = services.message_add(
        ticket=ticket,
        message=MessageInput(
            kind="email", text="Anche la rete è lenta.\nGrazie", subject="Re: rete lenta"
        ),
        author_contact=people["alice"],
    )
    services.attachment_add(ticket=ticket, message=second, filename="rete.png", content=b"png")
    new = merging.message_split(message=second, actor=Actor(user=people["bob"].user))
    assert new.subject == "rete lenta"
    assert new.contact == people["alice"] and new.organisation == people["org_a"]
    assert Message.objects.get(pk=second.pk).ticket == new
    assert Attachment.objects.get().ticket == new
    assert list(new.related.all()) == [ticket] and list(ticket.related.all()) == [new]
    assert ticket.events.get(kind=TicketEvent.Kind.SPLIT).data["split_to"] == new.number
    assert new.events.get(kind=TicketEvent.Kind.SPLIT).data["split_from"] == ticket.number
    # Each is priced from its own messages now.
    assert charges(new).computed_at and charges(ticket).computed_at


def test_the_only_message_of_a_ticket_is_not_split(people):
    ticket = open_ticket(people)
    with pytest.raises(TicketInputError):
        merging.message_split(message=ticket.first_message)


def test_related_tickets_are_linked_both_ways_and_unlinked(people):
    a, b = open_ticket(people), open_ticket(people, "B")
    assert merging.tickets_link(ticket=a, other=b) is True
    assert merging.tickets_link(ticket=b, other=a) is False
    assert list(b.related.all()) == [a]
    assert merging.tickets_unlink(ticket=b, other=a) is True
    assert not a.related.exists()
    data = [e.data["related"] for e in a.events.filter(kind=TicketEvent.Kind.LINKED).order_by("pk")]
    assert data == [[None, b.number], [b.number, None]]
    with pytest.raises(TicketInputError):
        merging.tickets_link(ticket=a, other=a)
