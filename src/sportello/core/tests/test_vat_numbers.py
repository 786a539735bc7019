"""Foreign EU VAT numbers: the organisation's country decides which rule applies.

Pure Python (runs with ``-p no:django`` too). The valid numbers are built with
reference check-digit algorithms written here from the national rules, not
taken from python-stdnum, so that the test checks the library rather than
repeating it.
"""

from __future__ import annotations

import pytest

from sportello.core.identifiers import (
    VAT_EXAMPLES,
    IdentifierError,
    Message,
    normalize_country,
    normalize_vat_number,
)

# ---------------------------------------------------------------------------
# Reference check digits, one per country, from the national rules.


def _de(first8: str) -> str:
    """Germany (USt-IdNr.): ISO 7064 MOD 11,10 over the first 8 digits."""
    product = 10
    for char in first8:
        total = (int(char) + product) % 10 or 10
        product = (2 * total) % 11
    return "DE" + first8 + str((11 - product) % 10)


def _fr(siren8: str) -> str:
    """France (TVA): a Luhn-valid SIREN, then the key (12 + 3 * (SIREN mod 97)) mod 97."""
    for last in "0123456789":
        siren = siren8 + last
        digits = [int(c) for c in reversed(siren)]
        total = sum(d if i % 2 == 0 else (2 * d) // 10 + (2 * d) % 10 for i, d in enumerate(digits))
        if total % 10 == 0:
            break
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def _at(first7: str) -> str:
    """Austria (UID): U, 7 digits, check digit (10 - (sum + 4) mod 10) mod 10."""
    total = 0
    for index, char in enumerate(first7):
        value = int(char) * (2 if index % 2 else 1)
        total += value // 10 + value % 10
    return f"ATU{first7}{(10 - (total + 4) % 10) % 10}"


def _nl(first8: str) -> str | None:
    """Netherlands (btw): 8 digits weighted 9..2, sum mod 11 is the 9th digit; then B01."""
    check = sum(int(c) * w for c, w in zip(first8, range(9, 1, -1), strict=True)) % 11
    return None if check == 10 else f"NL{first8}{check}B01"


def _es(dni8: str) -> str:
    """Spain (NIF of a person): the DNI's 8 digits and the letter of DNI mod 23."""
    return "ES" + dni8 + "TRWAGMYFPDXBNJZSQVHLCKE"[int(dni8) % 23]


def _bump_check(number: str) -> str:
    """The number with its check digit changed (a typo); NL's is before the B01 suffix."""
    body = number[:-3] if number.startswith("NL") else number
    i = max(i for i, c in enumerate(body) if c.isdigit())
    return number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]


VALID = {
    "DE": [_de("13669597"), _de("81156986"), _de("12345678")],
    "FR": [_fr("40303265"), _fr("73282932"), _fr("12345678")],
    "AT": [_at("1358562"), _at("3704850"), _at("1234567")],
    "NL": [n for n in (_nl("00449544"), _nl("81234567"), _nl("12345678")) if n],
    "ES": [_es("12345678"), _es("00000001"), _es("87654321")],
}


def test_reference_builders_agree_with_published_examples():
    # The examples printed in python-stdnum's documentation, rebuilt independently.
    assert _de("13669597") == "DE136695976"
    assert _at("1358562") == "ATU13585627"
    assert _nl("00449544") == "NL004495445B01"
    assert _es("12345678") == "ES12345678Z"


@pytest.mark.parametrize(
    ("country", "number"), [(c, n) for c, numbers in VALID.items() for n in numbers]
)
def test_valid_numbers_of_the_organisations_country_are_accepted(country, number):
    assert normalize_vat_number(number, country) == number


@pytest.mark.parametrize(
    ("country", "number"), [(c, n) for c, numbers in VALID.items() for n in numbers]
)
def test_a_wrong_check_digit_is_refused_for_that_country(country, number):
    with pytest.raises(IdentifierError) as info:
        normalize_vat_number(_bump_check(number), country)
    assert info.value.code == "invalid_check_digit", str(info.value)
    assert info.value.field == "vat_number"
    assert f"wrong check digit for {country}" in str(info.value)


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        # Written as on the customer's invoice: spaces, dots, dashes, lower case.
        ("DE 136 695 976", "DE", "DE136695976"),
        ("136.695.976", "DE", "DE136695976"),  # the prefix follows from the country
        ("atu 1358-5627", "AT", "ATU13585627"),
        ("U13585627", "AT", "ATU13585627"),
        ("004495445B01", "NL", "NL004495445B01"),
        ("nl 0044.95.445.b.01", "NL", "NL004495445B01"),
        ("12345678-Z", "ES", "ES12345678Z"),
        ("ESB64717838", "ES", "ESB64717838"),  # a company (CIF), letter first
        (_fr("40303265")[2:], "FR", _fr("40303265")),
        # Greece's VAT prefix is EL, not its ISO code GR.
        ("094259216", "GR", "EL094259216"),
        ("EL 094 259 216", "GR", "EL094259216"),
        ("GR094259216", "GR", "EL094259216"),  # written with the ISO code
        # Italy keeps its 11 digits without prefix, as before.
        ("IT 00488410010", "IT", "00488410010"),
        ("00488410010", "it", "00488410010"),
        # Outside the EU: stdnum's rule where it has one, else the value as given.
        ("CHE-116.281.710 MWST", "CH", "CHE116281710MWST"),
        ("12-3456789", "US", "123456789"),
    ],
)
def test_numbers_are_normalised_by_the_countrys_rule(value, country, expected):
    assert normalize_vat_number(value, country) == expected


def test_the_same_characters_are_judged_by_the_country():
    # 12345678Z is a Spanish NIF; for a German or French organisation it is not a number.
    assert normalize_vat_number("12345678Z", "ES") == "ES12345678Z"
    for country in ("DE", "FR", "AT", "NL"):
        with pytest.raises(IdentifierError) as info:
            normalize_vat_number("12345678Z", country)
        assert info.value.code in {"invalid_format", "invalid_length"}, country
        assert f"of {country}" in str(info.value) or f"for {country}" in str(info.value)
    # A German number is not an Italian partita IVA (Italian rule, Italian message).
    with pytest.raises(IdentifierError) as info:
        normalize_vat_number("136695976", "IT")
    assert info.value.code == "invalid_length"
    assert "Partita IVA" in str(info.value)


@pytest.mark.parametrize(
    ("value", "country", "other"),
    [
        ("DE136695976", "IT", "DE"),
        ("ATU13585627", "DE", "AT"),
        ("IT00488410010", "FR", "IT"),
        ("NL004495445B01", "ES", "NL"),
        ("EL094259216", "IT", "GR"),
    ],
)
def test_a_valid_number_of_another_eu_country_names_the_country_to_set(value, country, other):
    with pytest.raises(IdentifierError) as info:
        normalize_vat_number(value, country)
    assert info.value.code == "invalid_country"
    assert f"is a VAT number of {other}" in str(info.value)
    assert f"set the country to {other}" in str(info.value)


@pytest.mark.parametrize(
    ("value", "country", "code", "fragment"),
    [
        ("DE13669597", "DE", "invalid_length", "DE136695976"),  # one digit missing
        ("DE1366959761", "DE", "invalid_length", "wrong length for DE"),
        ("ATX13585627", "AT", "invalid_format", "ATU13585627"),  # the U is mandatory
        ("NL004495445A01", "NL", "invalid_format", "NL004495445B01"),
        ("FR2333417522", "FR", "invalid_length", "FR23334175221"),
        ("ES1234567", "ES", "invalid_length", "ES"),
        ("DE136_695_976", "DE", "invalid_characters", "letters and digits"),
        ("", "DE", "required", "empty"),
        ("X" * 30, "US", "invalid_length", "30 characters"),
    ],
)
def test_foreign_numbers_that_break_the_format_say_how(value, country, code, fragment):
    with pytest.raises(IdentifierError) as info:
        normalize_vat_number(value, country)
    assert info.value.code == code, str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"), [("IT", "IT"), (" de ", "DE"), ("Fr", "FR"), ("ch", "CH")]
)
def test_country_codes_are_normalised(value, expected):
    assert normalize_country(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("EL", "use GR"),  # Greece's VAT prefix is not its country code
        ("UK", "use GB"),
        ("ITA", "two letters"),
        ("XX", "two letters"),
        ("I1", "two letters"),
        ("", "empty"),
    ],
)
def test_unknown_country_codes_are_refused(value, fragment):
    with pytest.raises(IdentifierError) as info:
        normalize_vat_number("DE136695976", value)
    assert info.value.field == "country"
    assert fragment in str(info.value)


def test_every_example_shown_in_a_message_is_valid():
    for prefix, example in VAT_EXAMPLES.items():
        country = "GR" if prefix == "EL" else prefix
        expected = example[2:] if country == "IT" else example
        assert normalize_vat_number(example, country) == expected


def test_messages_render_through_the_given_gettext():
    message = Message("VAT number %(number)s is wrong: %(why)s.", number="X", why=Message("why"))
    catalogue = {
        "VAT number %(number)s is wrong: %(why)s.": "%(number)s sbagliata: %(why)s.",
        "why": "perché",
    }
    assert message.render() == "VAT number X is wrong: why."
    assert message.render(lambda m: catalogue.get(m, m)) == "X sbagliata: perché."
    # Without Django loaded (this module's import does not load it) translated() is English.
    exc = IdentifierError(message, code="invalid_format", field="vat_number")
    assert str(exc) == "VAT number X is wrong: why."
