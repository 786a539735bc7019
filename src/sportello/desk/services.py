"""Writes of the desk. Each one calls the ticket, mail and billing services, so the
event trail and the charges stay right by construction (STYLE 2.1); what is added here
are the desk's own rules: who may assign whom, the call timer, the quick intake forms.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sportello.core.localtime import parse_local_datetime
from sportello.customers.models import Contact
from sportello.mail import outbound
from sportello.staff import roles
from sportello.staff import services as staff
from sportello.staff.models import Agent, Team
from sportello.tickets import merging, tagging
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import (
    Channel,
    Direction,
    InterventionKind,
    MessageKind,
    Priority,
    Status,
    Ticket,
)

from .errors import DeskInputError, DeskPermissionError
from .models import CannedReply, DeskPreference, RunningTimer, SavedView, TimerKind
from .placeholders import placeholder_context, placeholders_render
from .selectors import COLUMNS, FILTERS, QUEUES, SORTS, columns_clean, filters_q

# Most a single reply or note may hold: a pasted log is fine, a pasted disk image is not.
TEXT_MAX_CHARS = 100_000


def _actor(user) -> tickets.Actor:
    return tickets.Actor(user=user)


def _agent(user) -> Agent:
    agent = roles.agent_for(user)
    if agent is None:
        raise DeskPermissionError(
            _("Only an agent can do this: ask an administrator for an agent record.")
        )
    return agent


def _text(text: str, *, field: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DeskInputError(
            _("The %(what)s is empty: write it first.") % {"what": what}, field=field
        )
    if len(text) > TEXT_MAX_CHARS:
        raise DeskInputError(
            _(
                "The %(what)s is %(n)d characters long; the limit is %(max)d: attach long logs "
                "as a file."
            )
            % {"what": what, "n": len(text), "max": TEXT_MAX_CHARS},
            field=field,
        )
    return text


# --- assignment, status, priority, team -------------------------------------------------


def ticket_assign_checked(*, ticket: Ticket, assignee: Agent | None, user) -> Ticket:
    """Assign as the desk allows: an agent takes an unassigned ticket (or gives back their
    own); a supervisor or admin assigns anyone's ticket to anyone (staff.roles)."""
    if not roles.can_supervise(user):
        me = roles.agent_for(user)
        own_or_free = ticket.assignee_id in (None, me.pk if me else None)
        to_me_or_nobody = assignee is None or (me is not None and assignee.pk == me.pk)
        if not (own_or_free and to_me_or_nobody):
            raise DeskPermissionError(
                _(
                    "Only a supervisor can assign another agent's ticket, or assign a ticket to "
                    "someone else: take unassigned tickets yourself."
                )
            )
    if assignee is not None and not assignee.active:
        raise DeskInputError(
            _("%(name)s is no longer active.") % {"name": assignee}, field="assignee"
        )
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    return tickets.ticket_assign(ticket=ticket, assignee=assignee, actor=_actor(user))


def ticket_take(*, ticket: Ticket, user) -> Ticket:
    """'Take it': the signed-in agent becomes the assignee."""
    return ticket_assign_checked(ticket=ticket, assignee=_agent(user), user=user)


def ticket_fields_set(
    *,
    ticket: Ticket,
    user,
    status: str | None = None,
    priority: str | None = None,
    team: Team | None | str = "",
) -> Ticket:
    """Status, priority and team from the ticket page (empty values: unchanged)."""
    actor = _actor(user)
    with transaction.atomic():
        if priority and priority != ticket.priority:
            if priority not in Priority.values:
                raise DeskInputError(
                    _("Unknown priority: choose one from the list."), field="priority"
                )
            tickets.ticket_update(ticket=ticket, actor=actor, priority=priority)
        if team != "" and (team.pk if team else None) != ticket.team_id:
            tickets.ticket_update(ticket=ticket, actor=actor, team=team)
        if status and status != ticket.status:
            tickets.ticket_change_status(ticket=ticket, status=status, actor=actor)
    return ticket


BULK_ACTIONS = ("assign", "take", "status", "priority", "team", "note", "tag", "untag")


def tickets_bulk(
    *, user, ticket_ids: list[int], action: str, value: str = "", text: str = ""
) -> int:
    """Apply one action to every selected ticket, all or nothing; returns how many."""
    if action not in BULK_ACTIONS:
        raise DeskInputError(_("Choose what to do with the selected tickets."), field="action")
    if not ticket_ids:
        raise DeskInputError(_("Select at least one ticket first."), field="ids")
    chosen = list(Ticket.objects.filter(pk__in=ticket_ids).select_related("assignee"))
    if len(chosen) != len(set(ticket_ids)):
        raise DeskInputError(
            _("Some selected tickets no longer exist: reload the list."), field="ids"
        )
    actor = _actor(user)
    with transaction.atomic():
        for ticket in chosen:
            if action == "take":
                ticket_take(ticket=ticket, user=user)
            elif action == "assign":
                assignee = None
                if value:
                    assignee = Agent.objects.filter(pk=value, active=True).first()
                    if assignee is None:
                        raise DeskInputError(_("Choose an agent from the list."), field="value")
                ticket_assign_checked(ticket=ticket, assignee=assignee, user=user)
            elif action == "status":
                if value not in Status.values:
                    raise DeskInputError(_("Choose a status from the list."), field="value")
                tickets.ticket_change_status(ticket=ticket, status=value, actor=actor)
            elif action == "priority":
                if value not in Priority.values:
                    raise DeskInputError(_("Choose a priority from the list."), field="value")
                tickets.ticket_update(ticket=ticket, actor=actor, priority=value)
            elif action == "team":
                team = Team.objects.filter(pk=value).first() if value else None
                if value and team is None:
                    raise DeskInputError(_("Choose a team from the list."), field="value")
                tickets.ticket_update(ticket=ticket, actor=actor, team=team)
            elif action == "note":
                note_add(ticket=ticket, user=user, text=text)
            elif action in ("tag", "untag"):
                names = _tag_names(text or value)
                change = {"add": names} if action == "tag" else {"remove": names}
                tagging.ticket_tags_change(ticket=ticket, actor=actor, **change)
    return len(chosen)


# --- conversation -----------------------------------------------------------------------


def reply_send(*, ticket: Ticket, user, text: str, then_status: str = "") -> object:
    """Answer the customer by e-mail (mail.outbound, sent after commit with retries),
    then optionally move the ticket (e.g. to "waiting for the customer")."""
    text = _text(text, field="text", what=_("reply"))
    # Re-rendered at send from the ticket as it is now: a name changed since the canned
    # reply was inserted is the new one; an unknown placeholder stops the reply.
    rendered = placeholders_render(text, placeholder_context(ticket=ticket, user=user))
    if rendered.unknown:
        raise DeskInputError(
            _("Unknown placeholders: %(names)s. Correct or remove them, then send again.")
            % {"names": ", ".join("{{ " + n + " }}" for n in rendered.unknown)},
            field="text",
        )
    text = rendered.text
    to = outbound.customer_addresses(ticket)
    if not to:
        raise DeskInputError(
            _(
                "Nobody to write to: the ticket's contact has no e-mail address. Add one to the "
                "contact, or log the call instead."
            ),
            field="text",
        )
    with transaction.atomic():
        message = outbound.reply_send(ticket=ticket, text=text, actor=_actor(user), to=to)
        if then_status and then_status != ticket.status:
            tickets.ticket_change_status(ticket=ticket, status=then_status, actor=_actor(user))
    return message


def note_add(*, ticket: Ticket, user, text: str):
    """An internal note: never shown to the customer, never counted by the tariff."""
    text = _text(text, field="note", what=_("note"))
    return tickets.message_add(
        ticket=ticket,
        actor=_actor(user),
        message=MessageInput(
            kind=MessageKind.INTERNAL_NOTE, direction=Direction.INTERNAL, text=text
        ),
    )


def attachments_add(*, ticket: Ticket, user, files, max_bytes: int, allowed: list[str]):
    """Files an agent attaches to the ticket (a photo of the label, a log)."""
    stored = []
    for upload in files:
        name = upload.name or "file"
        suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
        if suffix not in allowed:
            raise DeskInputError(
                _("%(name)s: files of this type cannot be attached; allowed: %(types)s.")
                % {"name": name, "types": " ".join(allowed)},
                field="files",
            )
        if upload.size > max_bytes:
            raise DeskInputError(
                _("%(name)s is larger than the limit of %(max)d MB: compress it or share a link.")
                % {"name": name, "max": max_bytes // (1024 * 1024)},
                field="files",
            )
    with transaction.atomic():
        for upload in files:
            stored.append(
                tickets.attachment_add(
                    ticket=ticket,
                    filename=upload.name,
                    content=upload.read(),
                    content_type=_type_for(upload.name),
                    actor=_actor(user),
                )
            )
    return stored


def _type_for(name: str) -> str:
    import mimetypes

    guessed, _enc = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


# --- interventions ----------------------------------------------------------------------


def timer_start(
    *, user, ticket: Ticket | None, kind: str = TimerKind.PHONE, now=None
) -> RunningTimer:
    """Start (or find the already running) call or session timer of this agent."""
    agent = _agent(user)
    if kind not in TimerKind.values:
        raise DeskInputError(_("A timer is for a phone call or a remote session."), field="kind")
    if ticket is not None:
        running = RunningTimer.objects.filter(agent=agent, ticket=ticket).first()
        if running is not None:
            return running
    try:
        with transaction.atomic():
            return RunningTimer.objects.create(
                agent=agent, ticket=ticket, kind=kind, started_at=now or timezone.now()
            )
    except IntegrityError:  # a second device started it at the same instant
        return RunningTimer.objects.get(agent=agent, ticket=ticket)


def timer_stop(*, user, timer: RunningTimer, notes: str = "", now=None):
    """Stop a timer and record its call or session, of the exact duration."""
    agent = _agent(user)
    if timer.agent_id != agent.pk:
        raise DeskPermissionError(_("This timer belongs to another agent."))
    if timer.ticket_id is None:
        raise DeskInputError(_("Save the call as a ticket first."), field="timer")
    seconds = max(1, int(((now or timezone.now()) - timer.started_at).total_seconds()))
    with transaction.atomic():
        intervention = tickets.intervention_add(
            ticket=timer.ticket,
            kind=timer.kind,
            started_at=timer.started_at,
            duration_seconds=seconds,
            technician=agent,
            notes=notes,
            actor=_actor(user),
        )
        timer.delete()
    return intervention


def timer_discard(*, user, timer: RunningTimer) -> None:
    agent = _agent(user)
    if timer.agent_id != agent.pk:
        raise DeskPermissionError(_("This timer belongs to another agent."))
    timer.delete()


def parse_local(value: str, *, field: str) -> datetime:
    """``2026-12-02T10:00`` from a datetime-local field, read in Europe/Rome."""
    moment = parse_local_datetime(value)
    if moment is None:
        raise DeskInputError(
            _("Write the start as a date and a time, e.g. 02/12/2026 10:00."), field=field
        )
    return moment


def intervention_record(
    *,
    ticket: Ticket,
    user,
    kind: str,
    started_at: datetime,
    minutes: str = "",
    km: str = "",
    notes: str = "",
):
    """Manual entry of a call, a session (start and minutes) or a leg (start, km)."""
    agent = _agent(user)
    duration = None
    if kind in (InterventionKind.PHONE, InterventionKind.REMOTE):
        try:
            duration = round(Decimal(str(minutes).replace(",", ".")) * 60)
        except Exception:
            raise DeskInputError(_("Write the duration in minutes, e.g. 12."), field="minutes")
        if duration <= 0:
            raise DeskInputError(_("The duration must be more than zero minutes."), field="minutes")
    km_value = None
    if kind in (InterventionKind.PICKUP, InterventionKind.RETURN) and str(km).strip():
        try:
            km_value = Decimal(str(km).replace(",", ".")).quantize(Decimal("0.1"))
        except Exception:
            raise DeskInputError(_("Write the distance in km, e.g. 42,5."), field="km")
    if started_at > timezone.now() + timedelta(minutes=5):
        raise DeskInputError(_("The start is in the future: check the date."), field="started_at")
    return tickets.intervention_add(
        ticket=ticket,
        kind=kind,
        started_at=started_at,
        duration_seconds=duration,
        km=km_value,
        technician=agent,
        notes=notes,
        actor=_actor(user),
    )


def intervention_override(*, intervention, user, choice: str, reason: str):
    """Billing: force an intervention in or out of hours, or back to the calendar."""
    value = {"in": False, "out": True, "auto": None}.get(choice)
    if choice not in ("in", "out", "auto"):
        raise DeskInputError(_("Choose in hours, out of hours or the calendar."), field="choice")
    if value is not None and not (reason or "").strip():
        raise DeskInputError(
            _("Say why the out-of-hours decision is overridden: it is recorded on the ticket."),
            field="reason",
        )
    return tickets.intervention_override_out_of_hours(
        intervention=intervention, out_of_hours=value, reason=reason or "", actor=_actor(user)
    )


def billing_set(
    *,
    ticket: Ticket,
    user,
    waive_call_fee: bool,
    waive_reason: str = "",
    billable: bool = True,
    non_billable_reason: str = "",
) -> Ticket:
    """Billing: waive the call-out fee, or mark the ticket non-billable, each with a reason."""
    if waive_call_fee and not waive_reason.strip():
        raise DeskInputError(
            _("Say why the call-out fee is waived, e.g. the customer's e-mail was down."),
            field="waive_reason",
        )
    if not billable and not non_billable_reason:
        raise DeskInputError(
            _("Choose why the ticket is not billable."), field="non_billable_reason"
        )
    return tickets.ticket_update(
        ticket=ticket,
        actor=_actor(user),
        waive_call_fee=waive_call_fee,
        waive_reason=waive_reason.strip() if waive_call_fee else "",
        billable=billable,
        non_billable_reason="" if billable else non_billable_reason,
    )


# --- new requests: the phone and the other channels -------------------------------------

QUICK_CHANNELS = (
    Channel.PHONE,
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.OTHER_EMAIL,
    Channel.OTHER,
)


def request_file(
    *,
    user,
    channel: str,
    subject: str,
    text: str = "",
    contact: Contact | None = None,
    official_channels_possible: bool | None = None,
    timer: RunningTimer | None = None,
    add_to: Ticket | None = None,
    files=(),
    now=None,
) -> Ticket:
    """File what reached us by phone, SMS, WhatsApp, another mailbox or in person.

    A phone call with a running timer is recorded as a phone intervention of the timed
    duration, on a new ticket or on ``add_to`` (an open ticket of the caller). A new
    ticket gets the acknowledgement by e-mail when the contact has an address (SPEC 2).
    """
    agent = _agent(user)
    if channel not in QUICK_CHANNELS:
        raise DeskInputError(_("Choose how the request reached you."), field="channel")
    if channel == Channel.PHONE and official_channels_possible is None and add_to is None:
        raise DeskInputError(
            _("Answer the policy's question: could the customer have used e-mail or the portal?"),
            field="official_channels_possible",
        )
    if timer is not None and timer.agent_id != agent.pk:
        raise DeskPermissionError(_("This timer belongs to another agent."))
    actor = _actor(user)
    now = now or timezone.now()
    with transaction.atomic():
        if add_to is not None:
            ticket = add_to
            if text.strip():
                tickets.message_add(
                    ticket=ticket,
                    actor=actor,
                    author_contact=contact,
                    message=MessageInput(
                        kind=(
                            MessageKind.PHONE_NOTE if channel == Channel.PHONE else MessageKind.CHAT
                        ),
                        direction=Direction.INBOUND,
                        text=text.strip(),
                    ),
                )
        else:
            subject = (subject or "").strip()
            if not subject and (text or "").strip():
                subject = text.strip().splitlines()[0][:120]
            if not subject:
                raise DeskInputError(
                    _("Write a subject: one line saying what the customer needs."), field="subject"
                )
            ticket = tickets.ticket_open(
                subject=subject,
                channel=channel,
                contact=contact,
                organisation=contact.organisation if contact else None,
                actor=actor,
                official_channels_possible=(
                    official_channels_possible if channel == Channel.PHONE else None
                ),
                created_at=timer.started_at if timer is not None else now,
                message=MessageInput(text=text.strip(), direction=Direction.INBOUND),
            )
            tickets.ticket_assign(ticket=ticket, assignee=agent, actor=actor)
        if timer is not None:
            seconds = max(1, int((now - timer.started_at).total_seconds()))
            tickets.intervention_add(
                ticket=ticket,
                kind=InterventionKind.PHONE,
                started_at=timer.started_at,
                duration_seconds=seconds,
                technician=agent,
                actor=actor,
            )
            timer.delete()
        if files:
            from django.conf import settings

            attachments_add(
                ticket=ticket,
                user=user,
                files=files,
                max_bytes=settings.SPORTELLO_UPLOAD_MAX_BYTES,
                allowed=settings.SPORTELLO_UPLOAD_TYPES,
            )
        if add_to is None and contact is not None:
            to = outbound.customer_addresses(ticket)
            if to:
                outbound.answer_new_ticket(ticket=ticket, to=to[0], texts=(subject, text))
    return ticket


# --- canned replies (supervisors) -------------------------------------------------------


def canned_reply_save(*, user, title: str, body: str, reply: CannedReply | None = None):
    """Create or change a canned reply; supervisors and admins only (staff.roles)."""
    if not roles.can_supervise(user):
        raise DeskPermissionError(_("Only a supervisor can change canned replies."))
    title = (title or "").strip()
    if not title:
        raise DeskInputError(_("Give the canned reply a title."), field="title")
    body = _text(body, field="body", what=_("canned reply"))
    reply = reply or CannedReply(created_by=user)
    reply.title, reply.body = title[:120], body
    if CannedReply.objects.filter(title=reply.title).exclude(pk=reply.pk).exists():
        raise DeskInputError(
            _("A canned reply called %(title)s exists already: choose another title.")
            % {"title": reply.title},
            field="title",
        )
    reply.save()
    return reply


def canned_reply_delete(*, user, reply: CannedReply) -> None:
    if not roles.can_supervise(user):
        raise DeskPermissionError(_("Only a supervisor can change canned replies."))
    reply.delete()


def preference_set(
    *, user, shortcuts: bool | None = None, language: str | None = None
) -> DeskPreference:
    """Change what the agent chose in the desk; ``None`` leaves a choice as it was.

    ``shortcuts``: the single-key shortcuts on or off (Ctrl+Enter always sends).
    ``language``: the desk's and the notification e-mails' language, ``""`` = the site's.
    """
    agent = _agent(user)
    with transaction.atomic():
        if language is not None:
            staff.agent_language_set(agent=agent, language=language)
        if shortcuts is None:
            preference, _created = DeskPreference.objects.get_or_create(agent=agent)
        else:
            preference, _created = DeskPreference.objects.update_or_create(
                agent=agent, defaults={"shortcuts": shortcuts}
            )
    return preference


# --- tags, merge, split, link (tickets.tagging and tickets.merging) --------------------


def _tag_names(text: str) -> list[str]:
    names = tagging.tag_names_parse(text)
    if not names:
        raise DeskInputError(
            _("Write the tags, separated by commas, e.g. vpn, stampante."), field="text"
        )
    return names


def tags_set(*, ticket: Ticket, user, text: str) -> list[str]:
    """The ticket page's tag field: the ticket gets exactly the tags written there."""
    return tagging.ticket_tags_set(
        ticket=ticket, names=tagging.tag_names_parse(text), actor=_actor(user)
    )


def tag_remove(*, ticket: Ticket, user, name: str) -> list[str]:
    return tagging.ticket_tags_change(ticket=ticket, remove=[name], actor=_actor(user))


def ticket_merge(*, source: Ticket, target: Ticket, user) -> Ticket:
    """Merge ``source`` into ``target`` (tickets.merging); the running call timers on
    ``source`` follow it, so a call stopped later is recorded on the ticket billed."""
    _agent(user)
    with transaction.atomic():
        target = merging.ticket_merge(source=source, target=target, actor=_actor(user))
        busy = RunningTimer.objects.filter(ticket=target).values("agent")
        RunningTimer.objects.filter(ticket=source).exclude(agent__in=busy).update(ticket=target)
    return target


def tickets_merge_selected(*, user, ticket_ids: list[int], target_id: int) -> Ticket:
    """The bulk bar's merge: every selected ticket into the one chosen, all or nothing."""
    ids = set(ticket_ids)
    if len(ids) < 2:
        raise DeskInputError(_("Select at least two tickets to merge."), field="ids")
    if target_id not in ids:
        raise DeskInputError(
            _("Choose, among the selected tickets, the one to keep."), field="target"
        )
    chosen = {t.pk: t for t in Ticket.objects.filter(pk__in=ids)}
    if len(chosen) != len(ids):
        raise DeskInputError(
            _("Some selected tickets no longer exist: reload the list."), field="ids"
        )
    target = chosen[target_id]
    with transaction.atomic():
        for pk in sorted(ids - {target_id}):
            target = ticket_merge(source=chosen[pk], target=target, user=user)
    return target


def message_split(*, message, user, subject: str = "") -> Ticket:
    _agent(user)
    return merging.message_split(message=message, subject=subject, actor=_actor(user))


def ticket_link(*, ticket: Ticket, user, number: str) -> Ticket:
    """Relate the ticket to the one numbered ``number`` (e.g. 2026-000123)."""
    number = (number or "").strip()
    other = Ticket.objects.filter(number=number).first() if number else None
    if other is None:
        raise DeskInputError(
            _("No ticket numbered %(number)s: write a number like 2026-000123.")
            % {"number": number or "—"},
            field="number",
        )
    merging.tickets_link(ticket=ticket, other=other, actor=_actor(user))
    return other


def ticket_unlink(*, ticket: Ticket, other: Ticket, user) -> None:
    merging.tickets_unlink(ticket=ticket, other=other, actor=_actor(user))


# --- saved views ----------------------------------------------------------------------


def _view_may_change(user, view: SavedView) -> None:
    agent = roles.agent_for(user)
    if view.shared:
        if not roles.can_supervise(user):
            raise DeskPermissionError(_("Only a supervisor can change a shared view."))
    elif agent is None or view.owner_id != agent.pk:
        raise DeskPermissionError(_("This view belongs to another agent."))


def _view_name(user, name: str, *, owner: Agent, exclude: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DeskInputError(_("Give the view a name, e.g. Stampanti urgenti."), field="name")
    if len(name) > 80:
        raise DeskInputError(
            _("The name is %(n)d characters long; the limit is 80: shorten it.") % {"n": len(name)},
            field="name",
        )
    if SavedView.objects.filter(owner=owner, name=name).exclude(pk=exclude).exists():
        raise DeskInputError(
            _("You already have a view called %(name)s: choose another name.") % {"name": name},
            field="name",
        )
    return name


def saved_view_save(
    *,
    user,
    name: str,
    queue: str,
    filters: dict,
    sort: str,
    columns: list[str],
    shared: bool = False,
) -> SavedView:
    """Save the queue as it is shown (queue, filters, order, columns) under a name."""
    owner = _agent(user)
    if shared and not roles.can_supervise(user):
        raise DeskPermissionError(_("Only a supervisor can share a view with everyone."))
    if queue not in QUEUES:
        raise DeskInputError(_("Unknown queue: choose one from the list."), field="queue")
    if sort not in SORTS:
        raise DeskInputError(_("Unknown order: choose one from the list."), field="sort")
    unknown = [c for c in columns or () if c not in COLUMNS]
    if unknown:
        raise DeskInputError(
            _("Unknown columns: %(names)s.") % {"names": ", ".join(unknown)}, field="columns"
        )
    kept = {k: str(v) for k, v in (filters or {}).items() if k in FILTERS and v}
    filters_q(kept)  # a bad filter is refused here, with its message, not saved
    return SavedView.objects.create(
        owner=owner,
        name=_view_name(user, name, owner=owner),
        shared=shared,
        queue=queue,
        filters=kept,
        sort=sort,
        columns=columns_clean(columns),
    )


def saved_view_rename(*, user, view: SavedView, name: str) -> SavedView:
    _view_may_change(user, view)
    view.name = _view_name(user, name, owner=view.owner, exclude=view.pk)
    view.save(update_fields=["name", "updated_at"])
    return view


def saved_view_delete(*, user, view: SavedView) -> None:
    _view_may_change(user, view)
    view.delete()
