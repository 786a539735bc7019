"""What each staff role may do (SPEC section 1: agent, supervisor, billing, admin).

The one home of the role rules: the desk, the admin, staff downloads and search ask
these functions, never ``user.is_staff`` or the role field directly. Roles are checked on
the server; a page that a role may not use answers 403, an object it may not see 404.

- agent: works tickets (reads every ticket of the company, replies, logs interventions).
- supervisor: also assigns others' tickets, keeps canned replies and shared views.
- billing: also sees and edits charges, waivers, overrides and statements.
- admin: everything, including the admin site.

A Django superuser counts as admin. A user without an active ``Agent`` row (a portal
customer, a deactivated technician) is not staff for any of these checks.
"""

from __future__ import annotations

from .models import Agent, Role

SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
BILLING_ROLES = frozenset({Role.BILLING, Role.ADMIN})


def agent_for(user) -> Agent | None:
    """The user's active agent record, or None (anonymous, customer, deactivated)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        agent = user.agent
    except Agent.DoesNotExist:
        return None
    return agent if agent.active else None


def role_of(user) -> str | None:
    """The user's staff role (a ``Role`` value), ``admin`` for a superuser, else None."""
    if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
        if user.is_superuser:
            return Role.ADMIN
    agent = agent_for(user)
    return agent.role if agent else None


def can_work_tickets(user) -> bool:
    """Any active staff role: read every ticket, reply, note, log interventions."""
    return role_of(user) is not None


def can_supervise(user) -> bool:
    """Assign other agents' tickets, manage canned replies and shared views."""
    return role_of(user) in SUPERVISING_ROLES


def can_bill(user) -> bool:
    """See and edit charges, waivers, out-of-hours overrides, statements."""
    return role_of(user) in BILLING_ROLES


def agents_in_roles(roles) -> list[Agent]:
    """Active agents (with an active login and an e-mail) holding any of ``roles``."""
    return list(
        Agent.objects.filter(role__in=list(roles), active=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("pk")
    )


def can_administer(user) -> bool:
    """Configuration: the admin site, tariff versions, mailboxes, users."""
    return role_of(user) == Role.ADMIN
