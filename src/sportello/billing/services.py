"""The imperative shell around the pure tariff engine (STYLE 2.1).

Loads a ticket's facts, picks the tariff version and calendar, calls
``sportello.tariff.quote`` and stores the lines. Charges follow the ticket while it is
open and are frozen, with their tariff version, when it is closed.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sportello.customers.models import BillingMode
from sportello.tariff import InterventionFact, Quote, TicketFacts, default_calendar, in_force, quote
from sportello.tickets.events import SYSTEM, Actor, record_event
from sportello.tickets.models import Channel, Message, Ticket, TicketEvent, written_messages

from .calendars import business_calendar
from .models import ChargeLine, TariffVersion, TicketCharges

# The engine knows the policy's channels; the contact form is a portal request.
ENGINE_CHANNEL = {Channel.CONTACT_FORM: "portal"}


# Tariff versions change a few times a year and are read on every repricing: keep them
# per process for a few seconds. Saving one clears this process's copy at once (signals in
# apps.py); other processes see the edit within TARIFF_CACHE_SECONDS.
TARIFF_CACHE_SECONDS = 10
_tariff_cache: dict[str, object] = {"at": -1e9, "versions": [], "params": {}}


def tariff_cache_clear(**_kwargs) -> None:
    _tariff_cache["at"] = -1e9


def _tariff_versions() -> list[TariffVersion]:
    if time.monotonic() - _tariff_cache["at"] > TARIFF_CACHE_SECONDS:
        versions = list(TariffVersion.objects.order_by("valid_from"))
        if not versions:
            # Created inside the caller's transaction, which may still roll back: use it,
            # but do not cache it. Two first tickets at once: the second uses the first's.
            try:
                with transaction.atomic():
                    default = TariffVersion.objects.create(
                        label="Listino assistenza", valid_from=date(2000, 1, 1)
                    )
            except IntegrityError:
                default = TariffVersion.objects.get(valid_from=date(2000, 1, 1))
            _tariff_cache.update(at=-1e9, versions=[default], params={})
            return [default]
        _tariff_cache.update(
            at=time.monotonic(),
            versions=versions,
            params={v.pk: v.to_params() for v in versions},
        )
    return _tariff_cache["versions"]


def tariff_params(version: TariffVersion):
    _tariff_versions()
    params = _tariff_cache["params"].get(version.pk)
    return params if params is not None else version.to_params()


def tariff_version_in_force(*, on: date, versions: list[TariffVersion] | None = None):
    """The version valid on ``on`` by the engine's rule (``tariff.in_force``), the oldest
    one when none is valid yet. ``versions`` (ordered by ``valid_from``) when the caller
    loaded them; else this process's cached ones, the policy's defaults created when the
    database has none."""
    versions = _tariff_versions() if versions is None else versions
    return in_force(versions, on=on) or versions[0]


def written_message_count(ticket: Ticket) -> int:
    """SPEC 5: public messages written by people, both directions; no automatic mail."""
    return Message.objects.filter(written_messages(), ticket=ticket).count()


def ticket_facts(
    ticket: Ticket, *, written_messages: int, interventions, version: TariffVersion
) -> TicketFacts | str:
    """The engine's input for ``ticket`` priced by ``version``, or a reason why it cannot
    be priced. The district is the one of ``version`` (the version in force on the day
    the ticket was resolved), not the flag stored when the organisation was last saved."""
    org = ticket.organisation
    billable = ticket.billable
    if org is None:
        if billable:
            return _("The ticket has no organisation, so there is no hourly rate: set one.")
        org_rate, in_district, distance = Decimal("0"), True, None
    else:
        in_district = version.in_district(org.comune)
        if in_district is None:
            in_district = org.in_district
        org_rate, distance = org.hourly_rate, org.distance_km
        if org.billing_mode == BillingMode.CONTRACT:
            billable = False
    facts_interventions = tuple(
        InterventionFact(
            kind=i.kind,
            start=i.started_at,
            seconds=i.duration_seconds or 0,
            out_of_hours=i.out_of_hours_override,
        )
        for i in interventions
    )
    legs_km = [i.km for i in interventions if i.km is not None]
    if not in_district and distance is None and legs_km:
        distance = legs_km[0]
    if (
        not in_district
        and distance is None
        and any(i.kind in ("pickup", "return") for i in interventions)
    ):
        return _("The organisation is outside the district but has no distance in km: set it.")
    return TicketFacts(
        hourly_rate=org_rate,
        opened_via=ENGINE_CHANNEL.get(ticket.channel, ticket.channel),
        # SPEC 2: the fee applies "unless an agent records why" e-mail/portal were impossible.
        official_channels_possible=ticket.official_channels_possible is not False,
        in_district=in_district,
        distance_km=distance,
        written_messages=written_messages,
        out_of_hours_requested=ticket.out_of_hours_requested,
        interventions=facts_interventions,
        waive_call_fee=ticket.waive_call_fee,
        billable=billable,
    )


def ticket_quote(
    ticket: Ticket, *, written_messages: int | None = None, interventions=None
) -> tuple[Quote | None, TariffVersion, str]:
    """Price ``ticket`` now, without storing anything: (quote or None, version, problem).

    ``written_messages`` and ``interventions`` may be passed by a caller that knows them
    (a ticket just opened), saving their queries.
    """
    if interventions is None:
        interventions = list(ticket.interventions.all())
    if written_messages is None:
        written_messages = written_message_count(ticket)
    on = timezone.localdate(ticket.resolved_at or timezone.now())
    version = tariff_version_in_force(on=on)
    facts = ticket_facts(
        ticket, written_messages=written_messages, interventions=interventions, version=version
    )
    if isinstance(facts, str):
        return None, version, facts
    years = {timezone.localtime(i.started_at).year for i in interventions} or {on.year}
    years |= {y + d for y in list(years) for d in (-1, 1)}  # offsets can cross New Year
    # Only calls, sessions and legs consult the calendar (written mode uses the customer's
    # flag), so a ticket without them needs no calendar from the database.
    calendar = business_calendar(years=years) if interventions else default_calendar(years)
    result = quote(facts, tariff_params(version), calendar)
    return result, version, ""


def charges_refresh(*, ticket: Ticket, opened_with_written: int | None = None) -> TicketCharges:
    """Recompute and store the charges of ``ticket`` unless they are frozen.

    ``opened_with_written``: the ticket was created in this transaction with that many
    written messages and nothing else, so there is nothing to look up.
    """
    with transaction.atomic(savepoint=False):
        if opened_with_written is not None:
            existing = None
            result, version, problem = ticket_quote(
                ticket, written_messages=opened_with_written, interventions=[]
            )
        else:
            existing = TicketCharges.objects.select_for_update().filter(ticket=ticket).first()
            if existing is None:
                # Never priced (bulk-loaded data): two requests pricing it at once would both
                # insert its row, and one would fail. get_or_create waits for the other's
                # insert and takes that row; then both work under its lock, one at a time.
                TicketCharges.objects.get_or_create(
                    ticket=ticket, defaults={"computed_at": timezone.now()}
                )
                existing = TicketCharges.objects.select_for_update().get(ticket=ticket)
            if existing.frozen:
                return existing
            result, version, problem = ticket_quote(ticket)
        charges = existing or TicketCharges(ticket=ticket)
        charges.tariff_version = version
        charges.problem = problem
        charges.computed_at = timezone.now()
        if result is None:
            charges.net = charges.vat = charges.total = Decimal("0.00")
        else:
            charges.net, charges.vat, charges.total = result.net, result.vat, result.total
        charges.save()
        if existing is not None:
            charges.lines.all().delete()
        if result is not None:
            ChargeLine.objects.bulk_create(
                ChargeLine(
                    charges=charges,
                    position=n,
                    code=line.code,
                    amount=line.amount,
                    description_it=line.description("it")[:500],
                    description_en=line.description("en")[:500],
                    details=_details(line),
                )
                for n, line in enumerate(result.lines)
            )
    return charges


def _details(line) -> dict:
    keep = (
        "percent",
        "base",
        "factor",
        "surcharged",
        "out_of_hours",
        "quantity",
        "unit_price",
        "band_over",
        "band_up_to",
        "steps",
        "leg_kind",
        "channel",
    )
    out = {}
    for name in keep:
        value = getattr(line, name, None)
        if value is not None and value is not False and value != 0:
            out[name] = str(value) if isinstance(value, Decimal) else value
    return out


def charges_freeze(*, ticket: Ticket, actor: Actor = SYSTEM) -> TicketCharges:
    """Freeze the charges (recomputed one last time) with their tariff version."""
    with transaction.atomic(savepoint=False):
        charges = charges_refresh(ticket=ticket)
        if charges.frozen:
            return charges
        charges.frozen = True
        charges.frozen_at = timezone.now()
        charges.save(update_fields=["frozen", "frozen_at"])
        record_event(
            ticket=ticket,
            kind=TicketEvent.Kind.BILLING,
            actor=actor,
            data={
                "charges": "frozen",
                "total": str(charges.total),
                "tariff_version": charges.tariff_version_id,
            },
        )
    return charges


def charges_unfreeze(*, ticket: Ticket, actor: Actor = SYSTEM) -> TicketCharges | None:
    """A reopened ticket is priced again; the event keeps the total that was frozen."""
    with transaction.atomic(savepoint=False):
        charges = TicketCharges.objects.select_for_update().filter(ticket=ticket).first()
        if charges is None or not charges.frozen:
            return charges
        charges.frozen = False
        charges.frozen_at = None
        charges.save(update_fields=["frozen", "frozen_at"])
        record_event(
            ticket=ticket,
            kind=TicketEvent.Kind.BILLING,
            actor=actor,
            data={
                "charges": "unfrozen",
                "previous_total": str(charges.total),
            },
        )
        return charges_refresh(ticket=ticket)
