"""Writes of customers. Every channel that meets a sender by address (mail, the portal's
contact form) turns it into a contact here, the same way."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from sportello.core import identifiers
from sportello.errors import SportelloError

from . import selectors
from .models import Contact, ContactEmail, ContactPhone, Organisation


def contact_for_sender(*, address: str, name: str = "") -> Contact | None:
    """The contact behind ``address``: the known one, else a new contact (marked for an
    agent's review) of the active organisation that owns the address's domain, or of none.
    None when ``address`` is not an e-mail address."""
    address = selectors.address_normalised(address)
    if "@" not in address:
        return None
    known = selectors.contact_by_address(address=address)
    if known is not None:
        return known
    org = selectors.organisation_for_domain(domain=address.rsplit("@", 1)[1])
    first, _sep, last = (name or "").strip().partition(" ")
    try:
        with transaction.atomic():  # a savepoint: the race below must not end the caller's work
            contact = Contact.objects.create(
                organisation=org, first_name=first[:100], last_name=last[:100], needs_review=True
            )
            ContactEmail.objects.create(contact=contact, address=address, primary=True)
    except IntegrityError:
        # Two messages of a new sender filed at once (two workers on PostgreSQL): the other
        # one created the contact a moment ago, and it is the same person.
        return ContactEmail.objects.select_related("contact").get(address=address).contact
    return contact


class ContactInputError(SportelloError):
    """Bad input for a contact; ``field`` names it."""

    code = "invalid_input"


def contact_phone_link(*, contact: Contact, number: str, label: str = "") -> ContactPhone:
    """Store ``number`` (read in region IT, kept in E.164) as a phone of ``contact``, so
    that the next call from it finds the contact; a number the contact already has is
    left as it is."""
    e164 = identifiers.normalize_phone(number)
    phone, _created = ContactPhone.objects.get_or_create(
        contact=contact, number=e164, defaults={"label": label[:40]}
    )
    return phone


def contact_create(
    *,
    first_name: str,
    last_name: str,
    organisation: Organisation | None = None,
    email: str = "",
    phone: str = "",
) -> Contact:
    """A new contact typed by an agent (e.g. an unknown caller), with an optional e-mail
    address and phone number; the agent vouches for it, so it needs no review."""
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not (first_name or last_name):
        raise ContactInputError(
            _("Write the contact's name: first name, last name or both."), field="last_name"
        )
    address = selectors.address_normalised(email)
    if address:
        try:
            validate_email(address)
        except ValidationError:
            raise ContactInputError(
                _("%(address)s is not an e-mail address: check it or leave it empty.")
                % {"address": address},
                field="email",
            )
        owner = selectors.contact_by_address(address=address)
        if owner is not None:
            raise ContactInputError(
                _("%(address)s already belongs to %(contact)s: choose that contact instead.")
                % {"address": address, "contact": owner},
                field="email",
            )
    e164 = identifiers.normalize_phone(phone) if (phone or "").strip() else ""
    with transaction.atomic():
        contact = Contact.objects.create(
            organisation=organisation, first_name=first_name[:100], last_name=last_name[:100]
        )
        if address:
            ContactEmail.objects.create(contact=contact, address=address, primary=True)
        if e164:
            ContactPhone.objects.create(contact=contact, number=e164)
    return contact
