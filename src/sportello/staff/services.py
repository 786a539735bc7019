"""Writes of staff records: an agent's user follows the agent's role (staff.roles).

``is_staff`` (the admin site's door) is on only for the admin role: agents, supervisors
and billing work in the desk (/desk/), which checks the role itself, so none of them
meets the admin's "you do not have permission" page. The admin role's permissions come
from ``staff.backends.RoleBackend``, so an admin created in the admin works at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from .errors import StaffInputError
from .models import Agent, Role, Zone


def agent_user_sync(*, agent: Agent) -> None:
    """Make the agent's user match the role: admin door open for admins only."""
    user = agent.user
    wanted = bool(agent.active and agent.role == Role.ADMIN) or user.is_superuser
    if user.is_staff != wanted:
        user.is_staff = wanted
        user.save(update_fields=["is_staff"])


def agent_save(*, agent: Agent) -> Agent:
    """Create or change an agent (the admin's form, the demo) with its user in step."""
    with transaction.atomic():
        agent.full_clean(exclude=["user", "team", "home_zone"])
        agent.save()
        agent_user_sync(agent=agent)
    return agent


def agent_language_set(*, agent: Agent, language: str) -> Agent:
    """The language of the agent's desk pages and notification e-mails.

    ``""`` means the site's language (``LANGUAGE_CODE``); otherwise one of ``LANGUAGES``.
    """
    language = (language or "").strip()
    codes = [code for code, _name in settings.LANGUAGES]
    if language and language not in codes:
        raise StaffInputError(
            _("Unknown language %(language)s: choose one of %(choices)s, or the site's default.")
            % {"language": language, "choices": ", ".join(codes)},
            field="language",
        )
    agent.language = language
    agent.save(update_fields=["language"])
    return agent


# Held while a zone's comuni are checked and saved (PostgreSQL), until the commit.
_ZONES_LOCK = 0x5370_0002


def zone_save(*, zone: Zone) -> Zone:
    """Create or change a zone (the admin's form). A comune another zone lists raises
    ``ValidationError`` naming both. The check and the save run one at a time, so two
    admins saving at once (two new zones, each with Narni) cannot both win: on PostgreSQL
    under a transaction-level advisory lock, on SQLite because its transactions begin
    IMMEDIATE (one writer)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ZONES_LOCK])
        zone.full_clean()
        zone.save()
    return zone
