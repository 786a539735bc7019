"""Who may use the desk: one decorator per role rule of ``sportello.staff.roles``.

Anonymous visitors go to the desk's login page; a signed-in user whose role may not do
the thing (a portal customer, an agent on a billing action) gets 403 and nothing is
changed. Objects are looked up after the role check, so a 404 never tells a customer
which ticket numbers exist.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control

from sportello.staff import roles


def _private(response):
    # Pages behind a login are never stored by a shared or a browser cache (issue 15).
    add_never_cache_headers(response)
    patch_cache_control(response, private=True, no_store=True)
    return response


def desk_view(check=roles.can_work_tickets):
    """Signed in (else the desk login) and allowed by ``check`` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("desk:login"))
            if not check(request.user):
                raise PermissionDenied
            return _private(view(request, *args, **kwargs))

        return wrapper

    return decorator


agent_view = desk_view(roles.can_work_tickets)
billing_view = desk_view(roles.can_bill)
supervisor_view = desk_view(roles.can_supervise)
