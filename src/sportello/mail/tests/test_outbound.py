"""Outbound mail through Django's SMTP backend to a real aiosmtpd server on loopback.

The server captures what we send, so each test reads the mail as the customer would
receive it. Outbound mail leaves on ``transaction.on_commit`` (never for a transaction
that rolls back), so these tests commit for real (``transaction=True``).
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.utils import parseaddr

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from sportello.billing.models import TicketCharges
from sportello.core.models import SupportSettings
from sportello.core.testenv import Capture, Loopback
from sportello.mail import outbound
from sportello.mail.services import ingest_raw
from sportello.mail.tasks import SEND_RETRIES
from sportello.mail.tests.builders import TAG, mail, ticket_of
from sportello.tickets.models import Channel, DeliveryStatus, Direction, Message, Status, Ticket
from sportello.tickets.services import Actor
from sportello.tickets.tests.factories import (
    ContactFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


def test_a_new_request_gets_an_acknowledgement_by_real_smtp(smtp, people):
    raw = mail()
    customer_id = bare(message_from_bytes(raw)["Message-ID"])
    result = ingest_raw(raw, source="smtp")
    assert result.state == "created"
    ticket = ticket_of(result)

    [(envelope_from, envelope_to, ack)] = smtp.mail
    assert (envelope_from, envelope_to) == ("assistenza@init-s.it", ["alice@alice.example.it"])
    assert parseaddr(ack["From"])[1] == "assistenza@init-s.it"
    assert [parseaddr(a)[1] for a in ack.get_all("To")] == ["alice@alice.example.it"]
    assert ack["Auto-Submitted"] == "auto-replied"  # RFC 3834
    assert TAG.search(ack["Subject"]).group(1) == ticket.number
    assert ticket.number.startswith(f"{timezone.localdate().year}-")
    assert bare(ack["In-Reply-To"]) == customer_id
    body = ack.get_content()
    assert ticket.number in body
    assert f"https://assistenza.init-s.it/portale/ticket/{ticket.number}/" in body
    assert "09:00-13:00, 14:30-19:00" in body  # the support hours, from the settings
    assert "+39 0744 752000" in body  # the support phone, as people write it
    assert "assistenza@init-s.it" in body

    stored = ticket.messages.get(direction=Direction.OUTBOUND)
    assert stored.automatic and stored.delivery_status == DeliveryStatus.SENT
    assert stored.delivery_error == ""
    assert stored.message_id == bare(ack["Message-ID"])


def test_the_acknowledgement_tells_the_configured_hours_not_hard_coded_ones(smtp, people):
    support = SupportSettings.load()
    support.support_windows = {str(day): [["08:30", "17:30"]] for day in range(5)}
    support.support_windows["5"] = [["09:00", "12:00"]]
    support.save()
    ingest_raw(mail(), source="smtp")
    body = smtp.mail[0][2].get_content()
    assert "08:30-17:30" in body and "09:00-12:00" in body
    assert "14:30-19:00" not in body


def test_an_agent_reply_threads_under_the_customer_message(smtp, people):
    raw = mail()
    customer_id = bare(message_from_bytes(raw)["Message-ID"])
    ticket = ticket_of(ingest_raw(raw, source="smtp"))
    ack_id = bare(smtp.mail[0][2]["Message-ID"])

    reply = outbound.reply_send(
        ticket=ticket, text="Buongiorno, passiamo oggi pomeriggio.", actor=Actor(label="bob")
    )
    sent = smtp.mail[-1][2]
    assert len(smtp.mail) == 2
    assert [parseaddr(a)[1] for a in sent.get_all("To")] == ["alice@alice.example.it"]
    assert sent["Auto-Submitted"] is None  # a person wrote it
    assert TAG.search(sent["Subject"]).group(1) == ticket.number
    references = [bare(r) for r in sent["References"].split()]
    assert references == [customer_id, ack_id]  # the whole thread, oldest first
    assert bare(sent["In-Reply-To"]) in (customer_id, ack_id)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.message_id == bare(sent["Message-ID"]) and not reply.automatic


def test_an_agent_reply_is_in_reply_to_the_customer_message(smtp, people):
    raw = mail()
    customer_id = bare(message_from_bytes(raw)["Message-ID"])
    ticket = ticket_of(ingest_raw(raw, source="smtp"))
    outbound.reply_send(ticket=ticket, text="Arriviamo.", actor=Actor(label="bob"))
    assert bare(smtp.mail[-1][2]["In-Reply-To"]) == customer_id


def test_customer_replies_land_in_the_same_ticket_by_header_or_by_subject_tag(smtp, people):
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    ack = smtp.mail[0][2]

    by_header = ingest_raw(
        mail(
            subject="Re: stampante",  # no tag: the header alone threads it
            body="Ecco il modello: HP 400.",
            In_Reply_To=ack["Message-ID"],
            References=ack["Message-ID"],
        ),
        source="smtp",
    )
    by_tag = ingest_raw(
        mail(subject=f"R: {ticket.tag} Stampante guasta", body="Funziona di nuovo, grazie."),
        source="smtp",
    )
    assert (by_header.state, by_header.ticket_number) == ("appended", ticket.number)
    assert (by_tag.state, by_tag.ticket_number) == ("appended", ticket.number)
    assert Ticket.objects.count() == 1
    assert ticket.messages.filter(direction=Direction.INBOUND).count() == 3
    assert len(smtp.mail) == 1  # replies are not acknowledged again


def test_an_auto_reply_to_our_acknowledgement_is_kept_but_never_answered(smtp, people):
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    ack = smtp.mail[0][2]
    outbound_before = Message.objects.filter(direction=Direction.OUTBOUND).count()

    result = ingest_raw(
        mail(
            subject=f"Risposta automatica: {ack['Subject']}",
            body="Sono fuori ufficio fino a lunedì.",
            In_Reply_To=ack["Message-ID"],
            Auto_Submitted="auto-replied",
        ),
        source="smtp",
    )
    assert (result.state, result.ticket_number) == ("appended", ticket.number)
    kept = ticket.messages.filter(direction=Direction.INBOUND).order_by("-created_at").first()
    assert kept.automatic and "fuori ufficio" in kept.text
    # RFC 3834: no answer to automatic mail, so two auto-responders cannot loop.
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == outbound_before
    assert len(smtp.mail) == 1


def test_a_sender_gets_at_most_three_acknowledgements_an_hour(smtp, people):
    results = [
        ingest_raw(
            mail(subject=f"Problema numero {n}", sender="charlie@charlie.example.it"), source="smtp"
        )
        for n in range(5)
    ]
    assert [r.state for r in results] == ["created"] * 5
    acks = smtp.to("charlie@charlie.example.it")
    assert len(acks) == 3 == SupportSettings.load().ack_limit_per_hour
    assert {TAG.search(a["Subject"]).group(1) for a in acks} == {
        r.ticket_number for r in results[:3]
    }
    # Another sender is not held back by Charlie's flood.
    ingest_raw(mail(), source="smtp")
    assert len(smtp.to("alice@alice.example.it")) == 1


def test_the_init_of_the_ragioneria_gets_the_out_of_scope_answer_free_of_charge(smtp, people):
    result = ingest_raw(
        mail(
            subject="Errore nel caricamento",
            body="Buongiorno, su INIT della Ragioneria Generale dello Stato non riesco a "
            "caricare il bilancio. Potete aiutarmi?",
        ),
        source="smtp",
    )
    ticket = ticket_of(result)
    [(_f, to, answer)] = smtp.mail  # the polite answer, and no acknowledgement besides it
    assert to == ["alice@alice.example.it"]
    assert answer["Auto-Submitted"] == "auto-replied"
    assert ticket.tag in answer["Subject"]
    body = answer.get_content()
    assert "non possiamo fornire assistenza per il sistema INIT della Ragioneria" in body
    assert "senza alcun addebito" in body
    assert ticket.messages.get(direction=Direction.OUTBOUND).delivery_status == "sent"
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert not ticket.billable and ticket.non_billable_reason == "out_of_scope"
    charges = TicketCharges.objects.get(ticket=ticket)
    assert charges.frozen and charges.total == 0 and not charges.lines.filter(amount__gt=0)


def test_mail_to_another_company_address_is_other_email_with_the_call_fee(smtp):
    org = OrganisationFactory(name="Verdi Impianti S.r.l.")
    org.domains.create(domain="verdi.example.it")
    ContactFactory(organisation=org, first_name="Giulia", email="giulia@verdi.example.it")
    result = ingest_raw(
        mail(sender="giulia@verdi.example.it", to="mario@init-s.it", subject="PC lento"),
        source="smtp",
    )
    ticket = ticket_of(result)
    assert ticket.channel == Channel.OTHER_EMAIL
    assert ticket.organisation == org
    charges = TicketCharges.objects.get(ticket=ticket)
    assert "call_fee" in set(charges.lines.values_list("code", flat=True))
    assert charges.lines.get(code="call_fee").amount > 0
    assert len(smtp.to("giulia@verdi.example.it")) == 1  # still acknowledged


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket closes


def test_mail_to_a_technicians_own_address_is_theirs_and_tells_them(smtp, people):
    from sportello.tickets.tests.factories import AgentFactory, UserFactory

    mario = AgentFactory(user=UserFactory(username="mario", email="mario@init-s.it", is_staff=True))
    ticket = ticket_of(ingest_raw(mail(to="Mario <Mario@init-s.it>"), source="smtp"))
    assert ticket.assignee == mario
    assert ticket.channel == Channel.OTHER_EMAIL  # the call-out fee still applies
    [notice] = smtp.to("mario@init-s.it")
    assert (
        notice["Subject"] == f"[Ticket#{ticket.number}] Nuovo ticket scritto a te: Stampante guasta"
    )
    body = notice.get_content()
    assert f"https://assistenza.init-s.it/desk/ticket/{ticket.pk}/" in body
    assert smtp.to("alice@alice.example.it"), "the customer still gets the acknowledgement"
    # Mail to the support address only stays unassigned.
    assert ticket_of(ingest_raw(mail(), source="smtp")).assignee is None


def test_with_the_smtp_server_down_the_failure_is_recorded_on_the_message(settings, people):
    # Immediate mode (tests, or a desk run without a worker) has no consumer to run
    # scheduled retries, so the first failure is the last: it must show on the ticket.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 5
    assert HUEY.immediate
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    ack = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ack.delivery_status == DeliveryStatus.FAILED
    assert "Connection refused" in ack.delivery_error


@pytest.fixture
def real_queue():
    """Huey with its real (SQLite) queue instead of immediate mode, emptied around the test."""
    HUEY.immediate = False
    HUEY.flush()
    yield HUEY
    HUEY.flush()
    HUEY.immediate = True


def run_consumer(huey, *, limit: int = 50) -> int:
    """Run queued and scheduled tasks like ``run_huey``, moving the clock on for retries."""
    now = datetime.now(UTC).replace(tzinfo=None) if huey.utc else datetime.now()
    runs = 0
    while runs < limit:
        task = huey.dequeue()
        due = [task] if task is not None else huey.read_schedule(now)
        if not due:
            if not huey.scheduled_count():
                return runs
            now += timedelta(seconds=61)  # retry_delay is 60 s
            continue
        for task in due:
            huey.execute(task, now)
            runs += 1
    raise AssertionError(f"still running after {limit} tasks")


def test_the_send_task_retries_then_records_the_failure(settings, people, real_queue):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 5
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    ack = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ack.delivery_status == DeliveryStatus.PENDING  # queued, not yet tried
    assert run_consumer(real_queue) == 1 + SEND_RETRIES
    ack.refresh_from_db()
    assert ack.delivery_status == DeliveryStatus.FAILED
    assert ack.delivery_error.startswith("ConnectionRefusedError: ")


def test_a_retry_delivers_once_the_server_is_back(settings, people, real_queue):
    port = closed_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    ticket = ticket_of(ingest_raw(mail(), source="smtp"))
    task = real_queue.dequeue()
    real_queue.execute(task)  # the server is down: the task schedules a retry
    ack = ticket.messages.get(direction=Direction.OUTBOUND)
    assert ack.delivery_status == DeliveryStatus.PENDING and real_queue.scheduled_count() == 1
    capture = Capture()
    server = Loopback(capture)
    server.start()
    try:
        settings.EMAIL_PORT = server.port
        assert run_consumer(real_queue) == 1
    finally:
        server.stop()
    ack.refresh_from_db()
    assert ack.delivery_status == DeliveryStatus.SENT
    assert [bare(m["Message-ID"]) for _f, _t, m in capture.mail] == [ack.message_id]
