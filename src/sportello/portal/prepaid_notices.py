"""The low-balance e-mail of prepaid hours (receiver of ``billing.signals.prepaid_balance_low``).

Billing announces the crossing (once, recorded on ``PrepaidAccount``); the portal, which
may import billing and knows the contacts, writes to the organisation's contact-managers
and to the billing users, each in their own language, through the site's outgoing mail
(``EMAIL_BACKEND``: ``var/sent-mail/`` by default), as the portal's other notices.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.translation import gettext as _

from sportello.core.models import SupportSettings
from sportello.customers.models import Contact
from sportello.staff.roles import BILLING_ROLES, agents_in_roles

log = logging.getLogger(__name__)


def manager_addresses(organisation) -> dict[str, list[str]]:
    """The contact-managers' addresses by language (primary address, else the login's)."""
    out: dict[str, list[str]] = {}
    managers = Contact.objects.filter(
        organisation=organisation, is_manager=True, needs_review=False
    ).prefetch_related("emails")
    for contact in managers.select_related("user").order_by("pk"):
        emails = sorted(contact.emails.all(), key=lambda e: (not e.primary, e.pk))
        address = emails[0].address if emails else (contact.user.email if contact.user else "")
        if address:
            out.setdefault(contact.language or settings.LANGUAGE_CODE, []).append(address)
    return out


def on_prepaid_balance_low(sender, *, organisation, hours, threshold, **_kwargs) -> int:
    """One e-mail per audience and language; returns how many were sent."""
    support = SupportSettings.load()
    base = settings.SPORTELLO_SITE_URL.rstrip("/")
    staff: dict[str, list[str]] = {}
    for agent in agents_in_roles(BILLING_ROLES):
        staff.setdefault(agent.language_code, []).append(agent.user.email)
    sent = 0
    for audience, by_language in (("customer", manager_addresses(organisation)), ("staff", staff)):
        for language, addresses in by_language.items():
            with translation.override(language):
                subject = _("Prepaid hours of %(org)s: %(hours)s h left") % {
                    "org": organisation.name,
                    "hours": formats.localize(hours),
                }
                body = render_to_string(
                    "portal/email/prepaid_low.txt",
                    {
                        "organisation": organisation,
                        "hours": hours,
                        "threshold": threshold,
                        "support": support,
                        "staff": audience == "staff",
                        "link": base
                        + (
                            f"/desk/billing/prepaid/{organisation.pk}/"
                            if audience == "staff"
                            else ("/en" if language == "en" else "") + "/portale/monte-ore/"
                        ),
                    },
                )
            try:
                send_mail(subject, body, None, addresses)
                sent += 1
            except OSError as exc:  # the crossing stays recorded; the desk shows the balance
                log.warning(
                    "prepaid low-balance e-mail not sent",
                    extra={"organisation": organisation.pk, "error": str(exc)},
                )
    return sent
