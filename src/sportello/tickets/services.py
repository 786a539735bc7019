"""Every write to a ticket goes through here, and every write leaves a TicketEvent.

Services are keyword-only ``<entity>_<action>`` functions (STYLE 1.3). They run in a
transaction, validate their input and raise ``TicketError`` subclasses whose message
says what is wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sportello.core.files import storage_put
from sportello.customers.models import Contact, Organisation

from . import signals
from .errors import InvalidTransitionError, TicketInputError
from .events import SYSTEM, Actor, record_event
from .inputs import MessageInput
from .models import (
    LEG_KINDS,
    STATUS_TRANSITIONS,
    Attachment,
    Channel,
    Direction,
    Intervention,
    InterventionKind,
    Message,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
    TicketSequence,
    attachment_path,
    contact_organisation_error,
)


def _event(ticket: Ticket, kind: str, actor: Actor, data: dict, when: datetime | None = None):
    return record_event(ticket=ticket, kind=kind, actor=actor, data=data, when=when)


def _reprice(ticket: Ticket, *, opened_with_written: int | None = None) -> None:
    """Charges follow every change of an open ticket: billing listens, in this
    transaction, so they are current when the service returns (tickets do not import
    billing, which builds on them)."""
    signals.pricing_changed.send(Ticket, ticket=ticket, opened_with_written=opened_with_written)


def ticket_number_next(*, year: int) -> str:
    """Hand out the next ticket number of ``year``, e.g. ``2026-000123``.

    Two processes asking at the same instant get two numbers, and a number once handed
    out is never given again, even if its ticket is deleted. On PostgreSQL the counter is
    a sequence per year: ``nextval`` takes no lock that lasts, so transactions creating
    tickets in several workers do not wait for each other (a rollback leaves a gap). On
    SQLite, which has one writer anyway, it is one atomic upsert of ``TicketSequence``.
    """
    if connection.vendor == "postgresql":
        last = _pg_number_next(year)
    else:
        table = connection.ops.quote_name(TicketSequence._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (year, last) VALUES (%s, 1) "  # noqa: S608 - our table
                f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
                [year],
            )
            (last,) = cursor.fetchone()
    return f"{year}-{last:06d}"


# Taken while a year's sequence is created, so that two first tickets of a year agree.
_NUMBER_LOCK = 0x5370_0001


def _pg_sequence(year: int) -> str:
    return f"tickets_number_{int(year)}"


def _pg_number_next(year: int) -> int:
    name = _pg_sequence(year)
    with connection.cursor() as cursor:
        # nextval(NULL) is NULL: the year's sequence does not exist yet.
        cursor.execute("SELECT nextval(to_regclass(%s))", [name])
        (last,) = cursor.fetchone()
        if last is None:
            # The first ticket of the year here: create the sequence after every number
            # given so far. The lock lasts until commit, so a second creator finds it made.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NUMBER_LOCK])
            start = ticket_number_last(year=year) + 1
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {start:d}")
            cursor.execute("SELECT nextval(to_regclass(%s))", [name])
            (last,) = cursor.fetchone()
    return last


def ticket_number_last(*, year: int) -> int:
    """The last number handed out in ``year`` (0 before the first)."""
    last = TicketSequence.objects.filter(year=year).values_list("last", flat=True).first() or 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_value FROM pg_sequences WHERE schemaname = current_schema() "
                "AND sequencename = %s",
                [_pg_sequence(year)],
            )
            row = cursor.fetchone()
        if row is not None and row[0] is not None:
            last = max(last, row[0])
    numbers = Ticket.objects.filter(number__startswith=f"{year}-").values_list("number", flat=True)
    highest = numbers.order_by("-number").first()
    return max(last, int(highest.split("-")[1]) if highest else 0)


def ticket_number_set_last(*, year: int, last: int) -> None:
    """Record that numbers up to ``last`` of ``year`` are taken (bulk loads)."""
    TicketSequence.objects.update_or_create(year=year, defaults={"last": last})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # setval(NULL, ...) is NULL: no sequence yet, and its creation starts after last.
            cursor.execute("SELECT setval(to_regclass(%s), %s)", [_pg_sequence(year), last])


def ticket_open(
    *,
    subject: str,
    channel: str,
    message: MessageInput | None = None,
    organisation: Organisation | None = None,
    contact: Contact | None = None,
    actor: Actor = SYSTEM,
    priority: str = "normal",
    category: str = "",
    official_channels_possible: bool | None = None,
    created_at: datetime | None = None,
    linked_to: Ticket | None = None,
    billable: bool = True,
    non_billable_reason: str = "",
) -> Ticket:
    """Open a ticket with its first message and a ``created`` event.

    The first message is ``message``: its kind follows the channel (e-mail, portal,
    otherwise a phone note) unless ``message.kind`` says otherwise; its subject is the
    ticket's unless it has its own; it is dated ``created_at``, as the ticket. No message,
    or one without text and html, opens the ticket without a message (an agent logging a
    call fills it in later). The ticket
    comes back with ``first_message`` set (None without one), saving callers a query.
    """
    subject = (subject or "").strip()
    if not subject:
        raise TicketInputError(
            _("A ticket needs a subject: write one line saying what is wrong."), field="subject"
        )
    if channel not in Channel.values:
        raise TicketInputError(
            _("Unknown channel %(channel)s: use one of %(choices)s.")
            % {"channel": channel, "choices": ", ".join(Channel.values)},
            field="channel",
        )
    if organisation is None and contact is not None:
        organisation = contact.organisation
    mismatch = contact_organisation_error(contact, organisation)
    if mismatch:
        raise TicketInputError(mismatch, field="contact")
    now = created_at or timezone.now()
    with transaction.atomic(savepoint=False):
        ticket = Ticket(
            number=ticket_number_next(year=timezone.localtime(now).year),
            subject=subject[:255],
            organisation=organisation,
            contact=contact,
            channel=channel,
            official_channels_possible=official_channels_possible,
            priority=priority,
            category=category,
            linked_to=linked_to,
            billable=billable,
            non_billable_reason=non_billable_reason,
            created_at=now,
        )
        ticket.opening = True  # see signals.ticket_opened
        try:
            # Related rows were passed as saved instances: skip one query per foreign key.
            # Ticket.clean() checks the reasons the constraints demand, without the one
            # SELECT per CheckConstraint that validate_constraints would run.
            ticket.full_clean(
                exclude=["number", *RELATED_FIELDS],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            raise _input_error(exc)
        ticket.save(force_insert=True)
        _event(
            ticket,
            TicketEvent.Kind.CREATED,
            actor,
            {"channel": channel, "subject": ticket.subject},
            now,
        )
        written = 0
        first = None
        if message is not None and message.has_body:
            kind = message.kind or {
                Channel.EMAIL: MessageKind.EMAIL,
                Channel.OTHER_EMAIL: MessageKind.EMAIL,
                Channel.PORTAL: MessageKind.PORTAL,
                Channel.CONTACT_FORM: MessageKind.PORTAL,
                Channel.SMS: MessageKind.CHAT,
                Channel.WHATSAPP: MessageKind.CHAT,
            }.get(channel, MessageKind.PHONE_NOTE)
            first = message_add(
                ticket=ticket,
                message=replace(
                    message, kind=kind, subject=message.subject or subject, created_at=now
                ),
                actor=actor,
                author_contact=contact,
                reprice=False,
            )
            written = int(first.counts_as_written)
        _reprice(ticket, opened_with_written=written)
        ticket.opening = False
        signals.ticket_opened.send(Ticket, ticket=ticket, message=first)
    ticket.first_message = first
    return ticket


RELATED_FIELDS = ("organisation", "contact", "team", "assignee", "linked_to")


def _input_error(exc: ValidationError) -> TicketInputError:
    field, messages = next(iter(exc.message_dict.items()))
    return TicketInputError(f"{field}: {' '.join(messages)}", field=field)


def ticket_change_status(
    *,
    ticket: Ticket,
    status: str,
    actor: Actor = SYSTEM,
    when: datetime | None = None,
    notify: bool = True,
) -> Ticket:
    """Move a ticket to ``status`` if the transition is allowed (see STATUS_TRANSITIONS)."""
    if status not in Status.values:
        raise TicketInputError(
            _("Unknown status %(status)s: use one of %(choices)s.")
            % {"status": status, "choices": ", ".join(Status.values)},
            field="status",
        )
    old = ticket.status
    if status == old:
        return ticket
    if status not in STATUS_TRANSITIONS[old]:
        allowed = ", ".join(str(Status(s).label) for s in sorted(STATUS_TRANSITIONS[old]))
        raise InvalidTransitionError(
            _(
                "Ticket %(number)s cannot go from %(old)s to %(new)s; from %(old)s it can go "
                "to: %(allowed)s."
            )
            % {
                "number": ticket.number,
                "old": Status(old).label,
                "new": Status(status).label,
                "allowed": allowed,
            },
            field="status",
        )
    now = when or timezone.now()
    with transaction.atomic(savepoint=False):
        ticket.status = status
        fields = ["status", "updated_at"]
        if status == Status.RESOLVED:
            ticket.resolved_at = now
            fields.append("resolved_at")
        elif status == Status.CLOSED:
            ticket.closed_at = now
            if ticket.resolved_at is None:
                ticket.resolved_at = now
            fields += ["closed_at", "resolved_at"]
        elif old in (Status.RESOLVED, Status.CLOSED):
            ticket.resolved_at = None
            ticket.closed_at = None
            fields += ["resolved_at", "closed_at"]
        ticket.save(update_fields=fields)
        _event(ticket, TicketEvent.Kind.STATUS, actor, {"status": [old, status]}, now)
        # Closing freezes the charges, reopening unfreezes them, resolving prices them by
        # the tariff version in force that day: billing decides, before anyone is told.
        signals.pricing_changed.send(
            Ticket, ticket=ticket, opened_with_written=None, status=(old, status), actor=actor
        )
        signals.status_changed.send(
            Ticket, ticket=ticket, old=old, new=status, actor=actor, notify=notify
        )
    return ticket


def ticket_assign(*, ticket: Ticket, assignee, team=None, actor: Actor = SYSTEM) -> Ticket:
    """Give a ticket to an agent (or nobody) and optionally a team."""
    old = {"assignee": ticket.assignee_id, "team": ticket.team_id}
    with transaction.atomic(savepoint=False):
        ticket.assignee = assignee
        if team is not None:
            ticket.team = team
        elif assignee is not None and assignee.team_id and ticket.team_id is None:
            ticket.team_id = assignee.team_id
        ticket.save(update_fields=["assignee", "team", "updated_at"])
        new = {"assignee": ticket.assignee_id, "team": ticket.team_id}
        _event(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            actor,
            {k: [old[k], new[k]] for k in old if old[k] != new[k]},
        )
        if old["assignee"] != new["assignee"]:
            signals.ticket_assigned.send(
                Ticket, ticket=ticket, old=old["assignee"], new=assignee, actor=actor
            )
    return ticket


# Fields an agent may change with ticket_update; each change is one entry in the event.
UPDATABLE_FIELDS = (
    "subject",
    "priority",
    "category",
    "organisation",
    "contact",
    "team",
    "official_channels_possible",
    "channel_justification",
    "billable",
    "non_billable_reason",
    "waive_call_fee",
    "waive_reason",
    "out_of_hours_requested",
)


def ticket_update(*, ticket: Ticket, actor: Actor = SYSTEM, **changes) -> Ticket:
    """Change ticket fields; the event records each field's old and new value.

    Invariants with a reason (not billable, call-out fee waived) are checked here so
    the caller gets a message naming the field instead of a database error.
    """
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TicketInputError(
            _("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(unknown)},
            field=sorted(unknown)[0],
        )
    diff = {}
    before = {}
    for field, value in changes.items():
        old = getattr(ticket, field)
        if old != value:
            before[field] = old
            setattr(ticket, field, value)
            diff[field] = [_plain(old), _plain(value)]
    if not diff:
        return ticket
    before.setdefault("non_billable_reason", ticket.non_billable_reason)
    if ticket.billable and ticket.non_billable_reason:
        # Billable again: the reason goes, and the trail says which one it was.
        ticket.non_billable_reason = ""
        if before["non_billable_reason"]:
            diff["non_billable_reason"] = [before["non_billable_reason"], ""]
        else:
            diff.pop("non_billable_reason", None)
    try:
        ticket.full_clean(exclude=["number"], validate_constraints=False)
    except ValidationError as exc:
        for field, old in before.items():  # the caller's instance stays as stored
            setattr(ticket, field, old)
        raise _input_error(exc)
    with transaction.atomic(savepoint=False):
        ticket.save()
        kind = (
            TicketEvent.Kind.BILLING
            if set(diff)
            & {
                "billable",
                "non_billable_reason",
                "waive_call_fee",
                "waive_reason",
                "out_of_hours_requested",
                "official_channels_possible",
            }
            else TicketEvent.Kind.CHANGED
        )
        _event(ticket, kind, actor, diff)
        _reprice(ticket)
    return ticket


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value


def typed_text_check(*, text: str, field: str = "text") -> None:
    """A message typed in a web form (portal, admin, desk) is at most
    ``SPORTELLO_REPLY_MAX_CHARS`` characters; longer text belongs in an attachment.

    Mail is never cut or refused here: what a customer sends by e-mail is kept whole.
    """
    limit = settings.SPORTELLO_REPLY_MAX_CHARS
    length = len(text or "")
    if length > limit:
        raise TicketInputError(
            _(
                "The message is %(length)s characters long; the limit is %(limit)s. "
                "Shorten it, or attach the text as a file."
            )
            % {
                "length": number_format(length, force_grouping=True),
                "limit": number_format(limit, force_grouping=True),
            },
            field=field,
        )


def message_add(
    *,
    ticket: Ticket,
    message: MessageInput,
    actor: Actor = SYSTEM,
    author_contact: Contact | None = None,
    reprice: bool = True,
    notify: bool = True,
) -> Message:
    """Add a message to a ticket's conversation, with its event.

    ``message.html`` must already be sanitised (the mail parser does it with nh3).
    """
    kind, direction = message.kind, message.direction
    if kind not in MessageKind.values:
        raise TicketInputError(_("Unknown message kind %(kind)s.") % {"kind": kind}, field="kind")
    if direction not in Direction.values:
        raise TicketInputError(
            _("Unknown direction %(direction)s.") % {"direction": direction}, field="direction"
        )
    if kind in (MessageKind.INTERNAL_NOTE, MessageKind.SYSTEM):
        direction = Direction.INTERNAL
    now = message.created_at or timezone.now()
    with transaction.atomic(savepoint=False):
        saved = Message.objects.create(
            ticket=ticket,
            kind=kind,
            direction=direction,
            text=message.text,
            html=message.html,
            author_user=actor.user,
            author_contact=author_contact,
            sender=message.sender or actor.display,
            recipients=list(message.recipients),
            cc=list(message.cc),
            subject=message.subject[:998],
            message_id=message.message_id,
            in_reply_to=message.in_reply_to,
            references=message.references,
            automatic=message.automatic,
            delivery_status=message.delivery_status,
            created_at=now,
        )
        _event(
            ticket,
            TicketEvent.Kind.MESSAGE,
            actor,
            {"message": saved.pk, "kind": kind, "direction": direction},
            now,
        )
        if reprice and saved.counts_as_written:
            _reprice(ticket)
        signals.message_added.send(Ticket, ticket=ticket, message=saved, notify=notify)
    return saved


def attachment_add(
    *,
    ticket: Ticket,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    message: Message | None = None,
    content_id: str = "",
    inline: bool = False,
    actor: Actor = SYSTEM,
) -> Attachment:
    """Store a file through Django's storage API (content-addressed) and attach it."""
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        ticket=ticket,
        message=message,
        filename=(filename or "attachment")[:255],
        content_type=content_type[:255],
        size=len(content),
        sha256=digest,
        content_id=content_id[:255],
        inline=inline,
    )
    # Same bytes already stored are shared, but only once their size and SHA-256 are
    # checked: a file left empty by a killed write is replaced, durably, before the row
    # that points at it is saved (sportello/core/files.py, issue 17).
    attachment.file.name = storage_put(
        attachment_path(attachment, filename), content, sha256=digest
    )
    with transaction.atomic(savepoint=False):
        attachment.save()
        _event(
            ticket,
            TicketEvent.Kind.ATTACHMENT,
            actor,
            {"attachment": attachment.pk, "filename": attachment.filename, "size": attachment.size},
        )
    return attachment


def intervention_add(
    *,
    ticket: Ticket,
    kind: str,
    started_at: datetime,
    duration_seconds: int | None = None,
    km: Decimal | None = None,
    technician=None,
    notes: str = "",
    out_of_hours_override: bool | None = None,
    override_reason: str = "",
    actor: Actor = SYSTEM,
) -> Intervention:
    """Record what a technician did. Calls and sessions need a duration; legs need none.

    A leg outside the district takes the organisation's distance when ``km`` is not
    given. Overriding the out-of-hours decision needs a reason (SPEC 4).
    """
    intervention_check(
        kind=kind,
        started_at=started_at,
        duration_seconds=duration_seconds,
        out_of_hours_override=out_of_hours_override,
        override_reason=override_reason,
    )
    if (
        kind in LEG_KINDS
        and km is None
        and ticket.organisation
        and not ticket.organisation.in_district
    ):
        km = ticket.organisation.distance_km
    with transaction.atomic(savepoint=False):
        intervention = Intervention.objects.create(
            ticket=ticket,
            kind=kind,
            started_at=started_at,
            duration_seconds=None if kind in LEG_KINDS else duration_seconds,
            km=km,
            technician=technician,
            notes=notes,
            out_of_hours_override=out_of_hours_override,
            override_reason=override_reason.strip(),
        )
        data = {"intervention": intervention.pk, "kind": kind, "started_at": started_at.isoformat()}
        if duration_seconds is not None:
            data["duration_seconds"] = duration_seconds
        if out_of_hours_override is not None:
            data["out_of_hours_override"] = out_of_hours_override
            data["override_reason"] = intervention.override_reason
        _event(ticket, TicketEvent.Kind.INTERVENTION, actor, data)
        _reprice(ticket)
    return intervention


def intervention_override_out_of_hours(
    *, intervention: Intervention, out_of_hours: bool | None, reason: str, actor: Actor = SYSTEM
) -> Intervention:
    """Force an intervention in or out of hours (None: back to the calendar's decision)."""
    intervention_check(
        kind=intervention.kind,
        started_at=intervention.started_at,
        duration_seconds=intervention.duration_seconds,
        out_of_hours_override=out_of_hours,
        override_reason=reason,
    )
    old = [intervention.out_of_hours_override, intervention.override_reason]
    with transaction.atomic(savepoint=False):
        intervention.out_of_hours_override = out_of_hours
        intervention.override_reason = reason.strip() if out_of_hours is not None else ""
        intervention.save(update_fields=["out_of_hours_override", "override_reason"])
        _event(
            intervention.ticket,
            TicketEvent.Kind.INTERVENTION_CHANGED,
            actor,
            {
                "intervention": intervention.pk,
                "out_of_hours_override": [old[0], out_of_hours],
                "override_reason": [old[1], intervention.override_reason],
            },
        )
        _reprice(intervention.ticket)
    return intervention


def intervention_check(
    *,
    kind: str,
    started_at: datetime | None,
    duration_seconds: int | None,
    out_of_hours_override: bool | None = None,
    override_reason: str = "",
) -> None:
    """Raise ``TicketInputError`` naming the field when an intervention cannot be
    recorded as given (forms call it to show the error beside the field)."""
    override, reason = out_of_hours_override, override_reason
    if kind not in InterventionKind.values:
        raise TicketInputError(
            _("Unknown intervention kind %(kind)s: use one of %(choices)s.")
            % {"kind": kind, "choices": ", ".join(InterventionKind.values)},
            field="kind",
        )
    if started_at is None or timezone.is_naive(started_at):
        raise TicketInputError(
            _("The start of an intervention needs a date, a time and a time zone."),
            field="started_at",
        )
    if kind not in LEG_KINDS:
        if duration_seconds is None or duration_seconds <= 0:
            raise TicketInputError(
                _("A phone call or remote session needs its duration, greater than zero."),
                field="duration_seconds",
            )
    if override is not None and not (reason or "").strip():
        raise TicketInputError(
            _("Overriding the out-of-hours decision needs a reason, recorded on the ticket."),
            field="override_reason",
        )
