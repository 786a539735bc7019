"""Tests for sportello.core.identifiers (pure Python: run with ``-p no:django``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sportello.core.identifiers import (
    IdentifierError,
    codice_fiscale_check_char,
    normalize_codice_fiscale,
    normalize_email_domain,
    normalize_partita_iva,
    normalize_phone,
    normalize_sdi_code,
    partita_iva_check_digit,
)
from sportello.errors import SportelloError

# ---------------------------------------------------------------------------
# Independent reference implementations, written differently from the module's
# on purpose, used only to build test data.


def _ref_piva_check(first10: str) -> str:
    odd = sum(int(d) for d in first10[0::2])
    even = sum((2 * int(d)) // 10 + (2 * int(d)) % 10 for d in first10[1::2])
    return str((10 - (odd + even) % 10) % 10)


_REF_ODD = "BAFHJNPRTVCESULDGIMOQKWZYX"  # value n of A..Z / 0..9 in odd positions -> letter n


def _ref_cf_check(first15: str) -> str:
    total = 0
    for position, char in enumerate(first15, start=1):
        index = int(char) if char.isdigit() else ord(char) - ord("A")
        if position % 2:  # odd position
            total += ord(_REF_ODD[index]) - ord("A")
        else:
            total += index
    return chr(ord("A") + total % 26)


def _piva(first10: str) -> str:
    return first10 + _ref_piva_check(first10)


def _cf(first15: str) -> str:
    return first15 + _ref_cf_check(first15)


def _wrong_last(code: str, alphabet: str) -> str:
    """The code with its last character replaced by the next one in ``alphabet``."""
    return code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]


def _raises(func, value, code: str, field: str, *fragments: str) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        func(value)
    exc = info.value
    assert exc.code == code, str(exc)
    assert exc.field == field
    for fragment in fragments:
        assert fragment in str(exc)
    return exc


# ---------------------------------------------------------------------------
# The error class


def test_identifier_error_is_a_sportello_error():
    exc = IdentifierError("msg", code="invalid_length", field="vat_number")
    assert isinstance(exc, SportelloError)
    assert (exc.code, exc.field, exc.message, str(exc)) == (
        "invalid_length",
        "vat_number",
        "msg",
        "msg",
    )
    assert IdentifierError("msg").code == "invalid_identifier"


def test_module_does_not_import_django():
    code = (
        "import sys, sportello.core.identifiers; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ---------------------------------------------------------------------------
# Reference implementations agree with the module's helpers and with known codes


@pytest.mark.parametrize(
    "first10",
    ["0048841001", "0090581100", "1018264015", "0000000000", "9999999999", "1234567890"],
)
def test_partita_iva_check_digit_matches_reference(first10):
    assert partita_iva_check_digit(first10) == _ref_piva_check(first10)


@pytest.mark.parametrize(
    "first15",
    ["RSSMRA80A01H501", "RSSMRA80A01H50M", "ZZZZZZ99T71Z999", "AAAAAA00A01A000", "BNCGNN75E45L219"],
)
def test_codice_fiscale_check_char_matches_reference(first15):
    assert codice_fiscale_check_char(first15) == _ref_cf_check(first15)


@pytest.mark.parametrize("bad", ["", "123456789", "12345678901", "abcdefghij", "١٢٣٤٥٦٧٨٩٠"])
def test_partita_iva_check_digit_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        partita_iva_check_digit(bad)


@pytest.mark.parametrize("bad", ["", "RSSMRA80A01H50", "rssmra80a01h501", "RSSMRA80A01H50!"])
def test_codice_fiscale_check_char_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        codice_fiscale_check_char(bad)


def test_reference_check_char_of_well_known_example():
    # RSSMRA80A01H501U (Mario Rossi, born in Rome on 1 January 1980) is the
    # textbook example of a personal codice fiscale.
    assert _ref_cf_check("RSSMRA80A01H501") == "U"


# ---------------------------------------------------------------------------
# Partita IVA

# Partite IVA of large Italian companies, as published on their websites and invoices.
KNOWN_PARTITE_IVA = [
    "00905811006",  # Eni S.p.A.
    "00488410010",  # Telecom Italia S.p.A. (TIM)
    "01114601006",  # Poste Italiane S.p.A.
    "10182640150",  # Luxottica Group S.p.A.
]


@pytest.mark.parametrize("piva", KNOWN_PARTITE_IVA)
def test_known_partite_iva_are_valid(piva):
    assert normalize_partita_iva(piva) == piva


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00488410010", "00488410010"),
        ("IT00488410010", "00488410010"),
        ("it00488410010", "00488410010"),
        ("IT 00488410010", "00488410010"),
        ("  004 884 100 10 ", "00488410010"),
        ("0048841\t0010\n", "00488410010"),
        ("\u00a0IT00905811006", "00905811006"),  # a no-break space pasted from a web page
        (_piva("1234567890"), _piva("1234567890")),
        (_piva("0000000001"), _piva("0000000001")),
        (_piva("9999999999"), _piva("9999999999")),
    ],
)
def test_normalize_partita_iva_valid(value, expected):
    assert normalize_partita_iva(value) == expected


@pytest.mark.parametrize(
    ("value", "code", "fragments"),
    [
        ("", "required", ["empty"]),
        ("   ", "required", ["empty"]),
        ("IT", "invalid_length", ["only the IT prefix"]),
        ("0048841001", "invalid_length", ["10 digits instead of 11"]),
        ("004884100100", "invalid_length", ["12 digits instead of 11"]),
        ("IT0048841001", "invalid_length", ["10 digits instead of 11"]),
        ("0048841001O", "invalid_characters", ["11 digits", "remove letters"]),
        ("IT 0048841001O", "invalid_characters", ["11 digits"]),
        ("IT-00488410010", "invalid_characters", ["remove letters and symbols"]),
        ("00488.410.010", "invalid_characters", ["remove letters and symbols"]),
        ("DE123456789", "invalid_characters", ["foreign VAT number"]),
        ("FRXX123456789", "invalid_characters", ["foreign VAT number"]),
        ("٠٠٤٨٨٤١٠٠١٠", "invalid_characters", ["11 digits"]),  # Arabic-Indic digits
        ("00000000000", "invalid_number", ["only of zeros"]),
        ("00488410011", "invalid_check_digit", ["wrong check digit (expected 0)", "typing"]),
        ("01234567891", "invalid_check_digit", ["01234567891", "(expected 7)"]),
        ("00488140010", "invalid_check_digit", ["wrong check digit"]),  # swapped digits
    ],
)
def test_normalize_partita_iva_invalid(value, code, fragments):
    _raises(normalize_partita_iva, value, code, "vat_number", *fragments)


@pytest.mark.parametrize("piva", KNOWN_PARTITE_IVA)
def test_every_other_check_digit_is_rejected(piva):
    for digit in "0123456789":
        candidate = piva[:10] + digit
        if digit == piva[10]:
            assert normalize_partita_iva(candidate) == piva
        else:
            _raises(
                normalize_partita_iva,
                candidate,
                "invalid_check_digit",
                "vat_number",
                f"(expected {piva[10]})",
            )


def test_wrong_check_digit_message_is_exact():
    exc = _raises(normalize_partita_iva, "01234567890", "invalid_check_digit", "vat_number")
    assert str(exc) == (
        "Partita IVA 01234567890 has a wrong check digit (expected 7): check for a typing error."
    )


def test_long_input_is_shortened_in_message():
    exc = _raises(normalize_partita_iva, "1" * 500, "invalid_length", "vat_number")
    assert len(str(exc)) < 200
    assert "500 digits" in str(exc)


@pytest.mark.parametrize("value", [None, 488410010, b"00488410010", ["00488410010"]])
def test_normalize_partita_iva_wrong_type(value):
    _raises(normalize_partita_iva, value, "invalid_type", "vat_number", "must be text")


# ---------------------------------------------------------------------------
# Codice fiscale

# Personal codes. RSSMRA80A01H501U is the well-known textbook example; the others
# are built here with the reference algorithm above.
PERSONAL_CODES = [
    "RSSMRA80A01H501U",  # man, born 1 Jan 1980 in Rome (H501)
    _cf("RSSMRA80A41H501"),  # woman: 40 added to the day
    _cf("BNCGNN75E45L219"),  # woman, born 5 May 1975 in Turin (L219)
    _cf("VRDLGU99T31F205"),  # 31 December, Milan (F205)
    _cf("XXXYYY01B29Z404"),  # 29 February, born abroad (Z404, United States)
    _cf("ABCDEF00S30D612"),  # 30 November, Florence (D612)
    _cf("BNCGNN75E71L219"),  # woman, born on the 31st
]

# Omocodic codes: digits replaced, from the right, by LMNPQRSTUV.
OMOCODIC_CODES = [
    "RSSMRA80A01H50MM",  # H501 -> H50M (1 -> M): check character recomputed
    _cf("RSSMRA80A01H5LM"),  # two substitutions: 0 -> L, 1 -> M
    _cf("RSSMRA80A01HRLM"),  # three
    _cf("RSSMRA80A0MHRLM"),  # four (day 01 -> 0M)
    _cf("RSSMRA80ALMHRLM"),  # five
    _cf("RSSMRAUVALMHRLM"),  # all seven: year 89 -> UV
    _cf("BNCGNN75E4RLNMV"),  # woman, day 45 -> 4R, L219 -> LNMV
]


def test_textbook_codes_have_known_check_characters():
    assert PERSONAL_CODES[0] == "RSSMRA80A01H501U"
    assert OMOCODIC_CODES[0][-1] == _ref_cf_check("RSSMRA80A01H50M")
    assert codice_fiscale_check_char("RSSMRA80A01H501") == "U"


@pytest.mark.parametrize("code", PERSONAL_CODES + OMOCODIC_CODES)
def test_personal_codes_are_valid(code):
    assert normalize_codice_fiscale(code) == code


@pytest.mark.parametrize("code", OMOCODIC_CODES)
def test_omocodic_codes_are_returned_undecoded(code):
    result = normalize_codice_fiscale(code.lower())
    assert result == code
    assert any(char in "LMNPQRSTUV" for char in result[6:15])


# Company codes: 11 digits, same algorithm as the partita IVA.
COMPANY_CODES = [
    "00484960588",  # Eni S.p.A. (codice fiscale, which differs from its partita IVA)
    "00811720580",  # Enel S.p.A.
    "00488410010",  # Telecom Italia S.p.A.: codice fiscale and partita IVA are the same
    _piva("9710388058"),
]


@pytest.mark.parametrize("code", COMPANY_CODES)
def test_company_codes_are_valid(code):
    assert normalize_codice_fiscale(code) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rssmra80a01h501u", "RSSMRA80A01H501U"),
        ("RSS MRA 80A01 H501U", "RSSMRA80A01H501U"),
        (" RSSMRA80A01H501U\n", "RSSMRA80A01H501U"),
        ("rssmra80a01h50mm", "RSSMRA80A01H50MM"),
        ("004 849 605 88", "00484960588"),
    ],
)
def test_normalize_codice_fiscale_cleans_input(value, expected):
    assert normalize_codice_fiscale(value) == expected


@pytest.mark.parametrize(
    ("value", "code", "fragments"),
    [
        ("", "required", ["empty"]),
        ("RSSMRA80A01H501", "invalid_length", ["15 characters", "16", "11 digits"]),
        ("RSSMRA80A01H501UX", "invalid_length", ["17 characters"]),
        ("0048496058", "invalid_length", ["10 characters"]),
        ("IT00484960588", "invalid_length", ["no IT prefix"]),
        ("RSSMRA80A01H501-", "invalid_characters", ["letters and digits"]),
        ("RSSMRÀ80A01H501U", "invalid_characters", ["letters and digits"]),
        ("0048496058O", "invalid_characters", ["company", "only of digits"]),
        ("00484960589", "invalid_check_digit", ["wrong check digit (expected 8)"]),
        ("00000000000", "invalid_number", ["only of zeros"]),
        ("RSSMRA80A01H501A", "invalid_check_digit", ["wrong check character (expected U)"]),
        ("RSSMRA80A01H501V", "invalid_check_digit", ["(expected U)", "typing"]),
        ("RSSMRA80A01H50MU", "invalid_check_digit", ["(expected M)"]),  # omocodic, old check
        ("RSSMR480A01H501U", "invalid_format", ["first 6 characters", "letters"]),
        ("RSSMRAB0A01H501U", "invalid_format", ["characters 7-8", "LMNPQRSTUV"]),
        ("RSSMRA80F01H501U", "invalid_format", ["character 9", "ABCDEHLMPRST"]),
        ("RSSMRA80101H501U", "invalid_format", ["character 9"]),
        ("RSSMRA80A0AH501U", "invalid_format", ["characters 10-11", "LMNPQRSTUV"]),
        ("RSSMRA80A011501U", "invalid_format", ["character 12", "letter"]),
        ("RSSMRA80A01H5O1U", "invalid_format", ["characters 13-15"]),  # letter O, not zero
        ("RSSMRA80A01H5011", "invalid_format", ["last character"]),
        (_cf("RSSMRA80A00H501"), "invalid_date", ["impossible day", "(00;"]),
        (_cf("RSSMRA80A32H501"), "invalid_date", ["(32;"]),
        (_cf("RSSMRA80B30H501"), "invalid_date", ["(30;"]),  # 30 February
        (_cf("RSSMRA80S31H501"), "invalid_date", ["(31;"]),  # 31 November
        (_cf("RSSMRA80A40H501"), "invalid_date", ["(40;"]),
        (_cf("RSSMRA80A72H501"), "invalid_date", ["(72;"]),
        (_cf("RSSMRA80A9MH501"), "invalid_date", ["(91;"]),  # omocodic 91
    ],
)
def test_normalize_codice_fiscale_invalid(value, code, fragments):
    _raises(normalize_codice_fiscale, value, code, "fiscal_code", *fragments)


@pytest.mark.parametrize("code", PERSONAL_CODES + OMOCODIC_CODES)
def test_personal_codes_with_another_check_character_are_rejected(code):
    wrong = _wrong_last(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    _raises(
        normalize_codice_fiscale,
        wrong,
        "invalid_check_digit",
        "fiscal_code",
        f"(expected {code[-1]})",
    )


@pytest.mark.parametrize("code", COMPANY_CODES)
def test_company_codes_with_another_check_digit_are_rejected(code):
    _raises(
        normalize_codice_fiscale,
        _wrong_last(code, "0123456789"),
        "invalid_check_digit",
        "fiscal_code",
    )


def test_single_typing_errors_are_caught():
    code = "RSSMRA80A01H501U"
    for index in range(15):
        for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
            typo = code[:index] + char + code[index + 1 :]
            if char == code[index]:
                continue
            try:
                normalize_codice_fiscale(typo)
            except IdentifierError:
                continue
            # A typo that still passes must be an omocodia letter standing for the same digit.
            assert code[index].isdigit() and "LMNPQRSTUV".index(char) == int(code[index])


@pytest.mark.parametrize("value", [None, 12345678901, object()])
def test_normalize_codice_fiscale_wrong_type(value):
    _raises(normalize_codice_fiscale, value, "invalid_type", "fiscal_code")


# ---------------------------------------------------------------------------
# SDI code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0000000", "0000000"),  # invoice delivered by PEC, or no code
        ("M5UXCR1", "M5UXCR1"),
        ("m5uxcr1", "M5UXCR1"),
        (" KRRH6B9 ", "KRRH6B9"),
        ("USAL8PV", "USAL8PV"),
        ("XXXXXXX", "XXXXXXX"),  # foreign recipients
        ("UFY9MH", "UFY9MH"),  # Codice Univoco Ufficio of a public administration
        ("uf 3f2z", "UF3F2Z"),
    ],
)
def test_normalize_sdi_code_valid(value, expected):
    assert normalize_sdi_code(value) == expected


@pytest.mark.parametrize(
    ("value", "code", "fragments"),
    [
        ("", "required", ["empty"]),
        ("  ", "required", ["empty"]),
        ("00000", "invalid_length", ["5 characters", "7", "0000000", "6"]),
        ("00000000", "invalid_length", ["8 characters"]),
        ("M5UXCR1X9", "invalid_length", ["9 characters"]),
        ("M5UX-R1", "invalid_characters", ["letters and digits"]),
        ("M5UXÇR1", "invalid_characters", ["letters and digits"]),
        ("pec@pec.it", "invalid_characters", ["letters and digits"]),
    ],
)
def test_normalize_sdi_code_invalid(value, code, fragments):
    _raises(normalize_sdi_code, value, code, "sdi_code", *fragments)


def test_normalize_sdi_code_wrong_type():
    _raises(normalize_sdi_code, 1234567, "invalid_type", "sdi_code")


# ---------------------------------------------------------------------------
# Phone numbers


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        # Italian fixed line (Terni), with and without the country prefix.
        ("+39 0744 752000", "IT", "+390744752000"),
        ("0744 752000", "IT", "+390744752000"),
        ("0744752000", "IT", "+390744752000"),
        ("0744/752000", "IT", "+390744752000"),
        ("0039 0744 752000", "IT", "+390744752000"),
        ("+39 (0744) 752-000", "IT", "+390744752000"),
        # Rome and Milan, whose leading 0 is kept after +39.
        ("06 4991 1", "IT", "+390649911"),
        ("+39 02 1234 5678", "IT", "+390212345678"),
        # Italian mobiles.
        ("+39 347 123 4567", "IT", "+393471234567"),
        ("347 123 4567", "IT", "+393471234567"),
        ("3471234567", "IT", "+393471234567"),
        ("+393331234567", "IT", "+393331234567"),
        ("0039 333 1234567", "IT", "+393331234567"),
        # Toll-free.
        ("800 123 456", "IT", "+39800123456"),
        # Foreign numbers, written with their prefix or read in their region.
        ("+44 20 7946 0958", "IT", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+39 0744 752000", "GB", "+390744752000"),
        ("+41 44 668 18 00", "IT", "+41446681800"),
    ],
)
def test_normalize_phone_valid(value, region, expected):
    assert normalize_phone(value, region) == expected


def test_normalize_phone_defaults_to_italy():
    assert normalize_phone("0744 752000") == "+390744752000"


@pytest.mark.parametrize(
    ("value", "region", "fragments"),
    [
        ("abc", "IT", ["is not a phone number"]),
        ("---", "IT", ["is not a phone number"]),
        ("1", "IT", ["too short"]),
        ("123", "IT", ["too short"]),
        ("+39", "IT", ["too short"]),
        ("+", "IT", ["is not a phone number"]),
        ("+39 0744", "IT", ["too short"]),
        ("+39 06 12345678901234", "IT", ["too long"]),
        ("9" * 300, "IT", ["too long"]),
        ("+999 1234567", "IT", ["unknown country code", "after the +"]),
        ("00999 1234567", "IT", ["unknown country code"]),
        ("0744 752000", "ZZ", ["without a country", "+39"]),
        ("+39 123 456 7890", "IT", ["+39 123 456 7890"]),  # no Italian number starts with 1
        ("+39 999 1234567", "IT", []),
        ("+1 555 0100", "IT", []),
    ],
)
def test_normalize_phone_invalid(value, region, fragments):
    with pytest.raises(IdentifierError) as info:
        normalize_phone(value, region)
    assert info.value.code == "invalid_phone"
    assert info.value.field == "phone"
    assert str(info.value).startswith("Phone number ")
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("value", "code"),
    [("", "required"), ("  ", "required"), (None, "invalid_type"), (390744752000, "invalid_type")],
)
def test_normalize_phone_empty_or_wrong_type(value, code):
    _raises(normalize_phone, value, code, "phone")


# ---------------------------------------------------------------------------
# Mail domains


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.it", "example.it"),
        ("Example.IT", "example.it"),
        ("@example.it", "example.it"),
        ("  @Mail.Example.Co.UK  ", "mail.example.co.uk"),
        ("example.it.", "example.it"),
        ("my-company2.it", "my-company2.it"),
        ("a.b", "a.b"),
        ("123.it", "123.it"),
        ("caffè.it", "xn--caff-8oa.it"),
        ("CAFFÈ.IT", "xn--caff-8oa.it"),
        ("xn--caff-8oa.it", "xn--caff-8oa.it"),
        ("@münchen.de", "xn--mnchen-3ya.de"),
        ("例え.jp", "xn--r8jz45g.jp"),
        ("ＥＸＡＭＰＬＥ．ＩＴ", "example.it"),  # full-width letters and dot
        ("example。it", "example.it"),  # ideographic full stop
        ("a" * 63 + ".it", "a" * 63 + ".it"),
    ],
)
def test_normalize_email_domain_valid(value, expected):
    assert normalize_email_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "code", "fragments"),
    [
        ("", "required", ["empty"]),
        ("@", "required", ["empty"]),
        (" . ", "required", ["empty"]),
        ("mario.rossi@example.it", "invalid_domain", ["email address", "after @"]),
        ("@@example.it", "invalid_domain", ["email address"]),
        ("localhost", "invalid_domain", ["no dot"]),
        ("example..it", "invalid_domain", ["empty part"]),
        (".example.it", "invalid_domain", ["empty part"]),
        ("-example.it", "invalid_domain", ["(-example)", "hyphen"]),
        ("example-.it", "invalid_domain", ["(example-)"]),
        ("exa_mple.it", "invalid_domain", ["(exa_mple)"]),
        ("exa mple.it", "invalid_domain", ["spaces"]),
        ("example.it/path", "invalid_domain", ["invalid part"]),
        ("http://example.it", "invalid_domain", ["invalid part"]),
        ("a" * 64 + ".it", "invalid_domain", ["1 to 63"]),
        ("192.168.1.1", "invalid_domain", ["IP address"]),
        (".".join(["a" * 63] * 4) + ".it", "invalid_domain", ["253"]),
        ("caffè" + "e" * 60 + ".it", "invalid_domain", ["international domain name"]),
    ],
)
def test_normalize_email_domain_invalid(value, code, fragments):
    _raises(normalize_email_domain, value, code, "email_domains", *fragments)


def test_normalize_email_domain_wrong_type():
    _raises(normalize_email_domain, None, "invalid_type", "email_domains")
