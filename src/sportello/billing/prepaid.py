"""Prepaid hours (*monte ore*): services and reads (docs/billing.md, *Prepaid hours*).

A billing user records a bundle an organisation bought (in hours or in euro, at the
organisation's agreed rate), corrects it, and sets the low-balance threshold; each change
is a ``PrepaidMovement`` and a ``BillingAudit`` entry (who, when, before, after).

The month close uses the bundles through four calls from ``billing.statements``:
``draft_lines`` (a draft shows the *projected* draw-down as negative ``prepaid`` lines),
``issue_plan`` and ``issue_record`` (issuing draws for real: bundles locked, lines
computed again from the balances of that moment, movements written in the issuing
transaction) and ``note_plan``/``note_record`` (a credit note gives hours back to the
bundles the statement drew from). The arithmetic is ``prepaid_rules`` (plain data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sportello.customers.models import Organisation
from sportello.staff.roles import can_bill
from sportello.tickets.events import SYSTEM, Actor

from . import prepaid_rules as rules
from . import trail
from .errors import BillingError
from .models import (
    BillingAudit,
    PrepaidAccount,
    PrepaidBundle,
    PrepaidMovement,
    PrepaidStatementUse,
    Statement,
    StatementLine,
    StatementTicket,
)
from .signals import prepaid_balance_low

ZERO = Decimal("0.00")
CODE = "prepaid"


class PrepaidInputError(BillingError):
    """Bad input for a bundle or a threshold; ``field`` names it."""

    code = "invalid_input"


class PrepaidPermissionError(BillingError):
    code = "forbidden"


# --- input -------------------------------------------------------------------------------


def _check_actor(actor: Actor) -> None:
    if actor.user is not None and not can_bill(actor.user):
        raise PrepaidPermissionError(
            _("Only billing users record and correct prepaid hours."), field="actor"
        )


def _number(value, field: str, *, label: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = (
            value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
        )
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise PrepaidInputError(
            _("%(label)s: %(value)s is not a number; write it like 10 or 12.50.")
            % {"label": label, "value": value},
            field=field,
        )
    if number != number.quantize(Decimal("0.01")):
        raise PrepaidInputError(
            _("%(label)s: %(value)s has more than two decimals.")
            % {"label": label, "value": value},
            field=field,
        )
    if number <= 0:
        raise PrepaidInputError(
            _("%(label)s must be more than zero, not %(value)s.")
            % {"label": label, "value": value},
            field=field,
        )
    return number.quantize(Decimal("0.01"))


def _day(value, field: str, *, label: str, required: bool) -> date | None:
    if isinstance(value, date):
        return value
    if value is None or not str(value).strip():
        if required:
            raise PrepaidInputError(
                _("%(label)s is missing: write the date as YYYY-MM-DD.") % {"label": label},
                field=field,
            )
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise PrepaidInputError(
            _("%(label)s: %(value)s is not a date; write it as YYYY-MM-DD, e.g. 2026-11-01.")
            % {"label": label, "value": value},
            field=field,
        )


def _figures(bought_in: str, hours, amount, rate) -> tuple[Decimal, Decimal]:
    """(hours, euro) of a bundle bought in hours or in euro at ``rate``."""
    if bought_in == PrepaidBundle.BoughtIn.HOURS:
        hours = _number(hours, "hours", label=_("Hours"))
        if hours is None:
            raise PrepaidInputError(_("Write how many hours were bought."), field="hours")
        return hours, rules.amount_of(hours, rate)
    if bought_in == PrepaidBundle.BoughtIn.EURO:
        amount = _number(amount, "amount", label=_("Value (EUR)"))
        if amount is None:
            raise PrepaidInputError(_("Write the value bought, in euro."), field="amount")
        hours = rules.hours_of(amount, rate)
        if hours <= 0:
            raise PrepaidInputError(
                _("%(amount)s EUR at %(rate)s EUR/h is less than 0.01 h: buy more.")
                % {"amount": amount, "rate": rate},
                field="amount",
            )
        return hours, amount
    raise PrepaidInputError(
        _("A bundle is bought in hours or in euro, not %(value)s.") % {"value": bought_in},
        field="bought_in",
    )


def _snapshot(bundle: PrepaidBundle) -> dict:
    return {
        "bundle": bundle.pk,
        "organisation": bundle.organisation_id,
        "bought_in": bundle.bought_in,
        "hours": str(bundle.hours),
        "amount": str(bundle.amount),
        "rate": str(bundle.rate),
        "purchased_on": bundle.purchased_on.isoformat(),
        "expires_on": bundle.expires_on.isoformat() if bundle.expires_on else "",
        "reference": bundle.reference,
        "notes": bundle.notes,
    }


def _audit(action: str, actor: Actor, before=None, after=None, statement=None) -> BillingAudit:
    return trail.audit(statement, action, actor, before, after)


def _balance(bundle: PrepaidBundle) -> Decimal:
    return bundle.movements.aggregate(total=Sum("amount"))["total"] or ZERO


# --- services: bundles and the threshold -------------------------------------------------


def bundle_buy(
    *,
    organisation: Organisation,
    bought_in: str = PrepaidBundle.BoughtIn.HOURS,
    hours=None,
    amount=None,
    purchased_on=None,
    expires_on=None,
    rate=None,
    reference: str = "",
    notes: str = "",
    actor: Actor = SYSTEM,
) -> PrepaidBundle:
    """Record a bundle: hours at the organisation's agreed rate (or ``rate``), or a value
    in euro turned into hours at that rate. Both figures are stored as bought."""
    _check_actor(actor)
    purchased_on = _day(purchased_on, "purchased_on", label=_("Purchase date"), required=False)
    purchased_on = purchased_on or timezone.localdate()
    expires_on = _day(expires_on, "expires_on", label=_("Expiry date"), required=False)
    if expires_on is not None and expires_on < purchased_on:
        raise PrepaidInputError(
            _("The expiry date %(expires)s is before the purchase date %(bought)s.")
            % {"expires": expires_on.isoformat(), "bought": purchased_on.isoformat()},
            field="expires_on",
        )
    rate = _number(rate, "rate", label=_("Hourly rate")) or organisation.hourly_rate
    if not rate or rate <= 0:
        raise PrepaidInputError(
            _("%(org)s has no agreed hourly rate: set it in the admin, or give the rate.")
            % {"org": organisation.name},
            field="rate",
        )
    hours, amount = _figures(bought_in, hours, amount, rate)
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        bundle = PrepaidBundle.objects.create(
            organisation=organisation,
            bought_in=bought_in,
            hours=hours,
            amount=amount,
            rate=rate,
            purchased_on=purchased_on,
            expires_on=expires_on,
            reference=(reference or "").strip()[:100],
            notes=(notes or "").strip(),
            created_by=actor.user,
        )
        PrepaidMovement.objects.create(
            bundle=bundle,
            kind=PrepaidMovement.Kind.PURCHASE,
            amount=amount,
            hours=hours,
            balance_after=amount,
            note=bundle.reference,
            actor=actor.user,
            actor_label=actor.display,
        )
        _audit("prepaid_bought", actor, after=_snapshot(bundle))
        balance_check(organisation=organisation, actor=actor)
    return bundle


def bundle_correct(
    *,
    bundle: PrepaidBundle,
    reason: str,
    hours=None,
    amount=None,
    purchased_on=None,
    expires_on="keep",
    reference: str | None = None,
    notes: str | None = None,
    actor: Actor = SYSTEM,
) -> PrepaidBundle:
    """Correct a bundle (a typing error, a different quantity): its figures change and a
    correction movement adds or takes away the difference. What was already used stays
    used: a correction cannot take the balance below zero."""
    _check_actor(actor)
    reason = (reason or "").strip()
    if not reason:
        raise PrepaidInputError(_("A correction needs a reason: write why."), field="reason")
    with transaction.atomic():
        bundle = PrepaidBundle.objects.select_for_update().get(pk=bundle.pk)
        before = _snapshot(bundle)
        new_hours, new_amount = bundle.hours, bundle.amount
        if bundle.bought_in == PrepaidBundle.BoughtIn.HOURS and hours not in (None, ""):
            new_hours, new_amount = _figures(bundle.bought_in, hours, None, bundle.rate)
        elif bundle.bought_in == PrepaidBundle.BoughtIn.EURO and amount not in (None, ""):
            new_hours, new_amount = _figures(bundle.bought_in, None, amount, bundle.rate)
        if purchased_on not in (None, ""):
            bundle.purchased_on = _day(
                purchased_on, "purchased_on", label=_("Purchase date"), required=True
            )
        if expires_on != "keep":
            bundle.expires_on = _day(
                expires_on, "expires_on", label=_("Expiry date"), required=False
            )
        if bundle.expires_on is not None and bundle.expires_on < bundle.purchased_on:
            raise PrepaidInputError(
                _("The expiry date %(expires)s is before the purchase date %(bought)s.")
                % {
                    "expires": bundle.expires_on.isoformat(),
                    "bought": bundle.purchased_on.isoformat(),
                },
                field="expires_on",
            )
        if reference is not None:
            bundle.reference = reference.strip()[:100]
        if notes is not None:
            bundle.notes = notes.strip()
        delta = new_amount - bundle.amount
        balance = _balance(bundle)
        if balance + delta < 0:
            raise PrepaidInputError(
                _(
                    "%(used)s EUR of this bundle is already used: it cannot become %(amount)s "
                    "EUR. Correct it to at least the used part."
                )
                % {"used": bundle.amount - balance, "amount": new_amount},
                field="hours" if bundle.bought_in == PrepaidBundle.BoughtIn.HOURS else "amount",
            )
        if delta:
            PrepaidMovement.objects.create(
                bundle=bundle,
                kind=PrepaidMovement.Kind.CORRECTION,
                amount=delta,
                hours=new_hours - bundle.hours,
                balance_after=balance + delta,
                note=reason[:500],
                actor=actor.user,
                actor_label=actor.display,
            )
        bundle.hours, bundle.amount = new_hours, new_amount
        bundle.save()
        after = _snapshot(bundle)
        if after == before:
            raise PrepaidInputError(_("Nothing to correct: every figure is as before."))
        _audit("prepaid_corrected", actor, before=before, after={**after, "reason": reason})
        balance_check(organisation=bundle.organisation, actor=actor)
    return bundle


def threshold_set(*, organisation: Organisation, hours, actor: Actor = SYSTEM) -> PrepaidAccount:
    """The low-balance threshold in hours (empty: no warning)."""
    _check_actor(actor)
    value = None
    if hours not in (None, "") and str(hours).strip() not in ("", "0"):
        value = _number(hours, "threshold_hours", label=_("Threshold (hours)"))
    with transaction.atomic():
        account, _created = PrepaidAccount.objects.select_for_update().get_or_create(
            organisation=organisation
        )
        before = {
            "organisation": organisation.pk,
            "threshold_hours": str(account.threshold_hours or ""),
        }
        account.threshold_hours = value
        if value is None:
            account.below_threshold = False
        account.save()
        _audit(
            "prepaid_threshold",
            actor,
            before=before,
            after={"organisation": organisation.pk, "threshold_hours": str(value or "")},
        )
        balance_check(organisation=organisation, actor=actor)
    return account


def balance_check(*, organisation: Organisation, actor: Actor = SYSTEM, on: date | None = None):
    """Warn once per crossing: under the threshold and not warned yet -> record it and
    announce ``prepaid_balance_low`` after the commit; back at or over it -> re-arm."""
    account = PrepaidAccount.objects.select_for_update().filter(organisation=organisation).first()
    if account is None or account.threshold_hours is None:
        return None
    if not PrepaidBundle.objects.filter(organisation=organisation).exists():
        return None
    hours = summary(organisation, on=on).hours
    if hours < account.threshold_hours and not account.below_threshold:
        account.below_threshold = True
        account.alerted_at = timezone.now()
        account.save(update_fields=["below_threshold", "alerted_at"])
        _audit(
            "prepaid_low_balance",
            actor,
            after={
                "organisation": organisation.pk,
                "hours": str(hours),
                "threshold_hours": str(account.threshold_hours),
            },
        )
        threshold = account.threshold_hours
        transaction.on_commit(
            lambda: prepaid_balance_low.send(
                PrepaidAccount, organisation=organisation, hours=hours, threshold=threshold
            )
        )
        return True
    if hours >= account.threshold_hours and account.below_threshold:
        account.below_threshold = False
        account.save(update_fields=["below_threshold"])
    return False


def balances_check(*, on: date | None = None) -> int:
    """``balance_check`` for every organisation with a threshold (the daily task: an
    expired bundle changes the balance without a movement). Returns how many were warned."""
    warned = 0
    for org_id in PrepaidAccount.objects.filter(threshold_hours__isnull=False).values_list(
        "organisation_id", flat=True
    ):
        with transaction.atomic():
            organisation = Organisation.objects.get(pk=org_id)
            warned += bool(balance_check(organisation=organisation, on=on))
    return warned


# --- reads -------------------------------------------------------------------------------


@dataclass
class BundleRow:
    bundle: PrepaidBundle
    balance: Decimal
    hours: Decimal
    state: str  # "active", "expired", "used", "future"

    @property
    def used(self) -> Decimal:
        return self.bundle.amount - self.balance


@dataclass
class Summary:
    organisation: Organisation
    bundles: list[BundleRow]
    balance: Decimal  # euro usable on the day
    hours: Decimal
    account: PrepaidAccount | None

    @property
    def threshold(self) -> Decimal | None:
        return self.account.threshold_hours if self.account else None

    @property
    def below(self) -> bool:
        return self.threshold is not None and self.hours < self.threshold


def _state(bundle: PrepaidBundle, balance: Decimal, on: date) -> str:
    if bundle.expires_on is not None and bundle.expires_on < on:
        return "expired"
    if balance <= 0:
        return "used"
    if bundle.purchased_on > on:
        return "future"
    return "active"


def _balances(bundle_ids) -> dict[int, Decimal]:
    return {
        row["bundle_id"]: row["total"] or ZERO
        for row in PrepaidMovement.objects.filter(bundle_id__in=list(bundle_ids))
        .values("bundle_id")
        .annotate(total=Sum("amount"))
    }


def summary(organisation: Organisation, *, on: date | None = None) -> Summary:
    """The organisation's bundles with their balance, and the balance usable ``on``
    (today by default): bundles bought by then and not expired."""
    on = on or timezone.localdate()
    bundles = list(
        PrepaidBundle.objects.filter(organisation=organisation).order_by("purchased_on", "pk")
    )
    balances = _balances(b.pk for b in bundles)
    rows = []
    for bundle in bundles:
        balance = balances.get(bundle.pk, ZERO)
        rows.append(
            BundleRow(
                bundle, balance, rules.hours_of(balance, bundle.rate), _state(bundle, balance, on)
            )
        )
    usable = [r for r in rows if r.state == "active"]
    return Summary(
        organisation=organisation,
        bundles=rows,
        balance=sum((r.balance for r in usable), ZERO),
        hours=sum((r.hours for r in usable), ZERO),
        account=PrepaidAccount.objects.filter(organisation=organisation).first(),
    )


def movements(organisation: Organisation):
    return (
        PrepaidMovement.objects.filter(bundle__organisation=organisation)
        .select_related("bundle", "statement", "ticket")
        .order_by("-created_at", "-pk")
    )


def organisations_with_bundles():
    return Organisation.objects.filter(prepaid_bundles__isnull=False).distinct().order_by("name")


# --- the month close ---------------------------------------------------------------------


def _rules_bundles(rows: list[PrepaidBundle], balances: dict[int, Decimal]) -> list[rules.Bundle]:
    return [
        rules.Bundle(b.pk, b.purchased_on, b.expires_on, b.rate, balances.get(b.pk, ZERO))
        for b in rows
    ]


def bundles_for(org_ids, *, lock: bool = False) -> dict[int, tuple[list[PrepaidBundle], dict]]:
    """Each organisation's bundles and their balances (two queries; ``lock``: the bundle
    rows FOR UPDATE, so two issues of one organisation draw one after the other)."""
    query = PrepaidBundle.objects.filter(organisation_id__in=list(org_ids)).order_by(
        "purchased_on", "pk"
    )
    if lock:
        query = query.select_for_update()
    bundles = list(query)
    balances = _balances(b.pk for b in bundles)
    out: dict[int, tuple[list, dict]] = {}
    for bundle in bundles:
        out.setdefault(bundle.organisation_id, ([], balances))[0].append(bundle)
    return out


def _charges(rows: list[StatementTicket]) -> list[rules.Charge]:
    out = []
    for row in sorted(rows, key=lambda r: r.ticket.number):
        if row.covered or row.net <= 0 or row.ticket.resolved_at is None:
            continue
        out.append(rules.Charge(row.ticket_id, timezone.localdate(row.ticket.resolved_at), row.net))
    return out


def _line_text(bundle: PrepaidBundle, amount: Decimal, hours: Decimal) -> str:
    text = _(
        "Prepaid hours bought on %(day)s%(reference)s: %(hours)s h at %(rate)s EUR/h deducted "
        "(already invoiced)"
    ) % {
        "day": bundle.purchased_on.strftime("%d/%m/%Y"),
        "reference": f" ({bundle.reference})" if bundle.reference else "",
        "hours": number_format(hours, 2),
        "rate": number_format(bundle.rate, 2),
    }
    return text[:1000]


def _lines(statement, result: rules.DrawDown, bundles: dict[int, PrepaidBundle], vat, position):
    lines = []
    for key, (amount, hours) in result.by_bundle().items():
        lines.append(
            StatementLine(
                statement=statement,
                position=position + len(lines),
                code=CODE,
                description=_line_text(bundles[key], amount, hours),
                amount=-amount,
                vat_percent=vat,
            )
        )
    return lines


def draft_lines(
    statement: Statement, rows: list[StatementTicket], found: tuple | None, vat, position: int
) -> list[StatementLine]:
    """The projected draw-down of a draft, as unsaved negative lines (one per bundle)."""
    if not found:
        return []
    bundles, balances = found
    result = rules.draw_down(_charges(rows), _rules_bundles(bundles, balances))
    return _lines(statement, result, {b.pk: b for b in bundles}, vat, position)


@dataclass
class IssuePlan:
    result: rules.DrawDown
    bundles: dict[int, PrepaidBundle]
    balances: dict[int, Decimal]
    period_end: date


def issue_plan(statement: Statement, vat) -> IssuePlan | None:
    """At issue: lock the organisation's bundles, draw from the balances of this moment
    and put the statement's prepaid lines in line with it (the caller totals again)."""
    return lines_refresh(statement, vat, lock=True)


def lines_refresh(statement: Statement, vat, *, lock: bool = False) -> IssuePlan | None:
    """The statement's prepaid lines again from its tickets and the bundles' balances
    now (a ticket added to or moved off a draft); the caller totals again."""
    found = bundles_for([statement.organisation_id], lock=lock).get(statement.organisation_id)
    if not found:  # no bundle ever: no prepaid line either (bundles are never deleted)
        return None
    statement.lines.filter(code=CODE, manual=False).delete()
    bundles, balances = found
    rows = list(statement.ticket_rows.select_related("ticket"))
    result = rules.draw_down(_charges(rows), _rules_bundles(bundles, balances))
    last = statement.lines.order_by("-position").values_list("position", flat=True).first()
    by_key = {b.pk: b for b in bundles}
    StatementLine.objects.bulk_create(
        _lines(statement, result, by_key, vat, (last or 0) + 4_000_000)
    )
    period = statement.period
    end = date(period.year + (period.month == 12), period.month % 12 + 1, 1) - timedelta(days=1)
    return IssuePlan(result, by_key, dict(balances), end)


def issue_record(statement: Statement, plan: IssuePlan | None, actor: Actor = SYSTEM) -> None:
    """After the number is taken (same transaction): a draw movement per ticket and
    bundle, the statement's before/used/after, and the threshold check."""
    if plan is None:
        return
    result, balances = plan.result, dict(plan.balances)
    shown = {
        key
        for key, bundle in plan.bundles.items()
        if key in result.by_bundle()
        or (
            balances.get(key, ZERO) > 0
            and bundle.purchased_on <= plan.period_end
            and (bundle.expires_on is None or bundle.expires_on >= plan.period_end)
        )
    }
    before = {key: balances.get(key, ZERO) for key in shown}
    moves = []
    for allocation in result.allocations:
        bundle = plan.bundles[allocation.bundle]
        old = balances[allocation.bundle]
        new = old - allocation.amount
        balances[allocation.bundle] = new
        moves.append(
            PrepaidMovement(
                bundle=bundle,
                kind=PrepaidMovement.Kind.DRAW,
                amount=-allocation.amount,
                hours=rules.hours_of(new, bundle.rate) - rules.hours_of(old, bundle.rate),
                balance_after=new,
                statement=statement,
                ticket_id=allocation.charge,
                actor=actor.user,
                actor_label=actor.display,
            )
        )
    PrepaidMovement.objects.bulk_create(moves)

    def hours(values: dict) -> Decimal:
        return sum((rules.hours_of(v, plan.bundles[k].rate) for k, v in values.items()), ZERO)

    after = {key: balances[key] for key in shown}
    use = PrepaidStatementUse.objects.create(
        statement=statement,
        balance_before=sum(before.values(), ZERO),
        used=result.used,
        balance_after=sum(after.values(), ZERO),
        hours_before=hours(before),
        hours_used=hours(before) - hours(after),
        hours_after=hours(after),
        overdraft=result.overdraft,
    )
    _audit(
        "prepaid_drawn",
        actor,
        before={"balance": str(use.balance_before), "hours": str(use.hours_before)},
        after={
            "used": str(use.used),
            "hours_used": str(use.hours_used),
            "balance": str(use.balance_after),
            "overdraft": str(use.overdraft),
        },
        statement=statement,
    )
    balance_check(organisation=statement.organisation, actor=actor)


@dataclass
class StatementPrepaid:
    """Before, used, after for one statement: stored once issued, projected on a draft."""

    balance_before: Decimal
    used: Decimal
    balance_after: Decimal
    hours_before: Decimal
    hours_used: Decimal
    hours_after: Decimal
    overdraft: Decimal
    projected: bool
    stale: bool = False  # a draft whose deduction lines predate a bundle's change


def statement_prepaid(statement: Statement) -> StatementPrepaid | None:
    """None for an organisation without bundles (nothing to show)."""
    if statement.kind != Statement.Kind.INVOICE:
        return None
    if statement.is_issued:
        use = PrepaidStatementUse.objects.filter(statement=statement).first()
        if use is None:
            return None
        return StatementPrepaid(
            use.balance_before,
            use.used,
            use.balance_after,
            use.hours_before,
            use.hours_used,
            use.hours_after,
            use.overdraft,
            projected=False,
        )
    found = bundles_for([statement.organisation_id]).get(statement.organisation_id)
    if not found:
        return None
    bundles, balances = found
    rows = list(statement.ticket_rows.select_related("ticket"))
    result = rules.draw_down(_charges(rows), _rules_bundles(bundles, balances))
    period = statement.period
    end = date(period.year + (period.month == 12), period.month % 12 + 1, 1) - timedelta(days=1)
    by_bundle = result.by_bundle()
    shown = [
        b
        for b in bundles
        if b.pk in by_bundle
        or (
            balances.get(b.pk, ZERO) > 0
            and b.purchased_on <= end
            and (b.expires_on is None or b.expires_on >= end)
        )
    ]
    before = sum((balances.get(b.pk, ZERO) for b in shown), ZERO)
    h_before = sum((rules.hours_of(balances.get(b.pk, ZERO), b.rate) for b in shown), ZERO)
    h_after = sum((rules.hours_of(result.balances[b.pk], b.rate) for b in shown), ZERO)
    deducted = -sum((line.amount for line in statement.lines.filter(code=CODE, manual=False)), ZERO)
    return StatementPrepaid(
        before,
        result.used,
        before - result.used,
        h_before,
        h_before - h_after,
        h_after,
        result.overdraft,
        projected=True,
        stale=deducted != result.used,
    )


def _still_drawn(original: Statement) -> list[tuple[int, Decimal]]:
    """(bundle, euro drawn by ``original`` and not yet given back), in the order drawn."""
    drawn: dict[int, Decimal] = {}
    for move in PrepaidMovement.objects.filter(statement=original).order_by("pk"):
        drawn[move.bundle_id] = drawn.get(move.bundle_id, ZERO) - move.amount
    for move in PrepaidMovement.objects.filter(
        statement__corrects=original, kind=PrepaidMovement.Kind.RETURN
    ):
        drawn[move.bundle_id] = drawn.get(move.bundle_id, ZERO) - move.amount
    return [(key, value) for key, value in drawn.items() if value > 0]


def note_plan(original: Statement, asked: Decimal) -> list[rules.Return]:
    """What a credit note of ``asked`` gives back to the bundles ``original`` drew from."""
    drawn = _still_drawn(original)
    if not drawn:
        return []
    PrepaidBundle.objects.select_for_update().filter(pk__in=[k for k, _v in drawn]).count()
    returns, _money = rules.credit_return(asked, drawn)
    return returns


def note_lines(note: Statement, returns: list[rules.Return], vat, position: int):
    """Negative lines of a credit note: the part given back as hours, not as money."""
    bundles = PrepaidBundle.objects.in_bulk([r.bundle for r in returns])
    out = []
    for n, item in enumerate(returns):
        bundle = bundles[item.bundle]
        out.append(
            StatementLine(
                statement=note,
                position=position + n,
                code=CODE,
                description=(
                    _("Given back to the prepaid hours bought on %(day)s: %(hours)s h")
                    % {
                        "day": bundle.purchased_on.strftime("%d/%m/%Y"),
                        "hours": number_format(rules.hours_of(item.amount, bundle.rate), 2),
                    }
                )[:1000],
                amount=-item.amount,
                vat_percent=vat,
            )
        )
    return out


def note_record(note: Statement, returns: list[rules.Return], actor: Actor = SYSTEM) -> None:
    if not returns:
        return
    bundles = PrepaidBundle.objects.in_bulk([r.bundle for r in returns])
    balances = _balances(bundles)
    moves = []
    for item in returns:
        bundle = bundles[item.bundle]
        old = balances.get(bundle.pk, ZERO)
        new = old + item.amount
        balances[bundle.pk] = new
        moves.append(
            PrepaidMovement(
                bundle=bundle,
                kind=PrepaidMovement.Kind.RETURN,
                amount=item.amount,
                hours=rules.hours_of(new, bundle.rate) - rules.hours_of(old, bundle.rate),
                balance_after=new,
                statement=note,
                note=note.reason[:500],
                actor=actor.user,
                actor_label=actor.display,
            )
        )
    PrepaidMovement.objects.bulk_create(moves)
    _audit(
        "prepaid_returned",
        actor,
        after={
            "returned": str(sum((r.amount for r in returns), ZERO)),
            "note": note.display_number,
        },
        statement=note,
    )
    balance_check(organisation=note.organisation, actor=actor)
