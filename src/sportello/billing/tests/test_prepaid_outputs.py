"""Prepaid hours on what leaves the month close: FatturaPA (valid, read back), the PDF
(pdftotext), the CSV, and the desk pages of a billing user. The hand-made month of
billing/tests/month.py with a 2 h bundle (120.00) that runs out on 6 November: lines
250.00, prepaid -120.00, net 130.00, VAT 28.60, total 158.60 (test_prepaid.py)."""

from __future__ import annotations

import csv
import io
import subprocess
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.urls import reverse

from sportello.billing import exports, fatturapa, prepaid
from sportello.billing import statements as st
from sportello.billing.models import BillingAudit, PrepaidBundle, PrepaidMovement
from sportello.staff.models import Role
from sportello.tickets.events import Actor
from sportello.tickets.tests.factories import AgentFactory, UserFactory

from .month import november

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)
BENI = "FatturaElettronicaBody/DatiBeniServizi"
ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts" / "prepaid-pdf"


@pytest.fixture
def issued():
    month = november()
    prepaid.bundle_buy(
        organisation=month["org_a"],
        hours="2",
        purchased_on=date(2026, 10, 1),
        reference="FT 2026/0042",
    )
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    statement = st.statement_issue(statement=draft, issue_date=date(2026, 12, 1))
    return {**month, "statement": statement}


def test_the_fatturapa_has_the_work_at_its_price_and_a_matching_prepaid_line(issued):
    statement = issued["statement"]
    xml = fatturapa.render(statement)
    fatturapa.schema().validate(xml)  # raises if invalid
    root = ET.fromstring(xml)
    prices = [D(e.text) for e in root.iterfind(f"{BENI}/DettaglioLinee/PrezzoTotale")]
    assert sum(p for p in prices if p > 0) == D("250.00")  # the work, at the charged amount
    assert [p for p in prices if p < 0] == [D("-120.00")]  # the prepaid deduction
    last = list(root.iterfind(f"{BENI}/DettaglioLinee"))[-1]
    assert "Monte ore" in last.findtext("Descrizione")
    assert "FT 2026/0042" in last.findtext("Descrizione")
    assert last.findtext("AliquotaIVA") == "22.00"  # the same rate as the work it offsets
    assert [D(e.text) for e in root.iterfind(f"{BENI}/DatiRiepilogo/ImponibileImporto")] == [
        D("130.00")
    ]
    assert [D(e.text) for e in root.iterfind(f"{BENI}/DatiRiepilogo/Imposta")] == [D("28.60")]
    total = root.findtext(
        "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento/ImportoTotaleDocumento"
    )
    assert D(total) == statement.total == D("158.60")


def test_a_statement_all_covered_by_prepaid_hours_is_still_a_valid_invoice():
    month = november()
    prepaid.bundle_buy(organisation=month["org_a"], hours="10", purchased_on=date(2026, 10, 1))
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    statement = st.statement_issue(statement=draft, issue_date=date(2026, 12, 1))
    assert statement.total == D("0.00")
    root = ET.fromstring(fatturapa.render(statement))  # validated inside
    assert root.find("FatturaElettronicaBody/DatiPagamento") is None  # nothing to pay


def test_a_credit_note_giving_hours_back_validates(issued):
    note = st.credit_note_issue(
        statement=issued["statement"],
        lines=[{"description": "Storno T3", "amount": "45.00"}],
        reason="garanzia",
        issue_date=date(2026, 12, 2),
    )
    root = ET.fromstring(fatturapa.render(note))
    prices = [D(e.text) for e in root.iterfind(f"{BENI}/DettaglioLinee/PrezzoTotale")]
    assert prices == [D("45.00"), D("-45.00")]
    doc = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento"
    assert root.findtext(f"{doc}/TipoDocumento") == "TD04"
    assert D(root.findtext(f"{doc}/ImportoTotaleDocumento")) == D("0.00")


def test_the_csv_lists_the_prepaid_line_and_adds_up_to_the_net(issued):
    text = exports.statements_csv(exports.issued(NOV), excel=True)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    amounts = [D(r["imponibile"].replace(",", ".")) for r in rows]
    assert sum(amounts) == issued["statement"].net == D("130.00")
    assert D("-120.00") in amounts


def test_the_pdf_shows_balance_before_used_after_and_the_overdraft(issued, tmp_path):
    pdf = tmp_path / "fattura.pdf"
    pdf.write_bytes(exports.statement_pdf(issued["statement"]))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "Monte ore acquistato il 01/10/2026 (FT 2026/0042)",
        "-120,00 €",
        "Saldo prima 2,00 h 120,00 €",
        "Usato da questo documento 2,00 h 120,00 €",
        "Saldo dopo 0,00 h 0,00 €",
        "Eccedenza (oltre il monte ore, fatturata alla 130,00 €",  # the overdraft, as such
        "158,60 €",
    ):
        assert expected in flat, expected
    # Page 1 as an image, kept under test-artifacts/ to be looked at.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "page")],
        check=True,
    )
    assert list(ARTIFACTS.glob("page*.png"))


@pytest.fixture
def billing_client(client):
    agent = AgentFactory(user=UserFactory(username="dora", is_staff=True), role=Role.BILLING)
    client.force_login(agent.user)
    client.actor = Actor(user=agent.user)
    return client


def test_a_billing_user_buys_corrects_and_reads_the_movements(billing_client):
    month = november()
    org = month["org_a"]
    url = reverse("billing:prepaid-org", args=[org.pk])
    response = billing_client.post(
        url,
        {
            "action": "buy",
            "bought_in": "euro",
            "amount": "300,00",
            "purchased_on": "2026-10-01",
            "expires_on": "2027-09-30",
            "reference": "FT 2026/0042",
        },
    )
    assert response.status_code == 302
    bundle = PrepaidBundle.objects.get()
    assert (bundle.hours, bundle.amount, bundle.rate) == (D("5.00"), D("300.00"), D("60.00"))
    # A mistake is refused with the reason, and nothing changes.
    page = billing_client.post(
        url, {"action": "buy", "bought_in": "hours", "hours": "-1"}, follow=True
    ).content.decode()
    assert "deve essere maggiore di zero" in page
    assert PrepaidBundle.objects.count() == 1
    billing_client.post(
        url,
        {
            "action": "correct",
            "bundle": bundle.pk,
            "amount": "240.00",
            "purchased_on": "2026-10-01",
            "expires_on": "2027-09-30",
            "reference": "FT 2026/0042",
            "reason": "erano 4 ore",
        },
    )
    billing_client.post(url, {"action": "threshold", "threshold_hours": "1"})
    statement = st.statement_draft(organisation=org, period=NOV).statement
    st.statement_issue(statement=statement, issue_date=date(2026, 12, 1))
    page = billing_client.get(url).content.decode()
    assert "0,00 h" in page  # 240.00 used by the month's 250.00
    assert "sotto la soglia" in page
    assert "Usato da un documento" in page and month["tickets"][0].number in page
    assert "pacchetto rettificato" in page and "erano 4 ore" in page
    assert "dora" in page
    listing = billing_client.get(reverse("billing:prepaid")).content.decode()
    assert org.name.replace("&", "&amp;") in listing
    detail = billing_client.get(reverse("billing:statement", args=[statement.pk])).content.decode()
    assert "Saldo prima" in detail and "Eccedenza" in detail
    assert PrepaidMovement.objects.filter(kind="draw").count() == 4
    assert BillingAudit.objects.filter(action="prepaid_corrected", actor_label="dora").exists()


def test_a_draft_shows_the_projected_draw_down(billing_client):
    month = november()
    prepaid.bundle_buy(organisation=month["org_a"], hours="2", purchased_on=date(2026, 10, 1))
    statement = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    page = billing_client.get(reverse("billing:statement", args=[statement.pk])).content.decode()
    assert "previsione: le ore si scalano all'emissione del documento" in page
    assert "-120,00 €" in page


def test_the_admin_shows_bundles_and_movements_read_only(issued, client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    bundle = PrepaidBundle.objects.get()
    for name in ("prepaidbundle", "prepaidmovement", "prepaidaccount"):
        assert client.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200
    page = client.get(reverse("admin:billing_prepaidbundle_change", args=[bundle.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:billing_prepaidbundle_add")).status_code == 403
    client.post(reverse("admin:billing_prepaidbundle_change", args=[bundle.pk]), {"hours": "99"})
    bundle.refresh_from_db()
    assert bundle.hours == D("2.00")


def test_the_command_line_says_what_the_prepaid_hours_cover():
    from django.core.management import call_command

    month = november()
    prepaid.bundle_buy(organisation=month["org_a"], hours="2", purchased_on=date(2026, 10, 1))
    out = io.StringIO()
    call_command("billing", "draft", "--month", "2026-11", stdout=out)
    line = next(x for x in out.getvalue().splitlines() if month["org_a"].name in x)
    assert "net 130.00\tVAT 28.60\ttotal 158.60\tok\tprepaid hours -120.00 (drawn at issue)" in line
    out = io.StringIO()
    call_command("billing", "issue", "--month", "2026-11", "--date", "2026-12-01", stdout=out)
    line = next(x for x in out.getvalue().splitlines() if month["org_a"].name in x)
    assert line.endswith(
        "total 158.60\tprepaid hours used 2.00 h (120.00), left 0.00 h, overdraft 130.00"
    )
    other = next(x for x in out.getvalue().splitlines() if month["org_b"].name in x)
    assert "prepaid" not in other


def test_a_draft_older_than_a_bundle_says_so(billing_client):
    month = november()
    statement = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    prepaid.bundle_buy(organisation=month["org_a"], hours="2", purchased_on=date(2026, 10, 1))
    page = billing_client.get(reverse("billing:statement", args=[statement.pk])).content.decode()
    assert "I pacchetti sono cambiati dopo questa bozza" in page
    billing_client.post(reverse("billing:statement", args=[statement.pk]), {"action": "redraft"})
    page = billing_client.get(reverse("billing:statement", args=[statement.pk])).content.decode()
    assert "I pacchetti sono cambiati" not in page and "-120,00 €" in page
