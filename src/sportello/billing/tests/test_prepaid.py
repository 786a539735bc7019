"""Prepaid hours on the hand-made month (billing/tests/month.py), totals by hand.

Organisation A, R = 60.00, November: T1 30.00 (3 Nov), T2 55.00 (4 Nov), T3 45.00 (6 Nov),
T4 120.00 (12 Nov) = 250.00. A bundle of 2 h at 60.00 = 120.00 bought on 1 October:
  T1 draws 30.00 (0.50 h)            bundle 90.00 left
  T2 draws 55.00                     bundle 35.00 left
  T3 draws 35.00, 10.00 overdraft    bundle runs out on 6 November
  T4 120.00 overdraft
Statement: lines 250.00, prepaid -120.00, net 130.00 (the overdraft), VAT 28.60,
total 158.60; balance before 2.00 h (120.00), used 2.00 h, after 0.00 h.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from sportello.billing import prepaid
from sportello.billing import statements as st
from sportello.billing.models import (
    BillingAudit,
    PrepaidBundle,
    PrepaidMovement,
    PrepaidStatementUse,
    StatementLine,
)
from sportello.staff.models import Role
from sportello.tickets.events import Actor
from sportello.tickets.tests.factories import AgentFactory, UserFactory

from .month import november

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)
DEC = date(2026, 12, 1)


@pytest.fixture
def month():
    return november()


@pytest.fixture
def carla():
    agent = AgentFactory(
        user=UserFactory(username="carla", email="carla@init-s.it", is_staff=True),
        role=Role.BILLING,
    )
    return Actor(user=agent.user)


def buy(org, actor, **kw):
    kw.setdefault("hours", "2")
    kw.setdefault("purchased_on", date(2026, 10, 1))
    return prepaid.bundle_buy(organisation=org, actor=actor, **kw)


def prepaid_lines(statement):
    return list(statement.lines.filter(code="prepaid").order_by("position"))


def test_a_bundle_runs_out_mid_month_and_the_rest_is_billed_as_overdraft(month, carla):
    bundle = buy(month["org_a"], carla, reference="FT 2026/0042")
    assert (bundle.hours, bundle.amount, bundle.rate) == (D("2.00"), D("120.00"), D("60.00"))
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    # The draft shows the projected draw-down; nothing is drawn yet.
    assert [line.amount for line in prepaid_lines(draft)] == [D("-120.00")]
    assert (draft.net, draft.vat, draft.total) == (D("130.00"), D("28.60"), D("158.60"))
    assert not PrepaidMovement.objects.filter(kind="draw").exists()
    projected = prepaid.statement_prepaid(draft)
    assert projected.projected and projected.overdraft == D("130.00")

    issued = st.statement_issue(statement=draft, actor=carla, issue_date=DEC)
    assert (issued.net, issued.vat, issued.total) == (D("130.00"), D("28.60"), D("158.60"))
    line = prepaid_lines(issued)[0]
    assert line.position == issued.lines.count() - 1  # after every ticket line
    assert "01/10/2026" in line.description and "FT 2026/0042" in line.description
    assert "2,00 h" in line.description or "2.00 h" in line.description
    draws = list(
        PrepaidMovement.objects.filter(kind="draw")
        .order_by("pk")
        .values_list("ticket__number", "amount", "hours", "balance_after")
    )
    t1, t2, t3, _t4 = (t.number for t in month["tickets"][:4])
    assert draws == [
        (t1, D("-30.00"), D("-0.50"), D("90.00")),
        (t2, D("-55.00"), D("-0.92"), D("35.00")),
        (t3, D("-35.00"), D("-0.58"), D("0.00")),
    ]
    use = PrepaidStatementUse.objects.get(statement=issued)
    assert (use.balance_before, use.used, use.balance_after) == (
        D("120.00"),
        D("120.00"),
        D("0.00"),
    )
    assert (use.hours_before, use.hours_used, use.hours_after) == (D("2.00"), D("2.00"), D("0"))
    assert use.overdraft == D("130.00")
    assert prepaid.summary(month["org_a"], on=DEC).hours == D("0.00")
    assert BillingAudit.objects.filter(action="prepaid_drawn", statement=issued).exists()


def test_two_bundles_the_oldest_first_and_an_expired_one_skipped(month, carla):
    expired = buy(
        month["org_a"],
        carla,
        hours="10",
        purchased_on=date(2026, 1, 10),
        expires_on=date(2026, 10, 31),
    )
    newer = buy(
        month["org_a"],
        carla,
        bought_in="euro",
        amount="100.00",
        hours=None,
        purchased_on=date(2026, 11, 2),
    )
    older = buy(month["org_a"], carla, hours="3", purchased_on=date(2026, 10, 15))
    assert (newer.hours, newer.amount) == (D("1.67"), D("100.00"))  # 100 / 60, half up
    statement = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    statement = st.statement_issue(statement=statement, actor=carla, issue_date=DEC)
    # 250.00 of work: the 180.00 of October's bundle, then 70.00 of November's.
    by_bundle = {
        m["bundle"]: m["total"]
        for m in PrepaidMovement.objects.filter(kind="draw")
        .values("bundle")
        .annotate(total=__import__("django.db.models", fromlist=["Sum"]).Sum("amount"))
    }
    assert by_bundle == {older.pk: D("-180.00"), newer.pk: D("-70.00")}
    assert expired.pk not in by_bundle
    assert statement.net == D("0.00") and statement.total == D("0.00")
    assert [line.amount for line in prepaid_lines(statement)] == [D("-180.00"), D("-70.00")]
    rows = {r.bundle.pk: r for r in prepaid.summary(month["org_a"], on=DEC).bundles}
    assert (rows[older.pk].state, rows[newer.pk].balance) == ("used", D("30.00"))
    assert rows[expired.pk].state == "expired" and rows[expired.pk].balance == D("600.00")


def test_drafts_project_issue_draws_from_what_is_left_then(month, carla):
    buy(month["org_a"], carla, hours="5")  # 300.00: covers November's 250.00
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    assert draft.net == D("0.00")
    # Before the issue, the bundle is corrected down to 4 h (240.00): the issue uses it.
    bundle = PrepaidBundle.objects.get()
    prepaid.bundle_correct(bundle=bundle, hours="4", reason="ordine errato", actor=carla)
    issued = st.statement_issue(statement=draft, actor=carla, issue_date=DEC)
    assert [line.amount for line in prepaid_lines(issued)] == [D("-240.00")]
    assert (issued.net, issued.vat, issued.total) == (D("10.00"), D("2.20"), D("12.20"))


def test_a_credit_note_returns_hours_to_the_bundle_it_came_from(month, carla):
    bundle = buy(month["org_a"], carla)
    issued = st.statement_issue(
        statement=st.statement_draft(organisation=month["org_a"], period=NOV).statement,
        actor=carla,
        issue_date=DEC,
    )
    note = st.credit_note_issue(
        statement=issued,
        lines=[{"description": "Storno intervento T3", "amount": "45.00"}],
        reason="intervento in garanzia",
        actor=carla,
        issue_date=DEC,
    )
    # 45.00 of work credited: it was paid with prepaid hours, so they go back (0.75 h);
    # no money is credited.
    assert [(line.amount, line.code) for line in note.lines.order_by("position")] == [
        (D("45.00"), "manual"),
        (D("-45.00"), "prepaid"),
    ]
    assert (note.net, note.total) == (D("0.00"), D("0.00"))
    back = PrepaidMovement.objects.get(kind="return")
    assert (back.bundle_id, back.amount, back.hours, back.statement_id) == (
        bundle.pk,
        D("45.00"),
        D("0.75"),
        note.pk,
    )
    assert prepaid.summary(month["org_a"], on=DEC).hours == D("0.75")
    # A second credit of 100.00: 75.00 still drawn goes back, 25.00 is money.
    second = st.credit_note_issue(
        statement=issued,
        lines=[{"description": "Sconto", "amount": "100.00"}],
        reason="accordo commerciale",
        actor=carla,
        issue_date=DEC,
    )
    assert second.net == D("25.00")
    assert prepaid.summary(month["org_a"], on=DEC).balance == D("120.00")


def test_bad_input_is_refused_with_a_clear_message(month, carla):
    with pytest.raises(prepaid.PrepaidInputError) as err:
        buy(month["org_a"], carla, hours="0")
    assert err.value.field == "hours"
    with pytest.raises(prepaid.PrepaidInputError) as err:
        buy(month["org_a"], carla, expires_on="2026-09-01")
    assert err.value.field == "expires_on"
    with pytest.raises(prepaid.PrepaidInputError) as err:
        buy(month["org_a"], carla, purchased_on="1/10/2026")
    assert "AAAA-MM-GG" in str(err.value)  # Italian by default
    agent = Actor(user=month["bob"].user)
    with pytest.raises(prepaid.PrepaidPermissionError):
        buy(month["org_a"], agent)
    bundle = buy(month["org_a"], carla)
    st.statement_issue(
        statement=st.statement_draft(organisation=month["org_a"], period=NOV).statement,
        actor=carla,
        issue_date=DEC,
    )
    with pytest.raises(prepaid.PrepaidInputError) as err:
        prepaid.bundle_correct(bundle=bundle, hours="1", reason="x", actor=carla)
    assert "già stati usati" in str(err.value)
    with pytest.raises(prepaid.PrepaidInputError):
        prepaid.bundle_correct(bundle=bundle, hours="3", reason="", actor=carla)


def test_every_change_is_in_the_audit_trail(month, carla):
    bundle = buy(month["org_a"], carla, reference="FT 1")
    prepaid.bundle_correct(
        bundle=bundle, hours="3", expires_on="2027-12-31", reason="3 ore, non 2", actor=carla
    )
    prepaid.threshold_set(organisation=month["org_a"], hours="1", actor=carla)
    entries = list(BillingAudit.objects.filter(action__startswith="prepaid").order_by("pk"))
    assert [e.action for e in entries] == [
        "prepaid_bought",
        "prepaid_corrected",
        "prepaid_threshold",
    ]
    corrected = entries[1]
    assert corrected.actor_label == "carla"
    assert corrected.before["hours"] == "2.00" and corrected.after["hours"] == "3.00"
    assert corrected.after["expires_on"] == "2027-12-31"
    assert corrected.after["reason"] == "3 ore, non 2"
    moves = list(PrepaidMovement.objects.order_by("pk").values_list("kind", "amount", "hours"))
    assert moves == [("purchase", D("120.00"), D("2.00")), ("correction", D("60.00"), D("1.00"))]


def test_the_low_balance_email_goes_once_per_crossing(
    month, carla, mailoutbox, django_capture_on_commit_callbacks
):
    alice = month["alice"]
    alice.is_manager = True
    alice.language = "en"
    alice.save()
    org = month["org_a"]
    buy(org, carla, hours="5")
    prepaid.threshold_set(organisation=org, hours="1.5", actor=carla)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        st.statement_issue(
            statement=st.statement_draft(organisation=org, period=NOV).statement,
            actor=carla,
            issue_date=DEC,
        )  # 250.00 of 300.00: 0.83 h left, under 1.5 h
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@alice.example.it", "carla@init-s.it"]
    to_alice = next(m for m in mailoutbox if m.to == ["alice@alice.example.it"])
    to_carla = next(m for m in mailoutbox if m.to == ["carla@init-s.it"])
    assert "0.83" in to_alice.subject and "Prepaid hours" in to_alice.subject  # English
    assert "/en/portale/monte-ore/" in to_alice.body
    assert "Monte ore" in to_carla.subject and "0,83" in to_carla.subject  # Italian
    assert f"/desk/billing/prepaid/{org.pk}/" in to_carla.body
    # Still under: no second e-mail. Back over with a new bundle, then under again: one more.
    with django_capture_on_commit_callbacks(execute=True):
        prepaid.threshold_set(organisation=org, hours="1", actor=carla)
    assert len(mailoutbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        buy(org, carla, hours="2", purchased_on=date(2026, 12, 1))
    assert len(mailoutbox) == 2
    assert BillingAudit.objects.filter(action="prepaid_low_balance").count() == 1
    assert StatementLine.objects.filter(code="prepaid").count() == 1


def test_moving_a_ticket_off_the_draft_updates_the_projection(month, carla):
    buy(month["org_a"], carla)  # 120.00
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    t1, t2, t3, t4 = month["tickets"][:4]
    for ticket in (t1, t2, t3):  # 130.00 of work off: T4's 120.00 is left
        st.ticket_defer(ticket=ticket, period=NOV, actor=carla, reason="dopo")
    draft.refresh_from_db()
    assert [line.amount for line in prepaid_lines(draft)] == [D("-120.00")]
    assert draft.net == D("0.00")
    st.ticket_defer(ticket=t4, period=NOV, actor=carla, reason="dopo")
    draft.refresh_from_db()
    assert prepaid_lines(draft) == [] and draft.net == D("0.00")


def test_a_bundle_that_expires_is_warned_about_the_next_morning(
    month, carla, mailoutbox, django_capture_on_commit_callbacks
):
    from sportello.billing.tasks import prepaid_balances_check

    org = month["org_a"]
    buy(org, carla, hours="5", expires_on=date(2026, 12, 31))
    prepaid.threshold_set(organisation=org, hours="1", actor=carla)
    with django_capture_on_commit_callbacks(execute=True):
        assert prepaid.balances_check(on=date(2026, 12, 31)) == 0  # still 5 h
        assert prepaid.balances_check(on=date(2027, 1, 1)) == 1  # expired: 0 h
        assert prepaid.balances_check(on=date(2027, 1, 2)) == 0  # once per crossing
    assert [m.to for m in mailoutbox] == [["carla@init-s.it"]]  # Alice is no manager
    assert prepaid_balances_check.call_local() == 0
