"""System checks of Sportello's own settings (``sportello check --deploy``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def site_url_check(app_configs, **kwargs) -> list[Error]:
    """Production needs the public address: every link of every e-mail is built from it.

    Unset, it follows the address the web server listens on, which is right for a trial
    on one machine and wrong behind a proxy (customers would get links to 127.0.0.1).
    """
    if not settings.SPORTELLO_SITE_URL_IS_SET:
        return [
            Error(
                "SPORTELLO_SITE_URL is not set: links in e-mails would point to "
                f"{settings.SPORTELLO_SITE_URL}, the address the web server listens on.",
                hint="Set it to the address customers open, e.g. https://assistenza.example.it.",
                id="sportello.E001",
            )
        ]
    parts = urlsplit(settings.SPORTELLO_SITE_URL)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                f"SPORTELLO_SITE_URL {settings.SPORTELLO_SITE_URL!r} is not an http(s) address.",
                hint="Write it as https://host[:port], without a path.",
                id="sportello.E002",
            )
        ]
    if settings.HTTPS and parts.scheme != "https":
        return [
            Error(
                f"SPORTELLO_SITE_URL {settings.SPORTELLO_SITE_URL!r} is http while "
                "SPORTELLO_HTTPS is on: links in e-mails would leave TLS.",
                hint="Write the address with https://.",
                id="sportello.E003",
            )
        ]
    return []
