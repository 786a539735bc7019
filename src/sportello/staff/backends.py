"""The admin role's permissions, from ``staff.roles`` rather than per-user grants.

Django's admin asks ``user.has_perm`` for every page; a user whose agent role is admin
holds every permission, as a superuser does, so the roles stay the one source of truth.
Other roles hold none here: they do not use the admin (``staff.services``).
"""

from __future__ import annotations

from . import roles


class RoleBackend:
    def authenticate(self, request, **credentials):
        return None  # signs nobody in: ModelBackend and allauth do

    def get_user(self, user_id):
        return None

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return user_obj.is_active and roles.can_administer(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return user_obj.is_active and roles.can_administer(user_obj)
