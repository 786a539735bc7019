"""CSV, PDF and the month's FatturaPA files, through the `sportello billing` commands."""

from __future__ import annotations

import csv
import io
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from sportello.billing import exports
from sportello.billing import statements as st
from sportello.billing.models import Statement

from .month import november

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("billing", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def month():
    return november()


def test_draft_issue_export_from_the_command_line(month, tmp_path):
    code, out, _err = run("draft", "--month", "2026-11")
    assert code == 0, out
    lines = out.splitlines()
    assert len(lines) == 3  # one per organisation, then the summary
    assert "net 250.00\tVAT 55.00\ttotal 305.00\tok" in lines[0]
    assert "net 52.50\tVAT 11.55\ttotal 64.05\tok" in lines[1]
    code, out, _err = run("issue", "--month", "2026-11", "--date", "2026-12-01")
    assert code == 0, out
    assert "issued 2026/0001" in out and "issued 2026/0002" in out
    code, out, _err = run(
        "export", "--month", "2026-11", "--format", "fatturapa", "--out", str(tmp_path)
    )
    assert code == 0, out
    xmls = sorted(tmp_path.glob("IT01234567897_*.xml"))
    assert len(xmls) == 2
    with zipfile.ZipFile(tmp_path / "fatturapa-2026-11.zip") as zf:
        assert sorted(zf.namelist()) == [p.name for p in xmls]
    totals = sorted(
        Decimal(ET.parse(p).getroot().findtext(".//ImportoTotaleDocumento")) for p in xmls
    )
    assert totals == [Decimal("64.05"), Decimal("305.00")]


def test_a_blocked_month_exits_non_zero_with_the_reason(month):
    org = month["org_b"]
    org.pec = ""
    org.save()
    code, out, err = run("draft", "--month", "2026-11")
    assert code == 1
    assert "né codice SDI né PEC" in out
    code, out, err = run("issue", "--month", "2026-11")
    assert code == 1 and "1 blocked" in err
    assert Statement.objects.filter(state="issued").count() == 1


def test_bad_usage_exits_2(month):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as caught:
        call_command("billing", "draft", "--month", "2026-13")
    assert caught.value.returncode == 2 and "AAAA-MM" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        call_command("billing", "issue", "--month", "2026-11", "--organisation", "99999")
    assert caught.value.returncode == 2


def _issued_month(month):
    st.statements_draft_month(period=NOV)
    a = Statement.objects.get(organisation=month["org_a"])
    st.statement_line_add(
        statement=a, description="Sconto fedeltà", amount="-12.35", reason="accordo 2026"
    )
    st.statements_issue_month(period=NOV, issue_date=date(2026, 12, 1))
    a.refresh_from_db()
    note = st.credit_note_issue(
        statement=a,
        lines=[{"description": "Storno diritto di chiamata", "amount": "25.00"}],
        reason="Diritto di chiamata non dovuto",
        issue_date=date(2026, 12, 2),
    )
    return a, note


@pytest.mark.parametrize("excel", [False, True])
def test_csv_totals_equal_the_statements_to_the_cent(month, excel):
    _issued_month(month)
    text = exports.statements_csv(exports.issued(NOV), excel=excel)
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";" if excel else ","))
    by_number: dict[str, Decimal] = {}
    for row in rows:
        amount = row["imponibile"].replace(",", ".") if excel else row["imponibile"]
        assert ("," in row["imponibile"]) == excel
        by_number[row["numero"]] = by_number.get(row["numero"], Decimal(0)) + Decimal(amount)
    expected = {s.display_number: s.net for s in Statement.objects.filter(state="issued")}
    assert by_number == expected
    assert expected["2026/0001"] == Decimal("237.65")
    assert {r["tipo"] for r in rows} == {"TD01", "TD04"}


def test_the_pdf_shows_the_statement_in_italian(month, tmp_path):
    a, note = _issued_month(month)
    code, out, _err = run("export", "--month", "2026-11", "--format", "pdf", "--out", str(tmp_path))
    assert code == 0, out
    pdf = tmp_path / "fattura-2026-0001.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "INIT S.r.l.",
        "Fattura n. 2026/0001 del 01/12/2026",
        "Alice & Co. S.r.l.",
        month["tickets"][3].number,
        "Assistenza remota",
        "Sconto fedeltà",
        "237,65 €",
        "52,28 €",  # VAT on the net total: 237.65 x 22% = 52.283
        "289,93 €",
        "IT60X0542811101000000123456",
        "Copia di cortesia",
    ):
        assert expected in text, expected
    note_text = subprocess.run(
        ["pdftotext", str(tmp_path / "nota-credito-2026-0003.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Nota di credito n. 2026/0003" in note_text and "2026/0001" in note_text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    assert list(tmp_path.glob("page*.png"))
