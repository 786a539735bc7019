from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from sportello.customers.models import ContactPhone, Organisation, OrganisationDomain
from sportello.tickets.tests.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def test_a_wrong_vat_check_digit_is_an_error_on_that_field():
    org = Organisation(name="Rossi S.r.l.", vat_number="01234567891")
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert list(exc.value.message_dict) == ["vat_number"]
    assert "check digit" in exc.value.message_dict["vat_number"][0]


def test_identifier_errors_are_shown_in_italian_by_default():
    org = Organisation(
        name="Rossi S.r.l.", vat_number="01234567891", fiscal_code="RSSMRA80A01H501A"
    )
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert exc.value.message_dict["vat_number"] == [
        "La partita IVA 01234567891 ha la cifra di controllo sbagliata (dovrebbe essere 7): "
        "controlla che non ci siano errori di battitura."
    ]
    assert exc.value.message_dict["fiscal_code"] == [
        "Il codice fiscale RSSMRA80A01H501A ha il carattere di controllo sbagliato (dovrebbe "
        "essere U): controlla che non ci siano errori di battitura."
    ]


def test_the_organisations_country_decides_the_vat_rule():
    german = Organisation(name="Muster GmbH", country="de", vat_number="de 136 695 976")
    german.full_clean()
    assert (german.country, german.vat_number) == ("DE", "DE136695976")
    misfiled = Organisation(name="Muster GmbH", vat_number="DE136695976")  # country IT
    with pytest.raises(ValidationError) as exc:
        misfiled.full_clean()
    assert exc.value.message_dict["vat_number"] == [
        "DE136695976 è un numero di partita IVA di DE, ma il paese dell'organizzazione è IT: "
        "imposta il paese a DE, oppure inserisci un numero di partita IVA di IT."
    ]
    typo = Organisation(name="Muster GmbH", country="DE", vat_number="DE136695975")
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        typo.full_clean()
    assert "wrong check digit for DE" in exc.value.message_dict["vat_number"][0]


def test_a_bad_country_is_an_error_on_the_country_only():
    org = Organisation(name="Greek S.A.", country="EL", vat_number="EL094259216")
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert list(exc.value.message_dict) == ["country"]
    assert exc.value.message_dict["country"] == ["Il paese EL non è un codice ISO 3166: usa GR."]
    org.country = "GR"
    org.full_clean()
    assert org.vat_number == "EL094259216"


def test_identifiers_are_stored_normalised():
    org = Organisation(
        name="Rossi S.r.l.",
        vat_number="IT 0012345 6782",
        fiscal_code="rssmra80a01h501u",
        sdi_code="m5uxcr1",
    )
    org.full_clean()
    assert (org.vat_number, org.fiscal_code, org.sdi_code) == (
        "00123456782",
        "RSSMRA80A01H501U",
        "M5UXCR1",
    )


def test_outside_the_district_needs_a_distance():
    org = Organisation(name="Lontano S.r.l.", in_district=False)
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert "distance_km" in exc.value.message_dict
    org.distance_km = Decimal("37")
    org.full_clean()


def test_phones_are_stored_in_e164():
    contact = ContactFactory()
    phone = ContactPhone(contact=contact, number="0744 752000")
    phone.full_clean()
    assert phone.number == "+390744752000"


def test_free_mail_domains_cannot_identify_an_organisation():
    org = OrganisationFactory()
    domain = OrganisationDomain(organisation=org, domain="@Gmail.com")
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        domain.full_clean()
    assert "gmail.com is a free-mail domain" in exc.value.message_dict["domain"][0]


def test_the_comune_decides_the_district_from_the_tariff():
    inside = Organisation(name="Narnese S.r.l.", comune="Narni", in_district=False)
    inside.full_clean()
    assert inside.in_district is True
    outside = Organisation(name="Spoleto S.r.l.", comune="Spoleto", in_district=True)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        outside.full_clean()
    assert (
        "Spoleto is outside the district (Narni, Terni" in exc.value.message_dict["distance_km"][0]
    )
