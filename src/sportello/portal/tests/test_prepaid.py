"""Prepaid hours in the portal: the contact-manager (Dora) sees the bundles, balance and
movements of org A; Alice, of the same organisation but no manager, gets 403; Charlie, of
org B, never sees org A's hours."""

from __future__ import annotations

from datetime import date

import pytest

from sportello.billing import prepaid
from sportello.billing import statements as st
from sportello.tickets import services as tickets
from sportello.tickets.models import Status

from .support import open_portal_ticket

pytestmark = pytest.mark.django_db


def login(client, people, who):
    client.force_login(people[f"{who}_user"])
    return client


@pytest.fixture
def hours(people):
    org = people["org_a"]
    org.sdi_code = "M5UXCR1"
    org.save()
    bundle = prepaid.bundle_buy(
        organisation=org, hours="10", purchased_on=date(2026, 1, 5), reference="FT 2026/0007"
    )
    ticket = open_portal_ticket(people["alice"], subject="Stampante guasta")
    tickets.ticket_change_status(ticket=ticket, status=Status.CLOSED)
    period = ticket.resolved_at.date().replace(day=1)
    statement = st.statement_draft(organisation=org, period=period).statement
    statement = st.statement_issue(statement=statement)
    return {"bundle": bundle, "ticket": ticket, "statement": statement}


def test_a_contact_manager_sees_the_bundles_balance_and_movements(client, people, hours):
    page = login(client, people, "dora").get("/portale/monte-ore/")
    assert page.status_code == 200
    html = page.content.decode()
    summary = prepaid.summary(people["org_a"])
    assert summary.hours < 10
    assert "FT 2026/0007" in html and "05/01/2026" in html
    assert f"{summary.hours:.2f}".replace(".", ",") in html  # the balance, in Italian
    assert hours["ticket"].number in html  # the movement that drew from it
    assert hours["statement"].display_number in html
    english = client.get("/en/portale/monte-ore/").content.decode()
    assert "Prepaid hours of" in english and "Movements" in english
    assert 'href="/portale/monte-ore/"' in client.get("/portale/addebiti/").content.decode()


def test_other_contacts_do_not_see_the_prepaid_hours(client, people, hours):
    assert login(client, people, "alice").get("/portale/monte-ore/").status_code == 403
    client.logout()
    page = login(client, people, "charlie").get("/portale/monte-ore/")
    assert page.status_code == 403  # no manager of org B either
    assert "FT 2026/0007" not in page.content.decode()
    charlie = people["charlie"]
    charlie.is_manager = True
    charlie.save()
    page = client.get("/portale/monte-ore/")
    assert page.status_code == 200
    assert "FT 2026/0007" not in page.content.decode()  # org B's own page: no bundles
    client.logout()
    assert client.get("/portale/monte-ore/").status_code == 302  # to the login
