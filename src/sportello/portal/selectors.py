"""Reads for the portal: everything a customer sees comes through here (STYLE 2.8).

A customer sees the tickets they opened; a contact-manager (``Contact.is_manager``) sees
every ticket of their organisation and its charges. An account that an agent has not
approved yet (``Contact.needs_review``) sees nothing. Anything outside that scope is
"not found" (404), never "forbidden", so ticket numbers and ids do not leak.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import DateField, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import get_language

from sportello.billing.models import TicketCharges
from sportello.billing.services import tariff_version_in_force
from sportello.core.hours import support_hours
from sportello.core.models import SupportSettings
from sportello.customers.models import Contact
from sportello.tariff.text import ListinoRow, format_number, language_of, listino
from sportello.tickets.models import Attachment, Message, MessageKind, Status, Ticket

from .models import PrivacyConsent

# What the customer may read of a conversation: never internal notes or system events.
PUBLIC_KINDS = tuple(
    k for k in MessageKind.values if k not in (MessageKind.INTERNAL_NOTE, MessageKind.SYSTEM)
)

# The list's status filter: a few groups a customer understands, not the raw statuses.
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "active": (Status.NEW, Status.OPEN, Status.WAITING),
    "waiting": (Status.WAITING,),
    "resolved": (Status.RESOLVED,),
    "closed": (Status.CLOSED,),
}

SEARCH_MAX_CHARS = 100


def contact_for(user) -> Contact | None:
    """The portal contact behind ``user``, or None (anonymous, staff without a contact)."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.contact
    except Contact.DoesNotExist:
        return None


def account_is_active(contact: Contact | None) -> bool:
    """An approved account: linked to a contact that no agent still has to review."""
    return contact is not None and not contact.needs_review


def is_manager(contact: Contact | None) -> bool:
    return account_is_active(contact) and contact.is_manager and contact.organisation_id is not None


def ticket_scope_for(*, user) -> QuerySet[Ticket]:
    """Every ticket ``user`` may see; empty for unapproved accounts and strangers."""
    contact = contact_for(user)
    if not account_is_active(contact):
        return Ticket.objects.none()
    if is_manager(contact):
        return Ticket.objects.filter(organisation_id=contact.organisation_id)
    return Ticket.objects.filter(contact=contact)


def ticket_list_for(*, user, status: str | None = None, q: str | None = None) -> QuerySet[Ticket]:
    """The ticket list, newest first: ``status`` is a key of STATUS_FILTERS (others are
    ignored), ``q`` matches the number, the subject or the text of public messages."""
    tickets = ticket_scope_for(user=user)
    if status in STATUS_FILTERS:
        tickets = tickets.filter(status__in=STATUS_FILTERS[status])
    q = (q or "").strip()[:SEARCH_MAX_CHARS]
    if q:
        # Messages of the tickets in scope only: PostgreSQL then walks the message index
        # per ticket instead of matching the text of every message of every customer.
        in_messages = Message.objects.filter(
            ticket_id__in=tickets.values("pk"), kind__in=PUBLIC_KINDS, text__icontains=q
        ).values("ticket_id")
        tickets = tickets.filter(
            Q(number__icontains=q) | Q(subject__icontains=q) | Q(pk__in=in_messages)
        )
    return tickets.select_related("contact").order_by("-created_at", "-pk")


def ticket_get_for(*, user, number: str) -> Ticket:
    """The ticket ``number`` if ``user`` may see it, else Http404."""
    tickets = ticket_scope_for(user=user).select_related("contact", "organisation", "rating")
    return get_object_or_404(tickets, number=number)


def conversation_for(*, ticket: Ticket) -> list[Message]:
    """The public messages of ``ticket``, oldest first, with their attachments: 2 queries."""
    return list(
        Message.objects.filter(ticket=ticket, kind__in=PUBLIC_KINDS)
        .select_related("author_user", "author_contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )


def _visible_attachments(ticket: Ticket) -> QuerySet[Attachment]:
    # A bounce kept on a system note is ours, not the customer's.
    return Attachment.objects.filter(ticket=ticket).filter(
        Q(message__isnull=True) | Q(message__kind__in=PUBLIC_KINDS)
    )


def loose_attachments_for(*, ticket: Ticket) -> list[Attachment]:
    """Attachments of ``ticket`` that belong to no message (added by an agent)."""
    return list(_visible_attachments(ticket).filter(message__isnull=True).order_by("pk"))


def attachment_get_for(*, user, number: str, pk: int) -> Attachment:
    """An attachment of a ticket ``user`` may see, on a public message; else Http404."""
    ticket = ticket_get_for(user=user, number=number)
    attachment = get_object_or_404(_visible_attachments(ticket), pk=pk)
    attachment.ticket = ticket
    return attachment


def charges_for(*, user, ticket: Ticket) -> TicketCharges | None:
    """The charges of ``ticket`` with their lines, for contact-managers only."""
    if not is_manager(contact_for(user)):
        return None
    return (
        TicketCharges.objects.filter(ticket=ticket)
        .select_related("tariff_version")
        .prefetch_related("lines")
        .first()
    )


def charges_list_for(*, user, month: date | None = None) -> QuerySet[TicketCharges]:
    """The organisation's priced tickets, newest first, for its contact-managers.

    ``month`` (its first day) keeps the tickets opened in that month, in local time.
    An approved customer who is not a manager gets PermissionDenied (403: same
    organisation, missing role); anyone else Http404.
    """
    contact = contact_for(user)
    if not account_is_active(contact):
        raise Http404
    if not is_manager(contact):
        raise PermissionDenied
    rows = TicketCharges.objects.filter(ticket__organisation_id=contact.organisation_id).filter(
        total__gt=0
    )
    if month is not None:
        rows = rows.annotate(month=_opened_month()).filter(month=month)
    return (
        rows.select_related("ticket", "tariff_version")
        .prefetch_related("lines")
        .order_by("-ticket__created_at", "-pk")
    )


def charges_months_for(*, user) -> list[date]:
    """The months (first days, local time) with charges, newest first: the filter's choices."""
    rows = charges_list_for(user=user).order_by()
    months = rows.annotate(month=_opened_month()).values_list("month", flat=True)
    return sorted(set(months), reverse=True)


def _opened_month():
    # In the site's time zone (Europe/Rome): a ticket opened at 00:30 on 1 March is March's.
    return TruncMonth("ticket__created_at", output_field=DateField())


def charges_totals(rows: QuerySet[TicketCharges]) -> dict:
    """Net, VAT and total of every row of ``rows`` (all pages), each a sum of stored amounts."""
    sums = rows.order_by().aggregate(net=Sum("net"), vat=Sum("vat"), total=Sum("total"))
    return {k: v if v is not None else Decimal("0.00") for k, v in sums.items()}


# ---------------------------------------------------------------------------
# Public pages: the support channels, hours and tariff, all from configuration.


def tariff_rows(version, *, rate=None) -> list[ListinoRow]:
    """The listino of ``version`` as the tariff's own text writes it (``tariff.text``), in
    the page's language; amounts in EUR at ``rate`` when the customer's rate is known."""
    return listino(
        version.to_params(),
        language_of(get_language()),
        rate=rate,
        district=version.district_comune_list,
    )


def support_overview(*, user) -> dict:
    """Everything the "how to get support" page shows, from SupportSettings and the
    tariff version in force; amounts in EUR when the visitor's organisation is known."""
    support = SupportSettings.load()
    version = tariff_version_in_force(on=timezone.localdate())
    # The default version, created with the first ticket, is dated 2000-01-01: a date
    # nobody chose, so the page names none; a version added in the admin has its own.
    since = version.valid_from if version.valid_from > date(2000, 1, 1) else None
    contact = contact_for(user)
    # The agreed rate is the organisation's business: its contact-managers see it (as
    # they see the charges), other accounts the percentages only.
    org = contact.organisation if is_manager(contact) else None
    rate = org.hourly_rate if org is not None else None
    return {
        "support": support,
        "hours": support_hours(support.support_windows),
        "version": version,
        "since": since,
        "tariff": tariff_rows(version, rate=rate),
        "rate": rate,
        "call_fee": version.call_fee,
        "vat_percent": format_number(Decimal(version.vat_percent), language_of(get_language())),
    }


def consents_for(*, user):
    return list(PrivacyConsent.objects.filter(user=user).order_by("-accepted_at")[:5])


def email_confirmation_used(*, key: str) -> bool:
    """Whether ``key`` is a genuine confirmation link of an address already confirmed.

    allauth's links (HMAC) sign the address's id; the signature is checked, not its age.
    """
    from allauth.account import app_settings as allauth_settings
    from allauth.account.models import EmailAddress
    from django.core import signing

    try:
        pk = signing.loads(key, salt=allauth_settings.SALT)
    except signing.BadSignature:
        return False
    return EmailAddress.objects.filter(pk=pk, verified=True).exists()
