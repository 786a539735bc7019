"""FatturaPA of the hand-made month: valid against the official schema and read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from sportello.billing import fatturapa
from sportello.billing import statements as st
from sportello.billing.errors import FatturaPAInvalidError
from sportello.core.testenv import shared_dir

from .month import november

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


@pytest.fixture
def issued():
    month = november()
    a = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    st.statement_line_add(
        statement=a,
        description="Licenza antivirus (rivendita)",
        amount="40.00",
        reason="rinnovo annuale",
        vat_percent="0",
        natura="N2.2",
    )
    a = st.statement_issue(statement=a, issue_date=date(2026, 12, 1))
    b = st.statement_draft(organisation=month["org_b"], period=NOV).statement
    b = st.statement_issue(statement=b, issue_date=date(2026, 12, 1))
    return {**month, "a": a, "b": b}


def read(xml: bytes):
    return ET.fromstring(xml)


def amounts(root, path):
    return [Decimal(e.text) for e in root.iterfind(path)]


def test_the_shipped_schema_is_the_shared_official_copy():
    for name in ("Schema_del_file_xml_FatturaPA_v1.2.2.xsd", "xmldsig-core-schema.xsd"):
        shipped = (fatturapa.XSD_DIR / name).read_bytes()
        assert shipped == (shared_dir() / "fatturapa" / name).read_bytes()


def test_an_invoice_validates_and_its_totals_are_the_statements(issued):
    a = issued["a"]
    xml = fatturapa.render(a)
    fatturapa.schema().validate(xml)  # raises if invalid
    root = read(xml)
    doc = root.find("FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento")
    assert doc.findtext("TipoDocumento") == "TD01"
    assert doc.findtext("Numero") == "2026/0001"
    assert Decimal(doc.findtext("ImportoTotaleDocumento")) == a.total == Decimal("345.00")
    beni = "FatturaElettronicaBody/DatiBeniServizi"
    assert sum(amounts(root, f"{beni}/DettaglioLinee/PrezzoTotale")) == a.net
    assert sum(amounts(root, f"{beni}/DatiRiepilogo/ImponibileImporto")) == a.net
    assert sum(amounts(root, f"{beni}/DatiRiepilogo/Imposta")) == a.vat == Decimal("55.00")
    natura = [r.findtext("Natura") for r in root.iterfind(f"{beni}/DatiRiepilogo")]
    assert natura == [None, "N2.2"]
    header = root.find("FatturaElettronicaHeader")
    assert header.findtext("DatiTrasmissione/CodiceDestinatario") == "M5UXCR1"
    assert header.findtext("CedentePrestatore/DatiAnagrafici/RegimeFiscale") == "RF01"
    pay = root.find("FatturaElettronicaBody/DatiPagamento/DettaglioPagamento")
    assert pay.findtext("IBAN") == "IT60X0542811101000000123456"
    assert Decimal(pay.findtext("ImportoPagamento")) == a.total
    # The euro sign is outside the schema's Latin-1 repertoire: spelled out.
    descriptions = [e.text for e in root.iterfind(f"{beni}/DettaglioLinee/Descrizione")]
    assert all("€" not in d for d in descriptions) and any("EUR" in d for d in descriptions)
    assert fatturapa.file_name(a) == f"IT01234567897_{a.sdi_progressive}.xml"


def test_a_customer_without_sdi_code_gets_its_pec(issued):
    root = read(fatturapa.render(issued["b"]))
    trasmissione = root.find("FatturaElettronicaHeader/DatiTrasmissione")
    assert trasmissione.findtext("CodiceDestinatario") == "0000000"
    assert trasmissione.findtext("PECDestinatario") == "bruno@pec.example.it"


def test_a_credit_note_is_td04_and_references_the_invoice(issued):
    note = st.credit_note_issue(
        statement=issued["a"],
        lines=[{"description": "Storno diritto di chiamata", "amount": "25.00"}],
        reason="Diritto di chiamata non dovuto",
        issue_date=date(2026, 12, 3),
    )
    root = read(fatturapa.render(note))
    generali = root.find("FatturaElettronicaBody/DatiGenerali")
    assert generali.findtext("DatiGeneraliDocumento/TipoDocumento") == "TD04"
    assert generali.findtext("DatiFattureCollegate/IdDocumento") == "2026/0001"
    assert generali.findtext("DatiFattureCollegate/Data") == "2026-12-01"
    assert Decimal(generali.findtext("DatiGeneraliDocumento/ImportoTotaleDocumento")) == Decimal(
        "30.50"
    )
    assert fatturapa.file_name(note) != fatturapa.file_name(issued["a"])


def test_an_invalid_invoice_is_refused_naming_the_element(issued):
    a = issued["a"]
    a.customer = {**a.customer, "sdi_code": "bad!"}
    with pytest.raises(FatturaPAInvalidError) as caught:
        fatturapa.render(a)
    assert caught.value.element == "CodiceDestinatario"
    assert "CodiceDestinatario" in str(caught.value)


def test_a_draft_has_no_e_invoice():
    month = november()
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    with pytest.raises(FatturaPAInvalidError, match="emetti"):
        fatturapa.render(draft)


def test_a_statement_whose_e_invoice_is_invalid_is_not_issued_and_keeps_its_number_free():
    from sportello.billing.models import Statement, StatementSequence

    month = november()
    org = month["org_b"]
    org.pec = ""
    org.sdi_code = "abc"  # saved past the admin's check: the schema refuses it
    org.save()
    draft = st.statement_draft(organisation=org, period=NOV).statement
    with pytest.raises(FatturaPAInvalidError) as caught:
        st.statement_issue(statement=draft, issue_date=date(2026, 12, 1))
    assert caught.value.element == "CodiceDestinatario"
    assert Statement.objects.get(pk=draft.pk).state == "draft"
    assert not StatementSequence.objects.filter(year=2026, last__gt=0).exists()
    ok = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    assert st.statement_issue(statement=ok, issue_date=date(2026, 12, 1)).number == 1
