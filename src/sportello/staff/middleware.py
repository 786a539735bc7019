"""Staff sessions end after a while without use (issue 15, finding 9).

An agent's browser on a shared desk or a phone left on a car seat holds access to every
customer's tickets, so a staff session ends after ``SPORTELLO_STAFF_IDLE_TIMEOUT``
seconds without a request (default 30 minutes); the next request finds the person
signed out and the login page asks again. Customers keep Django's session length
(``SESSION_COOKIE_AGE``, two weeks): they see only their own tickets.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import logout

from . import roles

log = logging.getLogger("sportello.auth")

LAST_SEEN = "_sportello_staff_seen"
# The session is written at most this often just to move the clock, not on every request.
TOUCH_EVERY = 60


def is_staff_user(user) -> bool:
    """Anyone who works on the staff side: an active agent role, or a Django staff
    account (the admin site)."""
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_staff or roles.role_of(user))


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if is_staff_user(user):
            timeout = int(settings.SPORTELLO_STAFF_IDLE_TIMEOUT)
            now = time.time()
            seen = request.session.get(LAST_SEEN)
            if seen is not None and now - seen > timeout:
                log.info(
                    "staff session ended after idle time",
                    extra={"user": user.get_username(), "idle_seconds": int(now - seen)},
                )
                logout(request)  # flushes the session; request.user is anonymous now
            elif seen is None or now - seen > TOUCH_EVERY:
                request.session[LAST_SEEN] = now
                # The cookie and the stored session expire with it too.
                request.session.set_expiry(timeout)
        return self.get_response(request)
