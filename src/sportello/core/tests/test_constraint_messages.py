"""Every constraint a person can trip answers with a sentence saying what to do, in Italian.

Django's default ("Il vincolo “intervention_call_has_duration” è stato violato.") names
the constraint, not the fix; an agent in the admin cannot act on it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation

from sportello.customers.models import ContactEmail, Organisation, OrganisationDomain
from sportello.tickets.models import Intervention
from sportello.tickets.tests.factories import cast

# Written only by Sportello itself, never typed by a person.
SYSTEM_ONLY = {
    "charge_line_position",
    "message_inbound_message_id_unique",
    ("mail", "rawmessage", "sha256"),
    ("tickets", "ticket", "number"),
}


def sportello_models():
    return [m for m in apps.get_models() if m.__module__.startswith("sportello.")]


def test_every_constraint_and_unique_field_has_its_own_sentence():
    generic = []
    for model in sportello_models():
        for constraint in model._meta.constraints:
            if constraint.name in SYSTEM_ONLY:
                continue
            if constraint.violation_error_message == constraint.default_violation_error_message:
                generic.append(constraint.name)
        for field in model._meta.local_fields:
            key = (model._meta.app_label, model._meta.model_name, field.name)
            if not field.unique or field.primary_key or key in SYSTEM_ONLY:
                continue
            if isinstance(field, models.OneToOneField):
                continue
            if field.error_messages["unique"] == models.Field.default_error_messages["unique"]:
                generic.append(".".join(key))
    assert generic == []


def messages_of(instance) -> list[str]:
    with translation.override("it"), pytest.raises(ValidationError) as exc:
        instance.full_clean()
    return [m for ms in exc.value.message_dict.values() for m in ms]


@pytest.mark.django_db
def test_a_call_without_duration_says_to_fill_it_in_beside_the_field():
    from sportello.tickets import services

    people = cast()
    ticket = services.ticket_open(subject="x", channel="phone", contact=people["alice"])
    call = Intervention(ticket=ticket, kind="phone", started_at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    with translation.override("it"), pytest.raises(ValidationError) as exc:
        call.full_clean()
    assert exc.value.message_dict["duration_seconds"] == [
        "Una telefonata o una sessione remota ha bisogno della durata in secondi (ad es. 600 "
        "per 10 minuti); solo ritiri e riconsegne non ne hanno."
    ]


@pytest.mark.django_db
def test_the_customers_constraints_say_what_to_do():
    people = cast()
    org_a = people["org_a"]
    org_a.vat_number = "01234567897"
    org_a.save()
    twin = Organisation(name="Doppia", vat_number="01234567897", hourly_rate=50)
    far = Organisation(name="Lontana", hourly_rate=50, in_district=False, distance_km=None)
    domain = OrganisationDomain(organisation=people["org_b"], domain="alice.example.it")
    address = ContactEmail(contact=people["charlie"], address="alice@alice.example.it")
    found = [
        *messages_of(twin),
        *messages_of(far),
        *messages_of(domain),
        *messages_of(address),
    ]
    text = " ".join(found)
    assert "vincolo" not in text and "esiste già" not in text
    assert "Un'altra organizzazione ha già questa partita IVA" in text
    assert "distanza" in text  # the clean() sentence, beside the field
    assert "Questo dominio e-mail appartiene già a un'altra organizzazione" in text
    assert "Questo indirizzo e-mail appartiene già a un altro contatto" in text


@pytest.mark.django_db
def test_a_wrong_partita_iva_is_explained_in_italian_and_in_english():
    org = Organisation(name="Refuso S.r.l.", vat_number="01234567890", hourly_rate=50)
    [italian] = messages_of(org)
    assert italian.startswith("La partita IVA 01234567890 ha la cifra di controllo sbagliata")
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert exc.value.message_dict["vat_number"] == [
        "Partita IVA 01234567890 has a wrong check digit (expected 7): check for a typing error."
    ]
