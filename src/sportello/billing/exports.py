"""What leaves the month close: CSV of the charge lines, a PDF per statement, and the
month's FatturaPA files (each validated, see ``fatturapa``) with their zip.

Everything reads the stored statements and never recomputes an amount (STYLE 2.4).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

from . import fatturapa
from .models import Statement
from .vat import totals

CSV_COLUMNS = [
    "documento",
    "tipo",
    "numero",
    "data",
    "mese",
    "organizzazione",
    "partita_iva",
    "codice_fiscale",
    "ticket",
    "oggetto",
    "codice",
    "descrizione",
    "imponibile",
    "aliquota_iva",
    "natura",
    "riga_manuale",
    "motivo",
]


def euro(value: Decimal, *, comma: bool = True) -> str:
    """``1234.5`` -> ``1.234,50`` (Italian) or ``1234.50``."""
    text = f"{Decimal(value):,.2f}"
    if not comma:
        return text.replace(",", "")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def issued(period: date, organisation=None):
    """The month's issued statements and notes, in number order."""
    rows = Statement.objects.filter(
        period=period.replace(day=1), state=Statement.State.ISSUED
    ).select_related("organisation", "corrects")
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    return rows.order_by("number_year", "number")


def statements_csv(statements, *, excel: bool = False) -> str:
    """One row per statement line. ``excel``: ``;`` separated with decimal commas (what
    Excel expects in an Italian locale); otherwise ``,`` and decimal points."""
    out = io.StringIO()
    writer = _writer(out, excel)
    writer.writerow(CSV_COLUMNS)
    for statement in statements:
        lines = statement.lines.select_related("ticket_row__ticket").order_by("position")
        for line in lines:
            ticket = line.ticket_row.ticket if line.ticket_row_id else None
            writer.writerow(
                [
                    statement.pk,
                    fatturapa.DOCUMENT_TYPE[statement.kind],
                    statement.display_number,
                    statement.issue_date.isoformat() if statement.issue_date else "",
                    statement.period.strftime("%Y-%m"),
                    statement.customer.get("name") or statement.organisation.name,
                    statement.customer.get("vat_number", statement.organisation.vat_number),
                    statement.customer.get("fiscal_code", statement.organisation.fiscal_code),
                    ticket.number if ticket else "",
                    ticket.subject if ticket else "",
                    line.code,
                    line.description,
                    _number(line.amount, excel),
                    _number(line.vat_percent, excel),
                    line.natura,
                    "1" if line.manual else "0",
                    line.reason,
                ]
            )
    return out.getvalue()


def _writer(out, excel: bool):
    return csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")


def table_csv(header: list[str], rows, *, excel: bool = False) -> str:
    """Any table (the reports') in the month CSV's two dialects: amounts as plain
    decimals, ``excel`` with ``;`` and decimal commas."""
    out = io.StringIO()
    writer = _writer(out, excel)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_number(v, excel) if isinstance(v, Decimal) else v for v in row])
    return out.getvalue()


def csv_bytes(text: str, *, excel: bool) -> bytes:
    """UTF-8; for Excel with a BOM, so it opens the accents right."""
    return text.encode("utf-8-sig" if excel else "utf-8")


def _number(value: Decimal, comma: bool) -> str:
    """A plain decimal for spreadsheets: ``1234.50``, or ``1234,50`` with ``comma``."""
    text = f"{Decimal(value):.2f}"
    return text.replace(".", ",") if comma else text


@dataclass
class PdfTicket:
    number: str
    subject: str
    covered: bool
    provisional: bool
    lines: list
    net: Decimal


def pdf_context(statement: Statement) -> dict:
    lines = list(statement.lines.select_related("ticket_row__ticket").order_by("position"))
    tickets: dict[int, PdfTicket] = {}
    manual = []
    for line in lines:
        if line.ticket_row_id is None:
            manual.append(line)
            continue
        row = line.ticket_row
        entry = tickets.get(row.pk)
        if entry is None:
            entry = tickets[row.pk] = PdfTicket(
                row.ticket.number, row.ticket.subject, row.covered, row.provisional, [], Decimal(0)
            )
        entry.lines.append(line)
        entry.net += line.amount
    _net, _vat, summary = totals(lines)
    supplier = statement.supplier
    days = int(supplier.get("payment_days") or 0)
    return {
        "statement": statement,
        "supplier": supplier,
        "letterhead": [x for x in (supplier.get("letterhead") or "").splitlines() if x.strip()],
        "customer": statement.customer,
        "tickets": list(tickets.values()),
        "manual": manual,
        "summary": summary,
        "due": statement.issue_date + timedelta(days=days) if statement.issue_date else None,
        "payment_days": days,
    }


def statement_html(statement: Statement, *, language: str = "it") -> str:
    with translation.override(language):
        return render_to_string("billing/statement_pdf.html", pdf_context(statement))


PDF_CSS = Path(__file__).resolve().parent / "templates" / "billing" / "statement_pdf.css"
_weasy: dict = {}


def pdf_from_html(html: str) -> bytes:
    """WeasyPrint with the stylesheet and fonts loaded once per process (a third faster
    than parsing them for every statement). Touches no database: worker processes of
    ``pdfs_render`` run it."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    if not _weasy:
        fonts = FontConfiguration()
        _weasy.update(fonts=fonts, css=CSS(filename=str(PDF_CSS), font_config=fonts))
    return HTML(string=html).write_pdf(stylesheets=[_weasy["css"]], font_config=_weasy["fonts"])


def statement_pdf(statement: Statement, *, language: str = "it") -> bytes:
    """The statement as a PDF (WeasyPrint), Italian by default."""
    return pdf_from_html(statement_html(statement, language=language))


def pdfs_render(statements, *, jobs: int | None = None) -> list[bytes]:
    """PDFs of many statements: the pages are built here (database reads), the layout
    (the slow part, about 0.3 s a statement) on ``jobs`` processes, one per core."""
    htmls = [statement_html(s) for s in statements]
    jobs = jobs or min(os.cpu_count() or 1, 8)
    if jobs <= 1 or len(htmls) < 4:
        return [pdf_from_html(html) for html in htmls]
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    # Forked workers only lay out HTML: they never use the inherited database connection.
    with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
        return list(pool.map(pdf_from_html, htmls, chunksize=4))


def pdf_name(statement: Statement) -> str:
    kind = {"invoice": "fattura", "credit_note": "nota-credito", "debit_note": "nota-debito"}
    return f"{kind[statement.kind]}-{statement.number_year}-{statement.number:04d}.pdf"


@dataclass
class Written:
    path: Path
    statement: Statement | None

    def line(self) -> str:
        s = self.statement
        if s is None:
            return f"{self.path}"
        return f"{s.display_number}\t{s.customer.get('name', '')}\ttotal {s.total}\t{self.path}"


def export_month(
    *,
    period: date,
    fmt: str,
    out: Path,
    organisation=None,
    excel: bool = False,
    jobs: int | None = None,
) -> list[Written]:
    """Write the month's issued documents to ``out`` in ``fmt`` (fatturapa, pdf, csv).

    FatturaPA: every XML is validated before anything is written; one invalid document
    stops the export with FatturaPAInvalidError naming it, so no partial month lands.
    """
    out.mkdir(parents=True, exist_ok=True)
    statements = list(issued(period, organisation))
    month = period.strftime("%Y-%m")
    written: list[Written] = []
    if fmt == "csv":
        path = out / f"addebiti-{month}.csv"
        text = statements_csv(statements, excel=excel)
        path.write_text(text, encoding="utf-8-sig" if excel else "utf-8", newline="")
        return [Written(path, None)]
    if fmt == "pdf":
        for statement, pdf in zip(statements, pdfs_render(statements, jobs=jobs), strict=True):
            path = out / pdf_name(statement)
            path.write_bytes(pdf)
            written.append(Written(path, statement))
        return written
    if fmt == "fatturapa":
        files = []
        for statement in statements:
            try:
                xml = fatturapa.render(statement)
            except fatturapa.FatturaPAInvalidError as exc:
                exc.message = f"{statement.display_number}: {exc.message}"
                exc.args = (exc.message,)
                raise
            files.append((statement, fatturapa.file_name(statement), xml))
        for statement, name, xml in files:
            path = out / name
            path.write_bytes(xml)
            written.append(Written(path, statement))
        archive = out / f"fatturapa-{month}.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for _statement, name, xml in files:
                zf.writestr(name, xml)
        written.append(Written(archive, None))
        return written
    raise ValueError(f"unknown format {fmt!r}")
