"""Human explanations of charge lines, in Italian and English (SPEC 6).

Kept out of the engine's hot path: a :class:`~sportello.tariff.values.QuoteLine` builds
its text only when asked. Italian numbers use a decimal comma and "60,00 €"; English ones
a decimal point and "€60.00". Example::

    Assistenza telefonica: 12 min (oltre 5, fino a 15) = 50% di 60,00 €, fuori orario +50% = 45,00 €
    Phone support: 12 min (over 5, up to 15) = 50% of €60.00, out of hours +50% = €45.00
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sportello.tariff.errors import TariffInputError

if TYPE_CHECKING:
    from sportello.tariff.values import QuoteLine

__all__ = ["LANGUAGES", "describe", "format_money", "format_number"]

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


def format_money(value: Decimal, lang: str) -> str:
    """``1.234,50 €`` (it) / ``€1,234.50`` (en); more than 2 decimals are kept, not hidden."""
    cents = value.quantize(_CENT)
    if cents == value:  # "60", "60.0" and "60.000" all read "60,00 €"
        value = cents
    text = format(value, ",f")
    if lang == "it":
        return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") + " €"
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


def _band(line: QuoteLine, lang: str) -> str:
    it = lang == "it"
    over = None if line.band_over is None else format_number(line.band_over, lang)
    up_to = None if line.band_up_to is None else format_number(line.band_up_to, lang)
    if line.steps:
        step = format_number(line.step_minutes or 0, lang)
        steps = line.steps
        if it:
            blocks = "blocco" if steps == 1 else "blocchi"
            started = "iniziato" if steps == 1 else "iniziati"
            return f"oltre {over}, {steps} {blocks} di {step} min {started}"
        return f"over {over}, {steps} started {step}-min block{'s' if steps != 1 else ''}"
    if over is None:
        return f"fino a {up_to}" if it else f"up to {up_to}"
    if up_to is None:
        return f"oltre {over}" if it else f"over {over}"
    return f"oltre {over}, fino a {up_to}" if it else f"over {over}, up to {up_to}"


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
