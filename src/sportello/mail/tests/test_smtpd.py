"""The built-in SMTP/LMTP receiver, played as whole dialogues against a real listener.

The listener is aiosmtpd on 127.0.0.1 with a port the kernel picks. Its DATA hook
stores from a worker thread, so dialogue tests use ``transaction=True``: the rows it
commits must be visible to the test, and Huey (immediate mode in tests) files the
message in that same thread before the 250 goes back.
"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError

from sportello.core.management.commands.serve import Command as ServeCommand
from sportello.core.models import SupportSettings
from sportello.core.testenv import Loopback, shared_dir
from sportello.mail import services, smtpd, tasks
from sportello.mail.models import RawMessage
from sportello.mail.tests.builders import customer_mail
from sportello.mail.tests.processes import read_line, sportello_env
from sportello.tickets.models import Ticket
from sportello.tickets.tests.factories import cast

CORPUS = shared_dir() / "mail-corpus"


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SPORTELLO_MAIL_DOMAINS = []  # the support settings decide: init-s.it


def start(*, lmtp=False, max_bytes=None):
    source = RawMessage.Source.LMTP if lmtp else RawMessage.Source.SMTP
    handler = smtpd.Handler(source=source)
    server = Loopback(handler, lambda h: smtpd.make_protocol(h, lmtp=lmtp, max_bytes=max_bytes))
    server.start()
    return server


@pytest.fixture
def receiver():
    server = start()
    yield server
    server.stop()


@pytest.fixture
def lmtp_receiver():
    server = start(lmtp=True, max_bytes=4000)
    yield server
    server.stop()


@pytest.fixture
def small_receiver():
    server = start(max_bytes=4000)
    yield server
    server.stop()


def mail(**kwargs) -> bytes:
    return customer_mail(crlf=True, **kwargs)


class Dialogue:
    """One SMTP/LMTP session over a plain socket: send a line, read whole replies."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")

    def reply(self) -> str:
        """One reply; a multi-line reply (250-…) comes back as its last line."""
        while True:
            line = self.file.readline().decode().rstrip("\r\n")
            if len(line) < 4 or line[3] != "-":
                return line

    def say(self, line: str | bytes, replies: int = 1) -> list[str]:
        data = line if isinstance(line, bytes) else line.encode()
        self.sock.sendall(data + b"\r\n")
        return [self.reply() for _ in range(replies)]

    def close(self):
        self.file.close()
        self.sock.close()


def play(port: int, script, *, greeting="220 ") -> None:
    """Play (line, expected replies) pairs; each reply must start with its expectation."""
    talk = Dialogue(port)
    try:
        if greeting:
            assert talk.reply().startswith(greeting)
        for line, expected in script:
            expected = [expected] if isinstance(expected, str) else expected
            got = talk.say(line, replies=len(expected))
            for reply, want in zip(got, expected, strict=True):
                assert reply.startswith(want), f"{line!r}: got {reply!r}, expected {want!r}"
    finally:
        talk.close()


def dot_stuffed(raw: bytes) -> bytes:
    """The DATA payload as an MTA sends it: CRLF lines, leading dots doubled, then '.'."""
    lines = raw.split(b"\r\n")
    if lines[-1] == b"":
        lines.pop()
    return b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines) + (
        b"\r\n."
    )


def on_the_wire(raw: bytes) -> bytes:
    """What smtplib sends for ``raw`` once unstuffed: every line ending CRLF (RFC 5321 2.3.8)."""
    wire = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    return wire if wire.endswith(b"\r\n") else wire + b"\r\n"


# Plain functions first: the listener only adapts them.


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("assistenza@init-s.it", True),
        ("Mario.Rossi@INIT-S.IT", True),
        ("assistenza@init-s.it.", True),
        ('"strano@nome"@init-s.it', True),
        ("assistenza@example.com", False),
        ("assistenza@mail.init-s.it", False),  # a subdomain is another domain
        ("assistenza@init-s.it.example.com", False),
        ("init-s.it", False),
        ("@init-s.it", False),
        ("", False),
    ],
)
def test_it_accepts_only_mailboxes_of_our_domains(address, accepted):
    assert smtpd.accepts_recipient(address, ["init-s.it"]) is accepted


@pytest.mark.django_db
def test_it_reads_the_domains_from_the_support_settings_unless_configured(settings):
    support = SupportSettings.load()
    support.company_domains = "init-s.it\ninit-group.example"
    support.support_addresses = "assistenza@init-s.it\nhelp@supporto.example"
    support.save()
    assert smtpd.mail_domains() == ["init-s.it", "init-group.example", "supporto.example"]
    settings.SPORTELLO_MAIL_DOMAINS = ["Example.IT"]
    assert smtpd.mail_domains() == ["example.it"]


@pytest.mark.django_db
def test_process_envelope_stores_then_files_and_answers_with_the_raw_id():
    cast()
    raw = mail()
    reply = smtpd.process_envelope(
        "alice@alice.example.it", ["assistenza@init-s.it"], raw, ("192.0.2.7", 40000)
    )
    row = RawMessage.objects.get()
    assert reply == f"250 2.0.0 OK: queued as {row.pk}"
    assert row.read() == raw and row.source == "smtp"
    assert row.source_detail == "smtp from 192.0.2.7"
    assert (row.envelope_from, row.envelope_to) == (
        "alice@alice.example.it",
        ["assistenza@init-s.it"],
    )
    assert row.state == "created" and row.ticket is not None
    # The same bytes again (the sender never saw our 250): one row, same answer.
    again = smtpd.process_envelope("", ["assistenza@init-s.it"], raw, ("192.0.2.7", 40001))
    assert again == reply and RawMessage.objects.count() == 1 and Ticket.objects.count() == 1
    # A bounce comes from the null sender, which aiosmtpd hands over as "<>".
    bounce = smtpd.process_envelope("<>", ["assistenza@init-s.it"], mail(subject="DSN"), None)
    assert bounce.startswith("250 ") and RawMessage.objects.get(subject="DSN").envelope_from == ""


@pytest.mark.django_db
def test_process_envelope_answers_451_when_the_store_is_down(monkeypatch):
    def down(*args, **kwargs):
        raise DatabaseError("could not connect to server")

    monkeypatch.setattr(services, "raw_store", down)
    reply = smtpd.process_envelope("a@b.example", ["assistenza@init-s.it"], mail(), None)
    assert reply.startswith("451 4.3.0 ")
    assert not RawMessage.objects.exists()


# Whole dialogues against the real listener.


@pytest.mark.django_db(transaction=True)
def test_it_accepts_mail_for_our_domain_and_files_a_ticket(receiver):
    cast()
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        assert client.ehlo("mx.alice.example.it")[0] == 250
        assert client.mail("alice@alice.example.it") == (250, b"OK")
        assert client.rcpt("assistenza@init-s.it") == (250, b"2.1.5 OK")
        code, text = client.data(mail())
    row = RawMessage.objects.get()
    assert (code, text.decode()) == (250, f"2.0.0 OK: queued as {row.pk}")
    assert row.source == "smtp" and row.source_detail == "smtp from 127.0.0.1"
    assert row.envelope_to == ["assistenza@init-s.it"]
    row.refresh_from_db()
    assert row.state == "created"
    ticket = Ticket.objects.get()
    assert row.ticket == ticket and ticket.subject == "Stampante guasta"
    assert ticket.organisation.name == "Alice & Co. S.r.l."
    assert receiver.handler.received == 1


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_relay_for_other_domains_and_stores_nothing(receiver):
    play(
        receiver.port,
        [
            ("EHLO mx.example.com", "250 "),
            ("MAIL FROM:<spammer@example.com>", "250 "),
            (
                "RCPT TO:<victim@example.org>",
                "550 5.1.1 Bad destination mailbox address: victim@example.org",
            ),
            (
                "RCPT TO:<assistenza@mail.init-s.it>",
                "550 5.1.1 Bad destination mailbox address: assistenza@mail.init-s.it",
            ),
            ("DATA", "503 "),  # no accepted recipient, so no data
            ("QUIT", "221 "),
        ],
    )
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("spammer@example.com", ["victim@example.org"], mail())
    assert refused.value.recipients["victim@example.org"][0] == 550
    assert not RawMessage.objects.exists() and not Ticket.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_dialogue_over_a_plain_socket_gets_the_exact_replies(receiver):
    cast()
    play(
        receiver.port,
        [
            ("EHLO mx.alice.example.it", "250 "),
            ("MAIL FROM:<alice@alice.example.it>", "250 OK"),
            ("RCPT TO:<assistenza@init-s.it>", "250 2.1.5 OK"),
            (
                "RCPT TO:<someone@example.net>",
                "550 5.1.1 Bad destination mailbox address: someone@example.net",
            ),
            ("DATA", "354 "),
            (dot_stuffed(mail()), "250 2.0.0 OK: queued as "),
            ("QUIT", "221 "),
        ],
    )
    row = RawMessage.objects.get()
    assert row.envelope_to == ["assistenza@init-s.it"]  # the refused one is not recorded
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_over_the_limit_gets_552(small_receiver):
    big = mail(body=("riga lunga " * 7 + "\n") * 80)
    assert len(big) > 4000
    # Announced with SIZE: refused at MAIL, before any data is sent.
    play(
        small_receiver.port,
        [
            ("EHLO mx.alice.example.it", "250 "),
            ("MAIL FROM:<alice@alice.example.it> SIZE=5000", "552 5.3.4 Message too big"),
            ("MAIL FROM:<alice@alice.example.it>", "250 "),
            ("RCPT TO:<assistenza@init-s.it>", "250 2.1.5 OK"),
            ("DATA", "354 "),
            (dot_stuffed(big), "552 5.3.4 Message too big"),
            ("QUIT", "221 "),
        ],
    )
    # smtplib announces the size itself (the listener says SIZE 4000 in its EHLO).
    with smtplib.SMTP("127.0.0.1", small_receiver.port, timeout=10) as client:
        client.ehlo("mx.alice.example.it")
        assert client.esmtp_features["size"] == "4000"
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("alice@alice.example.it", ["assistenza@init-s.it"], big)
    assert refused.value.smtp_code == 552
    assert not RawMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_answers_451_when_storage_fails_so_the_sender_retries(receiver, monkeypatch):
    cast()
    raw = mail()

    def down(*args, **kwargs):
        raise DatabaseError("could not connect to server: Connection refused")

    monkeypatch.setattr(services, "raw_store", down)
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            client.sendmail("alice@alice.example.it", ["assistenza@init-s.it"], raw)
    code, text = failed.value.smtp_code, failed.value.smtp_error.decode()
    assert (code, text) == (451, "4.3.0 Temporary failure storing the message: try again later")
    assert 400 <= code < 500  # transient: an MTA keeps the message in its queue
    assert not RawMessage.objects.exists()
    # The database is back; the MTA's retry delivers it, once.
    monkeypatch.undo()
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        assert client.sendmail("alice@alice.example.it", ["assistenza@init-s.it"], raw) == {}
    assert RawMessage.objects.get().state == "created"
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_stored_but_not_queued_is_queued_by_the_retry(receiver, monkeypatch):
    cast()
    raw = mail()

    def queue_down(raw_id):
        raise ConnectionError("Redis is not answering")

    monkeypatch.setattr(tasks, "raw_process", queue_down)
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.ehlo("mx.alice.example.it")
        client.mail("alice@alice.example.it")
        client.rcpt("assistenza@init-s.it")
        assert client.data(raw)[0] == 451
    assert RawMessage.objects.get().state == "pending"  # kept, not lost
    monkeypatch.undo()
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail("alice@alice.example.it", ["assistenza@init-s.it"], raw)
    assert RawMessage.objects.get().state == "created"
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_lmtp_answers_once_per_recipient(lmtp_receiver):
    cast()
    raw = mail(to="assistenza@init-s.it, mario@init-s.it")
    talk = Dialogue(lmtp_receiver.port)
    try:
        assert talk.reply().startswith("220 ")
        assert talk.say("HELO mx.init-s.it") == ['500 Error: command "HELO" not recognized']
        assert talk.say("LHLO mx.init-s.it")[0].startswith("250 ")
        assert talk.say("MAIL FROM:<alice@alice.example.it>") == ["250 OK"]
        assert talk.say("RCPT TO:<assistenza@init-s.it>") == ["250 2.1.5 OK"]
        assert talk.say("RCPT TO:<x@example.org>") == [
            "550 5.1.1 Bad destination mailbox address: x@example.org"
        ]
        assert talk.say("RCPT TO:<mario@init-s.it>") == ["250 2.1.5 OK"]
        assert talk.say("DATA")[0].startswith("354 ")
        replies = talk.say(dot_stuffed(raw), replies=2)  # RFC 2033 4.2: one per recipient
        row = RawMessage.objects.get()
        assert replies == [f"250 2.0.0 OK: queued as {row.pk}"] * 2
        # Over the limit: again one reply per accepted recipient.
        assert talk.say("MAIL FROM:<alice@alice.example.it>") == ["250 OK"]
        assert talk.say("RCPT TO:<assistenza@init-s.it>") == ["250 2.1.5 OK"]
        assert talk.say("RCPT TO:<mario@init-s.it>") == ["250 2.1.5 OK"]
        assert talk.say("DATA")[0].startswith("354 ")
        big = mail(body="troppo lungo\n" * 400)
        assert talk.say(dot_stuffed(big), replies=2) == ["552 5.3.4 Message too big"] * 2
        assert talk.say("QUIT")[0].startswith("221 ")
    finally:
        talk.close()
    row = RawMessage.objects.get()
    assert row.source == "lmtp"
    assert row.envelope_to == ["assistenza@init-s.it", "mario@init-s.it"]
    assert Ticket.objects.count() == 1  # one message, one ticket, however many recipients


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "name", ["outlook.eml", "hotmail.eml", "reply-quotations-share-block.eml", "gmail.eml"]
)
def test_a_corpus_message_is_stored_byte_for_byte_as_delivered(receiver, name):
    # The corpus files have LF line ends; outlook.eml has a CSS line starting with a dot,
    # no final newline and 1500-octet lines, reply-quotations one of 4464 octets. An MTA
    # sends every line with CRLF and leading dots doubled (smtplib does the same with a
    # str message). We undo the dots (RFC 5321 4.5.2) and keep the CRLF line ends: the
    # stored copy is exactly the DATA the MTA delivered, never normalised.
    cast()
    original = (CORPUS / "talon" / name).read_bytes()
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        refused = client.sendmail("mx@example.com", ["assistenza@init-s.it"], original.decode())
    assert refused == {}
    row = RawMessage.objects.get()
    stored = row.read()
    assert stored == on_the_wire(original)
    assert stored.replace(b"\r\n", b"\n").rstrip(b"\n") == original.rstrip(b"\n")
    assert row.size == len(stored)
    row.refresh_from_db()
    assert row.state in ("created", "appended", "ignored")


@pytest.mark.django_db(transaction=True)
def test_transparency_dots_are_removed_and_nothing_else_changes(receiver):
    cast()
    raw = (
        b"From: alice@alice.example.it\r\nTo: assistenza@init-s.it\r\n"
        b"Subject: punti\r\nMessage-ID: <dots@alice.example.it>\r\n\r\n"
        b".\r\n..due punti\r\n.uno\r\ncoda senza a capo finale \t\r\n"
    )
    play(
        receiver.port,
        [
            ("EHLO mx.alice.example.it", "250 "),
            ("MAIL FROM:<alice@alice.example.it>", "250 "),
            ("RCPT TO:<assistenza@init-s.it>", "250 "),
            ("DATA", "354 "),
            (dot_stuffed(raw), "250 2.0.0 OK: queued as "),
        ],
    )
    assert RawMessage.objects.get().read() == raw


# The command: one loop, SIGTERM, a summary line.


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_smtpd_command_receives_and_stops_on_sigterm_with_a_summary():
    from django.db import connection

    cast()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sportello", "smtpd", "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sportello_env(connection.settings_dict),
    )
    try:
        banner = read_line(proc)
        assert banner.startswith("Receiving SMTP on 127.0.0.1:"), banner
        assert "for init-s.it" in banner
        port = int(re.search(r"127\.0\.0\.1:(\d+)", banner).group(1))
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            assert client.sendmail("alice@alice.example.it", ["assistenza@init-s.it"], mail()) == {}
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("alice@alice.example.it", ["x@example.org"], mail())
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip().splitlines()[-1] == "Received 1 message(s)."
    assert RawMessage.objects.get().state == "created"
    assert Ticket.objects.count() == 1


@pytest.mark.slow
def test_the_lmtp_command_stops_on_sigint_too(tmp_path):
    env = {**os.environ, "SPORTELLO_MAIL_DOMAINS": "init-s.it", "PYTHONUNBUFFERED": "1"}
    env["SPORTELLO_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sportello", "smtpd", "--lmtp", "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        banner = read_line(proc)
        assert banner.startswith("Receiving LMTP on 127.0.0.1:"), banner
        port = int(re.search(r":(\d+) for", banner).group(1))
        play(port, [("LHLO mx.init-s.it", "250 ")])
        # An idle session open at shutdown is dropped; its client would simply retry.
        idle = Dialogue(port)
        assert idle.reply().startswith("220 ")  # the session is open: stop now
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        idle.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip().splitlines()[-1] == "Received 0 message(s)."


@pytest.mark.parametrize("bind", ["2525", "127.0.0.1", "127.0.0.1:port", ":2525", "h:99999"])
def test_a_bad_bind_is_a_usage_error(bind):
    with pytest.raises(CommandError) as error:
        call_command("smtpd", "--bind", bind)
    assert error.value.returncode == 2
    assert "is not HOST:PORT" in str(error.value)


def test_nothing_to_listen_on_is_a_configuration_error(settings):
    settings.SPORTELLO_SMTP_BIND = ""
    with pytest.raises(CommandError) as error:
        call_command("smtpd")
    assert error.value.returncode == 2 and "SPORTELLO_SMTP_BIND" in str(error.value)


@pytest.mark.django_db
def test_no_mail_domains_is_a_configuration_error():
    support = SupportSettings.load()
    support.company_domains = ""
    support.support_addresses = ""
    support.save()
    with pytest.raises(CommandError) as error:
        call_command("smtpd", "--bind", "127.0.0.1:0")
    assert error.value.returncode == 2 and "SPORTELLO_MAIL_DOMAINS" in str(error.value)


@pytest.mark.django_db
def test_serve_starts_the_receivers_only_when_configured(settings):
    settings.SPORTELLO_SMTP_BIND = ""
    settings.SPORTELLO_LMTP_BIND = ""
    extra = ServeCommand().extra_processes({})
    assert "smtpd" not in extra and "lmtpd" not in extra
    settings.SPORTELLO_SMTP_BIND = "0.0.0.0:25"
    settings.SPORTELLO_LMTP_BIND = "127.0.0.1:2424"
    extra = ServeCommand().extra_processes({})
    assert extra["smtpd"][1:] == ["-m", "sportello", "smtpd", "--bind", "0.0.0.0:25"]
    assert extra["lmtpd"][1:] == ["-m", "sportello", "smtpd", "--bind", "127.0.0.1:2424", "--lmtp"]


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=mx.init-s.it", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.django_db(transaction=True)
def test_a_sender_that_asks_gets_starttls_and_its_mail_is_stored(certificate, settings):
    import ssl

    settings.SPORTELLO_SMTP_TLS_CERT, settings.SPORTELLO_SMTP_TLS_KEY = map(str, certificate)
    handler = smtpd.Handler()
    server = Loopback(handler, lambda h: smtpd.make_protocol(h, tls_context=smtpd.tls_context()))
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            insecure = ssl.create_default_context()
            insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
            client.starttls(context=insecure)
            client.ehlo()
            client.sendmail("alice@alice.example.it", ["assistenza@init-s.it"], mail())
            assert isinstance(client.sock, ssl.SSLSocket)
    finally:
        server.stop()
    assert RawMessage.objects.count() == 1


def test_a_certificate_that_cannot_be_read_is_named(settings, tmp_path):
    settings.SPORTELLO_SMTP_TLS_CERT = str(tmp_path / "missing.pem")
    settings.SPORTELLO_SMTP_TLS_KEY = str(tmp_path / "missing.key")
    with pytest.raises(ValueError, match="SPORTELLO_SMTP_TLS_CERT=.*missing.pem"):
        smtpd.tls_context()
    settings.SPORTELLO_SMTP_TLS_KEY = ""
    with pytest.raises(ValueError, match="Set both"):
        smtpd.tls_context()


@pytest.mark.django_db(transaction=True)
def test_a_message_without_from_is_the_envelope_senders_and_is_acknowledged(receiver):
    """The README's first example: a script sends mail with no From: header."""
    from django.core import mail as django_mail

    cast()
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail(
            "alice@alice.example.it",
            ["assistenza@init-s.it"],
            b"Subject: La stampante non stampa\r\n\r\nCiao, da stamattina...",
        )
    ticket = Ticket.objects.get()
    assert ticket.contact.first_name == "Alice"
    assert ticket.organisation.name == "Alice & Co. S.r.l."
    assert ticket.messages.get(direction="in").sender == "alice@alice.example.it"
    ack = [m for m in django_mail.outbox if m.to == ["alice@alice.example.it"]]
    assert len(ack) == 1 and ticket.number in ack[0].subject
    # The null sender of a bounce is nobody's: still no contact for it.
    with smtplib.SMTP("127.0.0.1", receiver.port, timeout=10) as client:
        client.sendmail("<>", ["assistenza@init-s.it"], b"Subject: Senza mittente\r\n\r\nx")
    assert Ticket.objects.get(subject="Senza mittente").contact is None
