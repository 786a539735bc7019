"""Statements of a hand-made month: totals by hand, blockers, corrections, numbering."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from sportello.billing import statements as st
from sportello.billing.errors import (
    StatementBlockedError,
    StatementImmutableError,
    StatementInputError,
)
from sportello.billing.models import BillingAudit, Statement, TicketCharges
from sportello.customers.models import BillingMode
from sportello.tickets import services
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Status

from .month import at, close, november

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


@pytest.fixture
def month():
    return november()


def draft(org):
    return st.statement_draft(organisation=org, period=NOV)


def test_the_ticket_charges_are_the_ones_computed_by_hand(month):
    nets = [TicketCharges.objects.get(ticket=t).net for t in month["tickets"]]
    assert nets == [Decimal(x) for x in ("30.00", "55.00", "45.00", "120.00", "52.50")]


def test_a_draft_totals_the_month_by_hand(month):
    result = draft(month["org_a"])
    s = result.statement
    assert result.blockers == []
    assert (s.net, s.vat, s.total) == (Decimal("250.00"), Decimal("55.00"), Decimal("305.00"))
    assert s.ticket_rows.count() == 4
    assert [line.position for line in s.lines.all()] == list(range(s.lines.count()))
    b = draft(month["org_b"]).statement
    assert (b.net, b.vat, b.total) == (Decimal("52.50"), Decimal("11.55"), Decimal("64.05"))


def test_vat_is_computed_on_the_net_total_not_summed_per_ticket(month):
    # Three tickets of 12.50 net: 2.75 VAT each (2.75 x 3 = 8.25), and 37.50 x 22% = 8.25;
    # with 10.25-net lines the per-ticket sum (2.26 x 3 = 6.78) differs from 30.75 x 22% = 6.77.
    s = draft(month["org_b"]).statement
    for _ in range(2):
        st.statement_line_add(
            statement=s, description="Materiale", amount="10.25", reason="cavo di rete"
        )
    s.refresh_from_db()
    assert s.net == Decimal("73.00")
    assert s.vat == (Decimal("73.00") * Decimal("0.22")).quantize(Decimal("0.01"))


def test_issuing_numbers_per_year_without_gaps_and_freezes_the_statement(month):
    a = draft(month["org_a"]).statement
    b = draft(month["org_b"]).statement
    a = st.statement_issue(statement=a, issue_date=date(2026, 12, 1))
    b = st.statement_issue(statement=b, issue_date=date(2026, 12, 1))
    assert (a.display_number, b.display_number) == ("2026/0001", "2026/0002")
    assert a.customer["sdi_code"] == "M5UXCR1" and a.supplier["regime_fiscale"] == "RF01"
    with pytest.raises(StatementImmutableError):
        st.statement_line_add(statement=a, description="x", amount="1.00", reason="y")
    with pytest.raises(StatementImmutableError):
        st.statement_issue(statement=a)
    # The tickets are billed: a new draft of the month finds nothing.
    assert draft(month["org_a"]).statement is None
    assert BillingAudit.objects.filter(statement=a, action="issued").exists()


def test_a_later_number_cannot_have_an_earlier_date(month):
    st.statement_issue(statement=draft(month["org_a"]).statement, issue_date=date(2026, 12, 2))
    b = draft(month["org_b"]).statement
    with pytest.raises(StatementInputError, match="02/12/2026"):
        st.statement_issue(statement=b, issue_date=date(2026, 12, 1))
    b.refresh_from_db()
    assert b.state == "draft" and b.number is None


def test_blockers_are_listed_and_stop_the_issue(month):
    org = month["org_a"]
    org.sdi_code = ""
    org.vat_number = ""
    org.save()
    open_one = services.ticket_open(
        subject="Ancora aperto",
        channel="email",
        contact=month["alice"],
        created_at=at(20, 9),
        message=MessageInput(text="x"),
    )
    services.intervention_add(
        ticket=open_one, kind="remote", started_at=at(20, 10), duration_seconds=600
    )
    result = draft(org)
    s = result.statement
    st.statement_line_add(
        statement=s, description="Licenza", amount="10.00", reason="rinnovo", vat_percent="0"
    )
    codes = {b.code for b in st.statement_blockers(s)}
    assert codes == {
        "missing_tax_id",
        "missing_sdi",
        "open_with_interventions",
        "zero_rate_without_natura",
    }
    with pytest.raises(StatementBlockedError) as caught:
        st.statement_issue(statement=s)
    assert "Natura" in str(caught.value) and open_one.number in str(caught.value)
    # Fixing each one: a Natura line, the ids, and the open ticket moved to December.
    line = s.lines.get(manual=True)
    st.statement_line_remove(line=line)
    st.statement_line_add(
        statement=s,
        description="Licenza",
        amount="10.00",
        reason="rinnovo",
        vat_percent="0",
        natura="N2.2",
    )
    org.vat_number, org.pec = month["org_a"].vat_number or "01234567897", "a@pec.example.it"
    org.save()
    st.ticket_defer(ticket=open_one, period=NOV, reason="lavoro ancora in corso")
    s = st.statement_issue(statement=s, issue_date=date(2026, 12, 1))
    assert s.net == Decimal("260.00") and s.vat == Decimal("55.00")  # N2.2 line: no VAT


def test_a_ticket_moved_to_next_month_leaves_the_draft_and_comes_back_in_december(month):
    s = draft(month["org_a"]).statement
    t4 = month["tickets"][3]
    st.ticket_defer(ticket=t4, period=NOV, reason="il cliente chiede di unirlo a dicembre")
    s.refresh_from_db()
    assert s.net == Decimal("130.00")
    assert draft(month["org_a"]).statement.net == Decimal("130.00")  # redraft keeps it out
    st.statement_issue(statement=s, issue_date=date(2026, 12, 1))
    dec = st.statement_draft(organisation=month["org_a"], period=date(2026, 12, 1)).statement
    assert [r.ticket_id for r in dec.ticket_rows.all()] == [t4.pk]
    assert dec.net == Decimal("120.00")


def test_resolved_tickets_in_their_reopen_window_are_offered_not_billed(month):
    t6 = services.ticket_open(
        subject="Appena risolto",
        channel="email",
        contact=month["alice"],
        created_at=at(28, 9),
        message=MessageInput(text="x"),
    )
    services.ticket_change_status(ticket=t6, status=Status.RESOLVED, when=at(28, 10))
    result = draft(month["org_a"])
    assert [t.pk for t in result.provisional] == [t6.pk]
    assert result.statement.net == Decimal("250.00")
    s = st.statement_ticket_add(statement=result.statement, ticket=t6)
    assert s.net == Decimal("265.00")
    row = s.ticket_rows.get(ticket=t6)
    assert row.provisional
    assert draft(month["org_a"]).statement.net == Decimal("265.00")  # the choice is kept
    s = st.statement_issue(statement=s, issue_date=date(2026, 12, 1))
    assert TicketCharges.objects.get(ticket=t6).frozen


def test_contract_tickets_are_listed_at_zero(month):
    org = month["org_b"]
    org.billing_mode = BillingMode.CONTRACT
    org.save()
    t = services.ticket_open(
        subject="Contratto",
        channel="email",
        contact=month["bruno"],
        created_at=at(20, 9),
        message=MessageInput(text="x"),
    )
    close(t, 21)
    s = draft(org).statement
    rows = {r.ticket_id: r for r in s.ticket_rows.all()}
    assert rows[t.pk].covered and rows[t.pk].net == 0
    assert s.lines.get(ticket_row=rows[t.pk]).amount == Decimal("0.00")


def test_a_credit_note_references_the_statement_and_cannot_exceed_it(month):
    s = st.statement_issue(statement=draft(month["org_a"]).statement, issue_date=date(2026, 12, 1))
    note = st.credit_note_issue(
        statement=s,
        lines=[{"description": "Storno diritto di chiamata ticket T2", "amount": "25.00"}],
        reason="Diritto di chiamata addebitato per errore",
        issue_date=date(2026, 12, 2),
    )
    assert note.corrects == s and note.kind == "credit_note"
    assert (note.display_number, note.net, note.vat, note.total) == (
        "2026/0002",
        Decimal("25.00"),
        Decimal("5.50"),
        Decimal("30.50"),
    )
    with pytest.raises(StatementInputError, match="troppo"):
        st.credit_note_issue(
            statement=s, lines=[{"description": "x", "amount": "225.01"}], reason="r"
        )
    s.refresh_from_db()
    assert s.net == Decimal("250.00")  # the statement itself never changes


def test_a_manual_line_needs_a_reason_and_a_valid_amount(month):
    s = draft(month["org_a"]).statement
    with pytest.raises(StatementInputError, match="motivo"):
        st.statement_line_add(statement=s, description="Sconto", amount="-10.00", reason=" ")
    with pytest.raises(StatementInputError, match="due decimali"):
        st.statement_line_add(statement=s, description="Sconto", amount="1.005", reason="r")
    with pytest.raises(StatementInputError, match="Natura"):
        st.statement_line_add(statement=s, description="x", amount="1", reason="r", natura="N2")
    st.statement_line_add(statement=s, description="Sconto fedeltà", amount="-10,00", reason="r")
    s.refresh_from_db()
    assert s.net == Decimal("240.00")


def test_resolved_tickets_close_themselves_when_the_reopen_window_ends(month):
    from sportello.billing.closing import tickets_close_expired
    from sportello.tickets.models import TicketEvent

    t = services.ticket_open(
        subject="Risolto",
        channel="email",
        contact=month["alice"],
        created_at=at(20, 9),
        message=MessageInput(text="x"),
    )
    services.ticket_change_status(ticket=t, status=Status.RESOLVED, when=at(20, 10))
    assert not TicketCharges.objects.get(ticket=t).frozen
    assert tickets_close_expired(now=at(20, 10) + timedelta(days=13)) == 0
    assert tickets_close_expired(now=at(20, 10) + timedelta(days=14, minutes=1)) == 1
    t.refresh_from_db()
    assert t.status == Status.CLOSED and t.resolved_at == at(20, 10)
    assert TicketCharges.objects.get(ticket=t).frozen
    event = t.events.filter(kind=TicketEvent.Kind.CHANGED).last()
    assert event.data["closed"] == "reopen_window_ended"
    assert tickets_close_expired(now=at(20, 10) + timedelta(days=20)) == 0


def test_issue_month_issues_every_draft_and_reports_the_blocked(month):
    month["org_b"].pec = ""
    month["org_b"].save()
    st.statements_draft_month(period=NOV)
    results = st.statements_issue_month(period=NOV)
    by_org = {s.organisation_id: exc for s, exc in results}
    assert by_org[month["org_a"].pk] is None
    assert isinstance(by_org[month["org_b"].pk], StatementBlockedError)
    assert Statement.objects.filter(state="issued").count() == 1
