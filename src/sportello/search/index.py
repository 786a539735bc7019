"""Building and keeping the search documents (one per ticket), on SQLite and PostgreSQL.

Every write that changes what a ticket is found by calls one of the ``document_*``
functions below, inside the writer's transaction (``receivers.py`` connects them to the
rows' signals), so the index never lags the data: a ticket is searchable the moment its
transaction commits, and a rolled-back write leaves no trace in the index either.
``index_rebuild`` builds every document from scratch after a bulk load (``bulk_create``
sends no signals): ``sportello search rebuild``.

The columns' text is prepared for the database in use (``prepare``): Snowball stems on
SQLite, where FTS5 cannot stem Italian; the plain words on PostgreSQL, which stems them
itself in the generated tsvector column.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from sportello.core import identifiers
from sportello.customers.models import Contact, ContactEmail, ContactPhone, Organisation
from sportello.tickets.models import Attachment, Direction, Message, Ticket

from . import text
from .models import SearchDocument

TABLE = SearchDocument._meta.db_table


def prepare(value: str) -> str:
    """Text as the index column of this database wants it (see the module docstring)."""
    if connection.vendor == "sqlite":
        return text.stemmed(value)
    return text.plain(value)


def _national(e164: str) -> str:
    """The Italian way of writing a number, for substring search: +390744752000 -> 0744752000."""
    return e164[3:] if e164.startswith("+39") else e164.lstrip("+")


@dataclass
class People:
    """What a ticket is found by apart from its own text: contact and organisation."""

    words: str = ""
    keys: str = ""


def _people(
    contact: Contact | None,
    organisation: Organisation | None,
    emails: Iterable[str],
    phones: Iterable[str],
) -> People:
    emails = list(emails)
    phones = list(phones)
    parts: list[str] = []
    keys: list[str] = []
    if contact is not None:
        parts += [contact.first_name, contact.last_name]
    parts += emails
    keys += [e.lower() for e in emails]
    for phone in phones:
        keys += [phone, _national(phone)]
        parts.append(_national(phone))
    if organisation is not None:
        parts += [organisation.name, organisation.vat_number, organisation.fiscal_code]
        keys += [organisation.vat_number.lower(), organisation.fiscal_code.lower()]
    return People(" ".join(p for p in parts if p), " ".join(k for k in keys if k))


_PEOPLE_SQL = (
    f"SELECT address, 'e' FROM {ContactEmail._meta.db_table} WHERE contact_id = %s "  # noqa: S608
    f"UNION ALL SELECT number, 'p' FROM {ContactPhone._meta.db_table} WHERE contact_id = %s"
)


def _people_of(ticket: Ticket) -> People:
    contact = ticket.contact if ticket.contact_id else None
    emails: list[str] = []
    phones: list[str] = []
    if contact is not None:
        # One round trip for both, in plain SQL: this runs for every new ticket.
        with connection.cursor() as cursor:
            cursor.execute(_PEOPLE_SQL, [contact.pk, contact.pk])
            for value, kind in cursor.fetchall():
                (emails if kind == "e" else phones).append(value)
    organisation = ticket.organisation if ticket.organisation_id else None
    return _people(contact, organisation, emails, phones)


def _message_text(message_text: str, sender: str, direction: str) -> tuple[str, str]:
    """(words, keys) one message adds: its text, and the address of who wrote it."""
    if direction == Direction.INBOUND and "@" in (sender or ""):
        return f"{message_text} {sender}", sender.lower()
    return message_text, ""


def _columns(
    ticket_number: str,
    subject: str,
    people: People,
    filenames: Iterable[str],
    bodies: Iterable[tuple[str, str, str]],
) -> dict[str, str]:
    words, keys = [], [ticket_number.lower(), people.keys]
    for message_text, sender, direction in bodies:
        w, k = _message_text(message_text, sender, direction)
        words.append(w)
        keys.append(k)
    return {
        "subject": prepare(f"{ticket_number} {subject}"),
        "meta": prepare(" ".join([people.words, *filenames])),
        "body": prepare(" ".join(words))[: text.MAX_BODY_CHARS],
        "keys": " ".join(_unique_keys(keys)),
    }


def _unique_keys(keys: Iterable[str]) -> list[str]:
    out: list[str] = []
    for chunk in keys:
        for key in chunk.split():
            if key not in out:
                out.append(key)
    return out


def document_build(*, ticket: Ticket) -> None:
    """(Re)build one ticket's document from its rows."""
    bodies = Message.objects.filter(ticket=ticket, automatic=False).values_list(
        "text", "sender", "direction"
    )
    filenames = Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True)
    columns = _columns(ticket.number, ticket.subject, _people_of(ticket), filenames, bodies)
    SearchDocument.objects.update_or_create(ticket_id=ticket.pk, defaults=columns)


def document_ticket_created(*, ticket: Ticket, messages: Iterable[Message] = ()) -> None:
    """A new ticket: its number, subject, people and first message(s), one INSERT; later
    messages are appended one by one."""
    bodies = [(m.text, m.sender, m.direction) for m in messages if not m.automatic]
    columns = _columns(ticket.number, ticket.subject, _people_of(ticket), (), bodies)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (ticket_id, subject, meta, body, keys) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s)",
            [ticket.pk, columns["subject"], columns["meta"], columns["body"], columns["keys"]],
        )


def document_ticket_changed(*, ticket: Ticket) -> None:
    """Subject, contact or organisation may have changed: refresh what depends on them."""
    document_build(ticket=ticket)


def document_message_added(*, message: Message) -> None:
    """Append one message to its ticket's document (one UPDATE); automatic mail
    (acknowledgements, notifications) is not indexed: it reads the same on every ticket."""
    if message.automatic:
        return
    words, keys = _message_text(message.text, message.sender, message.direction)
    # The sender's address joins the keys once (it is usually the contact's already).
    # Text is joined with single spaces and cut at the same length as a rebuild cuts it,
    # so a document kept by appends equals one built from scratch.
    find = "instr" if connection.vendor == "sqlite" else "strpos"
    added = prepare(words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET "  # noqa: S608
            "body = CASE WHEN %s = '' THEN body WHEN body = '' THEN substr(%s, 1, %s) "
            "ELSE substr(body || ' ' || %s, 1, %s) END, "
            f"keys = CASE WHEN %s = '' OR {find}(' ' || keys || ' ', %s) > 0 THEN keys "
            "ELSE keys || ' ' || %s END WHERE ticket_id = %s",
            [
                added,
                added,
                text.MAX_BODY_CHARS,
                added,
                text.MAX_BODY_CHARS,
                keys,
                f" {keys} ",
                keys,
                message.ticket_id,
            ],
        )
        missing = cursor.rowcount == 0
    if missing:  # a ticket from a bulk load that was never indexed
        document_build(ticket=message.ticket)


def document_attachment_added(*, attachment: Attachment) -> None:
    """Append a file name to its ticket's document (one UPDATE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET meta = CASE WHEN meta = '' THEN %s "  # noqa: S608
            "ELSE meta || ' ' || %s END WHERE ticket_id = %s",
            [prepare(attachment.filename), prepare(attachment.filename), attachment.ticket_id],
        )
        missing = cursor.rowcount == 0
    if missing:
        document_build(ticket=attachment.ticket)


def documents_refresh(*, ticket_ids: Iterable[int]) -> int:
    """Rebuild the documents of these tickets (a contact or organisation changed)."""
    ids = list(ticket_ids)
    for start in range(0, len(ids), 1000):
        _build_batch(ids[start : start + 1000])
    return len(ids)


def documents_of_contact(*, contact_id: int) -> int:
    ids = Ticket.objects.filter(contact_id=contact_id).values_list("pk", flat=True)
    return documents_refresh(ticket_ids=ids)


def documents_of_organisation(*, organisation_id: int) -> int:
    ids = Ticket.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True)
    return documents_refresh(ticket_ids=ids)


def _build_batch(ids: list[int], *, fresh: bool = False) -> int:
    """Build the documents of these tickets with a fixed number of queries."""
    tickets = list(
        Ticket.objects.filter(pk__in=ids).values_list(
            "pk", "number", "subject", "contact_id", "organisation_id"
        )
    )
    contact_ids = {t[3] for t in tickets if t[3]}
    org_ids = {t[4] for t in tickets if t[4]}
    contacts = Contact.objects.in_bulk(contact_ids)
    orgs = Organisation.objects.in_bulk(org_ids)
    emails: dict[int, list[str]] = defaultdict(list)
    for cid, address in ContactEmail.objects.filter(contact_id__in=contact_ids).values_list(
        "contact_id", "address"
    ):
        emails[cid].append(address)
    phones: dict[int, list[str]] = defaultdict(list)
    for cid, number in ContactPhone.objects.filter(contact_id__in=contact_ids).values_list(
        "contact_id", "number"
    ):
        phones[cid].append(number)
    bodies: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for tid, body, sender, direction in (
        Message.objects.filter(ticket_id__in=ids, automatic=False)
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "text", "sender", "direction")
    ):
        bodies[tid].append((body, sender, direction))
    files: dict[int, list[str]] = defaultdict(list)
    for tid, filename in Attachment.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "filename"
    ):
        files[tid].append(filename)
    people_cache: dict[tuple, People] = {}
    docs = []
    for pk, number, subject, cid, oid in tickets:
        if (cid, oid) not in people_cache:
            people_cache[(cid, oid)] = _people(
                contacts.get(cid), orgs.get(oid), emails.get(cid, ()), phones.get(cid, ())
            )
        columns = _columns(number, subject, people_cache[(cid, oid)], files[pk], bodies[pk])
        docs.append(SearchDocument(ticket_id=pk, **columns))
    if not fresh:
        SearchDocument.objects.filter(ticket_id__in=[d.ticket_id for d in docs]).delete()
    SearchDocument.objects.bulk_create(docs, batch_size=500)
    return len(docs)


@dataclass
class RebuildReport:
    tickets: int
    seconds: float


def index_rebuild(*, batch: int = 2000, progress=None) -> RebuildReport:
    """Throw the index away and build every ticket's document again (after a bulk load).

    One transaction: searches running meanwhile see the old index until the commit.
    """
    started = time.monotonic()
    total = 0
    with transaction.atomic():
        if connection.vendor == "sqlite":
            # Empty the FTS tables in one go instead of one 'delete' per row.
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER IF EXISTS search_doc_ad")
                cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
                cursor.execute("INSERT INTO search_fts(search_fts) VALUES('delete-all')")
                cursor.execute("INSERT INTO search_keys(search_keys) VALUES('delete-all')")
                cursor.execute(_SQLITE_DELETE_TRIGGER)
        else:
            with connection.cursor() as cursor:
                # Not TRUNCATE: it refuses a table with pending deferred FK checks.
                cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
        last = 0
        while True:
            ids = list(
                Ticket.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            total += _build_batch(ids, fresh=True)
            last = ids[-1]
            if progress is not None:
                progress(len(ids))
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO search_fts(search_fts) VALUES('optimize')")
                cursor.execute("INSERT INTO search_keys(search_keys) VALUES('optimize')")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TABLE}")
    return RebuildReport(tickets=total, seconds=time.monotonic() - started)


# The same trigger as migration 0001 creates; dropped while the rebuild empties the table.
_SQLITE_DELETE_TRIGGER = """CREATE TRIGGER search_doc_ad AFTER DELETE ON search_searchdocument BEGIN
    INSERT INTO search_fts(search_fts, rowid, subject, meta, body)
        VALUES ('delete', old.ticket_id, old.subject, old.meta, old.body);
    INSERT INTO search_keys(search_keys, rowid, keys)
        VALUES ('delete', old.ticket_id, old.keys);
END"""


def normalised_phone(value: str) -> str | None:
    """E.164 form of a phone number typed in the search box, or None."""
    try:
        return identifiers.normalize_phone(value)
    except identifiers.IdentifierError:
        return None
