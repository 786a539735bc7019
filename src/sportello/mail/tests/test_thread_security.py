"""Who may write into a ticket by e-mail (issue 15, finding 1) and what is an address
(finding 12): a tag or a Message-ID is easy to get, so the sender must belong."""

from __future__ import annotations

import pytest
from django.core import mail as outbox

from sportello.customers.models import Contact, ContactEmail
from sportello.mail.services import ingest_raw
from sportello.mail.tests.builders import customer_mail
from sportello.tickets.models import Direction, Message, MessageKind, Status, Ticket
from sportello.tickets.services import ticket_change_status
from sportello.tickets.tests.factories import ContactFactory, cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def ingest(settings, django_capture_on_commit_callbacks):
    """``ingest_raw`` as in production: the mail it queues leaves once the filing commits."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def committed(raw, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest_raw(raw, **kw)

    return committed


@pytest.fixture
def resolved(ingest):
    """Alice's ticket, answered by us and resolved; nothing in the outbox yet."""
    people = cast()
    first = ingest(customer_mail(), source="pipe")
    ticket = Ticket.objects.get(number=first.ticket_number)
    ticket_change_status(ticket=ticket, status=Status.RESOLVED)
    outbox.outbox.clear()
    return people, ticket


def reply(ingest, ticket, sender, **headers):
    return ingest(
        customer_mail(
            subject=f"Re: [Ticket#{ticket.number}] Stampante guasta",
            body="Ecco le credenziali, cliccate qui: http://evil.example/x",
            sender=sender,
            **headers,
        ),
        source="smtp",
    )


def assert_untouched(ticket, messages_before):
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.messages.count() == messages_before
    assert not [m for m in outbox.outbox if "alice@alice.example.it" in m.to]


def test_a_stranger_with_the_tag_opens_a_linked_ticket_and_the_tagged_one_is_untouched(
    resolved, ingest
):
    _people, ticket = resolved
    before = ticket.messages.count()
    result = reply(ingest, ticket, "stranger@evil.example")
    assert result.state == "created" and result.ticket_number != ticket.number
    assert_untouched(ticket, before)
    new = Ticket.objects.get(number=result.ticket_number)
    assert new.linked_to == ticket
    assert ticket.tag not in new.subject and new.subject == "Re: Stampante guasta"
    note = new.messages.get(kind=MessageKind.INTERNAL_NOTE)
    assert ticket.number in note.text and "stranger@evil.example" in note.text
    # Only the stranger hears back, about their own new ticket.
    assert [m.to for m in outbox.outbox] == [["stranger@evil.example"]]
    assert new.tag in outbox.outbox[0].subject and ticket.tag not in outbox.outbox[0].subject


def test_a_stranger_answering_our_message_id_is_not_threaded_either(resolved, ingest):
    _people, ticket = resolved
    ours = ticket.messages.filter(direction=Direction.OUTBOUND).first()
    before = ticket.messages.count()
    result = ingest(
        customer_mail(
            subject="Re: la vostra risposta",
            sender="stranger@evil.example",
            In_Reply_To=f"<{ours.message_id}>",
            References=f"<{ours.message_id}>",
        ),
        source="smtp",
    )
    assert result.state == "created"
    assert Ticket.objects.get(number=result.ticket_number).linked_to == ticket
    assert_untouched(ticket, before)


def test_an_automatic_reply_of_a_stranger_is_ignored(resolved, ingest):
    _people, ticket = resolved
    before = ticket.messages.count()
    result = reply(ingest, ticket, "stranger@evil.example", Auto_Submitted="auto-replied")
    assert result.state == "ignored"
    assert_untouched(ticket, before)


@pytest.mark.parametrize("who", ["colleague", "cc", "agent", "same_domain"])
def test_people_who_belong_to_the_ticket_are_threaded(resolved, who, ingest):
    people, ticket = resolved
    if who == "colleague":
        sender = "paolo@paolo-casa.example"
        ContactFactory(organisation=people["org_a"], email=sender)
    elif who == "cc":
        sender = "consulente@studio.example"
        first = ticket.messages.filter(direction=Direction.INBOUND).first()
        Message.objects.filter(pk=first.pk).update(cc=[sender])
    elif who == "agent":
        sender = people["bob"].user.email
    else:
        sender = "nuovo@alice.example.it"  # the organisation's own domain
    result = reply(ingest, ticket, sender)
    assert (result.state, result.ticket_number) == ("appended", ticket.number)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_a_contact_of_another_organisation_is_not_threaded(resolved, ingest):
    _people, ticket = resolved
    before = ticket.messages.count()
    result = reply(ingest, ticket, "charlie@charlie.example.it")
    assert result.state == "created"
    assert_untouched(ticket, before)


def test_an_unquoted_angle_bracket_in_the_display_name_is_not_the_sender(db, ingest):
    cast()
    raw = (
        b"From: Giulia <giulia> giulia.neri@example.org\r\nTo: assistenza@init-s.it\r\n"
        b"Subject: Aiuto\r\nMessage-ID: <g1@example.org>\r\n\r\nNon parte il PC.\r\n"
    )
    result = ingest(raw, source="smtp")
    ticket = Ticket.objects.get(number=result.ticket_number)
    assert ticket.messages.get(direction=Direction.INBOUND).sender == "giulia.neri@example.org"
    assert ContactEmail.objects.filter(address="giulia.neri@example.org").exists()
    assert [m.to for m in outbox.outbox] == [["giulia.neri@example.org"]]


def test_a_from_without_any_address_is_filed_and_never_answered(db, ingest):
    cast()
    raw = (
        b"From: giulia <at> example.org\r\nTo: assistenza@init-s.it\r\n"
        b"Subject: Aiuto\r\nMessage-ID: <g2@example.org>\r\n\r\nNon parte il PC.\r\n"
    )
    result = ingest(raw, source="smtp")
    assert result.state == "created"
    ticket = Ticket.objects.get(number=result.ticket_number)
    assert ticket.messages.filter(direction=Direction.INBOUND).count() == 1
    assert not ticket.messages.filter(direction=Direction.OUTBOUND).exists()
    assert outbox.outbox == []
    assert not Contact.objects.filter(emails__address="at").exists()
