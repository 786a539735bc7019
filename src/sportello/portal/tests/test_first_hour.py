"""What a new user meets first on the public pages and the charges page (issue 14)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sportello.billing.models import TicketCharges
from sportello.billing.services import tariff_version_in_force
from sportello.tickets import services as tickets
from sportello.tickets.models import Ticket

from .support import open_portal_ticket

pytestmark = pytest.mark.django_db


def login(client, people, who):
    client.force_login(people[f"{who}_user"])
    return client


def test_the_home_page_portal_card_links_to_the_portal(client):
    page = client.get("/").content.decode()
    item = re.search(r"<li>Portale:(.*?)</li>", page, re.S).group(1)
    assert 'href="/portale/"' in item and 'href="/account/signup/"' in item


def test_the_default_tariff_names_no_date_and_a_real_version_its_own(client):
    page = client.get("/assistenza/").content.decode()
    assert "01/01/2000" not in page and "in vigore dal" not in page
    version = tariff_version_in_force(on=date.today())
    version.pk = None
    version.valid_from = date(2026, 1, 1)
    version.label = "Listino 2026"
    version.save()
    page = client.get("/assistenza/").content.decode()
    assert "Listino 2026, in vigore dal 01/01/2026" in page


def test_the_per_km_row_has_its_price_in_the_price_column(client):
    page = client.get("/assistenza/").content.decode()
    row = re.search(r"<tr><td>fuori dal circondario[^<]*</td><td>([^<]*)</td></tr>", page).group(1)
    assert row == "1,00\xa0€ al km"
    assert "EUR" not in page and "Pick-up" not in page


def test_money_reads_the_same_everywhere_in_italian_and_in_english(client):
    italian = client.get("/assistenza/").content.decode()
    assert "25,00\xa0€" in italian and "€\xa025" not in italian
    english = client.get("/en/assistenza/").content.decode()
    assert "€25.00" in english


def test_the_favicon_is_a_real_icon_served_as_static(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # ICONDIR: reserved 0, type 1 (icon)
    assert 'rel="icon" href="/favicon.ico"' in client.get("/assistenza/").content.decode()


def priced_ticket(contact, *, subject, opened):
    ticket = open_portal_ticket(contact, subject=subject)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=opened)
    ticket.refresh_from_db()
    tickets.ticket_change_status(ticket=ticket, status="resolved")
    return ticket, TicketCharges.objects.get(ticket=ticket)


def test_the_charges_page_has_totals_a_month_filter_and_each_amount_once(client, people):
    october, oct_charges = priced_ticket(
        people["alice"], subject="Ottobre", opened=datetime(2026, 10, 5, 9, tzinfo=UTC)
    )
    # 23:30 UTC on 30 November is 00:30 on 1 December in Rome: a December ticket.
    december, dec_charges = priced_ticket(
        people["alice"], subject="Dicembre", opened=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    )
    page = login(client, people, "dora").get("/portale/addebiti/").content.decode()
    both = oct_charges.total + dec_charges.total
    assert f"{both:.2f}".replace(".", ",") + "\xa0€" in page
    assert "Totale: 2 ticket" in page
    assert '<option value="2026-12">Dicembre 2026</option>' in page
    assert '<option value="2026-10">Ottobre 2026</option>' in page
    assert "2026-11" not in page
    line = oct_charges.lines.first()
    assert page.count(line.description_it) == 2  # once per ticket, with no amount after it
    assert f"{line.description_it}: " not in page
    only = client.get("/portale/addebiti/?mese=2026-12").content.decode()
    assert december.number in only and october.number not in only
    assert "Totale di Dicembre 2026: 1 ticket" in only
    assert f"{dec_charges.total:.2f}".replace(".", ",") + "\xa0€" in only
    assert Decimal(0) < dec_charges.total
