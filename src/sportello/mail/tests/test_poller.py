"""Polling a real Dovecot over IMAP and POP3: fetch, file, flag; crashes lose nothing.

Every test talks to the private Dovecot of dovecot.py (plain, TLS and STARTTLS, password
and XOAUTH2). The poller commits as it goes, hence ``transaction=True``.
"""

from __future__ import annotations

import os
import poplib
import socket
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from imap_tools import MailMessage

from sportello.core.testenv import Output, child_env, database_url, shared_dir, wait_for
from sportello.mail import poller, services
from sportello.mail.models import Mailbox, RawMessage
from sportello.mail.poller import (
    mailbox_claim,
    mailbox_release,
    poll_due_mailboxes,
    poll_imap,
    poll_pop3,
)
from sportello.mail.tests.dovecot import Dovecot, wire_bytes
from sportello.tickets.models import Message, Ticket

CORPUS = shared_dir() / "mail-corpus"
CORPUS_FILES = [
    "talon/gmail.eml",
    "talon/outlook.eml",
    "talon/apple_mail.eml",
    "django-helpdesk/quoted_printable.eml",
    "django-helpdesk/utf-nondecodable.eml",
    "django-helpdesk/blank-body-with-attachment.eml",
]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class Crash(BaseException):
    """A process killed mid-way: not an Exception, so nothing on the way catches it."""


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def mail(subject="Stampante guasta", body="La stampante non stampa.", **headers) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("sender", "alice@alice.example.it")
    msg["To"] = "assistenza@init-s.it"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="alice.example.it")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def imap_mailbox(dovecot: Dovecot, **fields) -> Mailbox:
    values = {
        "name": "assistenza",
        "protocol": Mailbox.Protocol.IMAP,
        "host": dovecot.host,
        "port": dovecot.imap_port,
        "security": Mailbox.Security.NONE,
        "username": dovecot.user,
        "password": dovecot.password,
        **fields,
    }
    return Mailbox.objects.create(**values)


def pop3_mailbox(dovecot: Dovecot, **fields) -> Mailbox:
    fields = {"protocol": Mailbox.Protocol.POP3, "port": dovecot.pop3_port, **fields}
    return imap_mailbox(dovecot, **fields)


def seen(dovecot: Dovecot, folder: str = "INBOX") -> dict[int, bool]:
    return {uid: "\\Seen" in flags for uid, flags in dovecot.flags(folder).items()}


# IMAP ----------------------------------------------------------------------------------


def test_it_files_corpus_mail_flags_it_and_keeps_the_exact_bytes(dovecot, people):
    originals = [(CORPUS / name).read_bytes() for name in CORPUS_FILES]
    uids = [dovecot.append(raw) for raw in originals]
    mailbox = imap_mailbox(dovecot)

    summary = poll_imap(mailbox)

    assert summary.error == ""
    assert summary.fetched == len(originals)
    assert set(summary.states) <= {"created", "appended", "duplicate", "ignored"}
    assert summary.states.get("created", 0) >= 3
    assert Ticket.objects.count() == summary.states["created"]
    assert seen(dovecot) == dict.fromkeys(uids, True)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == max(uids)
    assert mailbox.uidvalidity == dovecot.uidvalidity()
    assert mailbox.last_polled_at is not None and mailbox.last_error == ""
    # Byte for byte what the server holds: what APPEND sent (imaplib sends CRLF lines).
    stored = {row.source_detail: row.read() for row in RawMessage.objects.all()}
    for uid, raw in zip(uids, originals, strict=True):
        assert stored[f"assistenza INBOX UID {uid}"] == wire_bytes(raw)
    assert all(r.source == "imap" for r in RawMessage.objects.all())


def test_it_keeps_bytes_that_a_reserialisation_would_change(dovecot, people):
    # CRLF already (so APPEND sends it untouched), 8-bit Latin-1, a header longer than 78
    # characters, odd spacing, a lone dot line, and no final line break.
    raw = (
        b"From: Alice Rossi <alice@alice.example.it>\r\n"
        b"To: assistenza@init-s.it\r\n"
        b"Subject: Stampante   guasta al secondo piano, ufficio contabilit\xe0, da luned\xec"
        b" mattina presto\r\n"
        b"Message-ID: <exact-1@alice.example.it>\r\n"
        b"X-Folded: one\r\n\t two   \r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Non stampa pi\xf9.  \r\n.\r\n..\r\nCiao"
    )
    assert wire_bytes(raw) == raw
    # What imap-tools' own MailMessage would give back: not the bytes received.
    assert MailMessage.from_bytes(raw).obj.as_bytes() != raw
    dovecot.append(raw)

    summary = poll_imap(imap_mailbox(dovecot))

    assert summary.states == {"created": 1}
    assert RawMessage.objects.get().read() == raw


def test_a_second_poll_files_nothing_new_and_a_third_gets_only_the_new_mail(dovecot, people):
    dovecot.append(mail(subject="Primo"))
    dovecot.append(mail(subject="Secondo"))
    mailbox = imap_mailbox(dovecot)
    assert poll_imap(mailbox).states == {"created": 2}

    again = poll_imap(mailbox)
    assert (again.fetched, again.error) == (0, "")
    assert Ticket.objects.count() == 2 and RawMessage.objects.count() == 2

    ticket = Ticket.objects.get(subject="Primo")
    third = dovecot.append(mail(subject=f"Re: [Ticket#{ticket.number}] Primo", body="Ancora."))
    last = poll_imap(mailbox)
    assert last.states == {"appended": 1}
    assert Ticket.objects.count() == 2
    mailbox.refresh_from_db()
    assert mailbox.last_uid == third


def test_it_moves_filed_mail_to_the_done_folder(dovecot, people):
    dovecot.append(mail(subject="Uno"))
    dovecot.append(mail(subject="Due"))
    bad = imap_mailbox(dovecot, name="bad", done_folder="Sportello/Fatto")
    # Dovecot's Maildir++ separates levels with ".", not "/": the name is refused.
    assert "Cannot create the folder 'Sportello/Fatto'" in poll_imap(bad).error
    assert not RawMessage.objects.exists()
    mailbox = imap_mailbox(dovecot, done_folder="Sportello.Fatto")

    summary = poll_imap(mailbox)

    assert summary.states == {"created": 2}
    assert dovecot.flags("INBOX") == {}
    moved = dovecot.flags("Sportello.Fatto")
    assert len(moved) == 2 and all("\\Seen" in flags for flags in moved.values())
    assert poll_imap(mailbox).fetched == 0


def test_a_new_uidvalidity_refetches_the_folder_and_files_nothing_twice(dovecot, people):
    old = [mail(subject="Vecchio 1"), mail(subject="Vecchio 2"), mail(subject="Vecchio 3")]
    for raw in old:
        dovecot.append(raw, folder="Supporto")
    mailbox = imap_mailbox(dovecot, folder="Supporto")
    assert poll_imap(mailbox).states == {"created": 3}
    mailbox.refresh_from_db()
    before = mailbox.uidvalidity
    assert mailbox.last_uid == 3

    # The folder is rebuilt (a server migration, a restore): UIDs start again from 1, so
    # the new mail gets UID 3, which a poller trusting the old last_uid would never fetch.
    def rebuilt() -> bool:
        with dovecot.imap() as client:
            client.folder.delete("Supporto")
        dovecot.append(old[0], folder="Supporto")
        return dovecot.uidvalidity("Supporto") != before

    # Dovecot's UIDVALIDITY is a timestamp: rebuild until the folder has a new one.
    wait_for(rebuilt, what="Dovecot to give the rebuilt folder a new UIDVALIDITY")
    dovecot.append(old[1], folder="Supporto")
    new_uid = dovecot.append(mail(subject="Nuovo"), folder="Supporto")
    assert new_uid == 3

    summary = poll_imap(mailbox)

    assert summary.uidvalidity_reset
    assert summary.states == {"duplicate": 2, "created": 1}
    assert Ticket.objects.count() == 4 and RawMessage.objects.count() == 4
    assert Ticket.objects.filter(subject="Nuovo").count() == 1
    mailbox.refresh_from_db()
    assert (mailbox.uidvalidity, mailbox.last_uid) == (dovecot.uidvalidity("Supporto"), 3)
    assert all(seen(dovecot, "Supporto").values())


def test_a_crash_between_storing_and_committing_loses_nothing_and_duplicates_nothing(
    dovecot, people, monkeypatch
):
    uid = dovecot.append(mail())
    mailbox = imap_mailbox(dovecot)

    def killed(row, parsed):
        raise Crash("killed while filing")

    monkeypatch.setattr(services, "_file", killed)
    with pytest.raises(Crash):
        poll_imap(mailbox)
    # Stored and committed, the filing rolled back, the server untouched.
    row = RawMessage.objects.get()
    assert row.state == "pending" and not Ticket.objects.exists()
    assert seen(dovecot) == {uid: False}
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 0

    monkeypatch.undo()
    summary = poll_imap(mailbox)

    assert summary.states == {"created": 1}
    assert RawMessage.objects.count() == 1 and Ticket.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 1
    row.refresh_from_db()
    assert row.state == "created" and row.attempts == 2
    assert seen(dovecot) == {uid: True}


def test_a_failing_filing_is_reported_and_the_message_waits_on_the_server(
    dovecot, people, monkeypatch
):
    first = dovecot.append(mail(subject="Uno"))
    second = dovecot.append(mail(subject="Due"))
    mailbox = imap_mailbox(dovecot)

    def database_down(row, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(services, "raw_process", database_down)
    summary = poll_imap(mailbox)

    assert "database is locked" in summary.error and summary.fetched == 0
    assert seen(dovecot) == {first: False, second: False}
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 0 and "database is locked" in mailbox.last_error

    monkeypatch.undo()
    assert poll_imap(mailbox).states == {"created": 2}
    assert Ticket.objects.count() == 2 and RawMessage.objects.count() == 2
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_a_failure_to_flag_after_filing_files_the_message_only_once(dovecot, people, monkeypatch):
    uid = dovecot.append(mail())
    mailbox = imap_mailbox(dovecot)

    def connection_lost(client, mailbox, uid):
        raise OSError("connection reset by peer")

    monkeypatch.setattr(poller, "_imap_done", connection_lost)
    summary = poll_imap(mailbox)
    assert "connection reset" in summary.error
    assert Ticket.objects.count() == 1 and seen(dovecot) == {uid: False}

    monkeypatch.undo()
    again = poll_imap(mailbox)

    assert again.states == {"duplicate": 1}
    assert Ticket.objects.count() == 1 and RawMessage.objects.count() == 1
    assert seen(dovecot) == {uid: True}


def test_quarantined_mail_is_flagged_too(dovecot, people, monkeypatch):
    uid = dovecot.append(mail())

    def broken(row):
        raise ValueError("unreadable")

    monkeypatch.setattr(services, "_file", broken)
    summary = poll_imap(imap_mailbox(dovecot))

    assert summary.states == {"quarantined": 1} and summary.error == ""
    assert RawMessage.objects.get().state == "quarantined"
    assert seen(dovecot) == {uid: True}


def test_login_and_connection_errors_are_recorded_not_raised(dovecot, people):
    wrong = imap_mailbox(dovecot, password="sbagliata")
    summary = poll_imap(wrong)
    assert "Login to" in summary.error and "(password) failed" in summary.error
    wrong.refresh_from_db()
    assert wrong.last_error == summary.error and wrong.last_polled_at is not None

    with socket.socket() as sock:  # a port nobody listens on: take one and let it go
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    nowhere = imap_mailbox(dovecot, name="nowhere", port=closed_port)
    summary = poll_imap(nowhere)
    assert summary.error.startswith(f"Cannot connect to 127.0.0.1:{closed_port}")

    missing = imap_mailbox(dovecot, name="missing folder", folder="Inesistente")
    assert "Cannot open folder 'Inesistente'" in poll_imap(missing).error


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_it_polls_over_tls_and_checks_the_certificate(dovecot, people, security, monkeypatch):
    dovecot.append(mail())
    port = dovecot.imaps_port if security == "ssl" else dovecot.imap_port
    mailbox = imap_mailbox(dovecot, security=security, port=port)

    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")  # trust nothing: must refuse
    refused = poll_imap(mailbox)
    assert "CERTIFICATE_VERIFY_FAILED" in refused.error
    assert not RawMessage.objects.exists()

    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    assert poll_imap(mailbox).states == {"created": 1}


def test_it_logs_in_with_an_oauth2_token(dovecot, people):
    # Real XOAUTH2 against Dovecot's oauth2 passdb; only the token issuer is stood in for.
    dovecot.append(mail())
    mailbox = imap_mailbox(dovecot, password="", oauth2_token=dovecot.token)
    assert poll_imap(mailbox).states == {"created": 1}

    expired = imap_mailbox(dovecot, name="expired", password="", oauth2_token="expired")
    summary = poll_imap(expired)
    assert "(XOAUTH2) failed" in summary.error and "AUTHENTICATIONFAILED" in summary.error


def test_xoauth2_is_what_the_poller_asks_imap_tools_for(dovecot, people, monkeypatch):
    calls = []
    original = poller.MailBoxUnencrypted.xoauth2

    def spy(self, username, access_token, initial_folder="INBOX"):
        calls.append((username, access_token, initial_folder))
        return original(self, username, access_token, initial_folder)

    monkeypatch.setattr(poller.MailBoxUnencrypted, "xoauth2", spy)
    poll_imap(imap_mailbox(dovecot, password="ignored", oauth2_token=dovecot.token))
    assert calls == [("test", dovecot.token, None)]


# Claims and the loop ------------------------------------------------------------------

CLAIMER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "sportello.settings"
django.setup()
from sportello.mail.poller import mailbox_claim
mailbox_id = int(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # "go", written to every worker once all are ready
print("won" if mailbox_claim(mailbox_id, owner=f"worker-{os.getpid()}") else "lost")
"""


def test_only_one_of_several_workers_claims_a_mailbox(dovecot):
    mailbox = imap_mailbox(dovecot)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(mailbox.pk)],
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [Output(proc.stdout) for proc in procs]
    for output in outputs:
        output.wait_line("ready", timeout=120)
    for proc in procs:  # all claim at the same instant
        proc.stdin.write("go\n")
        proc.stdin.close()
    outcomes = []
    for proc, output in zip(procs, outputs, strict=True):
        proc.wait(timeout=120)
        assert proc.returncode == 0, proc.stderr.read()
        outcomes.append(output.wait_line("").strip())
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]
    mailbox.refresh_from_db()
    assert mailbox.claimed_by.startswith("worker-") and mailbox.claimed_until > timezone.now()


def test_a_claim_is_exclusive_until_released_or_expired(dovecot):
    mailbox = imap_mailbox(dovecot)
    assert mailbox_claim(mailbox.pk, owner="a", seconds=60)
    assert not mailbox_claim(mailbox.pk, owner="b", seconds=60)
    mailbox_release(mailbox.pk, owner="b")  # not b's to release
    assert not mailbox_claim(mailbox.pk, owner="b", seconds=60)
    mailbox_release(mailbox.pk, owner="a")
    assert mailbox_claim(mailbox.pk, owner="b", seconds=60)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )  # b died: its claim expires
    assert mailbox_claim(mailbox.pk, owner="c", seconds=60)


def test_due_mailboxes_are_polled_once_per_interval_and_a_busy_one_is_skipped(dovecot, people):
    dovecot.append(mail())
    mailbox = imap_mailbox(dovecot, poll_interval=3600)
    imap_mailbox(dovecot, name="spento", active=False)

    first = poll_due_mailboxes("me")
    assert [(s.mailbox, s.fetched) for s in first] == [("assistenza", 1)]
    mailbox.refresh_from_db()
    assert mailbox.claimed_until is None and mailbox.claimed_by == ""

    dovecot.append(mail(subject="Altro"))
    assert poll_due_mailboxes("me") == []  # the hour has not passed
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=None)
    assert mailbox_claim(mailbox.pk, owner="someone else")
    assert poll_due_mailboxes("me") == []  # due, but another poller holds it
    mailbox_release(mailbox.pk, owner="someone else")
    assert [s.fetched for s in poll_due_mailboxes("me")] == [1]


def test_a_crashing_mailbox_does_not_stop_the_others(dovecot, people, monkeypatch):
    dovecot.append(mail())
    imap_mailbox(dovecot, name="a-rotta")
    imap_mailbox(dovecot, name="b-buona")
    real = poller.poll_imap

    def poll(mailbox, **kwargs):
        if mailbox.name == "a-rotta":
            raise RuntimeError("bug")
        return real(mailbox, **kwargs)

    monkeypatch.setattr(poller, "poll_imap", poll)
    summaries = poll_due_mailboxes("me")
    assert [(s.mailbox, s.error, s.fetched) for s in summaries] == [
        ("a-rotta", "RuntimeError: bug", 0),
        ("b-buona", "", 1),
    ]
    assert Mailbox.objects.get(name="a-rotta").last_error == "RuntimeError: bug"
    assert not Mailbox.objects.filter(claimed_until__isnull=False).exists()


# POP3 ----------------------------------------------------------------------------------


def test_pop3_files_new_mail_and_leaves_it_on_the_server_by_default(dovecot, people, monkeypatch):
    originals = [(CORPUS / "talon/gmail.eml").read_bytes(), mail(subject="Via POP3")]
    for raw in originals:
        dovecot.append(raw)
    mailbox = pop3_mailbox(dovecot)

    summary = poll_pop3(mailbox)

    assert summary.error == "" and summary.states == {"created": 2}
    assert {row.read() for row in RawMessage.objects.all()} == {wire_bytes(r) for r in originals}
    assert all(r.source == "pop3" for r in RawMessage.objects.all())
    assert len(dovecot.flags()) == 2  # still there

    downloads = []
    retr = poplib.POP3.retr
    monkeypatch.setattr(poplib.POP3, "retr", lambda self, n: downloads.append(n) or retr(self, n))
    dovecot.append(mail(subject="Terzo"))
    again = poll_pop3(mailbox)
    assert again.states == {"created": 1}
    assert len(downloads) == 1  # the two known UIDLs are not downloaded again
    assert Ticket.objects.count() == 3 and RawMessage.objects.count() == 3


def test_pop3_deletes_only_when_asked_and_only_filed_mail(dovecot, people, monkeypatch):
    dovecot.append(mail(subject="Uno"))
    dovecot.append(mail(subject="Due"))
    mailbox = pop3_mailbox(dovecot, done_folder="DELETE")
    calls = []

    def second_fails(row, **kwargs):
        calls.append(row)
        if len(calls) == 2:
            raise RuntimeError("database is locked")
        return real(row, **kwargs)

    real = services.raw_process
    monkeypatch.setattr(services, "raw_process", second_fails)
    summary = poll_pop3(mailbox)
    assert summary.states == {"created": 1} and "database is locked" in summary.error
    assert len(dovecot.flags()) == 1  # the filed one is gone, the other waits

    monkeypatch.undo()
    assert poll_pop3(mailbox).states == {"created": 1}
    assert dovecot.flags() == {}
    assert Ticket.objects.count() == 2 and RawMessage.objects.count() == 2


def test_pop3_crash_between_storing_and_committing_is_filed_once_next_time(
    dovecot, people, monkeypatch
):
    dovecot.append(mail())
    mailbox = pop3_mailbox(dovecot)

    def killed(row, parsed):
        raise Crash("killed while filing")

    monkeypatch.setattr(services, "_file", killed)
    with pytest.raises(Crash):
        poll_pop3(mailbox)
    assert RawMessage.objects.get().state == "pending" and not Ticket.objects.exists()

    monkeypatch.undo()
    assert poll_pop3(mailbox).states == {"created": 1}
    assert Ticket.objects.count() == 1 and RawMessage.objects.count() == 1
    assert poll_pop3(mailbox).fetched == 0


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_pop3_over_tls(dovecot, people, security, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    dovecot.append(mail())
    port = dovecot.pop3s_port if security == "ssl" else dovecot.pop3_port
    mailbox = pop3_mailbox(dovecot, security=security, port=port)
    assert poll_pop3(mailbox).states == {"created": 1}


def test_pop3_logs_in_with_an_oauth2_token(dovecot, people):
    dovecot.append(mail())
    mailbox = pop3_mailbox(dovecot, password="", oauth2_token=dovecot.token)
    assert poll_pop3(mailbox).states == {"created": 1}
    expired = pop3_mailbox(dovecot, name="expired", password="", oauth2_token="expired")
    assert "(XOAUTH2) failed" in poll_pop3(expired).error


# The command and serve ----------------------------------------------------------------


def test_fetchmail_once_polls_every_active_mailbox_and_prints_a_summary(dovecot, people, capsys):
    dovecot.append(mail(subject="Uno"))
    dovecot.append(mail(subject="Due"), folder="Altro")
    imap_mailbox(dovecot)
    imap_mailbox(dovecot, name="altro", folder="Altro", poll_interval=3600)

    call_command("fetchmail", "--once")

    out = capsys.readouterr().out
    assert "assistenza: 1 fetched (1 created)" in out
    assert out.strip().endswith("Fetched 2 message(s) from 2 mailbox(es).")
    assert Ticket.objects.count() == 2


def test_fetchmail_once_without_mailboxes_says_so_and_succeeds(capsys):
    call_command("fetchmail", "--once")
    out = capsys.readouterr().out
    assert "No active mailbox" in out
    assert "Fetched 0 message(s) from 0 mailbox(es)." in out


def test_fetchmail_exit_codes(dovecot, people, capsys):
    with pytest.raises(CommandError) as usage:
        call_command("fetchmail", "--once", "--mailbox", "nessuna")
    assert usage.value.returncode == 2 and "No mailbox named nessuna" in str(usage.value)

    imap_mailbox(dovecot, name="rotta", password="sbagliata", active=False)
    with pytest.raises(CommandError) as failed:
        call_command("fetchmail", "--once", "--mailbox", "rotta")  # inactive, but named
    assert failed.value.returncode == 1 and "rotta: Login to" in str(failed.value)
    assert "Fetched 0 message(s) from 1 mailbox(es)." in capsys.readouterr().out


def test_fetchmail_loop_polls_until_sigterm(dovecot, people, tmp_path):
    dovecot.append(mail())
    imap_mailbox(dovecot)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }
    out = tmp_path / "out"
    with out.open("w") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sportello", "fetchmail"],
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(
                lambda: "assistenza: 1 fetched (1 created)" in out.read_text(),
                what="fetchmail to report the first poll",
            )
            assert Ticket.objects.count() == 1
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    lines = out.read_text().splitlines()
    assert "assistenza: 1 fetched (1 created)" in lines
    assert lines[-1] == "Fetched 1 message(s) from 1 mailbox(es)."
    assert not Mailbox.objects.filter(claimed_until__isnull=False).exists()


def test_serve_starts_fetchmail_only_when_a_mailbox_is_active(dovecot):
    from sportello.core.management.commands.serve import Command as Serve

    assert "fetchmail" not in Serve().extra_processes({})
    mailbox = imap_mailbox(dovecot, active=False)
    assert "fetchmail" not in Serve().extra_processes({})
    Mailbox.objects.filter(pk=mailbox.pk).update(active=True)
    assert Serve().extra_processes({})["fetchmail"][-2:] == ["sportello", "fetchmail"]


# OAuth2 refresh --------------------------------------------------------------------------


def refreshable(dovecot: Dovecot, make=imap_mailbox, **fields) -> Mailbox:
    values = {
        "password": "",
        "oauth2_token_url": dovecot.identity.token_url,
        "oauth2_client_id": dovecot.identity.client_id,
        "oauth2_refresh_token": "refresh-1",
        "oauth2_scope": "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
        **fields,
    }
    return make(dovecot, **values)


@pytest.mark.parametrize("make", [imap_mailbox, pop3_mailbox], ids=["imap", "pop3"])
def test_an_expired_oauth2_token_is_refreshed_before_logging_in(dovecot, people, make):
    dovecot.append(mail())
    mailbox = refreshable(
        dovecot,
        make,
        oauth2_token="expired",
        oauth2_token_expires_at=timezone.now() - timedelta(minutes=1),
    )
    summary = poll_imap(mailbox) if make is imap_mailbox else poll_pop3(mailbox)
    assert summary.states == {"created": 1}, summary.error

    (asked,) = dovecot.identity.token_requests
    assert asked["grant_type"] == "refresh_token" and asked["refresh_token"] == "refresh-1"
    assert asked["scope"].endswith("offline_access") and "client_secret" not in asked
    mailbox.refresh_from_db()
    assert mailbox.oauth2_token == dovecot.token
    assert mailbox.oauth2_refresh_token == "refresh-2"  # rotated, and kept
    lifetime = mailbox.oauth2_token_expires_at - timezone.now()
    assert timedelta(minutes=58) < lifetime <= timedelta(seconds=3599)

    # Still valid at the next poll: the provider is not asked again.
    dovecot.append(mail(subject="Seconda"))
    summary = poll_imap(mailbox) if make is imap_mailbox else poll_pop3(mailbox)
    assert summary.states == {"created": 1} and len(dovecot.identity.token_requests) == 1


def test_an_empty_token_with_a_refresh_token_is_fetched_on_the_first_poll(dovecot, people):
    dovecot.append(mail())
    mailbox = refreshable(dovecot, oauth2_client_secret="s3cret")
    assert poll_imap(mailbox).states == {"created": 1}
    assert dovecot.identity.token_requests[0]["client_secret"] == "s3cret"


def test_client_credentials_get_a_token_without_a_refresh_token(dovecot, people):
    dovecot.append(mail())
    mailbox = refreshable(
        dovecot, oauth2_refresh_token="", oauth2_client_secret=dovecot.identity.client_secret
    )
    assert poll_imap(mailbox).states == {"created": 1}
    (asked,) = dovecot.identity.token_requests
    assert asked["grant_type"] == "client_credentials" and "refresh_token" not in asked
    mailbox.refresh_from_db()
    assert mailbox.oauth2_token == dovecot.token and mailbox.oauth2_refresh_token == ""

    wrong = refreshable(dovecot, name="wrong", oauth2_refresh_token="", oauth2_client_secret="x")
    assert "(HTTP 401: invalid_client)" in poll_imap(wrong).error


def test_a_refused_refresh_token_says_what_to_do_and_leaves_the_mail_waiting(dovecot, people):
    uid = dovecot.append(mail())
    mailbox = refreshable(dovecot, oauth2_refresh_token="revoked-long-ago")
    summary = poll_imap(mailbox)
    assert "refused to refresh the access token (HTTP 400: invalid_grant" in summary.error
    assert "paste a new refresh token in the mailbox settings" in summary.error
    assert summary.fetched == 0 and seen(dovecot) == {uid: False}
    mailbox.refresh_from_db()
    assert mailbox.last_error == summary.error

    unreachable = refreshable(
        dovecot, name="unreachable", oauth2_token_url="http://127.0.0.1:9/token"
    )
    assert "Cannot reach the OAuth2 token endpoint" in poll_imap(unreachable).error


def test_a_token_revoked_before_its_expiry_is_replaced_at_the_next_poll(dovecot, people):
    dovecot.append(mail())
    mailbox = refreshable(
        dovecot,
        oauth2_token="revoked",
        oauth2_token_expires_at=timezone.now() + timedelta(minutes=50),
    )
    first = poll_imap(mailbox)
    assert "(XOAUTH2) failed" in first.error and not dovecot.identity.token_requests
    assert poll_imap(mailbox).states == {"created": 1}
    assert len(dovecot.identity.token_requests) == 1


def test_the_mailbox_form_names_what_a_refresh_needs():
    from django.core.exceptions import ValidationError

    box = Mailbox(
        name="m365", host="outlook.office365.com", username="a@b.it", oauth2_refresh_token="x"
    )
    with pytest.raises(ValidationError) as missing:
        box.full_clean()
    assert set(missing.value.message_dict) >= {"oauth2_token_url", "oauth2_client_id"}

    scope_only = Mailbox(name="s", host="h", username="u", oauth2_scope="x", password="p")
    with pytest.raises(ValidationError) as no_credentials:
        scope_only.full_clean()
    assert "oauth2_refresh_token" in no_credentials.value.message_dict

    box.oauth2_client_id = "app"
    box.oauth2_token_url = "http://login.example.com/token"
    with pytest.raises(ValidationError) as plain:
        box.full_clean()
    with translation.override("en"):  # the messages are lazy: translated when read
        assert "Use https" in " ".join(plain.value.message_dict["oauth2_token_url"])

    box.oauth2_token_url = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    box.full_clean()  # a refresh token alone is enough: no password needed

    with pytest.raises(ValidationError) as nothing:
        Mailbox(name="x", host="h", username="u").full_clean()
    assert "password" in nothing.value.message_dict
