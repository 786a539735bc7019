"""FatturaPA FPR12 (version 1.2.2) of an issued statement: TD01, TD04, TD05.

Built from the stored statement (its lines, totals and the supplier and customer as they
were at issue), never recomputed (STYLE 2.4). Every document is validated against the
official schema shipped in ``billing/xsd/`` before it leaves this module: ``render``
returns bytes only for a valid invoice and raises ``FatturaPAInvalidError`` naming the
element and the reason otherwise.

Built with the standard library rather than a38: the XSD is the contract the exchange
system checks, a38 validates with its own rules instead (and still accepts the withdrawn
N2/N3/N6), and the document is one page of elements (docs/decisions.md, 2026-12-03).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _

from .errors import FatturaPAInvalidError
from .models import Statement
from .statements import totals

NS = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"
DS = "http://www.w3.org/2000/09/xmldsig#"
XSD_DIR = Path(__file__).resolve().parent / "xsd"
XSD = XSD_DIR / "Schema_del_file_xml_FatturaPA_v1.2.2.xsd"

DOCUMENT_TYPE = {
    Statement.Kind.INVOICE: "TD01",
    Statement.Kind.CREDIT_NOTE: "TD04",
    Statement.Kind.DEBIT_NOTE: "TD05",
}
# Latin-1 only (String...LatinType): what cannot be written there is spelled out.
REPLACEMENTS = {"€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."}


@lru_cache(maxsize=1)
def schema():
    """The official schema, loaded once per process (about a second), offline."""
    import xmlschema

    return xmlschema.XMLSchema(str(XSD), locations={DS: str(XSD_DIR / "xmldsig-core-schema.xsd")})


def latin(text: str, limit: int) -> str:
    """``text`` in the Latin-1 repertoire the schema allows, at most ``limit`` characters."""
    out = []
    for char in " ".join(str(text).split()):
        char = REPLACEMENTS.get(char, char)
        if all(ord(c) < 256 for c in char):
            out.append(char)
            continue
        plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(plain or "?")
    return "".join(out)[:limit].strip() or "-"


def file_name(statement: Statement) -> str:
    """The exchange system's name: ``IT<partita IVA>_<progressive>.xml``."""
    supplier = statement.supplier
    return (
        f"{supplier.get('country') or 'IT'}{supplier['vat_number']}_{statement.sdi_progressive}.xml"
    )


def _amount(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def _sub(parent, tag: str, text=None):
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _address(parent, data: dict) -> None:
    sede = _sub(parent, "Sede")
    _sub(sede, "Indirizzo", latin(data.get("address") or "-", 60))
    postcode = (data.get("postcode") or "").strip()
    _sub(sede, "CAP", postcode if re.fullmatch(r"\d{5}", postcode) else "00000")
    _sub(sede, "Comune", latin(data.get("comune") or "-", 60))
    province = (data.get("province") or "").strip().upper()
    if re.fullmatch(r"[A-Z]{2}", province):
        _sub(sede, "Provincia", province)
    _sub(sede, "Nazione", (data.get("country") or "IT").upper())


def build(statement: Statement) -> ET.Element:
    """The FatturaElettronica element of an issued statement (not validated yet)."""
    if statement.state != Statement.State.ISSUED:
        raise FatturaPAInvalidError(
            _("Only an issued statement has an e-invoice: issue the draft first."),
            element="Numero",
            reason="draft",
        )
    supplier, customer = statement.supplier, statement.customer
    root = ET.Element(f"{{{NS}}}FatturaElettronica", {"versione": "FPR12"})
    header = _sub(root, "FatturaElettronicaHeader")
    trasmissione = _sub(header, "DatiTrasmissione")
    trasmittente = _sub(trasmissione, "IdTrasmittente")
    _sub(trasmittente, "IdPaese", supplier.get("country") or "IT")
    _sub(trasmittente, "IdCodice", supplier["vat_number"])
    _sub(trasmissione, "ProgressivoInvio", statement.sdi_progressive)
    _sub(trasmissione, "FormatoTrasmissione", "FPR12")
    country = (customer.get("country") or "IT").upper()
    if country != "IT":
        _sub(trasmissione, "CodiceDestinatario", "XXXXXXX")  # a foreign customer
    elif customer.get("sdi_code"):
        _sub(trasmissione, "CodiceDestinatario", customer["sdi_code"])
    else:
        _sub(trasmissione, "CodiceDestinatario", "0000000")
        if customer.get("pec"):
            _sub(trasmissione, "PECDestinatario", customer["pec"])

    cedente = _sub(header, "CedentePrestatore")
    anagrafici = _sub(cedente, "DatiAnagrafici")
    iva = _sub(anagrafici, "IdFiscaleIVA")
    _sub(iva, "IdPaese", supplier.get("country") or "IT")
    _sub(iva, "IdCodice", supplier["vat_number"])
    if supplier.get("fiscal_code"):
        _sub(anagrafici, "CodiceFiscale", supplier["fiscal_code"])
    _sub(_sub(anagrafici, "Anagrafica"), "Denominazione", latin(supplier["legal_name"], 80))
    _sub(anagrafici, "RegimeFiscale", supplier.get("regime_fiscale") or "RF01")
    _address(cedente, supplier)
    if supplier.get("phone") or supplier.get("email"):
        contatti = _sub(cedente, "Contatti")
        phone = re.sub(r"[^\d+]", "", supplier.get("phone") or "")
        if 5 <= len(phone) <= 12:
            _sub(contatti, "Telefono", phone)
        if supplier.get("email"):
            _sub(contatti, "Email", supplier["email"])

    cessionario = _sub(header, "CessionarioCommittente")
    anagrafici = _sub(cessionario, "DatiAnagrafici")
    if customer.get("vat_number"):
        iva = _sub(anagrafici, "IdFiscaleIVA")
        _sub(iva, "IdPaese", country)
        _sub(iva, "IdCodice", customer["vat_number"])
    if customer.get("fiscal_code"):
        _sub(anagrafici, "CodiceFiscale", customer["fiscal_code"])
    _sub(_sub(anagrafici, "Anagrafica"), "Denominazione", latin(customer["name"], 80))
    _address(cessionario, customer)

    body = _sub(root, "FatturaElettronicaBody")
    generali = _sub(body, "DatiGenerali")
    documento = _sub(generali, "DatiGeneraliDocumento")
    _sub(documento, "TipoDocumento", DOCUMENT_TYPE[statement.kind])
    _sub(documento, "Divisa", "EUR")
    _sub(documento, "Data", statement.issue_date.isoformat())
    _sub(documento, "Numero", statement.display_number)
    _sub(documento, "ImportoTotaleDocumento", _amount(statement.total))
    if statement.kind == Statement.Kind.INVOICE:
        causale = _("IT support, %(month)s") % {"month": statement.period.strftime("%m/%Y")}
    else:
        causale = statement.reason
    _sub(documento, "Causale", latin(causale, 200))
    if statement.corrects_id:
        original = statement.corrects
        collegate = _sub(generali, "DatiFattureCollegate")
        _sub(collegate, "IdDocumento", original.display_number)
        _sub(collegate, "Data", original.issue_date.isoformat())

    beni = _sub(body, "DatiBeniServizi")
    lines = list(statement.lines.select_related("ticket_row__ticket").order_by("position"))
    for n, line in enumerate(lines, start=1):
        dettaglio = _sub(beni, "DettaglioLinee")
        _sub(dettaglio, "NumeroLinea", n)
        description = line.description
        if line.ticket_row_id:
            ticket = line.ticket_row.ticket
            description = f"Ticket {ticket.number} ({ticket.subject}): {description}"
        _sub(dettaglio, "Descrizione", latin(description, 1000))
        _sub(dettaglio, "PrezzoUnitario", _amount(line.amount))
        _sub(dettaglio, "PrezzoTotale", _amount(line.amount))
        _sub(dettaglio, "AliquotaIVA", _amount(line.vat_percent))
        if line.natura:
            _sub(dettaglio, "Natura", line.natura)
    _net, _vat, summary = totals(lines)
    for group in summary:
        riepilogo = _sub(beni, "DatiRiepilogo")
        _sub(riepilogo, "AliquotaIVA", _amount(group.vat_percent))
        if group.natura:
            _sub(riepilogo, "Natura", group.natura)
        _sub(riepilogo, "ImponibileImporto", _amount(group.net))
        _sub(riepilogo, "Imposta", _amount(group.vat))
        if not group.natura:
            _sub(riepilogo, "EsigibilitaIVA", "I")
        else:
            _sub(riepilogo, "RiferimentoNormativo", latin(_natura_text(group.natura), 100))

    if statement.kind != Statement.Kind.CREDIT_NOTE and statement.total > 0:
        pagamento = _sub(body, "DatiPagamento")
        _sub(pagamento, "CondizioniPagamento", "TP02")  # paid in one go
        dettaglio = _sub(pagamento, "DettaglioPagamento")
        _sub(dettaglio, "ModalitaPagamento", supplier.get("payment_method") or "MP05")
        days = int(supplier.get("payment_days") or 0)
        _sub(dettaglio, "DataRiferimentoTerminiPagamento", statement.issue_date.isoformat())
        _sub(dettaglio, "GiorniTerminiPagamento", days)
        _sub(
            dettaglio,
            "DataScadenzaPagamento",
            (statement.issue_date + timedelta(days=days)).isoformat(),
        )
        _sub(dettaglio, "ImportoPagamento", _amount(statement.total))
        if supplier.get("bank_name"):
            _sub(dettaglio, "IstitutoFinanziario", latin(supplier["bank_name"], 80))
        if supplier.get("iban"):
            _sub(dettaglio, "IBAN", supplier["iban"])
    return root


def _natura_text(code: str) -> str:
    from .models import NATURA_CHOICES

    return dict(NATURA_CHOICES).get(code, code)


def validate(xml: bytes) -> None:
    """Raise FatturaPAInvalidError naming the first element the schema refuses."""
    errors = list(schema().iter_errors(xml))
    if not errors:
        return
    error = errors[0]
    path = error.path or ""
    element = path.rsplit("/", 1)[-1] if path else ""
    reason = error.reason or str(error.message)
    raise FatturaPAInvalidError(
        _("The e-invoice is not valid FatturaPA: %(element)s (%(path)s): %(reason)s")
        % {"element": element or "?", "path": path or "?", "reason": reason},
        element=element,
        reason=reason,
    )


def render(statement: Statement) -> bytes:
    """The validated XML of ``statement``: bytes, or FatturaPAInvalidError.

    Bytes identical to the ones validated when the statement was issued (same SHA-256)
    are not validated a second time: the schema would say the same.
    """
    ET.register_namespace("p", NS)
    ET.register_namespace("ds", DS)
    root = build(statement)
    # Children are unqualified in the schema (elementFormDefault="unqualified").
    xml = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    digest = hashlib.sha256(xml).hexdigest()
    if statement.fatturapa_sha256 != digest:
        validate(xml)
        statement.fatturapa_sha256 = digest
    return xml
