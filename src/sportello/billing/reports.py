"""The billing reports: what the tickets of a period earned, sliced eight ways.

Plain selectors over the stored charges (STYLE 2.4: nothing is repriced): each returns a
``Report`` whose rows are the table, the CSV and the chart's values. The base of every
report but the last is the *billable tickets resolved in the period* (resolved or closed,
by the month of their resolution in the company's time zone), and revenue is the net of
their charge lines as stored (frozen when closed, current while the reopen window runs).
Statement-only amounts (manual lines, credit notes) are not tickets' revenue and are not
in these reports; the month close lists them.

- ``by_month``: tickets and revenue per month of resolution;
- ``by_organisation``, ``by_channel`` (how the ticket came in), ``by_technician`` (the
  ticket's assignee, who resolved it);
- ``by_mode``: revenue per resolution mode (written, phone, remote, legs) from the
  lines' codes; the call-out fee has its own report;
- ``out_of_hours``: lines priced in hours and out of hours, and the share of revenue;
- ``call_fees``: fees charged, and fees waived (tickets whose channel made the fee due
  but an agent waived it, valued at the tariff's fee of the day they were resolved);
- ``unbilled``: work in progress not yet on an issued statement, per organisation, as of
  now (open tickets with interventions, resolved and closed ones), up to the period's end.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sportello.customers.models import BillingMode
from sportello.staff.models import Agent
from sportello.tariff.rules import call_out_fee
from sportello.tickets.models import Channel, Intervention, Status, Ticket

from .models import ChargeLine, Statement
from .services import tariff_params, tariff_version_in_force, ticket_facts
from .statements import month_end, month_next

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)
MODES = ("written", "phone", "remote", "leg")


@dataclass(frozen=True)
class ReportFilter:
    """The months ``start`` .. ``end`` (first days, both included) and an organisation."""

    start: date
    end: date
    organisation_id: int | None = None

    @property
    def since(self):
        """The first instant of ``start``'s month, in the company's time zone."""
        previous = (self.start.replace(day=1) - date.resolution).replace(day=1)
        return month_end(previous)

    @property
    def until(self):
        return month_end(self.end)

    def months(self) -> list[date]:
        out, month = [], self.start.replace(day=1)
        while month <= self.end:
            out.append(month)
            month = month_next(month)
        return out


@dataclass(frozen=True)
class Column:
    name: str  # the CSV header, stable
    label: str  # the table header, translated
    kind: str = "text"  # text | count | euro | percent


@dataclass
class Report:
    slug: str
    title: str
    description: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    chart_column: int = 2  # which column the chart draws
    totals: list | None = None

    def chart_values(self) -> list[tuple[str, Decimal]]:
        return [(str(row[0]), row[self.chart_column]) for row in self.rows]

    @property
    def chart_kind(self) -> str:
        return self.columns[self.chart_column].kind


def _columns(first: Column, count_label: str | None = None) -> list[Column]:
    return [
        first,
        Column("tickets", count_label or _("Tickets"), "count"),
        Column("revenue", _("Revenue (net)"), "euro"),
    ]


def billable_tickets(flt: ReportFilter):
    """The base of the reports: billable tickets resolved in the period, on a
    customer billed by the hour."""
    tickets = Ticket.objects.filter(
        resolved_at__gte=flt.since,
        resolved_at__lt=flt.until,
        billable=True,
        status__in=(Status.RESOLVED, Status.CLOSED),
    ).exclude(organisation__billing_mode=BillingMode.CONTRACT)
    if flt.organisation_id:
        tickets = tickets.filter(organisation_id=flt.organisation_id)
    return tickets


def _lines(flt: ReportFilter):
    return ChargeLine.objects.filter(charges__ticket__in=billable_tickets(flt))


def _revenue(prefix: str = "charges__"):
    return Coalesce(Sum(f"{prefix}net"), Value(ZERO), output_field=MONEY)


def _grouped(flt: ReportFilter, key: str):
    return (
        billable_tickets(flt)
        .values(key)
        .annotate(tickets=Count("pk", distinct=True), revenue=_revenue())
        .order_by(key)
    )


def by_month(flt: ReportFilter) -> Report:
    zone = timezone.get_current_timezone()
    found = {
        timezone.localdate(row["month"]) if hasattr(row["month"], "hour") else row["month"]: row
        for row in billable_tickets(flt)
        .annotate(month=TruncMonth("resolved_at", tzinfo=zone))
        .values("month")
        .annotate(tickets=Count("pk", distinct=True), revenue=_revenue())
        .order_by("month")
    }
    rows = []
    for month in flt.months():
        row = found.get(month, {"tickets": 0, "revenue": ZERO})
        rows.append([date_format(month, "M Y"), row["tickets"], row["revenue"]])
    return _with_totals(
        Report(
            "by_month",
            _("Revenue and tickets per month"),
            _("Billable tickets by the month they were resolved, and their net charges."),
            _columns(Column("month", _("Month"))),
            rows,
        )
    )


def by_organisation(flt: ReportFilter) -> Report:
    rows = [
        [row["organisation__name"], row["tickets"], row["revenue"]]
        for row in _grouped(flt, "organisation__name")
    ]
    rows.sort(key=lambda r: (-r[2], r[0]))
    return _with_totals(
        Report(
            "by_organisation",
            _("Revenue per organisation"),
            _("Billable tickets resolved in the period, per customer, largest first."),
            _columns(Column("organisation", _("Organisation"))),
            rows,
        )
    )


def by_channel(flt: ReportFilter) -> Report:
    labels = dict(Channel.choices)
    rows = [
        [str(labels.get(row["channel"], row["channel"])), row["tickets"], row["revenue"]]
        for row in _grouped(flt, "channel")
    ]
    rows.sort(key=lambda r: (-r[2], r[0]))
    return _with_totals(
        Report(
            "by_channel",
            _("Revenue per channel"),
            _("How the tickets came in: e-mail, portal, phone, and the other channels."),
            _columns(Column("channel", _("Channel"))),
            rows,
        )
    )


def by_technician(flt: ReportFilter) -> Report:
    rows = []
    for row in _grouped(flt, "assignee"):
        rows.append([row["assignee"], row["tickets"], row["revenue"]])
    names = {
        agent.pk: agent.user.get_full_name() or agent.user.get_username()
        for agent in Agent.objects.filter(pk__in=[r[0] for r in rows if r[0]]).select_related(
            "user"
        )
    }
    rows = [[names.get(r[0], _("unassigned")) if r[0] else _("unassigned"), *r[1:]] for r in rows]
    rows.sort(key=lambda r: (-r[2], r[0]))
    return _with_totals(
        Report(
            "by_technician",
            _("Revenue per technician"),
            _("Per ticket assignee (who resolved it)."),
            _columns(Column("technician", _("Technician"))),
            rows,
        )
    )


def by_mode(flt: ReportFilter) -> Report:
    labels = {
        "written": _("written"),
        "phone": _("phone"),
        "remote": _("remote"),
        "leg": _("pick-up and return legs"),
    }
    found = {
        row["code"]: row
        for row in _lines(flt)
        .filter(code__in=MODES)
        .values("code")
        .annotate(
            tickets=Count("charges__ticket", distinct=True),
            lines=Count("pk"),
            revenue=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
        )
    }
    rows = []
    for code in MODES:
        row = found.get(code, {"tickets": 0, "lines": 0, "revenue": ZERO})
        rows.append([labels[code], row["tickets"], row["revenue"], row["lines"]])
    return _with_totals(
        Report(
            "by_mode",
            _("Revenue per resolution mode"),
            _(
                "Charge lines by how the ticket was resolved; a ticket with several modes "
                "counts under each of them. The call-out fee is reported on its own."
            ),
            [*_columns(Column("mode", _("Resolution mode"))), Column("lines", _("Lines"), "count")],
            rows,
        )
    )


def out_of_hours(flt: ReportFilter) -> Report:
    lines = _lines(flt).exclude(code="call_fee")
    out = Q(details__out_of_hours=True)  # a line in hours has no such key at all
    split = lines.aggregate(
        all_lines=Count("pk"),
        out_lines=Count("pk", filter=out),
        all_tickets=Count("charges__ticket", distinct=True),
        out_tickets=Count("charges__ticket", filter=out, distinct=True),
        all_revenue=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
        out_revenue=Coalesce(Sum("amount", filter=out), Value(ZERO), output_field=MONEY),
    )
    split["in_lines"] = split["all_lines"] - split["out_lines"]
    split["in_revenue"] = split["all_revenue"] - split["out_revenue"]
    in_hours = lines.exclude(pk__in=lines.filter(out).values("pk"))
    split["in_tickets"] = in_hours.values("charges__ticket").distinct().count()
    whole = split["out_revenue"] + split["in_revenue"]

    def share(amount: Decimal) -> Decimal:
        if not whole:
            return Decimal("0.0")
        return (amount * 100 / whole).quantize(Decimal("0.1"))

    rows = [
        [
            _("in hours"),
            split["in_tickets"],
            split["in_revenue"],
            share(split["in_revenue"]),
            split["in_lines"],
        ],
        [
            _("out of hours"),
            split["out_tickets"],
            split["out_revenue"],
            share(split["out_revenue"]),
            split["out_lines"],
        ],
    ]
    return Report(
        "out_of_hours",
        _("Out-of-hours share"),
        _(
            "Resolution and leg lines priced in and out of the support hours (the call-out "
            "fee is never surcharged and is left out)."
        ),
        [
            Column("hours", _("When")),
            Column("tickets", _("Tickets"), "count"),
            Column("revenue", _("Revenue (net)"), "euro"),
            Column("share", _("Share of revenue"), "percent"),
            Column("lines", _("Lines"), "count"),
        ],
        rows,
        chart_column=3,
    )


def call_fees(flt: ReportFilter) -> Report:
    charged = (
        _lines(flt)
        .filter(code="call_fee")
        .aggregate(
            tickets=Count("charges__ticket", distinct=True),
            amount=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
        )
    )
    waived_tickets, waived_amount = 0, ZERO
    for ticket in billable_tickets(flt).filter(waive_call_fee=True).select_related("organisation"):
        fee = waived_fee(ticket)
        if fee:
            waived_tickets += 1
            waived_amount += fee
    rows = [
        [_("charged"), charged["tickets"], charged["amount"]],
        [_("waived"), waived_tickets, waived_amount],
    ]
    return Report(
        "call_fees",
        _("Call-out fees charged and waived"),
        _(
            "Waived: the channel made the fee due, an agent waived it with a reason; valued "
            "at the fee of the tariff in force the day the ticket was resolved."
        ),
        [
            Column("fees", pgettext("call-out fees", "Fees")),
            Column("tickets", _("Tickets"), "count"),
            Column("amount", _("Amount"), "euro"),
        ],
        rows,
    )


def waived_fee(ticket: Ticket) -> Decimal:
    """The call-out fee ``ticket`` would carry without its waiver (0 when none was due).

    The engine's own rule decides (``tariff.rules.call_out_fee``) on the ticket's facts
    with the waiver taken off; the fee needs no interventions or messages."""
    version = tariff_version_in_force(on=timezone.localdate(ticket.resolved_at or timezone.now()))
    facts = ticket_facts(ticket, written_messages=0, interventions=[], version=version)
    if isinstance(facts, str):
        return ZERO
    lines = call_out_fee(
        dataclasses.replace(facts, waive_call_fee=False), tariff_params(version), None
    )
    return sum((line.amount for line in lines), ZERO)


def unbilled(flt: ReportFilter) -> Report:
    """Work not on an issued statement yet: open tickets with interventions before the
    period's end, and resolved or closed ones resolved before it (billable, by the hour)."""
    on_issued = Statement.objects.filter(
        ticket_rows__ticket=OuterRef("pk"), state=Statement.State.ISSUED
    )
    tickets = (
        Ticket.objects.filter(billable=True)
        .exclude(organisation__billing_mode=BillingMode.CONTRACT)
        .exclude(organisation__isnull=True)
        .exclude(Exists(on_issued))
        .filter(
            Q(resolved_at__lt=flt.until, status__in=(Status.RESOLVED, Status.CLOSED))
            | Q(
                ~Q(status__in=(Status.RESOLVED, Status.CLOSED)),
                Exists(
                    Intervention.objects.filter(ticket=OuterRef("pk"), started_at__lt=flt.until)
                ),
            )
        )
    )
    if flt.organisation_id:
        tickets = tickets.filter(organisation_id=flt.organisation_id)
    done = Q(status__in=(Status.RESOLVED, Status.CLOSED))
    rows = [
        [
            row["organisation__name"],
            row["tickets"],
            row["revenue"],
            row["open"],
            row["done"],
        ]
        for row in tickets.values("organisation__name")
        .annotate(
            tickets=Count("pk", distinct=True),
            revenue=_revenue(),
            open=Count("pk", filter=~done, distinct=True),
            done=Count("pk", filter=done, distinct=True),
        )
        .order_by("organisation__name")
    ]
    rows.sort(key=lambda r: (-r[2], r[0]))
    return _with_totals(
        Report(
            "unbilled",
            _("Unbilled work in progress"),
            _(
                "Billable work up to the period's end that is on no issued statement yet, at "
                "its current charges (open tickets are still provisional)."
            ),
            [
                *_columns(Column("organisation", _("Organisation"))),
                Column("open", _("Still open"), "count"),
                Column("resolved", _("Resolved or closed"), "count"),
            ],
            rows,
        )
    )


def _with_totals(report: Report) -> Report:
    """A total row: counts and amounts add up (the mode report's tickets do not)."""
    sums: list = [_("Total")]
    for index, column in enumerate(report.columns[1:], start=1):
        if column.kind in ("count", "euro") and not (
            report.slug == "by_mode" and column.name == "tickets"
        ):
            zero = 0 if column.kind == "count" else ZERO
            sums.append(sum((row[index] for row in report.rows), zero))
        else:
            sums.append("")
    report.totals = sums
    return report


REPORTS = {
    "by_month": by_month,
    "by_organisation": by_organisation,
    "by_channel": by_channel,
    "by_mode": by_mode,
    "by_technician": by_technician,
    "out_of_hours": out_of_hours,
    "call_fees": call_fees,
    "unbilled": unbilled,
}


def all_reports(flt: ReportFilter) -> list[Report]:
    return [build(flt) for build in REPORTS.values()]


def report_rows_for_csv(report: Report) -> tuple[list[str], list[list]]:
    """The CSV's header (stable names) and rows, the total row last."""
    rows = [list(row) for row in report.rows]
    if report.totals:
        rows.append(list(report.totals))
    return [c.name for c in report.columns], rows
