"""OAuth2 access tokens for XOAUTH2 mailboxes, refreshed before they expire.

Microsoft 365 and Gmail hand out access tokens that last about an hour, and a refresh
token that lasts until it is revoked. A mailbox with the provider's token endpoint, the
application's client id (and secret, for confidential clients) and a refresh token gets
a new access token whenever the stored one is missing or about to expire (RFC 6749
section 6); the new token, its expiry and a rotated refresh token are saved at once, so
the next poll, by whichever worker, uses them.

Microsoft 365 also lets an application read a mailbox on its own (client credentials, no
user sign-in): with a client secret and no refresh token, that grant is used instead.
Without either the mailbox works with the access token pasted in the admin until that
expires.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from django.utils import timezone

from .errors import IntakeError
from .models import Mailbox

log = logging.getLogger(__name__)

TIMEOUT = 30  # seconds for the token endpoint
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before the stated expiry
DEFAULT_LIFETIME = timedelta(hours=1)  # when the answer does not say (RFC 6749 5.1)


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_at: datetime
    refresh_token: str  # the new one when the provider rotates it, else the one we sent


def access_token(mailbox: Mailbox, *, now: datetime | None = None) -> str:
    """The token to log in with: the stored one while it is valid, else a fresh one."""
    if not mailbox.oauth2_refreshable:
        return mailbox.oauth2_token
    now = now or timezone.now()
    expires_at = mailbox.oauth2_token_expires_at
    if mailbox.oauth2_token and expires_at is not None and expires_at - REFRESH_MARGIN > now:
        return mailbox.oauth2_token
    grant = token_refresh(
        url=mailbox.oauth2_token_url,
        client_id=mailbox.oauth2_client_id,
        client_secret=mailbox.oauth2_client_secret,
        refresh_token=mailbox.oauth2_refresh_token,
        scope=mailbox.oauth2_scope,
        now=now,
    )
    mailbox.oauth2_token = grant.access_token
    mailbox.oauth2_token_expires_at = grant.expires_at
    mailbox.oauth2_refresh_token = grant.refresh_token
    Mailbox.objects.filter(pk=mailbox.pk).update(
        oauth2_token=grant.access_token,
        oauth2_token_expires_at=grant.expires_at,
        oauth2_refresh_token=grant.refresh_token,
    )
    log.info(
        "oauth2 token refreshed",
        extra={"mailbox": mailbox.name, "expires_at": grant.expires_at.isoformat()},
    )
    return grant.access_token


def token_forget(mailbox: Mailbox) -> None:
    """The server refused the token: ask for a new one at the next poll, whatever its
    stated expiry (tokens can be revoked early)."""
    if mailbox.oauth2_refreshable:
        mailbox.oauth2_token_expires_at = None
        Mailbox.objects.filter(pk=mailbox.pk).update(oauth2_token_expires_at=None)


def token_refresh(
    *,
    url: str,
    client_id: str,
    refresh_token: str,
    client_secret: str = "",
    scope: str = "",
    now: datetime,
) -> Grant:
    """A new access token from ``url``: for the refresh token (RFC 6749 6), or, without
    one, for the client's own credentials (4.4, Microsoft 365's app-only access)."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise IntakeError(
            f"The OAuth2 token URL {url!r} is not an https address. Correct it in the "
            "mailbox settings.",
            code="login",
        )
    if refresh_token:  # delegated: the user signed in once
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    else:  # the application's own access to the mailbox (RFC 6749 4.4)
        form = {"grant_type": "client_credentials"}
    form["client_id"] = client_id
    if client_secret:
        form["client_secret"] = client_secret
    if scope:
        form["scope"] = scope
    request = Request(  # noqa: S310 - http(s) only, checked above
        url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )
    try:
        with urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = _json(response.read())
    except HTTPError as exc:
        answer = _json(exc.read())
        reason = ": ".join(
            str(answer[key]) for key in ("error", "error_description") if answer.get(key)
        )
        raise IntakeError(
            f"The OAuth2 token endpoint {url} refused to refresh the access token "
            f"(HTTP {exc.code}{': ' + reason if reason else ''}). Sign in to the provider "
            "again and paste a new refresh token in the mailbox settings.",
            code="login",
        ) from exc
    except (URLError, OSError) as exc:
        raise IntakeError(
            f"Cannot reach the OAuth2 token endpoint {url}: {exc}. Check the token URL in "
            "the mailbox settings.",
            code="connect",
        ) from exc
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise IntakeError(
            f"The OAuth2 token endpoint {url} answered without an access_token. Check the "
            "token URL in the mailbox settings.",
            code="login",
        )
    try:
        lifetime = timedelta(seconds=int(body["expires_in"]))
    except (KeyError, TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME
    rotated = body.get("refresh_token")
    return Grant(
        access_token=token,
        expires_at=now + lifetime,
        refresh_token=rotated if isinstance(rotated, str) and rotated else refresh_token,
    )


def _json(data: bytes) -> dict:
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
