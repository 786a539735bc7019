import pytest
from django.contrib.auth.models import AnonymousUser, User

from sportello.staff import roles
from sportello.staff.models import Agent, Role

# (role or kind of user, works tickets, supervises, bills, administers)
TABLE = [
    (Role.AGENT, True, False, False, False),
    (Role.SUPERVISOR, True, True, False, False),
    (Role.BILLING, True, False, True, False),
    (Role.ADMIN, True, True, True, True),
    ("superuser", True, True, True, True),
    ("inactive agent", False, False, False, False),
    ("customer", False, False, False, False),
    ("anonymous", False, False, False, False),
]


def _user(kind: str):
    if kind == "anonymous":
        return AnonymousUser()
    if kind == "superuser":
        return User.objects.create_superuser("root", "root@example.com", "x")
    user = User.objects.create_user(kind.replace(" ", "-"), f"{kind[:3]}@example.com", "x")
    if kind == "inactive agent":
        Agent.objects.create(user=user, role=Role.SUPERVISOR, active=False)
    elif kind != "customer":
        Agent.objects.create(user=user, role=kind)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("kind,works,supervises,bills,administers", TABLE)
def test_it_grants_each_role_what_it_needs(kind, works, supervises, bills, administers):
    user = _user(str(kind))
    assert roles.can_work_tickets(user) is works
    assert roles.can_supervise(user) is supervises
    assert roles.can_bill(user) is bills
    assert roles.can_administer(user) is administers


@pytest.mark.django_db
def test_it_refuses_a_deactivated_user_account_whatever_its_role():
    user = _user(str(Role.ADMIN))
    user.is_active = False
    user.save()
    assert roles.role_of(user) is None
