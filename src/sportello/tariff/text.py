"""What the tariff says to people, in Italian and English: the explanation of each
charge line (SPEC 6) and the listino of a version, as the public support page shows it.

Kept out of the engine's hot path: a :class:`~sportello.tariff.values.QuoteLine` builds
its text only when asked. Italian numbers use a decimal comma and "60,00 €"; English ones
a decimal point and "€60.00". Example::

    Assistenza telefonica: 12 min (oltre 5, fino a 15) = 50% di 60,00 €, fuori orario +50% = 45,00 €
    Phone support: 12 min (over 5, up to 15) = 50% of €60.00, out of hours +50% = €45.00
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sportello.tariff.errors import TariffInputError
from sportello.tariff.money import share_of_rate

if TYPE_CHECKING:
    from sportello.tariff.values import QuoteLine, TariffParams

__all__ = [
    "LANGUAGES",
    "ListinoRow",
    "band_phrase",
    "describe",
    "format_money",
    "format_number",
    "language_of",
    "listino",
]

LANGUAGES = ("it", "en")
_CENT = Decimal("0.01")

_CHANNEL = {
    "it": {
        "email": "richiesta via e-mail",
        "portal": "richiesta dal portale",
        "phone": "richiesta telefonica, pur potendo usare e-mail o portale",
        "sms": "richiesta via SMS",
        "whatsapp": "richiesta via WhatsApp",
        "other_email": "richiesta a un indirizzo e-mail diverso da quello dell'assistenza",
        "other": "richiesta da un canale non previsto",
    },
    "en": {
        "email": "request by e-mail",
        "portal": "request through the portal",
        "phone": "request by phone, although e-mail or the portal could be used",
        "sms": "request by SMS",
        "whatsapp": "request by WhatsApp",
        "other_email": "request to an e-mail address other than the support one",
        "other": "request through an unlisted channel",
    },
}


def format_number(value: int | Decimal, lang: str) -> str:
    """``12``, ``12,5`` (it) / ``12.5`` (en): no exponent, no trailing zeros."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if lang == "it" else text


def language_of(code: str | None) -> str:
    """The tariff's language for a Django language code: ``en`` for English, else ``it``."""
    return "en" if (code or "it").lower().startswith("en") else "it"


def format_money(value: Decimal, lang: str, *, nbsp: bool = False) -> str:
    """``1.234,50 €`` (it) / ``€1,234.50`` (en); more than 2 decimals are kept, not hidden.

    ``nbsp``: join the Italian amount and its sign with a no-break space (pages), so a
    line never breaks between them."""
    cents = value.quantize(_CENT)
    if cents == value:  # "60", "60.0" and "60.000" all read "60,00 €"
        value = cents
    text = format(value, ",f")
    if lang == "it":
        space = "\u00a0" if nbsp else " "
        return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") + space + "€"
    return "€" + text


def _duration(seconds: int | Decimal, lang: str) -> str:
    minutes, rest = divmod(seconds, 60)
    text = f"{int(minutes)} min"
    if rest:
        text += f" {format_number(rest, lang)} s"
    return text


def _surcharge(line: QuoteLine, lang: str, *, on_request: bool = False) -> str:
    if not line.surcharged:
        return ""
    plus = format_number((line.factor - 1) * 100, lang)
    if lang == "it":
        return f", fuori orario{' su richiesta' if on_request else ''} +{plus}%"
    return f", out of hours{' on request' if on_request else ''} +{plus}%"


def band_phrase(over: int | Decimal | None, up_to: int | Decimal | None, lang: str) -> str:
    """A band of a scale (minutes or messages): ``fino a 15``, ``oltre 5, fino a 15``,
    ``oltre 60`` / ``up to 15``, ``over 5, up to 15``, ``over 60``. The limit is included,
    the previous one is not (SPEC 5: "T <= 5 min")."""
    it = lang == "it"
    over_text = None if over is None else format_number(over, lang)
    up_to_text = None if up_to is None else format_number(up_to, lang)
    if over_text is None:
        return f"fino a {up_to_text}" if it else f"up to {up_to_text}"
    if up_to_text is None:
        return f"oltre {over_text}" if it else f"over {over_text}"
    return (
        f"oltre {over_text}, fino a {up_to_text}" if it else f"over {over_text}, up to {up_to_text}"
    )


def _band(line: QuoteLine, lang: str) -> str:
    if line.steps:
        over = format_number(line.band_over or 0, lang)
        step = format_number(line.step_minutes or 0, lang)
        steps = line.steps
        if lang == "it":
            blocks = "blocco" if steps == 1 else "blocchi"
            started = "iniziato" if steps == 1 else "iniziati"
            return f"oltre {over}, {steps} {blocks} di {step} min {started}"
        return f"over {over}, {steps} started {step}-min block{'s' if steps != 1 else ''}"
    return band_phrase(line.band_over, line.band_up_to, lang)


def _percent_of_rate(line: QuoteLine, lang: str) -> str:
    percent = format_number(line.percent or Decimal(0), lang)
    base = format_money(line.base or Decimal(0), lang)
    return f"{percent}% di {base}" if lang == "it" else f"{percent}% of {base}"


def describe(line: QuoteLine, lang: str = "it") -> str:
    """The explanation of ``line`` in ``lang`` (``it`` or ``en``)."""
    if lang not in LANGUAGES:
        raise TariffInputError(f"lang {lang!r} is not supported; use 'it' or 'en'.", field="lang")
    it = lang == "it"
    amount = format_money(line.amount, lang)
    code = line.code
    if code == "phone" or code == "remote":
        head = (
            ("Assistenza telefonica" if it else "Phone support")
            if code == "phone"
            else ("Assistenza remota" if it else "Remote support")
        )
        duration = _duration(line.quantity or 0, lang)
        if code == "remote" and line.phone_seconds:
            phone = _duration(line.phone_seconds, lang)
            duration += f", di cui {phone} al telefono" if it else f", of which {phone} by phone"
        return (
            f"{head}: {duration} ({_band(line, lang)}) = {_percent_of_rate(line, lang)}"
            f"{_surcharge(line, lang)} = {amount}"
        )
    if code == "written":
        n = line.quantity or 0
        if it:
            messages = f"{n} {'messaggio' if n == 1 else 'messaggi'}"
            head = "Assistenza scritta"
        else:
            messages = f"{n} {'message' if n == 1 else 'messages'}"
            head = "Written support"
        return (
            f"{head}: {messages} ({_band(line, lang)}) = {_percent_of_rate(line, lang)}"
            f"{_surcharge(line, lang, on_request=True)} = {amount}"
        )
    if code == "leg":
        pickup = line.leg_kind == "pickup"
        if it:
            head = "Ritiro materiale" if pickup else "Riconsegna materiale"
            when = f" del {line.start:%d/%m/%Y} ore {line.start:%H:%M}" if line.start else ""
        else:
            head = "Hardware pick-up" if pickup else "Hardware return"
            when = f" on {line.start:%Y-%m-%d} at {line.start:%H:%M}" if line.start else ""
        if line.in_district:
            place = "nel circondario" if it else "within the district"
            return (
                f"{head}{when}, {place} = {_percent_of_rate(line, lang)}"
                f"{_surcharge(line, lang)} = {amount}"
            )
        km = format_number(line.quantity or 0, lang)
        per_km = format_money(line.unit_price or Decimal(0), lang)
        place = "fuori circondario" if it else "outside the district"
        note = ""
        if line.out_of_hours:
            note = (
                ", fuori orario (tariffa a km non maggiorata)"
                if it
                else ", out of hours (per-km fee not surcharged)"
            )
        return f"{head}{when}, {place}: {km} km × {per_km}/km{note} = {amount}"
    if code == "call_fee":
        channel = _CHANNEL[lang].get(line.channel or "", line.channel or "?")
        if it:
            return f"Diritto di chiamata: {channel} = {amount}"
        return f"Call-out fee: {channel} = {amount}"
    return f"{code} = {amount}"


# ---------------------------------------------------------------------------
# The listino: a tariff version as a customer reads it (the public support page).


@dataclass(frozen=True, slots=True)
class ListinoRow:
    """One row of the listino: the service (``group``, ``label``) and its ``price`` as a
    sentence; ``amount`` is that price in euro at the customer's rate, when one is given
    and the price is a share of it (rounded as the quote rounds: ``money.share_of_rate``).
    """

    group: str
    label: str
    price: str
    amount: Decimal | None = None


_LISTINO = {
    "it": {
        "written": "Risoluzione scritta (e-mail o portale)",
        "remote": "Connessione remota",
        "phone": "Telefono",
        "legs": "Ritiro o riconsegna del materiale (per tratta)",
        "other": "Altri addebiti",
        "messages": "messaggi",
        "message": "messaggio",
        "minutes": "minuti",
        "steps": "{band} minuti, per ogni ulteriore frazione iniziata di {step} minuti",
        "inside": "nel circondario",
        "outside": "fuori dal circondario, in base alla distanza di sola andata",
        "per_km": "{amount} al km",
        "of_rate": "{percent}% della tariffa oraria",
        "out_of_hours": "Assistenza fuori dall'orario lavorativo",
        "surcharge": "+{percent}% sul costo orario",
        "call_fee": "Diritto di chiamata (altri canali)",
    },
    "en": {
        "written": "Written (e-mail or portal)",
        "remote": "Remote connection",
        "phone": "Phone",
        "legs": "Pick-up or return of hardware (each way)",
        "other": "Other charges",
        "messages": "messages",
        "message": "message",
        "minutes": "minutes",
        "steps": "{band} minutes, for every further started {step} minutes",
        "inside": "inside the district",
        "outside": "outside the district, by the one-way distance",
        "per_km": "{amount} per km",
        "of_rate": "{percent}% of the hourly rate",
        "out_of_hours": "Service outside support hours",
        "surcharge": "+{percent}% on the hourly rate",
        "call_fee": "Call-out fee (other channels)",
    },
}


def listino(
    params: TariffParams,
    lang: str = "it",
    *,
    rate: Decimal | None = None,
    district: Iterable[str] = (),
) -> list[ListinoRow]:
    """The listino of ``params`` in ``lang``: written, remote and phone bands, legs, the
    out-of-hours surcharge and the call-out fee, in the policy's order. ``rate`` (the
    customer's hourly rate) adds each share of it in euro; ``district`` names the
    district's comuni. Money carries a no-break space: this is text for pages."""
    if lang not in LANGUAGES:
        raise TariffInputError(f"lang {lang!r} is not supported; use 'it' or 'en'.", field="lang")
    words = _LISTINO[lang]
    rows: list[ListinoRow] = []

    def share(group: str, label: str, percent: Decimal) -> None:
        price = words["of_rate"].format(percent=format_number(percent, lang))
        amount = None if rate is None else share_of_rate(rate, percent)
        rows.append(ListinoRow(group, label, price, amount))

    n = params.written_low_max_messages
    unit = words["message"] if n == 1 else words["messages"]
    share(words["written"], f"{band_phrase(None, n, lang)} {unit}", params.written_low_percent)
    share(
        words["written"],
        f"{band_phrase(n, None, lang)} {words['messages']}",
        params.written_high_percent,
    )
    for group, bands in (
        (words["remote"], params.remote_bands),
        (words["phone"], params.phone_bands),
    ):
        for band in bands:
            label = f"{band_phrase(band.over_minutes, band.up_to_minutes, lang)} {words['minutes']}"
            share(group, label, band.percent)
        beyond = words["steps"].format(
            band=band_phrase(bands[-1].up_to_minutes, None, lang),
            step=format_number(params.over_step_minutes, lang),
        )
        share(group, beyond, params.over_step_percent)
    comuni = ", ".join(c for c in district if c)
    inside = f"{words['inside']} ({comuni})" if comuni else words["inside"]
    share(words["legs"], inside, params.leg_in_district_percent)
    per_km = words["per_km"].format(amount=format_money(params.leg_per_km, lang, nbsp=True))
    rows.append(ListinoRow(words["legs"], words["outside"], per_km))
    surcharge = format_number((params.out_of_hours_factor - 1) * 100, lang)
    rows.append(
        ListinoRow(
            words["other"], words["out_of_hours"], words["surcharge"].format(percent=surcharge)
        )
    )
    rows.append(
        ListinoRow(
            words["other"], words["call_fee"], format_money(params.call_fee, lang, nbsp=True)
        )
    )
    return rows
