"""Issue 17: an accepted e-mail never loses its content, whatever moment the receiver dies.

The raw bytes are durable before the row, the row before the ``250``; filing checks the
stored bytes against the row; ``sportello mail verify`` lists any file that does not match.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import smtplib
import subprocess
import sys
import threading
from email.message import EmailMessage

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from sportello.mail.models import RawMessage
from sportello.mail.services import ingest_raw, raw_process, raw_store
from sportello.mail.smtpd import process_envelope
from sportello.mail.tests.builders import customer_mail
from sportello.mail.tests.test_smtpd import read_line, sportello_env
from sportello.tickets.models import Attachment, Direction, Message, Ticket
from sportello.tickets.tests.factories import cast


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def raw_path(raw: bytes) -> str:
    digest = hashlib.sha256(raw).hexdigest()
    return f"raw/{digest[:2]}/{digest}.eml"


def leave_empty_file(name: str) -> None:
    """What the old store left when killed after creating the file, before its bytes."""
    path = default_storage.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").close()


def stored_bytes(row: RawMessage) -> bytes:
    with default_storage.open(row.file.name, "rb") as fh:
        return fh.read()


def a_row_pointing_at(raw: bytes, **fields) -> RawMessage:
    """A row as the old ``raw_store`` committed it, whatever its file holds."""
    return RawMessage.objects.create(
        sha256=hashlib.sha256(raw).hexdigest(),
        file=raw_path(raw),
        size=len(raw),
        source="smtp",
        received_at=timezone.now(),
        **fields,
    )


@pytest.mark.django_db
def test_the_issue_sequence_a_file_left_empty_then_the_same_bytes_again_is_stored_whole():
    cast()
    raw = customer_mail("Il server non risponde", "Da stamattina il gestionale è fermo.", crlf=True)
    # 1. The first delivery's process died after the file was created: no row, no 250.
    leave_empty_file(raw_path(raw))
    # 2. The sender resends the same bytes over SMTP: the receiver answers 250 ...
    reply = process_envelope(
        "alice@alice.example.it", ["assistenza@init-s.it"], raw, ("127.0.0.1", 4000)
    )
    assert reply.startswith("250 2.0.0")
    # ... only with the bytes whole on disk, and 3. filing opened the ticket with its text.
    row = RawMessage.objects.get()
    assert stored_bytes(row) == raw
    assert row.state == "created"
    ticket = row.ticket
    assert ticket.subject == "Il server non risponde"
    assert "il gestionale è fermo" in ticket.messages.get(direction=Direction.INBOUND).text


@pytest.mark.django_db
def test_the_same_sequence_through_the_pipe_or_an_import():
    cast()
    raw = customer_mail("Backup fallito", "Il backup di stanotte è fallito.")
    leave_empty_file(raw_path(raw))
    result = ingest_raw(raw, source="pipe")
    assert result.state == "created"
    row = RawMessage.objects.get()
    assert stored_bytes(row) == raw
    assert (
        "Il backup di stanotte è fallito."
        in Ticket.objects.get().messages.get(direction=Direction.INBOUND).text
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda path: open(path, "wb").close(), "holds 0 bytes, not"),
        (lambda path: open(path, "r+b").write(b"X"), "SHA-256"),
        (os.unlink, "missing"),
    ],
    ids=["empty", "same-size-other-bytes", "missing"],
)
def test_a_row_whose_file_does_not_match_is_quarantined_never_filed(damage, reason, settings):
    settings.LANGUAGE_CODE = "en"
    cast()
    raw = customer_mail("Rete lenta", "La rete è lenta.")
    row, created = raw_store(raw, source="smtp")
    assert created
    damage(default_storage.path(row.file.name))
    result = raw_process(row)
    assert result.state == "quarantined"
    row.refresh_from_db()
    assert row.state == "quarantined"
    assert reason in row.error
    assert row.file.name in row.error and str(row.size) in row.error
    assert "Deliver the message again" in row.error
    assert Ticket.objects.count() == 0 and Message.objects.count() == 0


@pytest.mark.django_db
def test_the_quarantine_reason_is_in_italian_on_the_site():
    cast()
    raw = customer_mail()
    row = a_row_pointing_at(raw)
    leave_empty_file(row.file.name)
    raw_process(row)
    row.refresh_from_db()
    assert "non corrisponde" in row.error and "0 byte" in row.error


@pytest.mark.django_db
def test_a_row_the_old_code_left_pointing_at_an_empty_file_is_repaired_by_a_redelivery():
    cast()
    raw = customer_mail("Posta bloccata", "Non riceviamo posta da ieri.")
    row = a_row_pointing_at(raw)
    leave_empty_file(row.file.name)
    assert raw_process(row).state == "quarantined"  # never an empty ticket
    # The sender's retry (or an operator's) brings the same bytes: file repaired, filed.
    result = ingest_raw(raw, source="smtp")
    assert result.state == "created"
    row.refresh_from_db()
    assert stored_bytes(row) == raw and row.state == "created"
    assert (
        "Non riceviamo posta da ieri." in row.ticket.messages.get(direction=Direction.INBOUND).text
    )


def mail_with_attachment(data: bytes, subject="Errore allegato") -> bytes:
    msg = EmailMessage()
    msg["From"] = "alice@alice.example.it"
    msg["To"] = "assistenza@init-s.it"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '.')}@alice.example.it>"
    msg.set_content("In allegato il log.")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename="log.bin")
    return msg.as_bytes()


def attachment_name(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"attachments/{digest[:2]}/{digest}"


@pytest.mark.django_db
def test_an_attachment_file_left_empty_is_replaced_not_shared():
    cast()
    data = bytes(range(256)) * 40
    leave_empty_file(attachment_name(data))
    assert ingest_raw(mail_with_attachment(data), source="imap").state == "created"
    attachment = Attachment.objects.get()
    with attachment.file.open("rb") as fh:
        assert fh.read() == data
    # A second message with the same file shares the (now whole) stored copy.
    assert ingest_raw(mail_with_attachment(data, "Ancora"), source="imap").state == "created"
    assert {a.file.name for a in Attachment.objects.all()} == {attachment_name(data)}


@pytest.mark.django_db
def test_a_portal_upload_over_an_empty_file_is_stored_whole():
    from sportello.portal.services import Upload, portal_ticket_open
    from sportello.portal.tests.support import portal_cast

    people = portal_cast()
    data = b"errore 42 " * 100
    leave_empty_file(attachment_name(data))
    ticket = portal_ticket_open(
        user=people["alice_user"],
        contact=people["alice"],
        subject="Errore",
        description="Vedi il file.",
        uploads=[Upload(name="log.txt", content=data)],
    )
    with ticket.attachments.get().file.open("rb") as fh:
        assert fh.read() == data


@pytest.mark.django_db
def test_mail_verify_lists_files_that_do_not_match_and_exits_1(capsys):
    cast()
    good = ingest_raw(customer_mail("Va bene"), source="imap")
    bad_raw = customer_mail("Rovinato")
    bad, _ = raw_store(bad_raw, source="smtp")
    data = b"allegato " * 10
    ingest_raw(mail_with_attachment(data), source="imap")
    call_command("mail", "verify")
    out = capsys.readouterr().out
    assert out.strip().endswith(
        "Checked 3 received e-mail(s) and 1 attachment(s): 0 file(s) do not match their rows."
    )
    open(default_storage.path(bad.file.name), "wb").close()
    open(default_storage.path(attachment_name(data)), "wb").close()
    with pytest.raises(SystemExit) as exit_:
        call_command("mail", "verify")
    assert exit_.value.code == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"e-mail {bad.pk} {bad.file.name} (pending, Message-ID <")
    assert "0 bytes" in lines[0]
    assert lines[1].startswith("attachment ") and "log.bin" in lines[1]
    assert lines[-1].endswith(": 2 file(s) do not match their rows.")
    assert len(lines) == 3  # the good message is not listed
    assert good.state == "created"


@pytest.mark.django_db
def test_the_admin_action_lists_the_messages_whose_file_does_not_match(client):
    cast()
    admin = get_user_model().objects.create_superuser("root", "root@init-s.it", "pw")
    client.force_login(admin)
    good = RawMessage.objects.get(pk=ingest_raw(customer_mail("Ok"), source="imap").raw_id)
    bad, _ = raw_store(customer_mail("Rotto"), source="smtp")
    url = "/admin/mail/rawmessage/"
    action = {"action": "verify_files", "_selected_action": [good.pk]}
    page = client.post(url, action, follow=True).content.decode()
    assert "corrisponde alla sua riga" in page
    open(default_storage.path(bad.file.name), "wb").close()
    action["_selected_action"] = [good.pk, bad.pk]
    page = client.post(url, action, follow=True).content.decode()
    assert "1 di 2 messaggi" in page
    assert f"#{bad.pk} {bad.file.name}" in page and "0 byte" in page


# The trial: the real receiver killed at random moments while a sender delivers and resends.

TRIAL_MESSAGES = 300
TRIAL_KILLS = 5


class Receiver:
    """`sportello smtpd` as a subprocess, started again after each SIGKILL."""

    def __init__(self, env):
        self.env = env
        self.port = None
        self.proc = None
        self.up = threading.Event()
        self.starts = 0

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sportello", "smtpd", "--bind", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        banner = read_line(self.proc)
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)", banner).group(1))
        self.starts += 1
        self.up.set()

    def kill(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.communicate(timeout=60)


def trial_message(n: int) -> tuple[str, bytes]:
    mid = f"trial-{n}@alice.example.it"
    raw = customer_mail(
        f"Prova {n}",
        f"Messaggio numero {n}: " + "testo del cliente " * random.randint(1, 400),
        crlf=True,
        Message_ID=f"<{mid}>",
    )
    return mid, raw


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_receiver_killed_at_random_moments_loses_no_message_it_accepted():
    from django.db import connection

    cast()
    env = sportello_env(connection.settings_dict)
    env["SPORTELLO_HUEY_IMMEDIATE"] = "1"  # filed by the receiver before its 250
    receiver = Receiver(env)
    receiver.start()
    messages = [trial_message(n) for n in range(TRIAL_MESSAGES)]
    accepted: set[str] = set()
    resent = 0
    failures: list[str] = []
    progress = threading.Condition()
    kill_at = sorted(random.sample(range(20, TRIAL_MESSAGES - 20), TRIAL_KILLS))

    def sender():
        # As an MTA: a message without a 250 is delivered again until it gets one.
        nonlocal resent
        client = None
        for mid, raw in messages:
            while True:
                receiver.up.wait(60)
                try:
                    if client is None:
                        client = smtplib.SMTP("127.0.0.1", receiver.port, timeout=30)
                    client.sendmail("alice@alice.example.it", ["assistenza@init-s.it"], raw)
                    break
                except (OSError, smtplib.SMTPException) as exc:
                    resent += 1
                    failures.append(type(exc).__name__)
                    client = None
            with progress:
                accepted.add(mid)
                progress.notify_all()
        if client is not None:
            client.quit()

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        for threshold in kill_at:
            with progress:
                progress.wait_for(lambda t=threshold: len(accepted) >= t, timeout=120)
            # A random moment inside the next deliveries: storing, committing or filing.
            threading.Event().wait(random.uniform(0, 0.03))
            receiver.kill()
            receiver.start()
        thread.join(300)
        assert not thread.is_alive(), "the sender did not finish"
    finally:
        receiver.stop()
        if receiver.proc.poll() is None:
            receiver.proc.kill()

    assert accepted == {mid for mid, _raw in messages}
    assert receiver.starts == TRIAL_KILLS + 1
    for mid, raw in messages:
        rows = list(RawMessage.objects.filter(message_id=mid))
        assert len(rows) == 1, mid
        (row,) = rows
        assert stored_bytes(row) == raw, f"{mid}: stored file is not what was accepted"
        assert row.state == "created", (mid, row.state, row.error)
        filed = Message.objects.filter(message_id=mid, direction=Direction.INBOUND)
        assert filed.count() == 1, mid
        number = int(mid.split("-")[1].split("@")[0])
        assert f"Messaggio numero {number}:" in filed.get().text
    assert Ticket.objects.count() == TRIAL_MESSAGES
    call_command("mail", "verify")  # exits 1 on any mismatch
    print(f"trial: {TRIAL_KILLS} kills, {resent} deliveries resent ({set(failures)})")
