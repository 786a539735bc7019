"""The month close: draft, review and issue statements; credit and debit notes.

A *draft* statement of an organisation and month collects the closed tickets (final
charges) resolved before the month's end that no statement holds yet, plus those a
billing user chose from the month's resolved-but-not-final tickets; tickets of a
contract are listed at zero. A draft is rebuilt freely. *Issuing* numbers it in the
year's series (no gaps: the counter moves in the issuing transaction), snapshots the
supplier and the customer, and from then on nothing changes it; a correction is a
credit note (or debit note) that references it.

A ticket is on at most one statement (``StatementTicket.ticket`` is unique), and
drafting locks the organisation's row, so two billing users generating at once get one
statement each ticket, not two.

VAT is computed on the statement's net total per rate (and Natura), half up to the cent,
never summed from per-ticket VAT.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sportello.customers.models import BillingMode, Organisation
from sportello.tickets.models import (
    OPEN_STATUSES,
    Intervention,
    NonBillableReason,
    Status,
    Ticket,
)
from sportello.tickets.services import SYSTEM, Actor

from . import fatturapa
from .errors import (
    FatturaPAInvalidError,
    StatementBlockedError,
    StatementImmutableError,
    StatementInputError,
)
from .models import (
    NATURA_CHOICES,
    BillingAudit,
    BillingSettings,
    ChargeLine,
    Statement,
    StatementLine,
    StatementSequence,
    StatementTicket,
    TicketDeferral,
)
from .services import charges_freeze, tariff_version_in_force
from .vat import money, totals

logger = logging.getLogger(__name__)

NATURA_CODES = frozenset(code for code, _label in NATURA_CHOICES)


# --- months ------------------------------------------------------------------------------


def month_parse(value: str) -> date:
    """``2026-11`` -> date(2026, 11, 1); a clear error otherwise."""
    try:
        year, month = (int(part) for part in value.strip().split("-"))
        return date(year, month, 1)
    except (ValueError, AttributeError):
        raise StatementInputError(
            _("%(value)s is not a month: write it as YYYY-MM, e.g. 2026-11.") % {"value": value},
            field="month",
        )


def month_next(period: date) -> date:
    return date(period.year + (period.month == 12), period.month % 12 + 1, 1)


def month_end(period: date) -> datetime:
    """The first instant after ``period``'s month, in the company's time zone."""
    zone = ZoneInfo(timezone.get_current_timezone_name())
    return datetime.combine(month_next(period), time(0), tzinfo=zone)


# --- blockers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """Why a statement cannot be issued yet, and how to fix it."""

    code: str
    message: str
    ticket: str = ""

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "ticket": self.ticket}


def organisation_blockers(org: Organisation) -> list[Blocker]:
    """What the exchange system needs of the customer (FatturaPA header)."""
    found = []
    if not org.vat_number and not org.fiscal_code:
        found.append(
            Blocker(
                "missing_tax_id",
                _("%(org)s has neither partita IVA nor codice fiscale: add one in the admin.")
                % {"org": org.name},
            )
        )
    if not org.sdi_code and not org.pec:
        found.append(
            Blocker(
                "missing_sdi",
                _(
                    "%(org)s has neither SDI code nor PEC, so the e-invoice cannot be "
                    "delivered: add one in the admin (0000000 if the customer has neither and "
                    "collects invoices from its tax drawer)."
                )
                % {"org": org.name},
            )
        )
    return found


def open_tickets_with_work(org: Organisation, period: date) -> list[Ticket]:
    """Tickets still open that already have interventions before the month's end: their
    work belongs to some month, so the close waits for them (or moves them on)."""
    end = month_end(period)
    return list(
        Ticket.objects.filter(organisation=org, status__in=OPEN_STATUSES)
        .filter(Exists(Intervention.objects.filter(ticket=OuterRef("pk"), started_at__lt=end)))
        .exclude(billing_deferral__until__gt=period)
        .order_by("number")
    )


def _blockers(
    org: Organisation,
    *,
    invoice: bool,
    open_numbers: list[str],
    rows: list[tuple[str, str, bool, str]],
    lines: list,
    net: Decimal,
) -> list[Blocker]:
    """The blockers from plain data: ``rows`` are (number, status, covered, problem)."""
    found = organisation_blockers(org)
    if invoice:
        for number in open_numbers:
            found.append(
                Blocker(
                    "open_with_interventions",
                    _(
                        "Ticket %(number)s is still open with interventions: resolve it, or "
                        "move it to next month."
                    )
                    % {"number": number},
                    number,
                )
            )
        for number, status, covered, problem in rows:
            if status in OPEN_STATUSES:
                found.append(
                    Blocker(
                        "reopened",
                        _(
                            "Ticket %(number)s was reopened after the draft: draft again or "
                            "move it to next month."
                        )
                        % {"number": number},
                        number,
                    )
                )
            if not covered and problem:
                found.append(
                    Blocker(
                        "cannot_price",
                        _("Ticket %(number)s cannot be priced: %(problem)s")
                        % {"number": number, "problem": problem},
                        number,
                    )
                )
    for line in lines:
        if line.vat_percent == 0 and not line.natura:
            found.append(
                Blocker(
                    "zero_rate_without_natura",
                    _(
                        "Line %(position)s (%(description)s) has VAT 0%% without a Natura: "
                        "choose the Natura code (N1-N7) that says why."
                    )
                    % {"position": line.position + 1, "description": line.description[:60]},
                )
            )
    if not lines:
        found.append(Blocker("empty", _("The statement has no lines: there is nothing to bill.")))
    elif net < 0:
        found.append(
            Blocker(
                "negative",
                _("The statement totals below zero: issue a credit note instead."),
            )
        )
    return found


def statement_blockers(statement: Statement) -> list[Blocker]:
    """Everything that stops ``statement`` (a draft) from being issued."""
    org = statement.organisation
    invoice = statement.kind == Statement.Kind.INVOICE
    rows = []
    open_numbers = []
    if invoice:
        open_numbers = [t.number for t in open_tickets_with_work(org, statement.period)]
        for row in statement.ticket_rows.select_related("ticket", "ticket__charges"):
            charges = getattr(row.ticket, "charges", None)
            rows.append(
                (
                    row.ticket.number,
                    row.ticket.status,
                    row.covered,
                    charges.problem if charges else "",
                )
            )
    return _blockers(
        org,
        invoice=invoice,
        open_numbers=open_numbers,
        rows=rows,
        lines=list(statement.lines.all()),
        net=statement.net,
    )


# --- drafting ----------------------------------------------------------------------------


def _eligible(org: Organisation | None, period: date):
    """Tickets (of ``org``, or of all) resolved before the month's end, on no statement,
    not moved on."""
    tickets = Ticket.objects.all() if org is None else Ticket.objects.filter(organisation=org)
    tickets = (
        tickets.filter(resolved_at__lt=month_end(period))
        .filter(Q(billable=True) | Q(non_billable_reason=NonBillableReason.CONTRACT))
        .filter(statement_row__isnull=True)
        .exclude(billing_deferral__until__gt=period)
    )
    start = _billing_start()
    return tickets if start is None else tickets.filter(resolved_at__gte=start)


def _billing_start() -> datetime | None:
    day = BillingSettings.load().billing_start
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone.get_current_timezone_name()))


def provisional_tickets(org: Organisation, period: date) -> list[Ticket]:
    """The month's resolved tickets whose reopen window is still open, not on a statement:
    offered to the billing user (bill now at the current charges, or next month)."""
    return list(_eligible(org, period).filter(status=Status.RESOLVED).order_by("number"))


def _is_covered(ticket: Ticket, org: Organisation) -> bool:
    return (
        org.billing_mode == BillingMode.CONTRACT
        or ticket.non_billable_reason == NonBillableReason.CONTRACT
    )


def _vat_percent(period: date) -> Decimal:
    last_day = month_next(period) - timedelta(days=1)
    return Decimal(tariff_version_in_force(on=last_day).vat_percent)


def _add_ticket_rows(
    statement: Statement, tickets: list[Ticket], *, provisional: bool, position: int
) -> int:
    """Add rows and lines for ``tickets`` (charge lines copied as they are now)."""
    org = statement.organisation
    vat = _vat_percent(statement.period)
    charge_lines: dict[int, list[ChargeLine]] = defaultdict(list)
    for line in ChargeLine.objects.filter(charges__ticket__in=tickets).select_related("charges"):
        charge_lines[line.charges.ticket_id].append(line)
    rows = []
    for ticket in tickets:
        covered = _is_covered(ticket, org)
        lines = sorted(charge_lines.get(ticket.pk, []), key=lambda line: line.position)
        net = Decimal("0.00") if covered else sum((c.amount for c in lines), Decimal("0.00"))
        rows.append(
            StatementTicket(
                statement=statement,
                ticket=ticket,
                provisional=provisional,
                covered=covered,
                net=net,
            )
        )
    try:
        with transaction.atomic():
            StatementTicket.objects.bulk_create(rows)
    except IntegrityError:
        raise StatementInputError(
            _(
                "Another billing user put one of these tickets on a statement at the same "
                "moment: draft again to see the current state."
            ),
            code="ticket_taken",
        )
    saved = {
        row.ticket_id: row
        for row in StatementTicket.objects.filter(statement=statement, ticket__in=tickets)
    }
    out = []
    for ticket in tickets:
        row = saved[ticket.pk]
        if row.covered:
            out.append(
                StatementLine(
                    statement=statement,
                    position=position,
                    ticket_row=row,
                    code="covered",
                    description=_("Covered by contract: %(subject)s") % {"subject": ticket.subject},
                    amount=Decimal("0.00"),
                    vat_percent=vat,
                )
            )
            position += 1
            continue
        for charge in sorted(charge_lines.get(ticket.pk, []), key=lambda line: line.position):
            out.append(
                StatementLine(
                    statement=statement,
                    position=position,
                    ticket_row=row,
                    code=charge.code,
                    description=charge.description_it[:1000],
                    amount=charge.amount,
                    vat_percent=vat,
                )
            )
            position += 1
    StatementLine.objects.bulk_create(out)
    return position


def _renumber_and_total(statement: Statement) -> Statement:
    """Positions 0..n-1 (tickets by number, then manual lines) and the totals."""
    lines = list(statement.lines.select_related("ticket_row__ticket"))
    lines.sort(
        key=lambda line: (
            line.manual,
            line.ticket_row.ticket.number if line.ticket_row else "",
            line.position,
        )
    )
    changed = [line for n, line in enumerate(lines) if line.position != n]
    if changed:
        # Two passes: positions are unique per statement, so move out of the way first.
        offset = 50_000_000  # above every temporary position used while drafting
        for n, line in enumerate(lines):
            line.position = offset + n
        StatementLine.objects.bulk_update(lines, ["position"])
        for n, line in enumerate(lines):
            line.position = n
        StatementLine.objects.bulk_update(lines, ["position"])
    net, vat, _summary = totals(lines)
    statement.net, statement.vat, statement.total = net, vat, net + vat
    statement.save(update_fields=["net", "vat", "total", "updated_at"])
    return statement


def _audit(statement: Statement | None, action: str, actor: Actor, before=None, after=None):
    return BillingAudit.objects.create(
        statement=statement,
        action=action,
        actor=actor.user,
        actor_label=actor.display,
        before=before or {},
        after=after or {},
    )


def _check_draft(statement: Statement) -> None:
    if statement.state != Statement.State.DRAFT:
        raise StatementImmutableError(
            _(
                "Statement %(number)s is issued and cannot change: correct it with a credit "
                "or debit note."
            )
            % {"number": statement.display_number}
        )


@dataclass
class DraftResult:
    statement: Statement | None
    organisation: Organisation
    blockers: list[Blocker] = field(default_factory=list)
    provisional: list[Ticket] = field(default_factory=list)
    tickets: int = 0

    def line(self) -> str:
        org = self.organisation
        if self.statement is None:
            return f"{org.pk}\t{org.name}\tnothing to bill"
        s = self.statement
        state = "blocked: " + "; ".join(b.message for b in self.blockers) if self.blockers else "ok"
        extra = f"\t{len(self.provisional)} resolved, not final" if self.provisional else ""
        return (
            f"{org.pk}\t{org.name}\tdraft {s.pk}\t{self.tickets} tickets\t"
            f"net {s.net}\tVAT {s.vat}\ttotal {s.total}\t{state}{extra}"
        )


def statement_draft(
    *,
    organisation: Organisation,
    period: date,
    actor: Actor = SYSTEM,
    force: bool = False,
) -> DraftResult:
    """Create or rebuild the draft of ``organisation`` for ``period``'s month.

    Final tickets come in; provisional ones already chosen stay; manual lines stay. With
    nothing to bill and no draft yet, no statement is created (unless ``force``).
    """
    return _draft_many([organisation.pk], period.replace(day=1), actor, force=force)[0]


def _draft_many(
    org_ids: list[int], period: date, actor: Actor, *, force: bool = False
) -> list[DraftResult]:
    """Drafts of many organisations in one transaction, with a fixed number of queries
    (not one set per organisation): the month close of hundreds of customers."""
    vat = _vat_percent(period)
    with transaction.atomic():
        # One drafting transaction per organisation at a time: PostgreSQL row locks, taken
        # in id order so two month closes never deadlock (SQLite transactions are
        # IMMEDIATE: writers queue anyway).
        orgs = list(Organisation.objects.select_for_update().filter(pk__in=org_ids).order_by("pk"))
        drafts = {
            s.organisation_id: s
            for s in Statement.objects.select_for_update().filter(
                organisation_id__in=org_ids,
                period=period,
                kind=Statement.Kind.INVOICE,
                state=Statement.State.DRAFT,
            )
        }
        before = {}
        kept: set[int] = set()
        manual: dict[int, list[StatementLine]] = defaultdict(list)
        if drafts:
            counts = defaultdict(int)
            for statement_id in StatementTicket.objects.filter(
                statement__in=drafts.values()
            ).values_list("statement_id", flat=True):
                counts[statement_id] += 1
            before = {s.pk: {"net": str(s.net), "tickets": counts[s.pk]} for s in drafts.values()}
            kept = set(
                StatementTicket.objects.filter(
                    statement__in=drafts.values(),
                    provisional=True,
                    ticket__status__in=(Status.RESOLVED, Status.CLOSED),
                ).values_list("ticket_id", flat=True)
            )
            StatementLine.objects.filter(statement__in=drafts.values(), manual=False).delete()
            StatementTicket.objects.filter(statement__in=drafts.values()).delete()
            for line in StatementLine.objects.filter(statement__in=drafts.values()).order_by(
                "position"
            ):
                manual[line.statement_id].append(line)
        final: dict[int, list[Ticket]] = defaultdict(list)
        chosen: dict[int, list[Ticket]] = defaultdict(list)
        offered: dict[int, list[Ticket]] = defaultdict(list)
        candidates = (
            _eligible(None, period)
            .filter(organisation_id__in=org_ids, status__in=(Status.CLOSED, Status.RESOLVED))
            .select_related("charges")
            .order_by("number")
        )
        for ticket in candidates:
            if ticket.status == Status.CLOSED:
                final[ticket.organisation_id].append(ticket)
            elif ticket.pk in kept:
                chosen[ticket.organisation_id].append(ticket)
            else:
                offered[ticket.organisation_id].append(ticket)
        new = [
            Statement(organisation=org, period=period)
            for org in orgs
            if org.pk not in drafts and (final[org.pk] or force)
        ]
        for statement in Statement.objects.bulk_create(new):
            drafts[statement.organisation_id] = statement
        by_org = {org.pk: org for org in orgs}
        billed = [t for org_id in drafts for t in final[org_id] + chosen[org_id]]
        charge_lines: dict[int, list[ChargeLine]] = defaultdict(list)
        ids = [t.pk for t in billed]
        for start in range(0, len(ids), 5000):
            for line in (
                ChargeLine.objects.filter(charges__ticket_id__in=ids[start : start + 5000])
                .select_related("charges")
                .order_by("charges_id", "position")
            ):
                charge_lines[line.charges.ticket_id].append(line)
        rows = []
        for org_id, statement in drafts.items():
            org = by_org[org_id]
            for ticket, provisional in [(t, False) for t in final[org_id]] + [
                (t, True) for t in chosen[org_id]
            ]:
                covered = _is_covered(ticket, org)
                rows.append(
                    StatementTicket(
                        statement=statement,
                        ticket=ticket,
                        provisional=provisional,
                        covered=covered,
                        net=Decimal("0.00")
                        if covered
                        else sum((c.amount for c in charge_lines[ticket.pk]), Decimal("0.00")),
                    )
                )
        try:
            with transaction.atomic():
                rows = StatementTicket.objects.bulk_create(rows, batch_size=2000)
        except IntegrityError:
            raise StatementInputError(
                _(
                    "Another billing user put one of these tickets on a statement at the same "
                    "moment: draft again to see the current state."
                ),
                code="ticket_taken",
            )
        if any(row.pk is None for row in rows):  # a backend without RETURNING
            saved = {
                r.ticket_id: r
                for r in StatementTicket.objects.filter(statement__in=drafts.values())
            }
            rows = [saved[r.ticket_id] for r in rows]
        rows_by_statement: dict[int, list[StatementTicket]] = defaultdict(list)
        for row in rows:
            rows_by_statement[row.statement_id].append(row)
        # Manual lines of a rebuilt draft go after the tickets: out of the way first.
        moved = [line for lines in manual.values() for line in lines]
        for n, line in enumerate(moved):
            line.position = 50_000_000 + n
        StatementLine.objects.bulk_update(moved, ["position"], batch_size=2000)
        new_lines = []
        lines_by_statement: dict[int, list[StatementLine]] = {}
        for statement in drafts.values():
            out = []
            for row in rows_by_statement[statement.pk]:
                ticket = row.ticket
                if row.covered:
                    out.append(
                        StatementLine(
                            statement=statement,
                            position=len(out),
                            ticket_row=row,
                            code="covered",
                            description=_("Covered by contract: %(subject)s")
                            % {"subject": ticket.subject},
                            amount=Decimal("0.00"),
                            vat_percent=vat,
                        )
                    )
                    continue
                for charge in charge_lines[ticket.pk]:
                    out.append(
                        StatementLine(
                            statement=statement,
                            position=len(out),
                            ticket_row=row,
                            code=charge.code,
                            description=charge.description_it[:1000],
                            amount=charge.amount,
                            vat_percent=vat,
                        )
                    )
            new_lines.extend(out)
            for line in manual[statement.pk]:
                line.position = len(out)
                out.append(line)
            lines_by_statement[statement.pk] = out
        StatementLine.objects.bulk_update(moved, ["position"], batch_size=2000)
        StatementLine.objects.bulk_create(new_lines, batch_size=2000)
        now = timezone.now()
        for statement in drafts.values():
            net, vat_amount, _summary = totals(lines_by_statement[statement.pk])
            statement.net, statement.vat, statement.total = net, vat_amount, net + vat_amount
            statement.updated_at = now
        Statement.objects.bulk_update(
            list(drafts.values()), ["net", "vat", "total", "updated_at"], batch_size=2000
        )
        BillingAudit.objects.bulk_create(
            [
                BillingAudit(
                    statement=statement,
                    action="draft_rebuilt" if statement.pk in before else "draft_created",
                    actor=actor.user,
                    actor_label=actor.display,
                    before=before.get(statement.pk, {}),
                    after={
                        "net": str(statement.net),
                        "tickets": len(rows_by_statement[statement.pk]),
                    },
                )
                for statement in drafts.values()
            ],
            batch_size=2000,
        )
        open_numbers: dict[int, list[str]] = defaultdict(list)
        end = month_end(period)
        for org_id, number in (
            Ticket.objects.filter(organisation_id__in=list(drafts), status__in=OPEN_STATUSES)
            .filter(Exists(Intervention.objects.filter(ticket=OuterRef("pk"), started_at__lt=end)))
            .exclude(billing_deferral__until__gt=period)
            .order_by("number")
            .values_list("organisation_id", "number")
        ):
            open_numbers[org_id].append(number)
        results = []
        for org in sorted(orgs, key=lambda o: (o.name, o.pk)):
            statement = drafts.get(org.pk)
            if statement is None:
                results.append(DraftResult(None, org, provisional=offered[org.pk]))
                continue
            statement.organisation = org
            problems = [
                (
                    r.ticket.number,
                    r.ticket.status,
                    r.covered,
                    getattr(getattr(r.ticket, "charges", None), "problem", ""),
                )
                for r in rows_by_statement[statement.pk]
            ]
            blockers = _blockers(
                org,
                invoice=True,
                open_numbers=open_numbers[org.pk],
                rows=problems,
                lines=lines_by_statement[statement.pk],
                net=statement.net,
            )
            results.append(
                DraftResult(
                    statement,
                    org,
                    blockers,
                    offered[org.pk],
                    tickets=len(rows_by_statement[statement.pk]),
                )
            )
        return results


def statements_draft_month(
    *,
    period: date,
    organisation: Organisation | None = None,
    actor: Actor = SYSTEM,
    progress=None,
    chunk: int = 50,
) -> list[DraftResult]:
    """Drafts for every organisation with something to bill in ``period`` (or one).

    ``progress``: called as ``progress(done, total, results, failed)`` before the first
    and after every ``chunk`` organisations (each chunk its own transaction);
    ``failed`` maps an organisation to the error that stopped its draft, and the others
    go on. Without it, one transaction for all and an error stops everything."""
    period = period.replace(day=1)
    orgs = organisations_to_draft(period, organisation)
    if progress is None:
        return _draft_many([org.pk for org in orgs], period, actor) if orgs else []
    results: list[DraftResult] = []
    failed: dict[Organisation, str] = {}
    progress(0, len(orgs), results, failed)
    for start in range(0, len(orgs), chunk):
        part = orgs[start : start + chunk]
        try:
            results += _draft_many([org.pk for org in part], period, actor)
        except Exception:  # find which one: each alone, the others still drafted
            for org in part:
                try:
                    results += _draft_many([org.pk], period, actor)
                except Exception as exc:  # noqa: BLE001 - reported on the page, logged
                    logger.exception("Drafting %s for %s failed", org.pk, period)
                    failed[org] = str(exc) or exc.__class__.__name__
        progress(min(start + chunk, len(orgs)), len(orgs), results, failed)
    return results


def organisations_to_draft(
    period: date, organisation: Organisation | None = None
) -> list[Organisation]:
    """Who gets a draft for ``period``: ``organisation``, or every organisation with
    unbilled tickets resolved before the month's end or a draft already."""
    period = period.replace(day=1)
    if organisation is not None:
        orgs = [organisation]
    else:
        end = month_end(period)
        with_work = Ticket.objects.filter(
            organisation=OuterRef("pk"),
            resolved_at__lt=end,
            statement_row__isnull=True,
        )
        start = _billing_start()
        if start is not None:
            with_work = with_work.filter(resolved_at__gte=start)
        drafts = Statement.objects.filter(
            organisation=OuterRef("pk"), period=period, state=Statement.State.DRAFT
        )
        orgs = list(
            Organisation.objects.filter(Q(Exists(with_work)) | Q(Exists(drafts))).order_by(
                "name", "pk"
            )
        )
    return orgs


def statement_ticket_add(*, statement: Statement, ticket: Ticket, actor: Actor = SYSTEM):
    """Bill a resolved ticket whose reopen window is still open on this draft, now."""
    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        _check_draft(statement)
        if ticket.pk not in {
            t.pk for t in provisional_tickets(statement.organisation, statement.period)
        }:
            raise StatementInputError(
                _(
                    "Ticket %(number)s is not a resolved ticket of %(org)s waiting for this "
                    "month's close."
                )
                % {"number": ticket.number, "org": statement.organisation.name},
                field="ticket",
            )
        last = statement.lines.order_by("-position").values_list("position", flat=True).first()
        _add_ticket_rows(statement, [ticket], provisional=True, position=(last or 0) + 1_000_000)
        _renumber_and_total(statement)
        _audit(statement, "ticket_added", actor, after={"ticket": ticket.number})
    return statement


def ticket_defer(
    *, ticket: Ticket, period: date, actor: Actor = SYSTEM, reason: str = ""
) -> TicketDeferral:
    """Move ``ticket`` to the close of the month after ``period``: off this month's draft,
    and no longer a blocker of this month."""
    period = period.replace(day=1)
    with transaction.atomic():
        row = StatementTicket.objects.select_related("statement").filter(ticket=ticket).first()
        statement = row.statement if row else None
        if statement is not None:
            _check_draft(statement)
        deferral, _created = TicketDeferral.objects.update_or_create(
            ticket=ticket,
            defaults={
                "until": month_next(period),
                "reason": reason.strip(),
                "created_by": actor.user,
            },
        )
        if row is not None:
            row.delete()  # its lines go with it (CASCADE)
            _renumber_and_total(statement)
        _audit(
            statement,
            "ticket_deferred",
            actor,
            {"ticket": ticket.number},
            {"ticket": ticket.number, "until": deferral.until.isoformat(), "reason": reason},
        )
    return deferral


def _decimal(value, field_name: str) -> Decimal:
    try:
        number = Decimal(str(value).replace(",", ".")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise StatementInputError(
            _("%(value)s is not an amount: write it like 25.00.") % {"value": value},
            field=field_name,
        )
    if not number.is_finite():
        raise StatementInputError(
            _("%(value)s is not an amount: write it like 25.00.") % {"value": value},
            field=field_name,
        )
    return number


def _check_line(description: str, amount, reason: str, vat_percent, natura: str):
    description = (description or "").strip()
    reason = (reason or "").strip()
    if not description:
        raise StatementInputError(
            _("A manual line needs a description: what is being billed."), field="description"
        )
    if not reason:
        raise StatementInputError(
            _("A manual line needs a reason: why it is added by hand."), field="reason"
        )
    amount = _decimal(amount, "amount")
    if amount != money(amount):
        raise StatementInputError(
            _("%(value)s has more than two decimals: amounts are in cents.") % {"value": amount},
            field="amount",
        )
    vat_percent = _decimal(vat_percent, "vat_percent")
    if not (0 <= vat_percent < 100):
        raise StatementInputError(
            _("VAT %(value)s%% is out of range: use 0 to 99.99.") % {"value": vat_percent},
            field="vat_percent",
        )
    natura = (natura or "").strip().upper()
    if natura and natura not in NATURA_CODES:
        raise StatementInputError(
            _("%(value)s is not a Natura code: use one of %(codes)s.")
            % {"value": natura, "codes": ", ".join(sorted(NATURA_CODES))},
            field="natura",
        )
    if natura and vat_percent != 0:
        raise StatementInputError(
            _("A Natura code is only for lines at VAT 0%%; this line has %(value)s%%.")
            % {"value": vat_percent},
            field="natura",
        )
    return description[:1000], money(amount), reason[:500], vat_percent, natura


def statement_line_add(
    *,
    statement: Statement,
    description: str,
    amount,
    reason: str,
    vat_percent=None,
    natura: str = "",
    actor: Actor = SYSTEM,
) -> StatementLine:
    """A manual line on a draft (a discount is a negative amount), always with a reason."""
    if vat_percent is None:
        vat_percent = _vat_percent(statement.period)
    description, amount, reason, vat_percent, natura = _check_line(
        description, amount, reason, vat_percent, natura
    )
    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=statement.pk)
        _check_draft(statement)
        last = statement.lines.order_by("-position").values_list("position", flat=True).first()
        line = StatementLine.objects.create(
            statement=statement,
            position=(-1 if last is None else last) + 1,
            code="manual",
            description=description,
            amount=amount,
            vat_percent=vat_percent,
            natura=natura,
            manual=True,
            reason=reason,
            created_by=actor.user,
        )
        _renumber_and_total(statement)
        _audit(
            statement,
            "line_added",
            actor,
            after={
                "description": description,
                "amount": str(amount),
                "vat_percent": str(vat_percent),
                "natura": natura,
                "reason": reason,
            },
        )
    return line


def statement_line_remove(*, line: StatementLine, actor: Actor = SYSTEM) -> None:
    """Remove a manual line from a draft (ticket lines go with their ticket: defer it)."""
    with transaction.atomic():
        statement = Statement.objects.select_for_update().get(pk=line.statement_id)
        _check_draft(statement)
        if not line.manual:
            raise StatementInputError(
                _("Only manual lines can be removed; move the ticket to next month instead."),
                field="line",
            )
        before = {
            "description": line.description,
            "amount": str(line.amount),
            "vat_percent": str(line.vat_percent),
            "natura": line.natura,
            "reason": line.reason,
        }
        line.delete()
        _renumber_and_total(statement)
        _audit(statement, "line_removed", actor, before=before)


def _organisation_snapshot(org: Organisation) -> dict:
    return {
        "name": org.name,
        "vat_number": org.vat_number,
        "fiscal_code": org.fiscal_code,
        "sdi_code": org.sdi_code,
        "pec": org.pec,
        "address": org.address,
        "postcode": org.postcode,
        "comune": org.comune,
        "province": org.province,
        "country": org.country or "IT",
    }


def _number_next(year: int) -> int:
    """The next number of ``year``'s series, in the caller's transaction (no gaps)."""
    try:
        with transaction.atomic():
            StatementSequence.objects.get_or_create(year=year)
    except IntegrityError:
        pass  # another transaction created the year's row at the same moment
    sequence = StatementSequence.objects.select_for_update().get(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def _progressive(pk: int) -> str:
    """The SdI file progressive: the statement's id in base 36, 5 characters (unique per
    sender, which is all the exchange system asks: not sequential)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while pk:
        pk, rest = divmod(pk, 36)
        out = digits[rest] + out
    return out.rjust(5, "0")


def _check_issue_date(year: int, issue_date: date) -> None:
    last = (
        Statement.objects.filter(number_year=year, state=Statement.State.ISSUED)
        .order_by("-number")
        .values_list("issue_date", flat=True)
        .first()
    )
    if last is not None and issue_date < last:
        raise StatementInputError(
            _(
                "The last statement of %(year)s is dated %(last)s: a later number cannot have an "
                "earlier date. Issue on %(last)s or later."
            )
            % {"year": year, "last": last.strftime("%d/%m/%Y")},
            field="issue_date",
        )


def _issue(statement: Statement, actor: Actor, issue_date: date | None) -> Statement:
    """Number, date and snapshot ``statement`` (locked, in the caller's transaction)."""
    issue_date = issue_date or timezone.localdate()
    _check_issue_date(issue_date.year, issue_date)
    company = BillingSettings.load()
    statement.number_year = issue_date.year
    statement.number = _number_next(issue_date.year)
    statement.issue_date = issue_date
    statement.issued_at = timezone.now()
    statement.issued_by = actor.user
    statement.state = Statement.State.ISSUED
    statement.sdi_progressive = _progressive(statement.pk)
    statement.supplier = company.snapshot()
    statement.customer = _organisation_snapshot(statement.organisation)
    statement.save()
    # The e-invoice must be valid the moment the number is taken: if the schema refuses
    # it, the transaction rolls back and the number stays free (no gap, no bad invoice).
    fatturapa.render(statement)
    Statement.objects.filter(pk=statement.pk).update(fatturapa_sha256=statement.fatturapa_sha256)
    _audit(
        statement,
        "issued",
        actor,
        {"state": "draft"},
        {
            "state": "issued",
            "number": statement.display_number,
            "net": str(statement.net),
            "vat": str(statement.vat),
            "total": str(statement.total),
            **(
                {
                    "kind": statement.kind,
                    "corrects": statement.corrects.display_number,
                    "reason": statement.reason,
                }
                if statement.corrects_id
                else {}
            ),
        },
    )
    return statement


def _lock_organisation(organisation_id: int) -> None:
    """Lock the organisation's row before its statement's, in the order drafting takes
    them (organisations, then their statements). Locking both in one ``SELECT ... FOR
    UPDATE`` with a join took them in the other order, and on PostgreSQL a draft and an
    issue of the same organisation at the same moment deadlocked."""
    Organisation.objects.select_for_update().filter(pk=organisation_id).first()


def statement_issue(
    *, statement: Statement, actor: Actor = SYSTEM, issue_date: date | None = None
) -> Statement:
    """Issue a draft: refuse with every blocker, else number it and freeze its tickets.

    Provisional tickets (reopen window still open) have their charges frozen as billed;
    every ticket's lines are copied again from its charges, so the issued statement is
    what the tickets say at this moment.
    """
    with transaction.atomic():
        _lock_organisation(statement.organisation_id)
        statement = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=statement.pk)
        )
        _check_draft(statement)
        blockers = statement_blockers(statement)
        if blockers:
            raise StatementBlockedError(
                _("Statement of %(org)s for %(month)s cannot be issued: %(why)s")
                % {
                    "org": statement.organisation.name,
                    "month": statement.period.strftime("%m/%Y"),
                    "why": " ".join(b.message for b in blockers),
                },
                blockers=blockers,
            )
        rows = list(statement.ticket_rows.select_related("ticket", "ticket__charges"))
        for row in rows:
            if row.provisional:
                charges_freeze(ticket=row.ticket, actor=actor)
        changed = any(
            row.provisional
            or getattr(row.ticket, "charges", None) is None
            or not row.ticket.charges.frozen
            or row.ticket.charges.frozen_at > statement.updated_at
            for row in rows
        )
        if changed:
            # Lines again from the charges as they are now (frozen for every ticket).
            tickets = [row.ticket for row in rows]
            provisional_ids = {row.ticket_id for row in rows if row.provisional}
            statement.lines.filter(manual=False).delete()
            statement.ticket_rows.all().delete()
            _add_ticket_rows(
                statement,
                [t for t in tickets if t.pk not in provisional_ids],
                provisional=False,
                position=2_000_000,
            )
            _add_ticket_rows(
                statement,
                [t for t in tickets if t.pk in provisional_ids],
                provisional=True,
                position=3_000_000,
            )
            _renumber_and_total(statement)
        return _issue(statement, actor, issue_date)


def statements_issue_month(
    *,
    period: date,
    organisation: Organisation | None = None,
    actor: Actor = SYSTEM,
    issue_date: date | None = None,
) -> list[tuple[Statement, BaseException | None]]:
    """Issue every draft of ``period`` (or one organisation's); each in its own
    transaction, so one blocked statement does not hold up the others."""
    drafts = Statement.objects.filter(
        period=period.replace(day=1), state=Statement.State.DRAFT, kind=Statement.Kind.INVOICE
    ).select_related("organisation")
    if organisation is not None:
        drafts = drafts.filter(organisation=organisation)
    out = []
    for draft in drafts.order_by("organisation__name", "pk"):
        try:
            out.append((statement_issue(statement=draft, actor=actor, issue_date=issue_date), None))
        except (
            StatementBlockedError,
            StatementImmutableError,
            StatementInputError,
            FatturaPAInvalidError,
        ) as exc:
            out.append((draft, exc))
    return out


def note_issue(
    *,
    statement: Statement,
    kind: str,
    lines: list[dict],
    reason: str,
    actor: Actor = SYSTEM,
    issue_date: date | None = None,
) -> Statement:
    """Issue a credit or debit note against an issued statement.

    ``lines``: ``{"description", "amount", "vat_percent"?, "natura"?}`` with positive
    amounts (the document type says which way the money goes). A credit note cannot take
    back more than the statement's net less the credit notes already issued.
    """
    if kind not in (Statement.Kind.CREDIT_NOTE, Statement.Kind.DEBIT_NOTE):
        raise StatementInputError(
            _("A note is a credit_note or a debit_note, not %(kind)s.") % {"kind": kind},
            field="kind",
        )
    reason = (reason or "").strip()
    if not reason:
        raise StatementInputError(
            _("A note needs a reason: it is printed on the document."), field="reason"
        )
    if not lines:
        raise StatementInputError(_("A note needs at least one line."), field="lines")
    with transaction.atomic():
        _lock_organisation(statement.organisation_id)
        original = (
            Statement.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=statement.pk)
        )
        if original.state != Statement.State.ISSUED or original.kind != Statement.Kind.INVOICE:
            raise StatementInputError(
                _("A note corrects an issued statement; this one is not issued."),
                field="statement",
            )
        default_vat = _vat_percent(original.period)
        checked = []
        for n, raw in enumerate(lines):
            description, amount, _reason, vat_percent, natura = _check_line(
                raw.get("description", ""),
                raw.get("amount", ""),
                reason,
                raw.get("vat_percent", default_vat),
                raw.get("natura", ""),
            )
            if amount <= 0:
                raise StatementInputError(
                    _("Line %(n)s: a note's amounts are positive; the note's kind gives the sign.")
                    % {"n": n + 1},
                    field="amount",
                )
            checked.append((description, amount, vat_percent, natura))
        if kind == Statement.Kind.CREDIT_NOTE:
            credited = sum(
                (
                    n.net
                    for n in original.notes.filter(
                        kind=Statement.Kind.CREDIT_NOTE, state=Statement.State.ISSUED
                    )
                ),
                Decimal("0.00"),
            )
            asked = sum((c[1] for c in checked), Decimal("0.00"))
            if credited + asked > original.net:
                raise StatementInputError(
                    _(
                        "Statement %(number)s has a net of %(net)s and %(credited)s already "
                        "credited: a credit note of %(asked)s is too much."
                    )
                    % {
                        "number": original.display_number,
                        "net": original.net,
                        "credited": credited,
                        "asked": asked,
                    },
                    field="amount",
                )
        note = Statement.objects.create(
            organisation=original.organisation,
            kind=kind,
            period=original.period,
            corrects=original,
            reason=reason[:500],
        )
        StatementLine.objects.bulk_create(
            StatementLine(
                statement=note,
                position=n,
                code="manual",
                description=description,
                amount=amount,
                vat_percent=vat_percent,
                natura=natura,
                manual=True,
                reason=reason[:500],
                created_by=actor.user,
            )
            for n, (description, amount, vat_percent, natura) in enumerate(checked)
        )
        _renumber_and_total(note)
        blockers = [b for b in statement_blockers(note) if b.code != "empty"]
        if blockers:
            raise StatementBlockedError(" ".join(b.message for b in blockers), blockers=blockers)
        return _issue(note, actor, issue_date)


def credit_note_issue(*, statement: Statement, lines: list[dict], reason: str, **kw) -> Statement:
    return note_issue(
        statement=statement, kind=Statement.Kind.CREDIT_NOTE, lines=lines, reason=reason, **kw
    )


def debit_note_issue(*, statement: Statement, lines: list[dict], reason: str, **kw) -> Statement:
    return note_issue(
        statement=statement, kind=Statement.Kind.DEBIT_NOTE, lines=lines, reason=reason, **kw
    )


# --- reads for the month-close page ------------------------------------------------------


@dataclass
class OrganisationMonth:
    """One organisation's row on the month-close page."""

    organisation: Organisation
    draft: Statement | None
    issued: list[Statement]
    final_unbilled: int
    provisional: int
    blockers: list[Blocker]


def month_overview(period: date) -> list[OrganisationMonth]:
    """Every organisation with something to bill in ``period``, a draft or an issued
    statement of it: what is ready, what is offered, what blocks it."""
    period = period.replace(day=1)
    end = month_end(period)
    start = _billing_start()
    unbilled = Ticket.objects.filter(resolved_at__lt=end, statement_row__isnull=True).filter(
        Q(billable=True) | Q(non_billable_reason=NonBillableReason.CONTRACT)
    )
    if start is not None:
        unbilled = unbilled.filter(resolved_at__gte=start)
    unbilled = unbilled.exclude(billing_deferral__until__gt=period)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for org_id, status in unbilled.values_list("organisation_id", "status"):
        if org_id is not None:
            counts[org_id][0 if status == Status.CLOSED else 1] += 1
    statements = list(
        Statement.objects.filter(period=period).select_related("organisation").order_by("number")
    )
    org_ids = set(counts) | {s.organisation_id for s in statements}
    out = []
    for org in Organisation.objects.filter(pk__in=org_ids).order_by("name", "pk"):
        mine = [s for s in statements if s.organisation_id == org.pk]
        draft = next((s for s in mine if s.state == Statement.State.DRAFT), None)
        blockers = statement_blockers(draft) if draft else organisation_blockers(org)
        out.append(
            OrganisationMonth(
                organisation=org,
                draft=draft,
                issued=[s for s in mine if s.state == Statement.State.ISSUED],
                final_unbilled=counts[org.pk][0],
                provisional=counts[org.pk][1],
                blockers=blockers,
            )
        )
    return out
