"""The billing reports against the hand-made November of ``month.py``, figures by hand.

Org A (R 60): T1 written 30.00 (e-mail); T2 phone 30.00 + call-out fee 25.00 (phone);
T3 phone out of hours 45.00, fee waived (phone); T4 remote 60.00 + two legs 30.00 each
(e-mail). Org B (R 50): T5 written 12.50 + leg 40 km 40.00 (e-mail). Net 302.50.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from sportello.billing import reports
from sportello.billing import statements as st
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput

from .month import at, november

pytestmark = pytest.mark.django_db

NOV = reports.ReportFilter(start=date(2026, 11, 1), end=date(2026, 11, 1))


@pytest.fixture
def month():
    data = november()
    t1 = data["tickets"][0]
    services.ticket_assign(ticket=t1, assignee=data["bob"])
    return data


def rows(report):
    return [list(r) for r in report.rows]


def test_revenue_and_tickets_per_month_over_three_months(month):
    flt = reports.ReportFilter(start=date(2026, 10, 1), end=date(2026, 12, 1))
    report = reports.by_month(flt)
    assert [r[1:] for r in report.rows] == [[0, D("0")], [5, D("302.50")], [0, D("0")]]
    assert report.totals[1:] == [5, D("302.50")]


def test_per_organisation_channel_and_technician(month):
    assert rows(reports.by_organisation(NOV)) == [
        ["Alice & Co. S.r.l.", 4, D("250.00")],
        ["Bruno Orvieto S.n.c.", 1, D("52.50")],
    ]
    assert rows(reports.by_channel(NOV)) == [
        ["e-mail", 3, D("202.50")],
        ["telefono", 2, D("100.00")],
    ]
    assert rows(reports.by_technician(NOV)) == [
        ["non assegnato", 4, D("272.50")],
        ["Bob", 1, D("30.00")],
    ]


def test_the_organisation_filter_keeps_only_its_tickets(month):
    flt = reports.ReportFilter(NOV.start, NOV.end, organisation_id=month["org_b"].pk)
    assert rows(reports.by_organisation(flt)) == [["Bruno Orvieto S.n.c.", 1, D("52.50")]]
    assert reports.by_mode(flt).rows[3][1:] == [1, D("40.00"), 1]


def test_per_resolution_mode(month):
    assert [r[1:] for r in reports.by_mode(NOV).rows] == [
        [2, D("42.50"), 2],  # written: T1 30.00, T5 12.50
        [2, D("75.00"), 2],  # phone: T2 30.00, T3 45.00
        [1, D("60.00"), 1],  # remote: T4
        [2, D("100.00"), 3],  # legs: T4 30.00 + 30.00, T5 40.00
    ]


def test_out_of_hours_share(month):
    report = reports.out_of_hours(NOV)
    # Without the 25.00 fee: 277.50, of which T3's 45.00 out of hours = 16.2%.
    assert [r[1:] for r in report.rows] == [
        [4, D("232.50"), D("83.8"), 7],
        [1, D("45.00"), D("16.2"), 1],
    ]


def test_call_out_fees_charged_and_waived(month):
    assert [r[1:] for r in reports.call_fees(NOV).rows] == [[1, D("25.00")], [1, D("25.00")]]


def test_a_waiver_where_no_fee_was_due_counts_nothing(month):
    t1 = month["tickets"][0]  # e-mail: never a fee
    services.ticket_update(ticket=t1, waive_call_fee=True, waive_reason="per sicurezza")
    assert [r[1:] for r in reports.call_fees(NOV).rows] == [[1, D("25.00")], [1, D("25.00")]]


def test_unbilled_work_leaves_once_issued_and_counts_open_work(month):
    assert rows(reports.unbilled(NOV)) == [
        ["Alice & Co. S.r.l.", 4, D("250.00"), 0, 4],
        ["Bruno Orvieto S.n.c.", 1, D("52.50"), 0, 1],
    ]
    open_one = services.ticket_open(
        subject="Ancora in corso",
        channel="email",
        message=MessageInput(text="x"),
        contact=month["bruno"],
        created_at=at(20, 9),
    )
    services.intervention_add(
        ticket=open_one, kind="remote", started_at=at(20, 10), duration_seconds=600
    )
    st.statement_draft(organisation=month["org_a"], period=NOV.start)
    draft = month["org_a"].statements.get()
    st.statement_issue(statement=draft, issue_date=date(2026, 12, 1))
    # Remote 10 min in hours: 50% of 50.00 = 25.00, still open.
    assert rows(reports.unbilled(NOV)) == [["Bruno Orvieto S.n.c.", 2, D("77.50"), 1, 1]]


def test_every_report_has_rows_for_the_csv(month):
    for report in reports.all_reports(NOV):
        header, data = reports.report_rows_for_csv(report)
        assert len(header) == len(report.columns)
        assert all(len(row) == len(header) for row in data)
