"""Reads of customers: who a sender is, which organisation a domain belongs to."""

from __future__ import annotations

from django.db.models import Q

from .models import FREE_MAIL_DOMAINS, Contact, ContactEmail, Organisation, OrganisationDomain


def address_normalised(address: str) -> str:
    """How addresses are stored and compared: trimmed, lower case (ContactEmail.clean)."""
    return (address or "").strip().lower()


def contact_by_address(*, address: str) -> Contact | None:
    """The contact who owns ``address``, whatever their organisation's state."""
    address = address_normalised(address)
    if not address:
        return None
    known = ContactEmail.objects.filter(address=address).select_related("contact").first()
    return known.contact if known is not None else None


def organisation_for_domain(*, domain: str) -> Organisation | None:
    """The active organisation that owns the e-mail ``domain``. Free-mail domains (gmail.com,
    libero.it, ...) say nothing about an employer and never match; an inactive
    organisation (a former customer) adopts nobody new: an agent decides."""
    domain = (domain or "").strip().lower().rstrip(".")
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    owner = (
        OrganisationDomain.objects.filter(domain=domain, organisation__active=True)
        .select_related("organisation")
        .first()
    )
    return owner.organisation if owner is not None else None


def contacts_search(*, query: str, limit: int = 10) -> list[Contact]:
    """Contacts whose name or organisation contains every word of ``query`` (any case),
    e.g. "rossi studio"; the agent's pick for an unknown caller's number."""
    words = (query or "").split()[:5]
    if not words:
        return []
    rows = Contact.objects.select_related("organisation")
    for word in words:
        rows = rows.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(organisation__name__icontains=word)
        )
    return list(rows.order_by("last_name", "first_name", "pk")[:limit])
