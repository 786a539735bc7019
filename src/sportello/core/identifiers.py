"""Normalise and validate Italian business identifiers, phone numbers and mail domains.

Pure Python on purpose (no Django): the mail parser and the billing code use it
too. Every ``normalize_*`` function returns the canonical form of a valid value
or raises :class:`IdentifierError`, whose message says what is wrong and how to
fix it, whose ``code`` names the problem and whose ``field`` names the input.

The check-digit algorithms are the official ones:

* partita IVA (and the 11-digit codice fiscale of companies): D.M. 23/12/1976,
  a Luhn variant: digits in odd positions are summed, digits in even positions
  are doubled (minus 9 when the result exceeds 9) and summed, and the check
  digit is ``(10 - total % 10) % 10``;
* personal codice fiscale: D.M. 12/03/1974, with the odd/even conversion tables
  and the omocodia substitutions (``LMNPQRSTUV`` for ``0-9``) of D.M. 23/12/1976.
"""

from __future__ import annotations

import re

import phonenumbers

from sportello.errors import SportelloError


class Message(str):
    """An English message that remembers its msgid and values, for translation later.

    This module stays free of Django; where a person reads the error, Django's gettext
    translates ``template`` and fills in ``params`` (``sportello.core.i18n``).
    """

    template: str
    params: dict

    def __new__(cls, template: str, params: dict | None = None):
        text = template % params if params else template
        message = super().__new__(cls, text)
        message.template, message.params = template, dict(params or {})
        return message

    def __mod__(self, params) -> Message:
        return Message(self.template, params)


def gettext_noop(message: str) -> Message:
    """Mark ``message`` for the catalogue (makemessages knows this name)."""
    return Message(message)


_ = gettext_noop

__all__ = [
    "IdentifierError",
    "codice_fiscale_check_char",
    "normalize_codice_fiscale",
    "normalize_email_domain",
    "normalize_partita_iva",
    "normalize_phone",
    "normalize_sdi_code",
    "partita_iva_check_digit",
]


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
    ``invalid_number``       an identifier made only of zeros;
    ``invalid_phone``        not a phone number that can be dialled;
    ``invalid_domain``       not a syntactically valid domain name.
    """

    code = "invalid_identifier"


# Shown values are cut to this length so that a pasted paragraph does not end up
# whole in an error message.
_SHOWN_MAX = 40

_WHITESPACE_RE = re.compile(r"\s+")
_DIGITS11_RE = re.compile(r"[0-9]{11}")


def _show(value: str) -> str:
    return value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "…"


def _compact(value: object, field: str, label: str) -> str:
    """Check that ``value`` is a non-empty string; return it upper-cased, without whitespace."""
    if not isinstance(value, str):
        raise IdentifierError(
            _("%(label)s must be text, not %(type)s.")
            % {"label": label, "type": type(value).__name__},
            code="invalid_type",
            field=field,
        )
    compact = _WHITESPACE_RE.sub("", value).upper()
    if not compact:
        raise IdentifierError(
            _("%(label)s is empty: enter it.") % {"label": label}, code="required", field=field
        )
    return compact


# ---------------------------------------------------------------------------
# Partita IVA


def partita_iva_check_digit(first10: str) -> str:
    """Return the check digit of the 10 leading digits of a partita IVA.

    The same algorithm gives the check digit of a company's codice fiscale.
    """
    if len(first10) != 10 or not first10.isascii() or not first10.isdigit():
        raise ValueError(f"expected 10 digits, got {first10!r}")
    total = 0
    for index, char in enumerate(first10):
        digit = int(char)
        if index % 2 == 1:  # 2nd, 4th, ... digit: an even position counting from 1
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def _check_eleven_digits(digits: str, *, label: str, field: str) -> None:
    if digits == "0" * 11:
        raise IdentifierError(
            _("%(label)s %(digits)s is made only of zeros: enter the real number.")
            % {"label": label, "digits": digits},
            code="invalid_number",
            field=field,
        )
    expected = partita_iva_check_digit(digits[:10])
    if digits[10] != expected:
        raise IdentifierError(
            _(
                "%(label)s %(digits)s has a wrong check digit (expected %(expected)s): "
                "check for a typing error."
            )
            % {"label": label, "digits": digits, "expected": expected},
            code="invalid_check_digit",
            field=field,
        )


def normalize_partita_iva(value: str) -> str:
    """Return the 11 digits of an Italian partita IVA (VAT number).

    Whitespace is ignored and an ``IT`` country prefix is accepted and dropped:
    ``"IT 00488410010"`` becomes ``"00488410010"``.
    """
    field, label = "vat_number", _("Partita IVA")
    compact = _compact(value, field, _("The partita IVA"))
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
                    "%(label)s %(value)s looks like a foreign VAT number: an Italian "
                    "partita IVA is 11 digits, optionally preceded by IT."
                )
                % {"label": label, "value": _show(compact)},
                code="invalid_characters",
                field=field,
            )
        raise IdentifierError(
            _(
                "%(label)s %(value)s must be made of 11 digits (optionally preceded by IT): "
                "remove letters and symbols."
            )
            % {"label": label, "value": _show(compact)},
            code="invalid_characters",
            field=field,
        )
    if len(digits) != 11:
        raise IdentifierError(
            _(
                "%(label)s %(value)s has %(count)s digits instead of 11: "
                "check that none is missing or repeated (leading zeros count)."
            )
            % {"label": label, "value": _show(compact), "count": len(digits)},
            code="invalid_length",
            field=field,
        )
    _check_eleven_digits(digits, label=label, field=field)
    return digits


# ---------------------------------------------------------------------------
# Codice fiscale

# Omocodia: the digits of a personal code may be replaced, from the right, by
# these letters to tell apart two people who would otherwise share a code.
_OMOCODIA = "LMNPQRSTUV"
_FROM_OMOCODIA = str.maketrans(_OMOCODIA, "0123456789")

# Positions (0-based) that hold a digit, or its omocodia letter, in a personal code.
_CF_DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
_CF_MONTHS = "ABCDEHLMPRST"
_CF_MONTH_DAYS = dict(
    zip(_CF_MONTHS, (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), strict=True)
)

_D = f"[0-9{_OMOCODIA}]"
_CF_PERSONAL_RE = re.compile(
    rf"[A-Z]{{6}}{_D}{{2}}[{_CF_MONTHS}]{_D}{{2}}[A-Z]{_D}{{3}}[A-Z]",
)

# Values of the characters in odd positions (1st, 3rd, ... counting from 1).
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)
        + (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25)
        + (24, 23),
        strict=True,
    )
)
# Values of the characters in even positions: digits are themselves, A-Z are 0-25.
_CF_EVEN = {str(n): n for n in range(10)} | {chr(ord("A") + n): n for n in range(26)}


def codice_fiscale_check_char(first15: str) -> str:
    """Return the check character of the 15 leading characters of a personal codice fiscale."""
    if len(first15) != 15 or any(char not in _CF_EVEN for char in first15):
        raise ValueError(f"expected 15 characters A-Z or 0-9, got {first15!r}")
    total = sum(
        _CF_ODD[char] if index % 2 == 0 else _CF_EVEN[char] for index, char in enumerate(first15)
    )
    return chr(ord("A") + total % 26)


def _personal_format_hint(code: str) -> str:
    """Say where a 16-character code breaks the personal codice fiscale pattern."""
    parts = (
        (range(0, 6), "the first 6 characters (surname and name) must be letters"),
        (range(6, 8), "characters 7-8 (year of birth) must be digits"),
        (range(8, 9), f"character 9 (month of birth) must be one of {_CF_MONTHS}"),
        (range(9, 11), "characters 10-11 (day of birth) must be digits"),
        (range(11, 12), "character 12 (place of birth) must be a letter"),
        (range(12, 15), "characters 13-15 (place of birth) must be digits"),
        (range(15, 16), "the last character (check character) must be a letter"),
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
                    rule += f" or one of the letters {_OMOCODIA} that replace them"
                return rule
    return "it does not follow the pattern of a personal code"  # pragma: no cover


def normalize_codice_fiscale(value: str) -> str:
    """Return an Italian codice fiscale, upper-cased and without whitespace.

    Accepts the 11-digit code of a company (checked like a partita IVA) and the
    16-character code of a person, including omocodic codes, whose digits are
    partly replaced by the letters ``LMNPQRSTUV``; these are returned as they
    are, not decoded, since that is the code the person was given.
    """
    field = "fiscal_code"
    code = _compact(value, field, _("The codice fiscale"))
    if not code.isascii() or not code.isalnum():
        raise IdentifierError(
            f"Codice fiscale {_show(code)} may only contain letters and digits: "
            "remove the other symbols.",
            code="invalid_characters",
            field=field,
        )
    if len(code) == 11:
        if not code.isdigit():
            raise IdentifierError(
                f"Codice fiscale {code} has 11 characters, so it should be a company's code, "
                "which is made only of digits: check for letters typed in place of digits.",
                code="invalid_characters",
                field=field,
            )
        _check_eleven_digits(code, label=_("Codice fiscale"), field=field)
        return code
    if len(code) != 16:
        hint = (
            " The codice fiscale has no IT prefix: remove it."
            if code.startswith("IT") and len(code) in (13, 18)
            else ""
        )
        raise IdentifierError(
            f"Codice fiscale {_show(code)} has {len(code)} characters: a person's code has 16 "
            f"and a company's code 11 digits.{hint}",
            code="invalid_length",
            field=field,
        )
    if not _CF_PERSONAL_RE.fullmatch(code):
        raise IdentifierError(
            f"Codice fiscale {code} is not a valid personal code: {_personal_format_hint(code)}.",
            code="invalid_format",
            field=field,
        )
    decoded = _decode_omocodia(code)
    day = int(decoded[9:11])
    birth_day = day - 40 if day > 40 else day  # women have 40 added to the day
    if not 1 <= birth_day <= _CF_MONTH_DAYS[code[8]]:
        raise IdentifierError(
            f"Codice fiscale {code} has an impossible day of birth ({decoded[9:11]}; "
            "women's codes add 40 to the day): check characters 10-11.",
            code="invalid_date",
            field=field,
        )
    expected = codice_fiscale_check_char(code[:15])
    if code[15] != expected:
        raise IdentifierError(
            _(
                "Codice fiscale %(code)s has a wrong check character (expected %(expected)s): "
                "check for a typing error."
            )
            % {"code": code, "expected": expected},
            code="invalid_check_digit",
            field=field,
        )
    return code


def _decode_omocodia(code: str) -> str:
    """Replace the omocodia letters of a personal code with the digits they stand for."""
    chars = list(code)
    for index in _CF_DIGIT_POSITIONS:
        chars[index] = chars[index].translate(_FROM_OMOCODIA)
    return "".join(chars)


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
    code = _compact(value, field, "The SDI code")
    if not code.isascii() or not code.isalnum():
        raise IdentifierError(
            f"SDI code {_show(code)} may only contain letters and digits: "
            "remove the other symbols.",
            code="invalid_characters",
            field=field,
        )
    if not _SDI_RE.fullmatch(code):
        raise IdentifierError(
            f"SDI code {_show(code)} has {len(code)} characters: it has 7 "
            "(use 0000000 for PEC delivery or no code), or 6 for a public administration office.",
            code="invalid_length",
            field=field,
        )
    return code


# ---------------------------------------------------------------------------
# Phone numbers

_PHONE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: (
        "has an unknown country code: check the digits after +"
    ),
    phonenumbers.ValidationResult.TOO_SHORT: "is too short: check that no digit is missing",
    phonenumbers.ValidationResult.TOO_LONG: "is too long: check for extra digits",
    phonenumbers.ValidationResult.INVALID_LENGTH: (
        "has the wrong number of digits: check that none is missing or repeated"
    ),
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: (
        "is missing its area code: add it (for Italy, the leading 0 as well)"
    ),
}


def normalize_phone(value: str, default_region: str = "IT") -> str:
    """Return a phone number in E.164 form, e.g. ``"+390744752000"``.

    Numbers written without an international prefix (``+`` or ``00``) are read
    as numbers of ``default_region`` (an ISO 3166 code such as ``"IT"``).
    """
    field = "phone"
    if not isinstance(value, str):
        raise IdentifierError(
            f"The phone number must be text, not {type(value).__name__}.",
            code="invalid_type",
            field=field,
        )
    text = value.strip()
    if not text:
        raise IdentifierError("The phone number is empty: enter it.", code="required", field=field)
    shown = _show(text)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if text.startswith(("+", "00")):
                problem = "has an unknown country code: check the digits after the + or 00"
            else:
                problem = (
                    "cannot be read without a country: write it with the international "
                    "prefix, e.g. +39 for Italy"
                )
        elif exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
            problem = "is too long: check for extra digits"
        elif exc.error_type in (
            phonenumbers.NumberParseException.TOO_SHORT_NSN,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD,
        ) or (text.lstrip("+").isdigit() and len(text.lstrip("+")) < 3):
            problem = "is too short: check that no digit is missing"
        else:
            problem = "is not a phone number: enter digits, optionally starting with +"
        raise IdentifierError(
            f"Phone number {shown} {problem}.", code="invalid_phone", field=field
        ) from None
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        problem = _PHONE_REASONS.get(
            reason,
            "is not a valid number: check the digits and the country prefix",
        )
        raise IdentifierError(f"Phone number {shown} {problem}.", code="invalid_phone", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# ---------------------------------------------------------------------------
# Mail domains

_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Dots that IDNA (RFC 3490, 3.1) treats as the full stop.
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def normalize_email_domain(value: str) -> str:
    """Return a mail domain lower-cased and in ASCII (IDNA) form, e.g. ``"xn--caff-dma.it"``.

    A leading ``@`` and a trailing dot are dropped, so ``"@Example.IT"`` becomes
    ``"example.it"``. The domain must have at least two labels.
    """
    field = "email_domains"
    if not isinstance(value, str):
        raise IdentifierError(
            f"The mail domain must be text, not {type(value).__name__}.",
            code="invalid_type",
            field=field,
        )
    domain = value.strip().translate(_IDNA_DOTS).lower()
    domain = domain.removeprefix("@").removesuffix(".")
    if not domain:
        raise IdentifierError("The mail domain is empty: enter it.", code="required", field=field)
    shown = _show(domain)
    if "@" in domain:
        raise IdentifierError(
            f"{shown} looks like an email address: enter only the part after @.",
            code="invalid_domain",
            field=field,
        )
    if any(char.isspace() for char in domain):
        raise IdentifierError(
            f"Mail domain {shown} contains spaces: remove them.",
            code="invalid_domain",
            field=field,
        )
    labels = domain.split(".")
    ascii_labels = []
    for label in labels:
        if not label:
            raise IdentifierError(
                f"Mail domain {shown} has an empty part between dots: remove the extra dot.",
                code="invalid_domain",
                field=field,
            )
        if label.isascii():
            ascii_label = label
        else:
            try:
                ascii_label = label.encode("idna").decode("ascii")
            except UnicodeError:
                raise IdentifierError(
                    f"Mail domain {shown} has a part ({_show(label)}) that cannot be written "
                    "as an international domain name: check for symbols or typing errors.",
                    code="invalid_domain",
                    field=field,
                ) from None
        if not _LABEL_RE.fullmatch(ascii_label):
            raise IdentifierError(
                f"Mail domain {shown} has an invalid part ({_show(ascii_label)}): each part "
                "between dots has 1 to 63 letters, digits or hyphens, and does not start or "
                "end with a hyphen.",
                code="invalid_domain",
                field=field,
            )
        ascii_labels.append(ascii_label)
    if len(ascii_labels) < 2:
        raise IdentifierError(
            f"Mail domain {shown} has no dot: enter the full domain, e.g. example.it.",
            code="invalid_domain",
            field=field,
        )
    if ascii_labels[-1].isdigit():
        raise IdentifierError(
            f"Mail domain {shown} ends with a number: enter a domain name, not an IP address.",
            code="invalid_domain",
            field=field,
        )
    result = ".".join(ascii_labels)
    if len(result) > 253:
        raise IdentifierError(
            f"Mail domain {shown} is longer than 253 characters: check what was pasted.",
            code="invalid_domain",
            field=field,
        )
    return result
