"""Polling mailboxes over IMAP and POP3: fetch, store, file, and only then mark as done.

``sportello fetchmail`` (started by ``sportello serve`` when a mailbox is active) calls
``poll_due_mailboxes`` in a loop. For each message the order is what makes polling lose
nothing and file nothing twice:

1. ``ingest_raw`` stores the exact bytes the server sent (``raw_store`` commits), then
   files them in their own transaction (``raw_process``: a ticket, a reply, or quarantine);
2. only after that has returned, the message is flagged ``\\Seen`` (IMAP, or moved to
   ``done_folder``; POP3 deletes it only when ``done_folder`` is ``DELETE``);
3. then ``Mailbox.last_uid`` is saved.

A crash anywhere before 2 leaves the message unflagged and ``last_uid`` behind it; the
next poll fetches it again, ``raw_store`` finds the same SHA-256 and the row is either
filed now (still ``pending``) or recognised as filed already (``duplicate``).

UIDVALIDITY (RFC 3501 2.3.1.1) is read from the SELECT answer. When it changes every UID
we hold is meaningless, so ``last_uid`` goes back to 0 and the whole folder is fetched
again; the raw SHA-256 and the Message-ID make the messages already filed duplicates.

One poller per mailbox, however many ``fetchmail`` processes run: ``mailbox_claim`` is
a conditional UPDATE of ``claimed_until`` (one row updated means the mailbox is ours),
renewed after every message and released at the end.

Failures never escape to the loop: a connection, TLS, login or server error, or a
database error while filing, is recorded in ``Mailbox.last_error``, logged, and the
mailbox is tried again at its next interval.
"""

from __future__ import annotations

import base64
import email
import imaplib
import logging
import poplib
import ssl
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from django.db.models import Q
from django.utils import timezone
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.errors import ImapToolsError, MailboxFlagError
from imap_tools.utils import check_command_status

from . import oauth2, services
from .errors import IntakeError
from .models import Mailbox, RawMessage

log = logging.getLogger(__name__)

CLAIM_SECONDS = 600  # renewed after every message, so only a dead poller's claim expires
TIMEOUT = 60  # seconds for connecting and for every server answer
FETCH_BATCH = 25  # messages per UID FETCH: few round trips, bounded memory
DELETE = "DELETE"  # POP3 ``done_folder`` value: delete from the server once filed

# What a server, the network or TLS can throw at us: recorded, never raised to the loop.
NETWORK_ERRORS = (OSError, imaplib.IMAP4.error, ImapToolsError, poplib.error_proto, EOFError)

ShouldStop = Callable[[], bool] | None


@dataclass
class PollSummary:
    """What one poll of one mailbox did: messages filed by outcome, or the error."""

    mailbox: str
    fetched: int = 0
    states: dict[str, int] = field(default_factory=dict)
    error: str = ""
    uidvalidity_reset: bool = False

    def add(self, state: str) -> None:
        state = str(state)  # a RawMessage.State member: its plain value
        self.fetched += 1
        self.states[state] = self.states.get(state, 0) + 1

    def line(self) -> str:
        """``support: 3 fetched (2 created, 1 appended)`` or ``support: error: ...``."""
        outcomes = ", ".join(f"{n} {state}" for state, n in sorted(self.states.items()))
        text = f"{self.mailbox}: {self.fetched} fetched" + (f" ({outcomes})" if outcomes else "")
        if self.uidvalidity_reset:
            text += ", UIDVALIDITY changed"
        if self.error:
            text += f", error: {self.error}"
        return text


def mailbox_claim(mailbox_id: int, *, owner: str, seconds: int = CLAIM_SECONDS) -> bool:
    """Claim a mailbox for ``seconds``; False when another poller holds a live claim."""
    now = timezone.now()
    updated = Mailbox.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=mailbox_id
    ).update(claimed_until=now + timedelta(seconds=seconds), claimed_by=owner[:100])
    return updated == 1  # 0: another fetchmail process got there first


def mailbox_release(mailbox_id: int, *, owner: str) -> None:
    """Give a claim back (only our own: an expired one may belong to someone else now)."""
    Mailbox.objects.filter(pk=mailbox_id, claimed_by=owner[:100]).update(
        claimed_until=None, claimed_by=""
    )


def poll_due_mailboxes(
    owner: str,
    *,
    names: Iterable[str] | None = None,
    force: bool = False,
    should_stop: ShouldStop = None,
) -> list[PollSummary]:
    """Poll every active mailbox whose interval has passed and that no one else holds.

    ``names`` limits the poll to those mailboxes, active or not (to try a configuration
    before activating it); ``force`` ignores the intervals. Never raises for a mailbox:
    its failure is in its summary and in ``Mailbox.last_error``.
    """
    mailboxes = Mailbox.objects.all() if names else Mailbox.objects.filter(active=True)
    if names:
        mailboxes = mailboxes.filter(name__in=list(names))
    summaries = []
    for mailbox in mailboxes:
        if should_stop and should_stop():
            break
        if not force and not _due(mailbox):
            continue
        if not mailbox_claim(mailbox.pk, owner=owner):
            log.debug("mailbox busy", extra={"mailbox": mailbox.name})
            continue
        try:
            mailbox.refresh_from_db()  # last_uid as the previous poller left it
            summaries.append(poll_mailbox(mailbox, should_stop=should_stop))
        except Exception as exc:  # the database, or a bug: keep the loop alive
            log.exception("mailbox poll crashed", extra={"mailbox": mailbox.name})
            error = f"{type(exc).__name__}: {exc}"
            summaries.append(PollSummary(mailbox.name, error=error))
            with suppress(Exception):
                Mailbox.objects.filter(pk=mailbox.pk).update(
                    last_error=error, last_polled_at=timezone.now()
                )
        finally:
            with suppress(Exception):
                mailbox_release(mailbox.pk, owner=owner)
    return summaries


def poll_mailbox(mailbox: Mailbox, *, should_stop: ShouldStop = None) -> PollSummary:
    if mailbox.protocol == Mailbox.Protocol.POP3:
        return poll_pop3(mailbox, should_stop=should_stop)
    return poll_imap(mailbox, should_stop=should_stop)


def _due(mailbox: Mailbox) -> bool:
    if mailbox.last_polled_at is None:
        return True
    return timezone.now() >= mailbox.last_polled_at + timedelta(seconds=mailbox.poll_interval)


def _ssl_context() -> ssl.SSLContext:
    # The system's CAs, or the bundle in SSL_CERT_FILE (OpenSSL's own variable).
    return ssl.create_default_context()


def _record(mailbox: Mailbox, summary: PollSummary) -> None:
    """Save when we polled and how it went; log failures without the user's address."""
    mailbox.last_polled_at = timezone.now()
    mailbox.last_error = summary.error
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=mailbox.last_polled_at, last_error=summary.error
    )
    fields = {"mailbox": mailbox.name, "host": mailbox.host, "fetched": summary.fetched}
    if summary.error:
        log.warning("mailbox poll failed", extra={**fields, "error": summary.error})
    elif summary.fetched:
        log.info("mailbox polled", extra={**fields, "states": summary.states})


def _file(raw: bytes, *, source: str, detail: str) -> services.IngestResult:
    """Store, then file; returns once the filing transaction has committed."""
    return services.ingest_raw(raw, source=source, source_detail=detail)


def _save_progress(mailbox: Mailbox, **fields) -> None:
    """Persist progress (``last_uid``...) and renew our claim, if we hold one."""
    for name, value in fields.items():
        setattr(mailbox, name, value)
    if fields:
        Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    if mailbox.claimed_by:
        Mailbox.objects.filter(pk=mailbox.pk, claimed_by=mailbox.claimed_by).update(
            claimed_until=timezone.now() + timedelta(seconds=CLAIM_SECONDS)
        )


def _fail(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, IntakeError) else f"{type(exc).__name__}: {text}"


# IMAP ----------------------------------------------------------------------------------


class ExactMessage(MailMessage):
    """An imap-tools message that keeps the bytes the server sent for ``BODY.PEEK[]``.

    ``MailMessage`` keeps only ``obj``, the parsed ``email.message.Message``; its
    ``as_bytes()`` serialises again (LF line endings, headers refolded at 78), which is
    not what was received. Here the parse happens only if someone asks for ``obj``.
    """

    def __init__(self, fetch_data: list) -> None:
        raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)
        self.raw: bytes = raw

    @cached_property
    def obj(self) -> email.message.Message:
        return email.message_from_bytes(self.raw)


def poll_imap(mailbox: Mailbox, *, should_stop: ShouldStop = None) -> PollSummary:
    """Fetch the messages above ``last_uid`` in ``folder``, file each, then flag or move it."""
    summary = PollSummary(mailbox.name)
    client = None
    try:
        client = _imap_open(mailbox)
        _imap_poll(client, mailbox, summary, should_stop)
    except NETWORK_ERRORS as exc:
        summary.error = _fail(exc)
    except IntakeError as exc:
        summary.error = str(exc)
    except Exception as exc:  # the database while filing, or a bug
        log.exception("mailbox poll crashed", extra={"mailbox": mailbox.name})
        summary.error = _fail(exc)
    finally:
        if client is not None:
            with suppress(Exception):
                client.logout()
    _record(mailbox, summary)
    return summary


def _imap_open(mailbox: Mailbox) -> MailBox | MailBoxStartTls | MailBoxUnencrypted:
    where = f"{mailbox.host}:{mailbox.port}"
    try:
        if mailbox.security == Mailbox.Security.SSL:
            client = MailBox(
                mailbox.host, mailbox.port, timeout=TIMEOUT, ssl_context=_ssl_context()
            )
        elif mailbox.security == Mailbox.Security.STARTTLS:
            client = MailBoxStartTls(
                mailbox.host, mailbox.port, timeout=TIMEOUT, ssl_context=_ssl_context()
            )
        else:
            client = MailBoxUnencrypted(mailbox.host, mailbox.port, timeout=TIMEOUT)
    except (*NETWORK_ERRORS, ValueError) as exc:
        raise IntakeError(
            f"Cannot connect to {where} ({mailbox.get_security_display()}): {_fail(exc)}. "
            "Check host, port and security in the mailbox settings.",
            code="connect",
        )
    client.email_message_class = ExactMessage
    try:
        if mailbox.uses_oauth2:
            # XOAUTH2 (Microsoft 365, Gmail): the access token is sent, never a password.
            token = oauth2.access_token(mailbox)
            client.xoauth2(mailbox.username, token, initial_folder=None)
        else:
            client.login(mailbox.username, mailbox.password, initial_folder=None)
    except (*NETWORK_ERRORS, IntakeError) as exc:
        with suppress(Exception):
            client.logout()
        raise _login_failed(mailbox, where, exc)
    return client


def _login_failed(mailbox: Mailbox, where: str, exc: BaseException) -> IntakeError:
    if isinstance(exc, IntakeError):  # the token could not be refreshed: says why itself
        return exc
    method = "XOAUTH2" if mailbox.uses_oauth2 else "password"
    oauth2.token_forget(mailbox)  # a revoked token: the next poll asks for a new one
    return IntakeError(
        f"Login to {where} as {mailbox.username} ({method}) failed: {_fail(exc)}. "
        "Check the user and the password or token.",
        code="login",
    )


def _imap_poll(client, mailbox: Mailbox, summary: PollSummary, should_stop: ShouldStop):
    try:
        client.folder.set(mailbox.folder)
    except NETWORK_ERRORS as exc:
        raise IntakeError(
            f"Cannot open folder {mailbox.folder!r}: {_fail(exc)}.", code="folder"
        ) from exc
    uidvalidity = _uidvalidity(client, mailbox.folder)
    last_uid = mailbox.last_uid
    if mailbox.uidvalidity is not None and uidvalidity != mailbox.uidvalidity:
        # RFC 3501 2.3.1.1: the old UIDs mean nothing now; start over, and let the raw
        # SHA-256 and the Message-ID recognise what was filed already.
        log.warning(
            "UIDVALIDITY changed: fetching the whole folder again",
            extra={"mailbox": mailbox.name, "old": mailbox.uidvalidity, "new": uidvalidity},
        )
        summary.uidvalidity_reset = True
        last_uid = 0
    if uidvalidity != mailbox.uidvalidity or last_uid != mailbox.last_uid:
        _save_progress(mailbox, uidvalidity=uidvalidity, last_uid=last_uid)

    # RFC 3501 6.4.8: "N:*" always includes the highest UID, even one below N; hence the
    # filter. No CHARSET: the criteria are ASCII, and some servers refuse an explicit one.
    uids = sorted(
        u for u in map(int, client.uids(f"UID {last_uid + 1}:*", charset=None)) if u > last_uid
    )
    if uids and mailbox.done_folder and not client.folder.exists(mailbox.done_folder):
        try:
            client.folder.create(mailbox.done_folder)
        except NETWORK_ERRORS as exc:
            raise IntakeError(
                f"Cannot create the folder {mailbox.done_folder!r} for processed mail: "
                f"{_fail(exc)}. Create it in a mail client, or fix its name.",
                code="folder",
            ) from exc
    for batch in _chunks(uids, FETCH_BATCH):
        fetched = client.fetch(uid_list=[str(u) for u in batch], mark_seen=False, bulk=True)
        for message in sorted(fetched, key=lambda m: int(m.uid or 0)):
            if should_stop and should_stop():
                return
            if message.uid is None:  # expunged by someone else meanwhile
                continue
            uid = int(message.uid)
            result = _file(
                message.raw,
                source=RawMessage.Source.IMAP,
                detail=f"{mailbox.name} {mailbox.folder} UID {uid}",
            )
            # Filed and committed (quarantine included: stored, visible in the admin).
            # Only now may the server forget about it.
            _imap_done(client, mailbox, uid)
            _save_progress(mailbox, last_uid=uid)
            summary.add(result.state)


def _uidvalidity(client, folder: str) -> int:
    # The SELECT answer carries it (imaplib keeps it among the untagged responses).
    _, data = client.client.response("UIDVALIDITY")
    if data and data[0]:
        return int(data[0])
    return int(client.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])


def _imap_done(client, mailbox: Mailbox, uid: int) -> None:
    """Flag a filed message ``\\Seen`` and, with a ``done_folder``, move it there."""
    # A plain UID STORE: imap-tools' flag() also EXPUNGEs the folder, which would purge
    # messages a person marked \Deleted in their own mail client.
    result = client.client.uid("STORE", str(uid), "+FLAGS", r"(\Seen)")
    check_command_status(result, MailboxFlagError)
    if mailbox.done_folder:
        client.move([str(uid)], mailbox.done_folder)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# POP3 ----------------------------------------------------------------------------------

# poplib refuses lines over 2048 bytes; real mail has longer ones (unwrapped HTML).
poplib._MAXLINE = max(poplib._MAXLINE, 1 << 20)


def poll_pop3(mailbox: Mailbox, *, should_stop: ShouldStop = None) -> PollSummary:
    """File every message not filed yet; delete them only when ``done_folder`` is DELETE.

    POP3 has no flags and no folders: a message already filed is recognised by its UIDL,
    recorded in ``RawMessage.source_detail`` (``mailbox <id> UIDL <uidl>``), so it is not
    downloaded again; when the server has no UIDL, by the SHA-256 of its bytes.
    """
    summary = PollSummary(mailbox.name)
    try:
        conn = _pop3_open(mailbox)
    except IntakeError as exc:
        summary.error = str(exc)
        _record(mailbox, summary)
        return summary
    try:
        _pop3_poll(conn, mailbox, summary, should_stop)
    except NETWORK_ERRORS as exc:
        summary.error = _fail(exc)
    except Exception as exc:  # the database while filing, or a bug
        log.exception("mailbox poll crashed", extra={"mailbox": mailbox.name})
        summary.error = _fail(exc)
    finally:
        # RFC 1939 6: deletions happen only at QUIT; after a failure too, so that what
        # was filed before it is not downloaded again.
        try:
            conn.quit()
        except NETWORK_ERRORS as exc:
            with suppress(Exception):
                conn.close()
            summary.error = summary.error or f"QUIT failed: {_fail(exc)}"
    _record(mailbox, summary)
    return summary


def _pop3_open(mailbox: Mailbox) -> poplib.POP3:
    where = f"{mailbox.host}:{mailbox.port}"
    try:
        if mailbox.security == Mailbox.Security.SSL:
            conn = poplib.POP3_SSL(
                mailbox.host, mailbox.port, timeout=TIMEOUT, context=_ssl_context()
            )
        else:
            conn = poplib.POP3(mailbox.host, mailbox.port, timeout=TIMEOUT)
            if mailbox.security == Mailbox.Security.STARTTLS:
                conn.stls(_ssl_context())  # RFC 2595 4
    except NETWORK_ERRORS as exc:
        raise IntakeError(
            f"Cannot connect to {where} ({mailbox.get_security_display()}): {_fail(exc)}. "
            "Check host, port and security in the mailbox settings.",
            code="connect",
        )
    try:
        if mailbox.uses_oauth2:
            _pop3_xoauth2(conn, mailbox.username, oauth2.access_token(mailbox))
        else:
            conn.user(mailbox.username)
            conn.pass_(mailbox.password)
    except (*NETWORK_ERRORS, IntakeError) as exc:
        with suppress(Exception):
            conn.close()
        raise _login_failed(mailbox, where, exc)
    return conn


def _pop3_xoauth2(conn: poplib.POP3, user: str, token: str) -> None:
    """RFC 5034 AUTH with the XOAUTH2 SASL mechanism (Microsoft 365, Gmail)."""
    initial = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    conn._shortcmd("AUTH XOAUTH2")  # "+ " continuation; an error answer raises error_proto
    answer = conn._shortcmd(base64.b64encode(initial).decode("ascii"))
    if not answer.startswith(b"+OK"):
        # A refused token gets a "+ <base64 JSON>" challenge with the reason; the client
        # answers with an empty line and the server then says -ERR.
        reason = answer[1:].strip()
        with suppress(ValueError):
            reason = base64.b64decode(reason, validate=True)
        with suppress(poplib.error_proto):
            conn._shortcmd("")
        raise poplib.error_proto(f"XOAUTH2 refused: {reason.decode(errors='replace')}")


def _pop3_poll(conn: poplib.POP3, mailbox: Mailbox, summary: PollSummary, should_stop):
    delete = mailbox.done_folder.strip().upper() == DELETE
    try:
        listing = [line.decode("ascii").split(" ", 1) for line in conn.uidl()[1]]
        entries = [(int(num), uidl.strip()) for num, uidl in listing]
    except poplib.error_proto:  # UIDL is optional (RFC 1939 7); fall back on the bytes
        entries = [(int(line.split()[0]), "") for line in conn.list()[1]]
    details = {uidl: f"mailbox {mailbox.pk} UIDL {uidl}" for _, uidl in entries if uidl}
    known = _rows_by_detail(list(details.values()))
    for num, uidl in entries:
        if should_stop and should_stop():
            return
        row = known.get(details[uidl]) if uidl else None
        if row is not None and row.state != RawMessage.State.PENDING:
            if delete:  # filed earlier, but the QUIT that deletes it never happened
                conn.dele(num)
            continue
        if row is not None:
            # Stored but not filed: a crash between the two. File it, no download.
            result = services.raw_process(row)
        else:
            _, lines, _ = conn.retr(num)
            # poplib strips the line endings and the dot-stuffing; CRLF is the wire form.
            raw = b"\r\n".join(lines) + b"\r\n"
            result = _file(
                raw,
                source=RawMessage.Source.POP3,
                detail=details.get(uidl) or f"{mailbox.name} message {num}",
            )
        if delete:
            conn.dele(num)
        _save_progress(mailbox)  # renews the claim
        summary.add(result.state)


def _rows_by_detail(details: list[str]) -> dict[str, RawMessage]:
    rows: dict[str, RawMessage] = {}
    for chunk in _chunks(details, 500):  # SQLite's limit on query parameters
        for row in RawMessage.objects.filter(
            source=RawMessage.Source.POP3, source_detail__in=chunk
        ):
            rows[row.source_detail] = row
    return rows
