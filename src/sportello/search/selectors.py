"""Searching tickets: one box over numbers, subjects, messages, people and files.

``ticket_search(user=..., q=..., filters=...)`` answers, in this order:

1. a ticket number (``2026-000123``, ``#2026-123``, ``[Ticket#2026-000123]``): that ticket
   (``redirect``), when it exists;
2. a whole partita IVA (``IT`` optional) or codice fiscale of an organisation: its
   tickets, newest first; an e-mail address or a phone number (read by
   ``phonenumbers``, region IT) that belongs to a contact: that contact's tickets;
3. one fragment with digits or an ``@`` (``000123``, ``752000``, ``@acme.it``, a partita
   IVA): tickets whose number, addresses, phones or VAT numbers contain it (trigram
   index), newest first, when there are any;
4. otherwise words: full-text search, ranked (subject above contact, organisation and
   file names, above message text; on a tie the newer ticket first), with snippets.

Filters (status, priority, organisation, assignee, team, channel) narrow every answer.
Only staff who may work tickets (``staff.roles.can_work_tickets``) may search; they see
every ticket, as the desk shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from sportello.customers.models import Contact, ContactEmail, ContactPhone, Organisation
from sportello.staff.roles import can_work_tickets
from sportello.tickets.models import Channel, Message, Priority, Status, Ticket

from . import index, text
from .errors import SearchError
from .models import SearchDocument

PER_PAGE = 25
MAX_PAGE = 400

NUMBER_RE = re.compile(r"^\[?\s*(?:ticket\s*#?|#)?\s*(\d{4})-(\d{1,9})\s*\]?$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{6,}$")
FRAGMENT_MIN = 3


@dataclass
class Filters:
    status: list[str] = field(default_factory=list)
    priority: str = ""
    channel: str = ""
    organisation: int | None = None
    team: int | None = None
    assignee: int | None = None
    unassigned: bool = False

    @property
    def any(self) -> bool:
        return bool(
            self.status
            or self.priority
            or self.channel
            or self.organisation
            or self.team
            or self.assignee
            or self.unassigned
        )

    def sql(self) -> tuple[str, list]:
        """A WHERE fragment over ``t`` (tickets_ticket) and its parameters."""
        parts, params = [], []
        if self.status:
            parts.append("t.status IN (" + ", ".join(["%s"] * len(self.status)) + ")")
            params += self.status
        for column, value in (
            ("priority", self.priority),
            ("channel", self.channel),
            ("organisation_id", self.organisation),
            ("team_id", self.team),
            ("assignee_id", self.assignee),
        ):
            if value:
                parts.append(f"t.{column} = %s")
                params.append(value)
        if self.unassigned:
            parts.append("t.assignee_id IS NULL")
        return "".join(f" AND {p}" for p in parts), params

    def apply(self, qs):
        if self.status:
            qs = qs.filter(status__in=self.status)
        for name in ("priority", "channel"):
            if getattr(self, name):
                qs = qs.filter(**{name: getattr(self, name)})
        for name in ("organisation", "team", "assignee"):
            if getattr(self, name):
                qs = qs.filter(**{f"{name}_id": getattr(self, name)})
        if self.unassigned:
            qs = qs.filter(assignee__isnull=True)
        return qs


def filters_from(params) -> Filters:
    """Read the filters of a query string; a bad value is a ``SearchError`` naming it."""
    filters = Filters()
    for status in params.getlist("status"):
        if status:
            _check_choice("status", status, Status)
            filters.status.append(status)
    for name, choices in (("priority", Priority), ("channel", Channel)):
        value = params.get(name, "")
        if value:
            _check_choice(name, value, choices)
            setattr(filters, name, value)
    for name in ("organisation", "team", "assignee"):
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if name == "assignee" and value == "none":
            filters.unassigned = True
            continue
        if not value.isdigit():
            raise SearchError(
                _("The filter %(name)s needs a number (the id from the list), not “%(value)s”.")
                % {"name": name, "value": value[:40]},
                code="bad_filter",
                field=name,
            )
        setattr(filters, name, int(value))
    return filters


def _check_choice(name: str, value: str, choices) -> None:
    if value not in choices.values:
        raise SearchError(
            _("Unknown %(name)s “%(value)s”: use one of %(choices)s.")
            % {"name": name, "value": value[:40], "choices": ", ".join(choices.values)},
            code="bad_filter",
            field=name,
        )


@dataclass
class Hit:
    ticket: Ticket
    subject_html: str
    snippet_html: str
    url: str


@dataclass
class SearchResults:
    query: text.Query
    filters: Filters
    mode: str = "empty"  # empty | number | contact | keys | text
    redirect: Ticket | None = None
    contacts: list[Contact] = field(default_factory=list)
    organisation: Organisation | None = None
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total and self.page < MAX_PAGE

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def ticket_url(ticket: Ticket) -> str:
    """The ticket's page: the desk's when the desk is installed, else the admin's."""
    return _url_maker()(ticket)


_PLACEHOLDER = 987654321


def _url_maker():
    """A ticket-URL function for a page of hits: which page exists is found out once,
    not per hit (a failed ``reverse`` costs an exception)."""
    try:
        pattern = reverse("desk:ticket", kwargs={"pk": _PLACEHOLDER})
    except NoReverseMatch:
        pattern = reverse("admin:tickets_ticket_change", args=[_PLACEHOLDER])
    return lambda ticket: pattern.replace(str(_PLACEHOLDER), str(ticket.pk))


def ticket_search(
    *, user, q: str, filters: Filters | None = None, page: int = 1, per_page: int = PER_PAGE
) -> SearchResults:
    """Search as ``user``; ``PermissionDenied`` for anyone who may not work tickets."""
    if not can_work_tickets(user):
        raise PermissionDenied(_("Only staff who work tickets may search them."))
    filters = filters or Filters()
    query = text.parse_query(q)
    page = min(max(1, page), MAX_PAGE)
    results = SearchResults(query=query, filters=filters, page=page, per_page=per_page)
    raw = query.raw
    if not raw:
        return results
    offset = (page - 1) * per_page

    number = NUMBER_RE.match(raw)
    if number:
        found = filters.apply(Ticket.objects.all()).filter(
            number=f"{number.group(1)}-{int(number.group(2)):06d}"
        )
        ticket = found.first()
        if ticket is not None:
            results.mode, results.redirect, results.total = "number", ticket, 1
            results.hits = _hits([ticket.pk], query)
            return results

    organisation = _organisation_for(raw)
    if organisation is not None:
        qs = filters.apply(Ticket.objects.filter(organisation=organisation)).order_by(
            "-created_at", "-pk"
        )
        results.mode, results.organisation = "organisation", organisation
        results.total = qs.count()
        ids = list(qs.values_list("pk", flat=True)[offset : offset + per_page])
        results.hits = _hits(ids, query)
        return results

    contacts = _contacts_for(raw)
    if contacts:
        qs = filters.apply(Ticket.objects.filter(contact__in=contacts)).order_by("-created_at")
        results.mode, results.contacts = "contact", contacts
        results.total = qs.count()
        results.hits = _hits(
            list(qs.values_list("pk", flat=True)[offset : offset + per_page]), query
        )
        return results

    fragment = _fragment(raw)
    if fragment:
        ids, total = _keys_search(fragment, filters, per_page, offset)
        if total:
            results.mode, results.total = "keys", total
            results.hits = _hits(ids, query, fragment=fragment)
            return results

    if query.empty:
        return results
    ids, total = _text_search(query, filters, per_page, offset)
    results.mode, results.total = "text", total
    results.hits = _hits(ids, query)
    return results


VAT_RE = re.compile(r"^(?:IT)?\s*(\d{11})$", re.IGNORECASE)
FISCAL_RE = re.compile(r"^[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]$", re.IGNORECASE)


def _organisation_for(raw: str) -> Organisation | None:
    """The organisation whose whole partita IVA or codice fiscale was typed."""
    vat = VAT_RE.match(raw)
    if vat:
        return Organisation.objects.filter(vat_number=vat.group(1)).order_by("pk").first()
    if FISCAL_RE.match(raw):
        return Organisation.objects.filter(fiscal_code=raw.upper()).order_by("pk").first()
    return None


def _contacts_for(raw: str) -> list[Contact]:
    if EMAIL_RE.match(raw):
        return [
            e.contact
            for e in ContactEmail.objects.filter(address=raw.lower()).select_related("contact")
        ]
    if PHONE_RE.match(raw) and sum(c.isdigit() for c in raw) >= 6:
        e164 = index.normalised_phone(raw)
        if e164:
            return list(
                Contact.objects.filter(
                    pk__in=ContactPhone.objects.filter(number=e164).values("contact_id")
                )
            )
    return []


def _fragment(raw: str) -> str:
    """The identifier fragment typed, lower case, or "" when the input is words."""
    if PHONE_RE.match(raw):
        digits = "".join(c for c in raw if c.isdigit() or c == "+")
        compact = digits if sum(c.isdigit() for c in digits) >= FRAGMENT_MIN else ""
        return compact if compact else ""
    if " " in raw or len(raw) < FRAGMENT_MIN:
        return ""
    if "@" in raw or any(c.isdigit() for c in raw):
        return raw.lower()
    return ""


def _keys_search(fragment: str, filters: Filters, limit: int, offset: int):
    where, params = filters.sql()
    if connection.vendor == "sqlite":
        source = "search_keys k JOIN tickets_ticket t ON t.id = k.rowid"
        match = "search_keys MATCH %s"
        match_params = ['"' + fragment.replace('"', '""') + '"']
    else:
        source = f"{index.TABLE} k JOIN tickets_ticket t ON t.id = k.ticket_id"
        match = "k.keys LIKE %s"
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        match_params = [f"%{escaped}%"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.id FROM {source} WHERE {match}{where} "  # noqa: S608
            "ORDER BY t.created_at DESC, t.id DESC LIMIT %s OFFSET %s",
            [*match_params, *params, limit, offset],
        )
        ids = [row[0] for row in cursor.fetchall()]
        total = len(ids) + offset
        if len(ids) == limit or offset:
            cursor.execute(
                f"SELECT count(*) FROM {source} WHERE {match}{where}",  # noqa: S608
                [*match_params, *params],
            )
            total = cursor.fetchone()[0]
    return ids, total


# bm25 weights of the FTS5 columns subject, meta, body: subject above people and files,
# above message text.
SQLITE_WEIGHTS = "10.0, 4.0, 1.0"


def _pg_tsquery(query: text.Query) -> tuple[str, list]:
    """Each term matches as an Italian or an English word; terms ANDed, exclusions NOTed.
    ``plainto_tsquery`` reads the term as plain text, so nothing typed is syntax."""
    parts, params = [], []
    for term in query.terms:
        parts.append("(plainto_tsquery('sportello_it', %s) || plainto_tsquery('sportello_en', %s))")
        params += [term, term]
    expr = " && ".join(parts)
    for term in query.excluded:
        expr += " && !!(plainto_tsquery('sportello_it', %s) || plainto_tsquery('sportello_en', %s))"
        params += [term, term]
    return expr, params


def _text_search(query: text.Query, filters: Filters, limit: int, offset: int):
    where, params = filters.sql()
    if connection.vendor == "sqlite":
        source = "search_fts f JOIN tickets_ticket t ON t.id = f.rowid"
        match, match_params = "search_fts MATCH %s", [text.fts5_match(query)]
        order = f"bm25(search_fts, {SQLITE_WEIGHTS}), t.created_at DESC, t.id DESC"
        prefix = ""
    else:
        expr, match_params = _pg_tsquery(query)
        prefix = f"WITH q AS (SELECT {expr} AS q) "
        source = f"q, {index.TABLE} d JOIN tickets_ticket t ON t.id = d.ticket_id"
        match = "numnode(q.q) > 0 AND d.vector @@ q.q"
        order = "ts_rank(d.vector, q.q) DESC, t.created_at DESC, t.id DESC"
    with connection.cursor() as cursor:
        cursor.execute(
            f"{prefix}SELECT t.id FROM {source} WHERE {match}{where} "  # noqa: S608
            f"ORDER BY {order} LIMIT %s OFFSET %s",
            [*match_params, *params, limit, offset],
        )
        ids = [row[0] for row in cursor.fetchall()]
        total = len(ids) + offset
        if len(ids) == limit or (offset and not ids):
            cursor.execute(
                f"{prefix}SELECT count(*) FROM {source} WHERE {match}{where}",  # noqa: S608
                [*match_params, *params],
            )
            total = cursor.fetchone()[0]
    return ids, total


def _hits(ids: list[int], query: text.Query, *, fragment: str = "") -> list[Hit]:
    """The tickets of ``ids`` in that order, with highlighted subject and snippet."""
    if not ids:
        return []
    tickets = Ticket.objects.select_related(
        "contact", "organisation", "assignee__user", "sla_clock"
    ).in_bulk(ids)
    bodies: dict[int, list[str]] = {}
    for tid, body in (
        Message.objects.filter(ticket_id__in=ids, automatic=False)
        .order_by("created_at", "pk")
        .values_list("ticket_id", "text")
    ):
        bodies.setdefault(tid, []).append(body)
    stem_set = query.stem_set()
    url = _url_maker()
    hits = []
    for pk in ids:
        ticket = tickets.get(pk)
        if ticket is None:
            continue
        subject_html, _matched = text.highlight(ticket.subject, stem_set, width=255)
        snippet = ""
        for body in bodies.get(pk, []):
            snippet, matched = text.highlight(body, stem_set)
            if matched:
                break
        else:
            if bodies.get(pk):
                snippet, _matched = text.highlight(bodies[pk][0], stem_set)
        hits.append(Hit(ticket, subject_html, snippet, url(ticket)))
    return hits


def index_size() -> dict[str, int]:
    """Documents in the index, for the page's footer and the benchmark."""
    return {"documents": SearchDocument.objects.count()}
