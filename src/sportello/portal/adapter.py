"""Sportello's account adapter: allauth's e-mails in the company's name, linking to the site.

allauth names the site after the request's host ("Hello from 127.0.0.1:8100!") and
builds links from it; our e-mails are signed by the company of *Configurazione* and
every link starts with SPORTELLO_SITE_URL, like the rest of the mail Sportello sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from sportello.core.models import SupportSettings


@dataclass(frozen=True)
class CompanySite:
    """What allauth's templates call ``current_site``: the company and its address."""

    name: str
    domain: str


def on_site(url: str) -> str:
    """The same path on SPORTELLO_SITE_URL (allauth builds links from the request's host)."""
    site = urlsplit(settings.SPORTELLO_SITE_URL)
    parts = urlsplit(url)
    return urlunsplit((site.scheme, site.netloc, parts.path, parts.query, parts.fragment))


class AccountAdapter(DefaultAccountAdapter):
    def format_email_subject(self, subject: str) -> str:
        return f"[{SupportSettings.load().company_name}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        support = SupportSettings.load()
        context = dict(context)
        for key, value in list(context.items()):
            if key.endswith("_url") and isinstance(value, str) and value:
                context[key] = on_site(value)
        context.update(
            support=support,
            site_url=settings.SPORTELLO_SITE_URL,
            current_site=CompanySite(
                name=support.company_name,
                domain=urlsplit(settings.SPORTELLO_SITE_URL).netloc,
            ),
        )
        super().send_mail(template_prefix, email, context)
