"""The listino: a tariff version as the public support page writes it (tariff.text)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from sportello.tariff import DEFAULT_TARIFF, TariffInputError, TariffParams
from sportello.tariff.text import band_phrase, listino


@pytest.mark.parametrize(
    ("over", "up_to", "lang", "text"),
    [
        (None, 5, "it", "fino a 5"),
        (5, 15, "it", "oltre 5, fino a 15"),
        (60, None, "it", "oltre 60"),
        (None, 5, "en", "up to 5"),
        (5, 15, "en", "over 5, up to 15"),
        (D("7.5"), None, "it", "oltre 7,5"),
        (D("7.5"), None, "en", "over 7.5"),
    ],
)
def test_a_band_reads_the_same_in_a_charge_and_in_the_listino(over, up_to, lang, text):
    assert band_phrase(over, up_to, lang) == text


def test_the_policy_listino_in_italian():
    rows = listino(DEFAULT_TARIFF, "it", rate=D("60.00"), district=["Terni", "Narni"])
    assert [(r.group, r.label, r.price, r.amount) for r in rows] == [
        ("Risoluzione scritta (e-mail o portale)", "fino a 3 messaggi",
         "25% della tariffa oraria", D("15.00")),
        ("Risoluzione scritta (e-mail o portale)", "oltre 3 messaggi",
         "50% della tariffa oraria", D("30.00")),
        ("Connessione remota", "fino a 15 minuti", "50% della tariffa oraria", D("30.00")),
        ("Connessione remota", "oltre 15, fino a 60 minuti", "100% della tariffa oraria",
         D("60.00")),
        ("Connessione remota",
         "oltre 60 minuti, per ogni ulteriore frazione iniziata di 15 minuti",
         "25% della tariffa oraria", D("15.00")),
        ("Telefono", "fino a 5 minuti", "25% della tariffa oraria", D("15.00")),
        ("Telefono", "oltre 5, fino a 15 minuti", "50% della tariffa oraria", D("30.00")),
        ("Telefono", "oltre 15, fino a 60 minuti", "100% della tariffa oraria", D("60.00")),
        ("Telefono", "oltre 60 minuti, per ogni ulteriore frazione iniziata di 15 minuti",
         "25% della tariffa oraria", D("15.00")),
        ("Ritiro o riconsegna del materiale (per tratta)", "nel circondario (Terni, Narni)",
         "50% della tariffa oraria", D("30.00")),
        ("Ritiro o riconsegna del materiale (per tratta)",
         "fuori dal circondario, in base alla distanza di sola andata", "1,00\xa0€ al km", None),
        ("Altri addebiti", "Assistenza fuori dall'orario lavorativo", "+50% sul costo orario",
         None),
        ("Altri addebiti", "Diritto di chiamata (altri canali)", "25,00\xa0€", None),
    ]  # fmt: skip


def test_another_version_reads_its_own_figures_in_english():
    params = TariffParams(
        written_low_max_messages=1,
        written_low_percent=D("12.5"),
        phone_bands=((10, D(40)), (30, D(80))),
        over_step_minutes=20,
        out_of_hours_factor=D("1.25"),
        leg_per_km=D("0.80"),
        call_fee=D("30.00"),
    )
    rows = {(r.group, r.label): r.price for r in listino(params, "en")}
    assert rows[("Written (e-mail or portal)", "up to 1 message")] == "12.5% of the hourly rate"
    assert rows[("Phone", "up to 10 minutes")] == "40% of the hourly rate"
    assert rows[("Phone", "over 10, up to 30 minutes")] == "80% of the hourly rate"
    assert rows[("Phone", "over 30 minutes, for every further started 20 minutes")]
    assert rows[("Pick-up or return of hardware (each way)", "inside the district")]
    assert rows[("Other charges", "Service outside support hours")] == "+25% on the hourly rate"
    assert rows[("Other charges", "Call-out fee (other channels)")] == "€30.00"
    per_km = rows[
        (
            "Pick-up or return of hardware (each way)",
            "outside the district, by the one-way distance",
        )
    ]
    assert per_km == "€0.80 per km"


def test_amounts_round_as_the_quote_rounds():
    # 12.5% of 33.33 = 4.16625: half up to the cent, as a charge line would be.
    params = TariffParams(written_low_percent=D("12.5"))
    [low, *_] = listino(params, "it", rate=D("33.33"))
    assert low.amount == D("4.17")


def test_an_unknown_language_is_refused():
    with pytest.raises(TariffInputError, match="'it' or 'en'"):
        listino(DEFAULT_TARIFF, "fr")
