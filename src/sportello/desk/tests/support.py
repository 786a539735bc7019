"""The desk's cast: Alice (customer of org A, with a portal account), Charlie (org B),
and one staff member per role: Bob (agent), Mario (agent, other team), Sara
(supervisor), Carla (billing), Ada (admin role), plus Ugo, staff in Django's sense
(is_staff) but without an agent record."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from sportello.customers.models import ContactPhone
from sportello.staff.models import Agent, Role, Team
from sportello.staff.services import agent_save
from sportello.tickets.tests.factories import cast

PASSWORD = "Desk-pw-2026!"


def _staff(username, first, role, team):
    User = get_user_model()
    user = User.objects.create_user(
        username, f"{username}@init-s.it", PASSWORD, first_name=first, last_name="Test"
    )
    return agent_save(agent=Agent(user=user, role=role, team=team))


def desk_cast() -> dict:
    people = cast()
    bob = people["bob"]
    bob.user.set_password(PASSWORD)
    bob.user.first_name = "Bob"
    bob.user.save()
    sistemi = bob.team
    reti = Team.objects.create(name="Reti")
    people["mario"] = _staff("mario", "Mario", Role.AGENT, reti)
    people["sara"] = _staff("sara", "Sara", Role.SUPERVISOR, sistemi)
    people["carla"] = _staff("carla", "Carla", Role.BILLING, sistemi)
    people["ada"] = _staff("ada", "Ada", Role.ADMIN, sistemi)
    User = get_user_model()
    people["ugo"] = User.objects.create_user("ugo", "ugo@init-s.it", PASSWORD, is_staff=True)
    alice_user = User.objects.create_user("alice", "alice@alice.example.it", PASSWORD)
    alice = people["alice"]
    alice.user = alice_user
    alice.save()
    ContactPhone.objects.create(contact=alice, number="+390744123456", label="ufficio")
    people["alice_user"] = alice_user
    return people
