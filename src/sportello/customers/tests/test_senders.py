"""A sender's address becomes a contact and an organisation the same way on every
channel: mail and the portal's contact form agree, inactive organisations included."""

from __future__ import annotations

import pytest

from sportello.customers import selectors, services
from sportello.customers.models import Contact
from sportello.mail.services import ingest_raw
from sportello.mail.tests.builders import customer_mail
from sportello.portal.services import contact_request_file
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return cast()


def test_a_known_address_is_its_contact_in_any_case(people):
    assert services.contact_for_sender(address=" Alice@Alice.Example.IT ") == people["alice"]
    assert selectors.contact_by_address(address="ALICE@alice.example.it") == people["alice"]


def test_a_new_sender_of_an_active_organisations_domain_joins_it_for_review(people):
    contact = services.contact_for_sender(address="bruno@alice.example.it", name="Bruno Neri")
    assert contact.organisation == people["org_a"] and contact.needs_review
    assert (contact.first_name, contact.last_name) == ("Bruno", "Neri")
    assert services.contact_for_sender(address="bruno@alice.example.it") == contact  # once


def test_free_mail_and_not_an_address_adopt_nobody(people):
    assert services.contact_for_sender(address="someone@gmail.com").organisation is None
    assert services.contact_for_sender(address="not an address") is None


@pytest.mark.parametrize("channel", ["mail", "contact form"])
def test_an_inactive_organisation_adopts_no_new_sender_on_any_channel(people, channel):
    org = people["org_a"]
    org.active = False
    org.save()
    address = "dario@alice.example.it"
    if channel == "mail":
        ingest_raw(customer_mail(sender=address, subject="Aiuto"), source="smtp")
    else:
        contact_request_file(name="Dario Gialli", email=address, message="Aiuto")
    contact = Contact.objects.get(emails__address=address)
    # A former customer's domain: an agent decides who this is (and at which rate).
    assert contact.organisation is None and contact.needs_review
    # A contact the desk already knows keeps its organisation.
    assert services.contact_for_sender(address="alice@alice.example.it").organisation == org
