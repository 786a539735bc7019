"""Shared set-up of the portal tests: the cast with portal accounts."""

from __future__ import annotations

from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.tests.factories import ContactFactory, cast

PASSWORD = "Sportello-test-2025!"

# Where the browser tests saved their screenshots, for the end-of-run summary.
SCREENSHOTS_KEY = pytest.StashKey[Path]()


def account_for(contact, *, manager=False):
    """Give ``contact`` a verified portal account (what signing up and confirming does)."""
    email = contact.emails.first().address
    user = get_user_model().objects.create_user(
        username=email, email=email, password=PASSWORD, first_name=contact.first_name
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    contact.user = user
    contact.is_manager = manager
    contact.save()
    return user


def portal_cast():
    """Alice (org A) and Charlie (org B) with accounts, Bob our agent, and Dora, Alice's
    colleague and the contact-manager of org A."""
    people = cast()
    people["alice_user"] = account_for(people["alice"])
    people["charlie_user"] = account_for(people["charlie"])
    people["dora"] = ContactFactory(
        organisation=people["org_a"], first_name="Dora", last_name="Bianchi",
        email="dora@alice.example.it",
    )  # fmt: skip
    people["dora_user"] = account_for(people["dora"], manager=True)
    return people


def open_portal_ticket(contact, subject="Stampante guasta", text="Non stampa.", **kw):
    return tickets.ticket_open(
        subject=subject,
        channel="portal",
        message=MessageInput(text=text),
        contact=contact,
        actor=tickets.Actor(user=contact.user),
        **kw,
    )
