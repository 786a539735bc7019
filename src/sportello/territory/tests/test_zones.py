"""Zones are lists of comuni; an organisation's zone follows from its comune, compared as
the tariff's district compares them (one rule: ``identifiers.comune_key``)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from sportello.core.identifiers import comune_key
from sportello.customers.models import Organisation
from sportello.desk.tests.support import PASSWORD
from sportello.staff.models import Zone
from sportello.staff.services import zone_save
from sportello.territory.selectors import organisation_zone, zone_for_comune, zone_organisations

pytestmark = pytest.mark.django_db

NAMES = [
    ("Narni", "narni"),
    ("  NARNI ", "narni"),
    ("Città di Castello", "citta di castello"),
    ("Citta' di  Castello", "citta di castello"),
    ("CITTÀ DI CASTELLO", "citta di castello"),
    ("Sant’Anatolia di Narco", "sant'anatolia di narco"),
    ("Sant' Anatolia di Narco", "sant'anatolia di narco"),
    ("", ""),
    ("   ", ""),
]


@pytest.mark.parametrize(("typed", "key"), NAMES)
def test_one_rule_compares_comuni_case_accents_apostrophes_and_spaces_aside(typed, key):
    assert comune_key(typed) == key


def test_a_zone_keeps_each_comune_once_trimmed():
    zone = zone_save(zone=Zone(name="Narni-Amelia", comuni=[" Narni ", "narni", "Amelia", ""]))
    zone.refresh_from_db()
    assert zone.comuni == ["Narni", "Amelia"]


def test_a_comune_in_two_zones_is_refused_with_both_names():
    zone_save(zone=Zone(name="Terni", comuni=["Terni", "Narni"]))
    with translation.override("it"), pytest.raises(ValidationError) as caught:
        zone_save(zone=Zone(name="Narni-Amelia", comuni=["Amelia", "NARNI"]))
    message = " ".join(caught.value.message_dict["comuni"])
    assert "NARNI è nella zona Terni" in message
    assert "Toglilo da questo elenco" in message
    assert not Zone.objects.filter(name="Narni-Amelia").exists()


def test_a_zone_may_be_saved_again_with_its_own_comuni():
    zone = zone_save(zone=Zone(name="Terni", comuni=["Terni"]))
    zone.comuni = ["Terni", "Stroncone"]
    zone_save(zone=zone)
    assert Zone.objects.get(pk=zone.pk).comuni == ["Terni", "Stroncone"]


def test_an_organisations_zone_follows_from_its_comune(people):
    narni = zone_save(zone=Zone(name="Narni-Amelia", comuni=["Narni", "Amelia"]))
    org = people["org_a"]
    org.comune = "  narni"
    org.save()
    assert organisation_zone(organisation=org) == narni
    assert zone_for_comune("AMELIA") == narni
    assert zone_organisations(zone=narni) == [org]
    # An organisation whose comune no zone lists, one without a comune, and no organisation.
    org.comune = "Orvieto"
    assert organisation_zone(organisation=org) is None
    org.comune = ""
    assert organisation_zone(organisation=org) is None
    assert organisation_zone(organisation=None) is None


def test_the_tariffs_district_compares_comuni_by_the_same_rule(people):
    org = people["org_a"]
    org.comune, org.in_district, org.distance_km = "  NARNÌ ", False, 12
    org.full_clean()
    assert org.in_district  # "Narni" is in the default district (Terni, Narni)


def test_the_admin_edits_zones_one_comune_per_line(client, people):
    client.login(username="ada", password=PASSWORD)  # the admin role
    url = reverse("admin:staff_zone_add")
    response = client.post(url, {"name": "Terni", "comuni": "Terni\r\nStroncone\r\n\r\n"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Zone.objects.get(name="Terni").comuni == ["Terni", "Stroncone"]
    page = client.get(reverse("admin:staff_zone_change", args=[Zone.objects.get().pk]))
    assert "Terni\nStroncone</textarea>" in page.content.decode()

    refused = client.post(url, {"name": "Altra", "comuni": "stroncone"}, HTTP_ACCEPT_LANGUAGE="it")
    assert refused.status_code == 200
    assert "stroncone è nella zona Terni" in refused.content.decode()
    assert not Zone.objects.filter(name="Altra").exists()


@pytest.mark.parametrize("who", ["bob", "sara", "carla"])
def test_only_the_admin_role_edits_zones(client, people, who):
    client.login(username=who, password=PASSWORD)
    response = client.post(reverse("admin:staff_zone_add"), {"name": "X", "comuni": "Terni"})
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"]
    assert not Zone.objects.exists()


def test_the_admins_organisation_list_shows_the_zone_or_none(client, people):
    zone_save(zone=Zone(name="Narni-Amelia", comuni=["Narni"]))
    Organisation.objects.filter(pk=people["org_a"].pk).update(comune="Narni")
    Organisation.objects.filter(pk=people["org_b"].pk).update(comune="Orvieto")
    client.login(username="ada", password=PASSWORD)
    page = client.get(reverse("admin:customers_organisation_changelist"), HTTP_ACCEPT_LANGUAGE="it")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Narni-Amelia" in html
    assert "nessuna zona" in html


def test_the_admin_lists_visits_without_changing_them(client, people):
    client.login(username="ada", password=PASSWORD)
    assert client.get(reverse("admin:territory_visit_changelist")).status_code == 200
    assert client.get(reverse("admin:territory_visit_add")).status_code == 403
