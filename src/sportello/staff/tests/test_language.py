"""An agent's language (issue 14): set in the admin's agent form, checked by the service."""

import pytest
from django.contrib.auth.models import User

from sportello.staff.errors import StaffInputError
from sportello.staff.models import Agent, Role
from sportello.staff.services import agent_language_set

pytestmark = pytest.mark.django_db


def test_an_administrator_sets_an_agents_language_in_the_admin(client):
    root = User.objects.create_superuser("root", "root@example.com", "x")
    bob = Agent.objects.create(
        user=User.objects.create_user("bob", "bob@example.com", "x"), role=Role.AGENT
    )
    client.force_login(root)
    url = f"/admin/staff/agent/{bob.pk}/change/"
    form = client.get(url).content.decode()
    assert 'name="language"' in form and "Pagine della scrivania" in form
    saved = client.post(
        url,
        {
            "user": bob.user.pk,
            "role": Role.AGENT,
            "phone": "",
            "working_windows": "{}",
            "active": "on",
            "language": "en",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    bob.refresh_from_db()
    assert bob.language == "en" and bob.language_code == "en"


def test_an_unknown_language_is_refused_with_the_choices():
    bob = Agent.objects.create(user=User.objects.create_user("bob"), role=Role.AGENT)
    with pytest.raises(StaffInputError) as refused:
        agent_language_set(agent=bob, language="fr")
    assert "it, en" in refused.value.message and refused.value.field == "language"
    bob.refresh_from_db()
    assert bob.language == "" and bob.language_code == "it"
