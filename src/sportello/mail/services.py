"""E-mail intake: one entry point, ``ingest_raw``, for IMAP, POP3, SMTP/LMTP and pipes.

The order is what makes intake lose nothing:

1. ``raw_store`` writes the bytes durably (``sportello.core.files``: temporary file,
   fsync, rename, fsync of the folder), then commits a ``RawMessage`` row, before
   anything parses the message or anyone is answered.
2. ``raw_process`` parses and files it in one transaction: a new ticket, a message
   appended to a ticket, or ignored automatic mail. Any exception rolls that
   transaction back and puts the raw message in quarantine with the error. It first
   checks the stored bytes against the row (size, SHA-256): a missing or different file
   is quarantined with that reason and never opens a ticket.

Processing is idempotent: the same bytes are one ``RawMessage`` (SHA-256), and the
same Message-ID already filed is a ``duplicate``.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from sportello.core.files import (
    fsync_enabled,
    mismatch_reason,
    storage_mismatch,
    storage_put,
)
from sportello.core.models import SupportSettings
from sportello.customers import selectors as customer_selectors
from sportello.customers import services as customers
from sportello.customers.models import (
    Contact,
)
from sportello.staff import roles
from sportello.staff.models import Agent
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import (
    Channel,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
    Status,
    Ticket,
)

from . import notifications, outbound
from .errors import StoredFileMismatch
from .models import RawMessage
from .parse import (
    HeaderPeek,
    ParsedMessage,
    parse_message,
    peek_headers,
    strip_ticket_tags,
    ticket_tag_in,
)

log = logging.getLogger(__name__)

State = RawMessage.State


@dataclass(frozen=True)
class IngestResult:
    state: str
    ticket_number: str | None = None
    raw_id: int | None = None
    error: str = ""

    def line(self) -> str:
        """``2026-000123 created`` or ``- ignored``: what `sportello mail ingest` prints."""
        return f"{self.ticket_number or '-'} {self.state}"


def raw_store(
    raw: bytes,
    *,
    source: str,
    source_detail: str = "",
    envelope_from: str = "",
    envelope_to: tuple[str, ...] | list[str] = (),
    claim: bool = False,
) -> tuple[RawMessage, bool]:
    """Store the bytes exactly as received; return (row, created). Commits on its own.

    ``claim``: the caller files the new row at once, so it is stored as its first filing
    attempt (``raw_process(row, claimed=True)`` then skips claiming it again)."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = RawMessage.objects.filter(sha256=digest).first()
    if existing is not None:
        raw_file_repair(row=existing, raw=raw)
        return existing, False
    # Issue 17: the bytes are durable (temporary file, fsync, rename, fsync of the folder)
    # before the row that points at them is committed, and the row is committed before
    # anyone is answered. A file already at the path (left by a write killed before its
    # row) is trusted only when its size and SHA-256 match; otherwise it is replaced.
    path = storage_put(f"raw/{digest[:2]}/{digest}.eml", raw, sha256=digest)
    headers = _peek_headers(raw)
    try:
        with _synchronous_commit(), transaction.atomic():
            row = RawMessage.objects.create(
                sha256=digest,
                file=path,
                size=len(raw),
                source=source,
                source_detail=source_detail[:255],
                envelope_from=envelope_from[:320],
                envelope_to=list(envelope_to),
                received_at=timezone.now(),
                attempts=1 if claim else 0,
                **headers,
            )
    except IntegrityError:  # the same bytes stored by another process a moment ago
        return RawMessage.objects.get(sha256=digest), False
    return row, True


@contextmanager
def _synchronous_commit():
    """On SQLite, the row's commit waits for the disk (``synchronous=FULL``): the default
    ``NORMAL`` of WAL mode survives a killed process but may lose the last commits to a
    power cut, and a ``250`` must survive both. PostgreSQL commits synchronously already.
    Outside a transaction only: SQLite refuses the change inside one. Not inside
    ``fsync_deferred()`` (file imports), which syncs everything once at the end."""
    if connection.vendor != "sqlite" or connection.in_atomic_block or not fsync_enabled():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=FULL")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")


def raw_file_repair(*, row: RawMessage, raw: bytes) -> bool:
    """Put ``raw`` back as the file of ``row`` when that file does not hold it (the same
    bytes delivered again repair a damaged store); True when it was rewritten.

    ``raw`` must be the row's bytes (same SHA-256): callers pass a delivery of them."""
    if hashlib.sha256(raw).hexdigest() != row.sha256:
        raise ValueError(f"raw_file_repair: these bytes are not those of row {row.pk}")
    reason = storage_mismatch(row.file.name, size=row.size, sha256=row.sha256)
    if not reason:
        return False
    storage_put(row.file.name, raw, sha256=row.sha256)
    log.warning("raw message file repaired", extra={"raw_id": row.pk, "why": reason})
    return True


def raw_verified_bytes(row: RawMessage) -> bytes:
    """The stored bytes of ``row``, checked against its size and SHA-256.

    Raises ``StoredFileMismatch`` (and never returns other bytes) when the file is missing
    or holds anything else: filing what is on disk then could open an empty ticket and
    lose the customer's text (issue 17)."""
    try:
        raw = row.read()
    except FileNotFoundError:
        found = None
    else:
        found = (len(raw), hashlib.sha256(raw).hexdigest())
        if found == (row.size, row.sha256):
            return raw
    reason = mismatch_reason(found=found, size=row.size, sha256=row.sha256)
    raise StoredFileMismatch(
        _(
            "The stored copy %(path)s does not match this received e-mail: %(reason)s "
            "(the row records %(size)s bytes, SHA-256 %(sha256)s). Nothing was filed. "
            "Deliver the message again (the same bytes repair the file) or restore the "
            "file from a backup, then process it again."
        )
        % {"path": row.file.name, "reason": reason, "size": row.size, "sha256": row.sha256}
    )


def _peek_headers(raw: bytes) -> dict:
    """A cheap, forgiving look at three headers for the admin list (never raises).

    The real parse happens in raw_process; this one only reads the header block.
    """
    peek = peek_headers(raw)
    if peek == HeaderPeek():
        return {}
    # PostgreSQL text cannot hold NUL; the raw bytes keep them, the summary need not.
    return {
        "message_id": peek.message_id.replace("\x00", "")[:998],
        "subject": peek.subject.replace("\x00", "")[:998],
        "sender": peek.sender.replace("\x00", "")[:320],
    }


def ingest_raw(
    raw: bytes,
    *,
    source: str,
    source_detail: str = "",
    envelope_from: str = "",
    envelope_to: tuple[str, ...] | list[str] = (),
) -> IngestResult:
    """Store, then process, one message. Never raises for a bad message (quarantine)."""
    row, created = raw_store(
        raw,
        source=source,
        source_detail=source_detail,
        envelope_from=envelope_from,
        envelope_to=envelope_to,
        claim=True,
    )
    if not created and row.state != State.PENDING and row.state != State.QUARANTINED:
        number = row.ticket.number if row.ticket_id else None
        return IngestResult(State.DUPLICATE, number, row.pk)
    return raw_process(row, claimed=created)


FILING_ATTEMPTS = 3


def raw_process(row: RawMessage, *, claimed: bool = False) -> IngestResult:
    """File a stored message. Safe to call again: a filed message is not filed twice.

    ``claimed``: the row was just stored by this caller with its attempt counted."""
    if not claimed:
        claimed = bool(
            RawMessage.objects.filter(
                pk=row.pk, state__in=(State.PENDING, State.QUARANTINED)
            ).update(attempts=row.attempts + 1)
        )
    if not claimed:
        row.refresh_from_db()
        return IngestResult(State.DUPLICATE, row.ticket.number if row.ticket_id else None, row.pk)
    try:
        # Parsed before the transaction: on SQLite a transaction holds the one write lock
        # from its start, and the receiver and other workers wait for it meanwhile.
        parsed = _with_envelope_sender(parse_message(raw_verified_bytes(row)), row)
    except Exception as exc:
        return _quarantine(row, exc)
    for _attempt in range(FILING_ATTEMPTS):
        try:
            with transaction.atomic():
                state, ticket, message = _file(row, parsed)
                RawMessage.objects.filter(pk=row.pk).update(
                    state=state,
                    ticket=ticket,
                    filed_as=message,
                    error="",
                    processed_at=timezone.now(),
                )
            return IngestResult(state, ticket.number if ticket else None, row.pk)
        except IntegrityError as exc:
            # Another path filed the same Message-ID a moment ago (the unique constraint).
            twin = Message.objects.filter(
                message_id=parsed.message_id or "", direction=Direction.INBOUND
            ).first()
            if twin is not None:
                RawMessage.objects.filter(pk=row.pk).update(
                    state=State.DUPLICATE,
                    ticket=twin.ticket,
                    filed_as=twin,
                    processed_at=timezone.now(),
                )
                return IngestResult(State.DUPLICATE, twin.ticket.number, row.pk)
            # Else another worker won a race on some other unique row, now committed:
            # filing again finds it. Never left pending: quarantined after the last try.
            failure: Exception = exc
        except Exception as exc:
            return _quarantine(row, exc)
    return _quarantine(row, failure)


def _with_envelope_sender(parsed: ParsedMessage, row: RawMessage) -> ParsedMessage:
    """A message without a usable From: header is the envelope sender's (SMTP MAIL FROM).

    RFC 5322 3.6.2 requires From:, but scripts and devices often leave it out; the
    envelope still says who sent it, so the ticket gets its contact, organisation,
    rate and acknowledgement. The null sender ``<>`` of a bounce stays nobody's.
    """
    envelope = (row.envelope_from or "").strip().lower()
    if parsed.from_address and "@" in parsed.from_address:
        return parsed
    if "@" not in envelope:
        return parsed
    return replace(parsed, from_address=envelope)


def _quarantine(row: RawMessage, exc: Exception) -> IngestResult:
    """Keep the raw bytes and say why, so an admin can fix the cause and reprocess."""
    log.error("mail quarantined", extra={"raw_id": row.pk}, exc_info=exc)
    error = f"{type(exc).__name__}: {exc}"
    RawMessage.objects.filter(pk=row.pk).update(state=State.QUARANTINED, error=error[:5000])
    return IngestResult(State.QUARANTINED, None, row.pk, error)


def _file(row: RawMessage, parsed: ParsedMessage) -> tuple[str, Ticket | None, Message | None]:
    support = SupportSettings.load()
    # One query answers both "filed already?" and "which ticket does it answer?".
    known = _known_messages([parsed.message_id or "", *parsed.thread_message_ids])
    twin = next(
        (
            k
            for k in known
            if parsed.message_id
            and k.message_id == parsed.message_id
            and k.direction == Direction.INBOUND
        ),
        None,
    )
    if twin is not None:  # the same mail by another path (IMAP and SMTP, say)
        message = Message.objects.select_related("ticket").get(pk=twin.pk)
        return State.DUPLICATE, message.ticket, message

    if parsed.auto_kind == "bounce":
        return _file_bounce(parsed, row)

    ticket = _thread(parsed, known)
    if parsed.auto_kind is not None:
        # RFC 3834: automatic mail never opens tickets and never gets an answer.
        if ticket is None or not sender_belongs_to(ticket=ticket, address=parsed.from_address):
            return State.IGNORED, None, None
        message = _append(ticket, parsed, automatic=True)
        return State.APPENDED, ticket, message

    contact = _contact_for(parsed)
    if ticket is not None and not sender_belongs_to(
        ticket=ticket, address=parsed.from_address, contact=contact
    ):
        # Ticket numbers are sequential, so a tag is easy to guess: a stranger's mail
        # never lands in (or reopens, or notifies) someone else's ticket. It opens a
        # ticket of its own, linked to the one it names, for an agent to look at.
        log.info(
            "mail names a ticket its sender does not belong to: new linked ticket",
            extra={"ticket": ticket.number, "raw_id": row.pk},
        )
        new = _open(parsed, row, contact, support, linked_to=ticket, foreign=True)
        return State.CREATED, new, new.first_message
    if ticket is not None:
        if (
            ticket.status == Status.CLOSED
            and ticket.closed_at
            and (timezone.now() - ticket.closed_at > timedelta(days=support.reopen_window_days))
        ):
            new = _open(parsed, row, contact, support, linked_to=ticket)
            return State.CREATED, new, new.first_message
        message = _append(ticket, parsed, contact=contact)
        if ticket.status in (Status.RESOLVED, Status.CLOSED, Status.WAITING):
            tickets.ticket_change_status(
                ticket=ticket,
                status=Status.OPEN,
                actor=tickets.Actor(label=parsed.from_address or "e-mail"),
            )
        return State.APPENDED, ticket, message

    new = _open(parsed, row, contact, support)
    return State.CREATED, new, new.first_message


class _Known(NamedTuple):
    pk: int
    ticket_id: int
    message_id: str
    direction: str
    created_at: datetime


def _known_messages(ids: list[str]) -> list[_Known]:
    """Stored messages (inbound or outbound) with any of these Message-IDs."""
    wanted = {i for i in ids if i}
    if not wanted:
        return []
    rows = Message.objects.filter(message_id__in=wanted).values_list(
        "pk", "ticket_id", "message_id", "direction", "created_at"
    )
    return [_Known(*r) for r in rows]


def _thread(parsed: ParsedMessage, known: list[_Known]) -> Ticket | None:
    """The ticket a message answers: by In-Reply-To/References, then by the subject tag."""
    referenced = {*parsed.in_reply_to, *parsed.references}
    answered = [k for k in known if k.message_id in referenced]
    if answered:
        latest = max(answered, key=lambda k: (k.created_at, k.pk))
        return Ticket.objects.get(pk=latest.ticket_id)
    number = ticket_tag_in(parsed.subject, settings.SPORTELLO_TICKET_TAG)
    if number:
        ticket = Ticket.objects.filter(number=number).first()
        # A reply to a merged ticket goes where its conversation went (tickets.merging).
        for _hop in range(5):
            if ticket is None or not ticket.merged_into_id:
                break
            ticket = Ticket.objects.get(pk=ticket.merged_into_id)
        return ticket
    return None


def sender_belongs_to(*, ticket: Ticket, address: str, contact: Contact | None = None) -> bool:
    """May mail from ``address`` be threaded into ``ticket``?

    Yes for the ticket's contact, a contact of its organisation, an address already in
    its conversation (a sender of a customer message, a recipient or a CC of any), and
    an active agent. ``contact`` is the sender's contact when the caller knows it. Cheap
    checks first: the usual reply costs no query beyond the contact's own.
    """
    address = (address or "").strip().lower()
    if "@" not in address:
        return False
    if contact is None:
        contact = customer_selectors.contact_by_address(address=address)
    if contact is not None:
        if contact.pk == ticket.contact_id:
            return True
        if ticket.organisation_id and contact.organisation_id == ticket.organisation_id:
            return True
    rows = Message.objects.filter(ticket=ticket).values_list(
        "direction", "sender", "recipients", "cc"
    )
    for direction, sender, recipients, cc in rows:
        # Our own outbound sender is the support address: anyone can type it in a From.
        people = [*(recipients or []), *(cc or [])]
        if direction == Direction.INBOUND:
            people.append(sender)
        if address in {(p or "").strip().lower() for p in people}:
            return True
    users = get_user_model().objects.filter(email__iexact=address, is_active=True)
    return any(roles.can_work_tickets(user) for user in users.select_related("agent"))


def _contact_for(parsed: ParsedMessage) -> Contact | None:
    """The sender as a contact: known address, else new contact of the domain's org."""
    return customers.contact_for_sender(address=parsed.from_address, name=parsed.from_name)


def _channel(parsed: ParsedMessage, row: RawMessage, support: SupportSettings) -> str:
    """E-mail to an official address is ``email``; to any other of ours, ``other_email``."""
    official = set(support.support_address_list)
    recipients = {a.lower() for a in (*parsed.recipients, *row.envelope_to)}
    if recipients & official or not recipients:
        return Channel.EMAIL
    return Channel.OTHER_EMAIL


def _technician_addressed(parsed: ParsedMessage, row: RawMessage, support) -> Agent | None:
    """The active agent whose own address the mail was written to (mario@init-s.it).

    Customers who know a technician write to them directly: the ticket is theirs by
    default, and they are told, since nobody watches their address for tickets. Mail
    also sent to an official support address still goes to that agent first.
    """
    official = set(support.support_address_list)
    addressed = [
        a.lower()
        for a in (*row.envelope_to, *parsed.x_original_to, *parsed.delivered_to, *parsed.to)
        if a and a.lower() not in official
    ]
    if not addressed:
        return None
    wanted = Q()
    for address in set(addressed):
        wanted |= Q(user__email__iexact=address)
    agents = {
        agent.user.email.lower(): agent
        for agent in Agent.objects.filter(wanted, active=True, user__is_active=True).select_related(
            "user"
        )
    }
    return next((agents[a] for a in addressed if a in agents), None)


def _open(parsed, row, contact, support, *, linked_to=None, foreign=False) -> Ticket:
    subject = parsed.subject or "(senza oggetto)"
    if foreign:
        # The other ticket's tag would thread the answers back to it: keep the words only.
        subject = strip_ticket_tags(subject, settings.SPORTELLO_TICKET_TAG) or "(senza oggetto)"
    ticket = tickets.ticket_open(
        subject=subject,
        channel=_channel(parsed, row, support),
        contact=contact,
        actor=tickets.Actor(label=parsed.from_address or "e-mail"),
        linked_to=linked_to,
        message=MessageInput(
            text=parsed.text,
            html=parsed.html,
            sender=parsed.from_address,
            recipients=parsed.to,
            message_id=parsed.message_id or "",
            cc=parsed.cc,
            in_reply_to=" ".join(parsed.in_reply_to),
            references=" ".join(parsed.references),
        ),
    )
    message = ticket.first_message
    if message is not None:
        _store_attachments(ticket, message, parsed)
    technician = _technician_addressed(parsed, row, support)
    if technician is not None and ticket.status != Status.CLOSED:
        tickets.ticket_assign(ticket=ticket, assignee=technician)
        if message is not None:
            notifications.assignee_notify(ticket=ticket, message=message, new_ticket=True)
    if foreign:
        tickets.message_add(
            ticket=ticket,
            notify=False,
            message=MessageInput(
                kind=MessageKind.INTERNAL_NOTE,
                direction=Direction.INTERNAL,
                text=_foreign_note(linked_to, parsed.from_address),
                automatic=True,
            ),
        )
    outbound.answer_new_ticket(
        ticket=ticket, to=parsed.from_address, texts=(parsed.subject, parsed.text)
    )
    return ticket


def _foreign_note(ticket: Ticket, address: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "This e-mail named ticket %(number)s, but its sender %(sender)s is not the "
            "ticket's contact, nor of its organisation, nor in its conversation: it was "
            "filed as a new ticket, linked to %(number)s, which was left unchanged. If the "
            "sender does belong there, copy what matters to %(number)s and close this one."
        ) % {"number": ticket.number, "sender": address or "?"}


def _append(ticket: Ticket, parsed: ParsedMessage, *, contact=None, automatic=False) -> Message:
    message = tickets.message_add(
        ticket=ticket,
        actor=tickets.Actor(label=parsed.from_address or "e-mail"),
        author_contact=contact,
        message=MessageInput(
            kind=MessageKind.EMAIL,
            direction=Direction.INBOUND,
            text=parsed.text,
            html=parsed.html,
            sender=parsed.from_address,
            recipients=parsed.to,
            cc=parsed.cc,
            subject=parsed.subject,
            message_id=parsed.message_id or "",
            in_reply_to=" ".join(parsed.in_reply_to),
            references=" ".join(parsed.references),
            automatic=automatic,
        ),
    )
    _store_attachments(ticket, message, parsed)
    return message


def _store_attachments(ticket: Ticket, message: Message, parsed: ParsedMessage) -> None:
    for part in parsed.attachments:
        tickets.attachment_add(
            ticket=ticket,
            message=message,
            filename=part.filename,
            content=part.payload,
            content_type=part.content_type,
            content_id=part.content_id or "",
            inline=part.inline,
        )


def _file_bounce(parsed: ParsedMessage, row: RawMessage):
    """A bounce of our own mail marks that delivery failed and is kept on its ticket."""
    ids = parsed.bounced_message_ids
    original = (
        Message.objects.filter(message_id__in=ids, direction=Direction.OUTBOUND)
        .select_related("ticket")
        .first()
        if ids
        else None
    )
    if original is None:
        return State.IGNORED, None, None
    reason = parsed.bounce_status or "bounce"
    Message.objects.filter(pk=original.pk).update(
        delivery_status=DeliveryStatus.FAILED,
        delivery_error=f"{reason}: {', '.join(parsed.bounce_recipients)}"[:2000],
    )
    note = tickets.message_add(
        ticket=original.ticket,
        actor=tickets.Actor(label=parsed.from_address or "mailer-daemon"),
        message=MessageInput(
            kind=MessageKind.SYSTEM,
            direction=Direction.INTERNAL,
            text=parsed.text,
            subject=parsed.subject,
            automatic=True,
            message_id=parsed.message_id or "",
        ),
    )
    tickets.attachment_add(
        ticket=original.ticket,
        message=note,
        filename="bounce.eml",
        content=row.read(),
        content_type="message/rfc822",
    )
    return State.APPENDED, original.ticket, note
