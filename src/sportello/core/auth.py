"""Brute-force protection for every password login, at the authentication layer.

``LoginThrottleBackend`` is Django's ``ModelBackend`` with a check in front, and the first
of ``AUTHENTICATION_BACKENDS``: every login form that calls
``django.contrib.auth.authenticate()`` (the admin's, the desk's, allauth's portal login)
passes through it before any backend checks a password. Failures are counted
from Django's ``user_login_failed`` signal, in the cache (Redis when configured, so all
web workers share the counts):

- per client address (``SPORTELLO_LOGIN_FAILURES_PER_ADDRESS``, default 10 in 5 min):
  an address guessing passwords is refused, whatever account it tries;
- per account (``SPORTELLO_LOGIN_FAILURES_PER_ACCOUNT``, default 100 in an hour): only a
  much higher count, from many addresses, refuses the account itself, so that a stranger
  typing wrong passwords cannot lock the owner out (issue 15, finding 6).

A refused attempt raises ``PermissionDenied``, which ``authenticate()`` turns into "no
user": the right password does not get in meanwhile. ``LoginThrottleMiddleware`` then
answers 429 with the site's own page, in the visitor's language, instead of the form's
"wrong password". Both events are logged (``sportello.auth``), never the password.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.dispatch import receiver
from django.shortcuts import render

log = logging.getLogger("sportello.auth")

REFUSED = "_sportello_login_refused"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limit:
    """At most ``count`` failures in ``seconds``."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str, *, setting: str) -> Limit:
        """``"10/5m"``: 10 failures in 5 minutes (units s, m, h, d)."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*", text or "")
        if not match:
            raise ImproperlyConfigured(
                f"{setting}={text!r} is not a limit: write COUNT/PERIOD, e.g. 10/5m or 100/h."
            )
        count, number, unit = match.groups()
        return cls(int(count), int(number or 1) * _UNITS[unit])


def _limits() -> dict[str, Limit]:
    return {
        "address": Limit.parse(
            settings.SPORTELLO_LOGIN_FAILURES_PER_ADDRESS,
            setting="SPORTELLO_LOGIN_FAILURES_PER_ADDRESS",
        ),
        "account": Limit.parse(
            settings.SPORTELLO_LOGIN_FAILURES_PER_ACCOUNT,
            setting="SPORTELLO_LOGIN_FAILURES_PER_ACCOUNT",
        ),
    }


def client_address(request) -> str:
    """The client's address, as allauth's rate limits see it (behind N trusted proxies,
    N places from the right of X-Forwarded-For)."""
    from allauth.account.adapter import get_adapter

    return get_adapter().get_client_ip(request)


def login_name(credentials: dict) -> str:
    """The account a login form names: Django's ``username`` or allauth's ``email``."""
    value = credentials.get("username") or credentials.get("email") or ""
    return str(value).strip().lower()


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    return f"sportello:login-failures:{kind}:{digest}"


def _recent(key: str, limit: Limit, now: float) -> list[float]:
    return [t for t in cache.get(key, []) if t > now - limit.seconds]


def _subjects(request, credentials: dict) -> dict[str, str]:
    subjects = {"address": client_address(request)}
    name = login_name(credentials)
    if name:
        subjects["account"] = name
    return subjects


def login_refused_by(request, credentials: dict) -> str | None:
    """``"address"`` or ``"account"`` when that one has failed too often, else None."""
    now = time.time()
    limits = _limits()
    for kind, value in _subjects(request, credentials).items():
        if len(_recent(_key(kind, value), limits[kind], now)) >= limits[kind].count:
            return kind
    return None


def login_failure_record(request, credentials: dict) -> None:
    """Count one failed login against the client address and the account named."""
    now = time.time()
    limits = _limits()
    for kind, value in _subjects(request, credentials).items():
        key = _key(kind, value)
        # A lost update between two workers only lets one more attempt through.
        cache.set(key, [now, *_recent(key, limits[kind], now)], limits[kind].seconds)


class LoginThrottleBackend(ModelBackend):
    """``ModelBackend``, refusing first a login from an address or for an account with
    too many recent failures. ``PermissionDenied`` stops ``authenticate()`` there, so the
    backends after this one (allauth's) are not asked either."""

    def authenticate(self, request, username=None, password=None, **credentials):
        if request is not None:  # None: a management command or test code, not a form
            self._refuse_if_throttled(request, {"username": username, **credentials})
        return super().authenticate(request, username=username, password=password, **credentials)

    def _refuse_if_throttled(self, request, credentials: dict) -> None:
        refused_by = login_refused_by(request, credentials)
        if refused_by is None:
            return
        setattr(request, REFUSED, refused_by)
        log.warning(
            "login refused: too many failed attempts",
            extra={
                "by": refused_by,
                "address": client_address(request),
                "login": login_name(credentials)[:150],
                "path": request.path,
            },
        )
        raise PermissionDenied


@receiver(user_login_failed, dispatch_uid="sportello-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    if request is None:
        return
    name = login_name(credentials)
    if getattr(request, REFUSED, None):
        return  # already refused and logged: not one more failure
    login_failure_record(request, credentials)
    log.info(
        "login failed",
        extra={"address": client_address(request), "login": name[:150], "path": request.path},
    )


class LoginThrottleMiddleware:
    """A login refused by ``LoginThrottleBackend`` answers 429 with our page, saying to
    wait, instead of the form's "wrong username or password"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        refused_by = getattr(request, REFUSED, None)
        if refused_by is None:
            return response
        limit = _limits()[refused_by]
        return render(
            request,
            "429.html",
            {"retry_minutes": max(1, limit.seconds // 60), "login_refused": True},
            status=429,
        )
