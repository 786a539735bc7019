"""Notifications by real SMTP: the customer hears of a resolution, the assigned agent
hears when the customer writes; neither loops, and the agent's notice stays internal."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from sportello.billing.models import TicketCharges
from sportello.mail.services import ingest_raw
from sportello.portal.selectors import PUBLIC_KINDS
from sportello.tickets import services as tickets
from sportello.tickets.models import DeliveryStatus, Message, MessageKind, Status

from .builders import TAG, mail, ticket_of

pytestmark = pytest.mark.django_db(transaction=True)


def resolve(ticket, people):
    agent = tickets.Actor(user=people["bob"].user)
    tickets.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=agent)
    tickets.ticket_change_status(ticket=ticket, status=Status.RESOLVED, actor=agent)


def test_the_customer_hears_that_the_ticket_is_resolved_and_how_to_reopen_it(smtp, people):
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    written = TicketCharges.objects.get(ticket=ticket).lines.values_list("code", "amount")
    written = sorted(written)
    resolve(ticket, people)

    [notice] = smtp.to("alice@alice.example.it")[1:]  # after the acknowledgement
    assert TAG.search(notice["Subject"]).group(1) == ticket.number
    assert notice["Auto-Submitted"] == "auto-replied"
    body = notice.get_content()
    assert "risolto" in body
    assert f"/portale/ticket/{ticket.number}/" in body
    assert "14 giorni" in body  # the reopen window of the support settings
    stored = ticket.messages.get(message_id=notice["Message-ID"].strip("<>"))
    assert stored.automatic and stored.delivery_status == DeliveryStatus.SENT
    # An automatic message is not a written message: the charges did not move.
    after = sorted(TicketCharges.objects.get(ticket=ticket).lines.values_list("code", "amount"))
    assert after == written


def test_a_customer_reply_on_an_assigned_ticket_notifies_the_agent_only(smtp, people):
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    tickets.ticket_assign(ticket=ticket, assignee=people["bob"])
    ingest_raw(
        mail(subject=f"Re: {ticket.tag} Stampante guasta", body="Il modello è una HP 400."),
        source="smtp",
    )
    [notice] = smtp.to("bob@example.com")
    assert TAG.search(notice["Subject"]).group(1) == ticket.number
    assert "HP 400" in notice.get_content()
    assert f"/desk/ticket/{ticket.pk}/" in notice.get_content()
    stored = Message.objects.get(message_id=notice["Message-ID"].strip("<>"))
    assert stored.kind == MessageKind.SYSTEM and stored.kind not in PUBLIC_KINDS
    assert stored.delivery_status == DeliveryStatus.SENT
    assert len(smtp.to("alice@alice.example.it")) == 1  # the customer got only the ack


def test_no_notice_when_unassigned_or_for_automatic_mail(smtp, people):
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    ingest_raw(mail(subject=f"Re: {ticket.tag} x", body="Nobody to tell."), source="smtp")
    tickets.ticket_assign(ticket=ticket, assignee=people["bob"])
    ingest_raw(
        mail(
            subject=f"Out of office: {ticket.tag}",
            body="Sono in ferie.",
            Auto_Submitted="auto-replied",
        ),
        source="smtp",
    )
    assert smtp.to("bob@example.com") == []


def test_the_demo_writes_to_nobody(smtp):
    call_command("demo", verbosity=0)
    assert not Message.objects.filter(delivery_status=DeliveryStatus.PENDING).exists()
    assert smtp.mail == []


def test_the_agents_notice_is_written_in_the_language_the_agent_chose(smtp, people):
    bob = people["bob"]
    bob.language = "en"
    bob.save()
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    tickets.ticket_assign(ticket=ticket, assignee=bob)
    ingest_raw(
        mail(subject=f"Re: {ticket.tag} Stampante guasta", body="Il modello è una HP 400."),
        source="smtp",
    )
    [notice] = smtp.to("bob@example.com")
    assert "New message from the customer: Stampante guasta" in notice["Subject"]
    body = notice.get_content()
    assert f"wrote on ticket {ticket.number}:" in body and "Open the ticket:" in body
    assert "Apri il ticket" not in body
    # The customer's own mail stays in the site's Italian.
    [ack] = smtp.to("alice@alice.example.it")
    assert "Abbiamo ricevuto la vostra richiesta" in ack.get_content()
    # Back to the site's language: the next notice is Italian.
    bob.language = ""
    bob.save()
    ingest_raw(mail(subject=f"Re: {ticket.tag} Stampante guasta", body="Ancora."), source="smtp")
    italian = smtp.to("bob@example.com")[-1]
    assert "Nuovo messaggio dal cliente: Stampante guasta" in italian["Subject"]
    assert "Apri il ticket" in italian.get_content()
