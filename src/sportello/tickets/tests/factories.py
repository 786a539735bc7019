"""The cast, as in every app: Alice (customer of org A), Bob (agent), Charlie (org B)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from sportello.core.demo import partita_iva_with_check
from sportello.customers.models import Contact, ContactEmail, Organisation, OrganisationDomain
from sportello.staff.models import Agent, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n} S.r.l.")
    vat_number = factory.Sequence(lambda n: partita_iva_with_check(f"{1000000000 + n:010d}"))
    hourly_rate = Decimal("60.00")
    in_district = True


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    first_name = "Alice"
    last_name = factory.Sequence(lambda n: f"Rossi{n}")

    @factory.post_generation
    def email(self, create, extracted, **kwargs):
        if create:
            address = extracted or f"{self.first_name}.{self.last_name}@example.com".lower()
            ContactEmail.objects.create(contact=self, address=address, primary=True)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    user = factory.SubFactory(UserFactory, is_staff=True)
    team = factory.LazyFunction(lambda: Team.objects.get_or_create(name="Sistemi")[0])


def cast():
    """Alice works for org A, Charlie for org B, Bob is our agent."""
    org_a = OrganisationFactory(name="Alice & Co. S.r.l.")
    OrganisationDomain.objects.create(organisation=org_a, domain="alice.example.it")
    org_b = OrganisationFactory(name="Charlie S.p.A.")
    alice = ContactFactory(
        organisation=org_a, first_name="Alice", last_name="Rossi", email="alice@alice.example.it"
    )
    charlie = ContactFactory(
        organisation=org_b,
        first_name="Charlie",
        last_name="Verdi",
        email="charlie@charlie.example.it",
    )
    bob = AgentFactory(user=UserFactory(username="bob", first_name="Bob", is_staff=True))
    return {"org_a": org_a, "org_b": org_b, "alice": alice, "charlie": charlie, "bob": bob}
