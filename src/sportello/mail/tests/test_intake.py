"""Intake through ``ingest_raw``: the corpus, threading, reopening, bounces, quarantine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from sportello.core.testenv import shared_dir
from sportello.mail.models import RawMessage
from sportello.mail.parse import iter_mbox
from sportello.mail.services import ingest_raw, raw_process
from sportello.mail.tests.builders import corpus_messages, customer_mail
from sportello.staff.models import Agent
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import DeliveryStatus, Message, Status, Ticket
from sportello.tickets.services import Actor, message_add, ticket_change_status
from sportello.tickets.tests.factories import cast

CORPUS = shared_dir() / "mail-corpus"


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


mail = customer_mail


@pytest.mark.django_db
def test_every_corpus_message_is_filed_ignored_or_quarantined_never_lost():
    cast()
    outcomes = {}
    for name, raw in corpus_messages():
        result = ingest_raw(raw, source="import", source_detail=name)
        outcomes[name] = result
        assert result.state in {"created", "appended", "duplicate", "ignored", "quarantined"}
    stored = RawMessage.objects.count()
    distinct = len({r.raw_id for r in outcomes.values()})
    assert stored == distinct  # every delivery has its raw row, byte for byte
    for row in RawMessage.objects.all():
        assert row.state != "pending"
        if row.state == "quarantined":
            assert row.error, f"{row.source_detail} quarantined without a reason"
        if row.state in ("created", "appended"):
            assert row.ticket_id is not None
    # Bounces and auto-replies (as the corpus manifest classifies them) never open tickets.
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    automatic = {e["file"] for e in manifest if e["kind"] in ("bounce", "auto-reply")}
    opened = [n for n, r in outcomes.items() if n in automatic and r.state == "created"]
    assert opened == []
    # Real customer mail does open tickets.
    assert outcomes["django-helpdesk/quoted_printable.eml"].state == "created"
    assert outcomes[
        "talon/" + next(p.name for p in sorted((CORPUS / "talon").iterdir()) if p.suffix == ".eml")
    ].state in ("created", "appended")


@pytest.mark.django_db
def test_the_same_message_twice_or_by_two_paths_lands_once():
    cast()
    raw = mail()
    first = ingest_raw(raw, source="imap")
    again = ingest_raw(raw, source="imap")
    # Same Message-ID, different bytes: what IMAP and SMTP deliver of one mail.
    other_path = ingest_raw(b"Received: from mx.example.it\r\n" + raw, source="smtp")
    assert first.state == "created"
    assert (again.state, other_path.state) == ("duplicate", "duplicate")
    assert again.ticket_number == other_path.ticket_number == first.ticket_number
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_sender_of_a_customer_domain_joins_that_organisation():
    people = cast()
    result = ingest_raw(mail(sender="Nuovo Collega <nuovo@alice.example.it>"), source="pipe")
    ticket = Ticket.objects.get(number=result.ticket_number)
    assert ticket.organisation == people["org_a"]
    assert ticket.contact.needs_review and ticket.contact.first_name == "Nuovo"
    free = ingest_raw(mail(sender="someone@gmail.com"), source="pipe")
    assert Ticket.objects.get(number=free.ticket_number).organisation is None


@pytest.mark.django_db
def test_a_reply_to_a_resolved_ticket_reopens_it():
    cast()
    first = ingest_raw(mail(), source="pipe")
    ticket = Ticket.objects.get(number=first.ticket_number)
    ticket_change_status(ticket=ticket, status=Status.RESOLVED)
    reply = ingest_raw(
        mail(subject=f"Re: [Ticket#{ticket.number}] Stampante guasta", body="Non funziona ancora."),
        source="pipe",
    )
    assert (reply.state, reply.ticket_number) == ("appended", ticket.number)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


@pytest.mark.django_db
def test_a_reply_to_a_ticket_closed_long_ago_opens_a_linked_ticket():
    cast()
    first = ingest_raw(mail(), source="pipe")
    old = Ticket.objects.get(number=first.ticket_number)
    ticket_change_status(ticket=old, status=Status.CLOSED)
    Ticket.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=15))
    reply = ingest_raw(mail(subject=f"Re: [Ticket#{old.number}] Stampante guasta"), source="pipe")
    assert reply.state == "created" and reply.ticket_number != old.number
    assert Ticket.objects.get(number=reply.ticket_number).linked_to == old
    old.refresh_from_db()
    assert old.status == Status.CLOSED


@pytest.mark.django_db
def test_a_bounce_of_our_mail_marks_the_delivery_failed_on_its_ticket():
    cast()
    first = ingest_raw(mail(), source="pipe")
    ticket = Ticket.objects.get(number=first.ticket_number)
    ours = message_add(
        ticket=ticket,
        actor=Actor(label="bob"),
        message=MessageInput(
            kind="email",
            direction="out",
            text="Risposta",
            message_id="reply-1@init-s.it",
            recipients=["alice@alice.example.it"],
            delivery_status=DeliveryStatus.SENT,
        ),
    )
    dsn = (
        b"From: MAILER-DAEMON@mx.alice.example.it\r\nTo: assistenza@init-s.it\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nMailbox full.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; alice@alice.example.it\r\nAction: failed\r\n"
        b"Status: 5.2.2\r\n\r\n"
        b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <reply-1@init-s.it>\r\nSubject: Risposta\r\n\r\n--b--\r\n"
    )
    result = ingest_raw(dsn, source="pipe")
    assert (result.state, result.ticket_number) == ("appended", ticket.number)
    ours.refresh_from_db()
    assert ours.delivery_status == DeliveryStatus.FAILED
    assert "alice@alice.example.it" in ours.delivery_error
    assert ticket.attachments.filter(filename="bounce.eml").exists()
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_a_failure_quarantines_the_message_and_it_can_be_reprocessed(monkeypatch):
    cast()
    from sportello.mail import services

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "_open", broken)
    result = ingest_raw(mail(), source="pipe")
    assert result.state == "quarantined" and "database hiccup" in result.error
    row = RawMessage.objects.get()
    assert row.state == "quarantined" and row.read().startswith(b"From: alice")
    assert not Ticket.objects.exists()
    monkeypatch.undo()
    again = raw_process(row)
    assert again.state == "created"
    assert Ticket.objects.count() == 1 and Message.objects.filter(direction="in").count() == 1


def sportello(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "sportello", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env=env,
    )


@pytest.mark.django_db(transaction=True)
def test_mail_ingest_prints_one_line_per_message_for_files_and_mbox(tmp_path):
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        url = (
            f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    else:
        url = f"sqlite:///{settings['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    one = tmp_path / "one.eml"
    one.write_bytes(mail())
    mbox = next(CORPUS.rglob("*.mbox"))
    result = sportello("mail", "ingest", str(one), str(mbox), "--no-progress", env=env)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert lines[0].endswith(" created") and lines[0].startswith(str(timezone.now().year))
    assert len(lines) == 1 + len(list(iter_mbox(mbox.read_bytes())))
    assert all(
        line.split()[1] in {"created", "appended", "duplicate", "ignored", "quarantined"}
        for line in lines
    )
    piped = sportello("mail", "ingest", stdin=one.read_bytes(), env=env)
    assert piped.returncode == 0 and piped.stdout.decode().split()[1] == "duplicate"


def test_mail_ingest_exits_75_when_the_database_is_down(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "SPORTELLO_DATA_DIR": str(tmp_path),
    }
    result = sportello("mail", "ingest", stdin=mail(), env=env)
    assert result.returncode == 75, result.stderr.decode()
    assert b"try again" in result.stderr


@pytest.mark.django_db
def test_agents_download_the_raw_eml_customers_cannot(client, django_user_model):
    cast()
    raw = mail()
    ingest_raw(raw, source="pipe")
    row = RawMessage.objects.get()
    url = f"/mail/raw/{row.pk}.eml"
    assert client.get(url).status_code == 302  # anonymous: to the desk's login
    customer = django_user_model.objects.create_user("cliente", password="pw-Secret-1")
    client.force_login(customer)
    assert client.get(url).status_code == 403  # a customer never gets the mail
    # Staff in Django's sense but no agent role: the same 403 as on the ticket page.
    staff = django_user_model.objects.create_user("ufficio", password="pw-Secret-1", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    agent = django_user_model.objects.create_user("agente", password="pw-Secret-1")
    Agent.objects.create(user=agent)
    client.force_login(agent)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == raw
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_a_sender_created_meanwhile_by_another_worker_is_the_same_contact(monkeypatch):
    """Two workers filing the first two mails of a new sender at once (PostgreSQL): the
    loser of the race finds the contact the winner created, and files normally."""
    from sportello.customers.models import Contact, ContactEmail

    cast()
    winner = Contact.objects.create(first_name="Dario", needs_review=True)
    ContactEmail.objects.create(contact=winner, address="dario@nuovo.example", primary=True)
    real_filter = ContactEmail.objects.filter
    lookups: list[int] = []

    def not_committed_yet(*args, **kwargs):  # the winner's rows are invisible at first
        lookups.append(1)
        queryset = real_filter(*args, **kwargs)
        return queryset.none() if len(lookups) == 1 else queryset

    monkeypatch.setattr(ContactEmail.objects, "filter", not_committed_yet)
    result = ingest_raw(mail(sender="Dario Neri <dario@nuovo.example>"), source="smtp")
    assert result.state == "created"
    assert Ticket.objects.get(number=result.ticket_number).contact == winner
    assert Contact.objects.filter(emails__address="dario@nuovo.example").count() == 1


@pytest.mark.django_db
def test_stored_mail_whose_filing_task_was_lost_is_filed_by_the_sweep():
    from sportello.mail import tasks
    from sportello.mail.services import raw_store

    cast()
    lost, _ = raw_store(mail(subject="Task lost"), source="smtp")
    fresh, _ = raw_store(mail(subject="Still in the queue"), source="smtp")
    RawMessage.objects.filter(pk=lost.pk).update(
        received_at=timezone.now() - tasks.PENDING_GRACE - timedelta(minutes=1)
    )
    assert tasks.raw_pending_sweep.call_local() == 1
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.state == "created" and lost.ticket.subject == "Task lost"
    assert fresh.state == "pending"  # its own task will come


@pytest.mark.django_db
def test_a_filing_that_keeps_failing_on_a_unique_row_ends_in_quarantine(monkeypatch):
    from django.db import IntegrityError

    from sportello.mail import services

    cast()

    def always_racing(row, parsed):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "_file", always_racing)
    result = ingest_raw(mail(), source="smtp")
    row = RawMessage.objects.get(pk=result.raw_id)
    assert (result.state, row.state) == ("quarantined", "quarantined")
    assert "IntegrityError" in row.error and row.attempts == 1


@pytest.mark.django_db
def test_filing_costs_a_fixed_number_of_queries_whatever_the_desk_holds(
    django_assert_max_num_queries,
):
    """Intake speed is mostly round trips: a new ticket, a reply and ignored list mail
    each cost a small fixed number of queries, not one more per stored message."""
    cast()
    first = ingest_raw(mail(subject="Primo"), source="import")  # warms the settings cache
    for n in range(30):  # a busy desk: other tickets with their acknowledgements
        ingest_raw(mail(subject=f"Altro {n}", sender=f"c{n}@alice.example.it"), source="import")
    opening = Ticket.objects.get(number=first.ticket_number).messages.get(direction="in")

    # A new ticket from a new sender: raw row, one lookup, the contact, number, ticket,
    # events, message, charges, the acknowledgement (rate limit, message, event), the
    # final state; 4 of the 28 are savepoints that only the test's own transaction adds,
    # 4 keep the search index (the new address's tickets, the contact's addresses and
    # phones, the ticket's document, its message).
    with django_assert_max_num_queries(28):
        created = ingest_raw(
            mail(subject="Nuovo", sender="nuovo@alice.example.it"), source="import"
        )
    assert created.state == "created"
    # A reply: raw row, one lookup, its ticket, the contact, message, event, repricing,
    # the message appended to the ticket's search document, and the SLA clock (its
    # policy, then the clock row kept or dropped).
    with django_assert_max_num_queries(22):
        reply = ingest_raw(
            mail(subject="Re: Primo", In_Reply_To=f"<{opening.message_id}>"), source="import"
        )
    assert (reply.state, reply.ticket_number) == ("appended", first.ticket_number)
    # List mail that answers nothing: stored, looked up once, marked ignored.
    with django_assert_max_num_queries(8):
        ignored = ingest_raw(mail(subject="Newsletter", Precedence="bulk"), source="import")
    assert ignored.state == "ignored"
