"""Normalise and validate business identifiers, phone numbers and mail domains.

Pure Python on purpose (no Django): the mail parser and the billing code use it
too. Every ``normalize_*`` function returns the canonical form of a valid value
or raises :class:`IdentifierError`, whose message says what is wrong and how to
fix it, whose ``code`` names the problem and whose ``field`` names the input.

The check digits come from ``python-stdnum`` (see docs/decisions.md, 2026-12-03):

* partita IVA (and the 11-digit codice fiscale of companies): the Luhn check
  digit of D.M. 23/12/1976, ``stdnum.luhn`` as ``stdnum.it.iva`` uses it;
* personal codice fiscale: ``stdnum.it.codicefiscale`` (D.M. 12/03/1974 tables,
  omocodia letters ``LMNPQRSTUV`` included);
* VAT numbers of the other EU member states: ``stdnum.eu.vat`` and its
  per-country modules, chosen by the organisation's country
  (:func:`normalize_vat_number`); outside the EU, stdnum's module for that
  country when there is one.

What stays ours is the diagnosis on top: which part of the value is wrong and
how to fix it, in messages whose msgids are English and whose translations
(Italian on the site) come from Django's catalogue when Django is loaded.
``str(exc)`` is the English text (logs, tests); ``exc.translated()`` is the text
in the active language, for people.
"""

from __future__ import annotations

import re
import sys
import unicodedata

import phonenumbers
from stdnum import luhn
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.it import codicefiscale as stdnum_codicefiscale
from stdnum.util import get_cc_module

from sportello.errors import SportelloError

__all__ = [
    "IdentifierError",
    "Message",
    "codice_fiscale_check_char",
    "comune_key",
    "normalize_codice_fiscale",
    "normalize_country",
    "normalize_email_domain",
    "normalize_partita_iva",
    "normalize_phone",
    "normalize_sdi_code",
    "normalize_vat_number",
    "partita_iva_check_digit",
]


# ---------------------------------------------------------------------------
# Messages: English msgids, translated when read


def _identity(message: str) -> str:
    return message


def _django_gettext(message: str) -> str:
    """Django's gettext when Django is loaded and configured, else the msgid itself.

    Looked up in ``sys.modules`` rather than imported, so this module never pulls
    Django into a pure-Python process (the tariff engine, the mail parser).
    """
    translation = sys.modules.get("django.utils.translation")
    if translation is None:
        return message
    from django.core.exceptions import ImproperlyConfigured

    try:
        return translation.gettext(message)
    except ImproperlyConfigured:  # Django imported but its settings not configured
        return message


class Message:
    """An English message (a gettext msgid) with its ``%(name)s`` parameters.

    Rendered when read, so that the same error can be logged in English and shown
    to a person in the language of their request. A parameter may itself be a
    :class:`Message` (a translated fragment).
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: object):
        self.msgid = msgid
        self.params = params

    def render(self, gettext=_identity) -> str:
        text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {
            name: value.render(gettext) if isinstance(value, Message) else value
            for name, value in self.params.items()
        }

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"


# The name xgettext (and so Django's makemessages) looks for.
_ = Message


class IdentifierError(SportelloError):
    """A business identifier, phone number or mail domain that is not valid.

    Codes (``exc.code``):

    ``required``             the value is empty;
    ``invalid_type``         the value is not a string;
    ``invalid_length``       the value has the wrong number of characters;
    ``invalid_characters``   the value has characters that are not allowed;
    ``invalid_format``       the characters are allowed but not in that order;
    ``invalid_date``         a personal codice fiscale with an impossible birth date;
    ``invalid_check_digit``  the check digit/character does not match;
    ``invalid_number``       an identifier made only of zeros, or a part that does not exist;
    ``invalid_country``      not a country code, or a VAT number of another country;
    ``invalid_phone``        not a phone number that can be dialled;
    ``invalid_domain``       not a syntactically valid domain name.

    ``message`` and ``str(exc)`` are in English; :meth:`translated` gives the
    message in the active language (Italian on the site).
    """

    code = "invalid_identifier"

    def __init__(
        self, message: str | Message, *, code: str | None = None, field: str | None = None
    ):
        self.text = message if isinstance(message, Message) else Message(message)
        super().__init__(self.text.render(), code=code, field=field)

    def translated(self) -> str:
        """The message in the active language: what a form or page shows."""
        return self.text.render(_django_gettext)


# Shown values are cut to this length so that a pasted paragraph does not end up
# whole in an error message.
_SHOWN_MAX = 40

_WHITESPACE_RE = re.compile(r"\s+")


def _show(value: str) -> str:
    return value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "…"


# What a value is, for the messages of an empty value or a value that is not text:
# whole sentences per kind, since Italian agrees the adjective with the noun.
_EMPTY = {
    "partita_iva": _("The partita IVA is empty: enter it."),
    "vat_number": _("The VAT number is empty: enter it."),
    "codice_fiscale": _("The codice fiscale is empty: enter it."),
    "sdi_code": _("The SDI code is empty: enter it."),
    "country": _("The country is empty: enter its ISO 3166 code, e.g. IT."),
    "phone": _("The phone number is empty: enter it."),
    "email_domain": _("The mail domain is empty: enter it."),
}
_NOT_TEXT = {
    "partita_iva": lambda kind: _("The partita IVA must be text, not %(type)s.", type=kind),
    "vat_number": lambda kind: _("The VAT number must be text, not %(type)s.", type=kind),
    "codice_fiscale": lambda kind: _("The codice fiscale must be text, not %(type)s.", type=kind),
    "sdi_code": lambda kind: _("The SDI code must be text, not %(type)s.", type=kind),
    "country": lambda kind: _("The country must be text, not %(type)s.", type=kind),
    "phone": lambda kind: _("The phone number must be text, not %(type)s.", type=kind),
    "email_domain": lambda kind: _("The mail domain must be text, not %(type)s.", type=kind),
}


def _type_error(value: object, kind: str, field: str) -> IdentifierError:
    return IdentifierError(_NOT_TEXT[kind](type(value).__name__), code="invalid_type", field=field)


def _empty_error(kind: str, field: str) -> IdentifierError:
    return IdentifierError(_EMPTY[kind], code="required", field=field)


def _compact(value: object, field: str, kind: str) -> str:
    """Check that ``value`` is a non-empty string; return it upper-cased, without whitespace."""
    if not isinstance(value, str):
        raise _type_error(value, kind, field)
    compact = _WHITESPACE_RE.sub("", value).upper()
    if not compact:
        raise _empty_error(kind, field)
    return compact


# ---------------------------------------------------------------------------
# Partita IVA


def partita_iva_check_digit(first10: str) -> str:
    """Return the check digit of the 10 leading digits of a partita IVA.

    The same algorithm gives the check digit of a company's codice fiscale.
    """
    if len(first10) != 10 or not first10.isascii() or not first10.isdigit():
        raise ValueError(f"expected 10 digits, got {first10!r}")
    return luhn.calc_check_digit(first10)


def _check_eleven_digits(digits: str, *, company_fiscal_code: bool, field: str) -> None:
    if digits == "0" * 11:
        message = (
            _(
                "Codice fiscale %(number)s is made only of zeros: enter the real number.",
                number=digits,
            )
            if company_fiscal_code
            else _(
                "Partita IVA %(number)s is made only of zeros: enter the real number.",
                number=digits,
            )
        )
        raise IdentifierError(message, code="invalid_number", field=field)
    expected = partita_iva_check_digit(digits[:10])
    if digits[10] != expected:
        message = (
            _(
                "Codice fiscale %(number)s has a wrong check digit (expected %(expected)s): "
                "check for a typing error.",
                number=digits,
                expected=expected,
            )
            if company_fiscal_code
            else _(
                "Partita IVA %(number)s has a wrong check digit (expected %(expected)s): "
                "check for a typing error.",
                number=digits,
                expected=expected,
            )
        )
        raise IdentifierError(message, code="invalid_check_digit", field=field)


def normalize_partita_iva(value: str) -> str:
    """Return the 11 digits of an Italian partita IVA (VAT number).

    Whitespace is ignored and an ``IT`` country prefix is accepted and dropped:
    ``"IT 00488410010"`` becomes ``"00488410010"``.

    Only the check digit is verified, not the provincial office code of digits
    8-10 that ``stdnum.it.iva.validate`` also checks: see docs/decisions.md.
    """
    field = "vat_number"
    compact = _compact(value, field, "partita_iva")
    digits = compact[2:] if compact.startswith("IT") else compact
    if not digits.isascii() or not digits.isdigit():
        if not digits:
            raise IdentifierError(
                _("The partita IVA has only the IT prefix: add its 11 digits."),
                code="invalid_length",
                field=field,
            )
        country = compact[:2]
        if (
            country != "IT"
            and len(compact) > 2
            and compact.isascii()
            and country.isalpha()
            and compact[2:].isalnum()
        ):
            raise IdentifierError(
                _(
                    "Partita IVA %(number)s looks like a foreign VAT number: an Italian "
                    "partita IVA is 11 digits, optionally preceded by IT.",
                    number=_show(compact),
                ),
                code="invalid_characters",
                field=field,
            )
        raise IdentifierError(
            _(
                "Partita IVA %(number)s must be made of 11 digits (optionally preceded by IT): "
                "remove letters and symbols.",
                number=_show(compact),
            ),
            code="invalid_characters",
            field=field,
        )
    if len(digits) != 11:
        raise IdentifierError(
            _(
                "Partita IVA %(number)s has %(count)s digits instead of 11: "
                "check that none is missing or repeated (leading zeros count).",
                number=_show(compact),
                count=len(digits),
            ),
            code="invalid_length",
            field=field,
        )
    _check_eleven_digits(digits, company_fiscal_code=False, field=field)
    return digits


# ---------------------------------------------------------------------------
# Countries and foreign VAT numbers

# Two-letter codes people type for a country that has another ISO 3166 code.
_COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}

# The VAT prefix where it is not the ISO code (EU Directive 2006/112, art. 215).
_VAT_PREFIX = {"GR": "EL"}
_EU_VAT_PREFIXES = frozenset(
    _VAT_PREFIX.get(cc.upper(), cc.upper()) for cc in eu_vat.MEMBER_STATES if cc != "xi"
)

# One valid number per EU member state, shown when a number is not in the
# country's format (taken from stdnum's own documentation; a test validates each).
VAT_EXAMPLES = {
    "AT": "ATU13585627",
    "BE": "BE0428759497",
    "BG": "BG175074752",
    "CY": "CY10259033P",
    "CZ": "CZ25123891",
    "DE": "DE136695976",
    "DK": "DK13585628",
    "EE": "EE100594102",
    "EL": "EL094259216",
    "ES": "ESB64717838",
    "FI": "FI20774740",
    "FR": "FR23334175221",
    "HR": "HR33392005961",
    "HU": "HU12892312",
    "IE": "IE6433435F",
    "IT": "IT00743110157",
    "LT": "LT119511515",
    "LU": "LU15027442",
    "LV": "LV40003521600",
    "MT": "MT11679112",
    "NL": "NL004495445B01",
    "PL": "PL8567346215",
    "PT": "PT501964843",
    "RO": "RO18547290",
    "SE": "SE123456789701",
    "SI": "SI50223054",
    "SK": "SK2022749619",
}

# Separators people copy from invoices of other countries: "DE 136.695.976", "ATU-1358".
_VAT_SEPARATORS_RE = re.compile(r"[\s.\-/,:]+")
_VAT_MAX = 20


def normalize_country(value: str) -> str:
    """Return an ISO 3166-1 alpha-2 country code, upper-cased: ``" it "`` -> ``"IT"``."""
    field = "country"
    code = _compact(value, field, "country")
    if code in _COUNTRY_ALIASES:
        raise IdentifierError(
            _(
                "Country %(code)s is not an ISO 3166 code: use %(iso)s.",
                code=code,
                iso=_COUNTRY_ALIASES[code],
            ),
            code="invalid_country",
            field=field,
        )
    if (
        len(code) != 2
        or not code.isascii()
        or not code.isalpha()
        or code not in phonenumbers.SUPPORTED_REGIONS
    ):
        raise IdentifierError(
            _(
                "Country %(code)s is not a country code: use the two letters of ISO 3166, "
                "e.g. IT for Italy, DE for Germany, FR for France.",
                code=_show(code),
            ),
            code="invalid_country",
            field=field,
        )
    return code


def _vat_prefix(country: str) -> str:
    return _VAT_PREFIX.get(country, country)


def normalize_vat_number(value: str, country: str = "IT") -> str:
    """Return the VAT number of an organisation of ``country`` (ISO 3166 alpha-2).

    The country decides the rule:

    * ``IT``: :func:`normalize_partita_iva`, the 11 digits without prefix;
    * another EU member state: ``stdnum.eu.vat``; the number is returned with
      its VAT prefix, as VIES writes it: ``"de 136 695 976"`` and ``"136695976"``
      with country ``DE`` both become ``"DE136695976"`` (Greece's prefix is EL);
    * elsewhere: stdnum's VAT module for that country when it has one (``CH``,
      ``GB``, ``NO``...), else the letters and digits as given, upper-cased.

    A number that is valid for another EU state is refused with a message that
    says so, since the country, not the prefix, is what is wrong.
    """
    field = "vat_number"
    country = normalize_country(country)
    compact = _compact(value, field, "vat_number")
    other = _other_eu_country(compact, country)
    if other is not None:
        raise IdentifierError(
            _(
                "%(number)s is a VAT number of %(other)s, but the organisation's country is "
                "%(country)s: set the country to %(other)s, or enter a VAT number of "
                "%(country)s.",
                number=_show(compact),
                other=other,
                country=country,
            ),
            code="invalid_country",
            field=field,
        )
    if country == "IT":
        return normalize_partita_iva(value)
    number = _VAT_SEPARATORS_RE.sub("", compact)
    if not number.isascii() or not number.isalnum():
        raise IdentifierError(
            _(
                "VAT number %(number)s may only contain letters and digits: "
                "remove the other symbols.",
                number=_show(compact),
            ),
            code="invalid_characters",
            field=field,
        )
    prefix = _vat_prefix(country)
    if prefix in _EU_VAT_PREFIXES:
        if prefix != country and number.startswith(country):
            number = prefix + number[2:]  # "GR094259216": the ISO code for the VAT prefix
        if not number.startswith(prefix):
            number = prefix + number
        return _stdnum_validate(eu_vat.validate, number, country, VAT_EXAMPLES.get(prefix))
    module = get_cc_module(country.lower(), "vat")
    if module is not None:
        return _stdnum_validate(module.validate, number, country, None)
    if len(number) > _VAT_MAX:
        raise IdentifierError(
            _(
                "VAT number %(number)s has %(count)s characters, more than the %(max)s "
                "a VAT number has: check what was pasted.",
                number=_show(compact),
                count=len(number),
                max=_VAT_MAX,
            ),
            code="invalid_length",
            field=field,
        )
    return number  # no rule known for this country: kept as given


def _other_eu_country(compact: str, country: str) -> str | None:
    """The EU country whose valid VAT number ``compact`` is, when not ``country``'s."""
    prefix = compact[:2]
    if prefix == _vat_prefix(country) or prefix not in _EU_VAT_PREFIXES:
        return None
    if not eu_vat.is_valid(_VAT_SEPARATORS_RE.sub("", compact)):
        return None
    return _COUNTRY_ALIASES.get(prefix, prefix)


def _stdnum_validate(validate, number: str, country: str, example: str | None) -> str:
    field = "vat_number"
    shown = _show(number)
    try:
        result = validate(number)
    except InvalidChecksum:
        message = _(
            "VAT number %(number)s has a wrong check digit for %(country)s: "
            "check for a typing error.",
            number=shown,
            country=country,
        )
        code = "invalid_check_digit"
    except InvalidLength:
        message = (
            _(
                "VAT number %(number)s has the wrong length for %(country)s: check that no "
                "character is missing or repeated (a valid one: %(example)s).",
                number=shown,
                country=country,
                example=example,
            )
            if example
            else _(
                "VAT number %(number)s has the wrong length for %(country)s: check that no "
                "character is missing or repeated.",
                number=shown,
                country=country,
            )
        )
        code = "invalid_length"
    except InvalidComponent:
        message = _(
            "VAT number %(number)s contains a part that no number of %(country)s has: "
            "check it against an invoice of the organisation.",
            number=shown,
            country=country,
        )
        code = "invalid_number"
    except (InvalidFormat, ValidationError):
        message = (
            _(
                "VAT number %(number)s is not in the format of %(country)s: compare it with "
                "a valid one, %(example)s.",
                number=shown,
                country=country,
                example=example,
            )
            if example
            else _(
                "VAT number %(number)s is not in the format of %(country)s: check it "
                "against an invoice of the organisation.",
                number=shown,
                country=country,
            )
        )
        code = "invalid_format"
    else:
        return result
    raise IdentifierError(message, code=code, field=field) from None


# ---------------------------------------------------------------------------
# Codice fiscale

# Omocodia: the digits of a personal code may be replaced, from the right, by
# these letters to tell apart two people who would otherwise share a code.
_OMOCODIA = "LMNPQRSTUV"
_FROM_OMOCODIA = str.maketrans(_OMOCODIA, "0123456789")

# Positions (0-based) that hold a digit, or its omocodia letter, in a personal code.
_CF_DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
_CF_MONTHS = "ABCDEHLMPRST"
# 29 for February: two digits of year cannot tell 1900 from 2000, so any year may
# be a leap year (stdnum's get_birth_date picks one century and would refuse some).
_CF_MONTH_DAYS = dict(
    zip(_CF_MONTHS, (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), strict=True)
)

_D = f"[0-9{_OMOCODIA}]"
_CF_PERSONAL_RE = re.compile(
    rf"[A-Z]{{6}}{_D}{{2}}[{_CF_MONTHS}]{_D}{{2}}[A-Z]{_D}{{3}}[A-Z]",
)
_CF_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def codice_fiscale_check_char(first15: str) -> str:
    """Return the check character of the 15 leading characters of a personal codice fiscale."""
    if len(first15) != 15 or any(char not in _CF_ALPHABET for char in first15):
        raise ValueError(f"expected 15 characters A-Z or 0-9, got {first15!r}")
    return stdnum_codicefiscale.calc_check_digit(first15)


def _personal_format_hint(code: str) -> Message:
    """Say where a 16-character code breaks the personal codice fiscale pattern."""
    parts = (
        (range(0, 6), _("the first 6 characters (surname and name) must be letters")),
        (range(6, 8), _("characters 7-8 (year of birth) must be digits")),
        (
            range(8, 9),
            _("character 9 (month of birth) must be one of %(months)s", months=_CF_MONTHS),
        ),
        (range(9, 11), _("characters 10-11 (day of birth) must be digits")),
        (range(11, 12), _("character 12 (place of birth) must be a letter")),
        (range(12, 15), _("characters 13-15 (place of birth) must be digits")),
        (range(15, 16), _("the last character (check character) must be a letter")),
    )
    for positions, rule in parts:
        for index in positions:
            char = code[index]
            if index in _CF_DIGIT_POSITIONS:
                ok = char.isdigit() or char in _OMOCODIA
            elif index == 8:
                ok = char in _CF_MONTHS
            else:
                ok = "A" <= char <= "Z"
            if not ok:
                if index in _CF_DIGIT_POSITIONS and "A" <= char <= "Z":
                    return _(
                        "%(rule)s or one of the letters %(letters)s that replace them",
                        rule=rule,
                        letters=_OMOCODIA,
                    )
                return rule
    return _("it does not follow the pattern of a personal code")  # pragma: no cover


def normalize_codice_fiscale(value: str) -> str:
    """Return an Italian codice fiscale, upper-cased and without whitespace.

    Accepts the 11-digit code of a company (checked like a partita IVA) and the
    16-character code of a person, including omocodic codes, whose digits are
    partly replaced by the letters ``LMNPQRSTUV``; these are returned as they
    are, not decoded, since that is the code the person was given.
    """
    field = "fiscal_code"
    code = _compact(value, field, "codice_fiscale")
    if not code.isascii() or not code.isalnum():
        raise IdentifierError(
            _(
                "Codice fiscale %(code)s may only contain letters and digits: "
                "remove the other symbols.",
                code=_show(code),
            ),
            code="invalid_characters",
            field=field,
        )
    if len(code) == 11:
        if not code.isdigit():
            raise IdentifierError(
                _(
                    "Codice fiscale %(code)s has 11 characters, so it should be a company's "
                    "code, which is made only of digits: check for letters typed in place "
                    "of digits.",
                    code=code,
                ),
                code="invalid_characters",
                field=field,
            )
        _check_eleven_digits(code, company_fiscal_code=True, field=field)
        return code
    if len(code) != 16:
        if code.startswith("IT") and len(code) in (13, 18):
            message = _(
                "Codice fiscale %(code)s has %(count)s characters: a person's code has 16 "
                "and a company's code 11 digits. The codice fiscale has no IT prefix: "
                "remove it.",
                code=_show(code),
                count=len(code),
            )
        else:
            message = _(
                "Codice fiscale %(code)s has %(count)s characters: a person's code has 16 "
                "and a company's code 11 digits.",
                code=_show(code),
                count=len(code),
            )
        raise IdentifierError(message, code="invalid_length", field=field)
    if not _CF_PERSONAL_RE.fullmatch(code):
        raise IdentifierError(
            _(
                "Codice fiscale %(code)s is not a valid personal code: %(hint)s.",
                code=code,
                hint=_personal_format_hint(code),
            ),
            code="invalid_format",
            field=field,
        )
    decoded_day = code[9:11].translate(_FROM_OMOCODIA)
    day = int(decoded_day)
    birth_day = day - 40 if day > 40 else day  # women have 40 added to the day
    if not 1 <= birth_day <= _CF_MONTH_DAYS[code[8]]:
        raise IdentifierError(
            _(
                "Codice fiscale %(code)s has an impossible day of birth (%(day)s; "
                "women's codes add 40 to the day): check characters 10-11.",
                code=code,
                day=decoded_day,
            ),
            code="invalid_date",
            field=field,
        )
    expected = codice_fiscale_check_char(code[:15])
    if code[15] != expected:
        raise IdentifierError(
            _(
                "Codice fiscale %(code)s has a wrong check character (expected %(expected)s): "
                "check for a typing error.",
                code=code,
                expected=expected,
            ),
            code="invalid_check_digit",
            field=field,
        )
    return code


# ---------------------------------------------------------------------------
# SDI recipient code

_SDI_RE = re.compile(r"[A-Z0-9]{6,7}")


def normalize_sdi_code(value: str) -> str:
    """Return an SDI recipient code (codice destinatario) for electronic invoices.

    Seven letters or digits for businesses (``0000000`` when the invoice goes to a
    PEC address or the customer has no code), six for a public administration
    office (Codice Univoco Ufficio). Returned upper-cased, without whitespace.
    """
    field = "sdi_code"
    code = _compact(value, field, "sdi_code")
    if not code.isascii() or not code.isalnum():
        raise IdentifierError(
            _(
                "SDI code %(code)s may only contain letters and digits: remove the other symbols.",
                code=_show(code),
            ),
            code="invalid_characters",
            field=field,
        )
    if not _SDI_RE.fullmatch(code):
        raise IdentifierError(
            _(
                "SDI code %(code)s has %(count)s characters: it has 7 (use 0000000 for PEC "
                "delivery or no code), or 6 for a public administration office.",
                code=_show(code),
                count=len(code),
            ),
            code="invalid_length",
            field=field,
        )
    return code


# ---------------------------------------------------------------------------
# Phone numbers

_TOO_SHORT = _("is too short: check that no digit is missing")
_TOO_LONG = _("is too long: check for extra digits")

_PHONE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: _(
        "has an unknown country code: check the digits after +"
    ),
    phonenumbers.ValidationResult.TOO_SHORT: _TOO_SHORT,
    phonenumbers.ValidationResult.TOO_LONG: _TOO_LONG,
    phonenumbers.ValidationResult.INVALID_LENGTH: _(
        "has the wrong number of digits: check that none is missing or repeated"
    ),
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: _(
        "is missing its area code: add it (for Italy, the leading 0 as well)"
    ),
}


def _phone_error(shown: str, problem: Message) -> IdentifierError:
    return IdentifierError(
        _("Phone number %(number)s %(problem)s.", number=shown, problem=problem),
        code="invalid_phone",
        field="phone",
    )


def normalize_phone(value: str, default_region: str = "IT") -> str:
    """Return a phone number in E.164 form, e.g. ``"+390744752000"``.

    Numbers written without an international prefix (``+`` or ``00``) are read
    as numbers of ``default_region`` (an ISO 3166 code such as ``"IT"``).
    """
    field = "phone"
    if not isinstance(value, str):
        raise _type_error(value, "phone", field)
    text = value.strip()
    if not text:
        raise _empty_error("phone", field)
    shown = _show(text)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if text.startswith(("+", "00")):
                problem = _("has an unknown country code: check the digits after the + or 00")
            else:
                problem = _(
                    "cannot be read without a country: write it with the international "
                    "prefix, e.g. +39 for Italy"
                )
        elif exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
            problem = _TOO_LONG
        elif exc.error_type in (
            phonenumbers.NumberParseException.TOO_SHORT_NSN,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD,
        ) or (text.lstrip("+").isdigit() and len(text.lstrip("+")) < 3):
            problem = _TOO_SHORT
        else:
            problem = _("is not a phone number: enter digits, optionally starting with +")
        raise _phone_error(shown, problem) from None
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        problem = _PHONE_REASONS.get(
            reason,
            _("is not a valid number: check the digits and the country prefix"),
        )
        raise _phone_error(shown, problem)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ---------------------------------------------------------------------------
# Mail domains

_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Dots that IDNA (RFC 3490, 3.1) treats as the full stop.
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _domain_error(message: Message) -> IdentifierError:
    return IdentifierError(message, code="invalid_domain", field="email_domains")


def normalize_email_domain(value: str) -> str:
    """Return a mail domain lower-cased and in ASCII (IDNA) form, e.g. ``"xn--caff-dma.it"``.

    A leading ``@`` and a trailing dot are dropped, so ``"@Example.IT"`` becomes
    ``"example.it"``. The domain must have at least two labels.
    """
    field = "email_domains"
    if not isinstance(value, str):
        raise _type_error(value, "email_domain", field)
    domain = value.strip().translate(_IDNA_DOTS).lower()
    domain = domain.removeprefix("@").removesuffix(".")
    if not domain:
        raise _empty_error("email_domain", field)
    shown = _show(domain)
    if "@" in domain:
        raise _domain_error(
            _("%(domain)s looks like an email address: enter only the part after @.", domain=shown)
        )
    if any(char.isspace() for char in domain):
        raise _domain_error(_("Mail domain %(domain)s contains spaces: remove them.", domain=shown))
    labels = domain.split(".")
    ascii_labels = []
    for label in labels:
        if not label:
            raise _domain_error(
                _(
                    "Mail domain %(domain)s has an empty part between dots: remove the extra dot.",
                    domain=shown,
                )
            )
        if label.isascii():
            ascii_label = label
        else:
            try:
                ascii_label = label.encode("idna").decode("ascii")
            except UnicodeError:
                raise _domain_error(
                    _(
                        "Mail domain %(domain)s has a part (%(part)s) that cannot be written "
                        "as an international domain name: check for symbols or typing errors.",
                        domain=shown,
                        part=_show(label),
                    )
                ) from None
        if not _LABEL_RE.fullmatch(ascii_label):
            raise _domain_error(
                _(
                    "Mail domain %(domain)s has an invalid part (%(part)s): each part "
                    "between dots has 1 to 63 letters, digits or hyphens, and does not start "
                    "or end with a hyphen.",
                    domain=shown,
                    part=_show(ascii_label),
                )
            )
        ascii_labels.append(ascii_label)
    if len(ascii_labels) < 2:
        raise _domain_error(
            _(
                "Mail domain %(domain)s has no dot: enter the full domain, e.g. example.it.",
                domain=shown,
            )
        )
    if ascii_labels[-1].isdigit():
        raise _domain_error(
            _(
                "Mail domain %(domain)s ends with a number: enter a domain name, "
                "not an IP address.",
                domain=shown,
            )
        )
    result = ".".join(ascii_labels)
    if len(result) > 253:
        raise _domain_error(
            _(
                "Mail domain %(domain)s is longer than 253 characters: check what was pasted.",
                domain=shown,
            )
        )
    return result


# ---------------------------------------------------------------------------
# Comuni

# Apostrophes and accents as keyboards and phones type them: Sant’Anatolia, Sant`Anatolia.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def comune_key(name: str) -> str:
    """The form in which two names of a comune are compared: the one rule for the tariff's
    district (billing), the organisation's place in it (customers) and the territory's
    zones (staff).

    Case, accents, apostrophes and spaces do not matter: ``" Citta' di  Castello "``,
    ``"CITTÀ DI CASTELLO"`` and ``"Città di Castello"`` are one comune. Never raises;
    an empty or blank name gives ``""`` (no comune).
    """
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKD", name.translate(_APOSTROPHES).casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    # "Citta'" is how "Città" is typed without the accented key: the same comune.
    text = re.sub(r"(?<=[aeiou])'(?=\s|$)", "", text)
    return " ".join(text.replace("'", "' ").split()).replace("' ", "'")
