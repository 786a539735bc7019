"""Writes of customers. Every channel that meets a sender by address (mail, the portal's
contact form) turns it into a contact here, the same way."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from . import selectors
from .models import Contact, ContactEmail


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
