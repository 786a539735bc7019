"""Writes of the portal: accounts, tickets, replies, ratings (STYLE 1.3).

Every function is keyword-only, takes objects that came through ``selectors`` (so access
was checked there), and calls the ticket services, which keep the audit trail.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sportello.core import identifiers
from sportello.core.models import SupportSettings
from sportello.customers import selectors as customer_selectors
from sportello.customers import services as customers
from sportello.customers.models import (
    FREE_MAIL_DOMAINS,
    Contact,
    ContactEmail,
    ContactPhone,
    Organisation,
    OrganisationDomain,
)
from sportello.mail import outbound
from sportello.staff.roles import agents_in_roles
from sportello.tickets import files
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import (
    Channel,
    Direction,
    Message,
    MessageKind,
    NonBillableReason,
    Status,
    Ticket,
)

from .errors import PortalError, PortalInputError
from .models import PrivacyConsent, Registration, TicketRating, match_label

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """A file a customer sent: its name as typed and its bytes."""

    name: str
    content: bytes


# ---------------------------------------------------------------------------
# Accounts


@dataclass(frozen=True)
class OrganisationMatch:
    """Which organisation a new account belongs to, and whether an agent must confirm it."""

    organisation: Organisation | None
    needs_review: bool
    reason: str


def tax_id_normalize(value: str) -> str:
    """A partita IVA (11 digits, optional IT) or a codice fiscale (16 characters).

    Raises PortalInputError with a translated message when it is neither.
    """
    compact = re.sub(r"\s+", "", value or "").upper()
    try:
        if len(compact) == 16:
            return identifiers.normalize_codice_fiscale(compact)
        return identifiers.normalize_partita_iva(compact)
    except identifiers.IdentifierError as exc:
        raise PortalInputError(
            _(
                "Enter the company's partita IVA (11 digits) or your codice fiscale "
                "(16 characters). %(detail)s"
            )
            % {"detail": exc.translated()},
            field="tax_id",
        )


def account_link_organisation(*, tax_id: str, email: str) -> OrganisationMatch:
    """Find the organisation of a new account: by its e-mail domain, which must be one
    of the organisation's own; free-mail domains (gmail.com, libero.it, ...) never match.

    A VAT number or fiscal code is public, so it never joins an account by itself: it
    only suggests the organisation (in ``reason``) to the agent who approves the account.
    No match, or a tax id and a domain that disagree, also waits for an agent.
    """
    by_tax = list(
        Organisation.objects.filter(active=True)
        .filter(Q(vat_number=tax_id) | Q(fiscal_code=tax_id))
        .order_by("pk")[:2]
        if tax_id
        else []
    )
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    by_domain = customer_selectors.organisation_for_domain(domain=domain)
    if len(by_tax) > 1:
        return OrganisationMatch(None, True, "tax id matches several organisations")
    tax_org = by_tax[0] if by_tax else None
    if tax_org and by_domain and tax_org.pk != by_domain.pk:
        return OrganisationMatch(None, True, "tax id and e-mail domain disagree")
    if tax_org and by_domain:
        return OrganisationMatch(by_domain, False, "tax id and e-mail domain")
    if by_domain:
        return OrganisationMatch(by_domain, False, "e-mail domain")
    if tax_org:
        # Anyone can read a partita IVA off an invoice: suggest, never join.
        return OrganisationMatch(None, True, f"tax id only, suggests: {tax_org.name}"[:60])
    return OrganisationMatch(None, True, "no match")


def account_register(
    *,
    user,
    first_name: str,
    last_name: str,
    company: str,
    tax_id: str,
    phone: str,
    language: str,
    ip: str | None,
) -> Contact:
    """Give a newly signed-up ``user`` its contact, organisation and privacy consent.

    A contact already known by this e-mail (e.g. from mail intake) and without an
    account becomes this account's contact, so its tickets show up; its organisation is
    left as agents set it. Otherwise a new contact is created, joined to the matched
    organisation, or marked ``needs_review`` for an agent to approve.
    """
    email = (user.email or "").strip().lower()
    match = account_link_organisation(tax_id=tax_id, email=email)
    with transaction.atomic():
        user.first_name = first_name[:150]
        user.last_name = last_name[:150]
        user.save(update_fields=["first_name", "last_name"])
        known = (
            ContactEmail.objects.filter(address=email, contact__user__isnull=True)
            .select_related("contact")
            .first()
        )
        if known is not None:
            contact = known.contact
            contact.user = user
            contact.first_name = contact.first_name or first_name[:100]
            contact.last_name = contact.last_name or last_name[:100]
            if contact.organisation_id is None:
                contact.organisation = match.organisation
                contact.needs_review = match.needs_review
            elif not match.needs_review and match.organisation.pk == contact.organisation_id:
                contact.needs_review = False  # what intake guessed, the customer confirms
            contact.save()
        else:
            contact = Contact.objects.create(
                user=user,
                organisation=match.organisation,
                first_name=first_name[:100],
                last_name=last_name[:100],
                needs_review=match.needs_review,
                language=language if language in dict(settings.LANGUAGES) else "it",
            )
            ContactEmail.objects.get_or_create(
                address=email, defaults={"contact": contact, "primary": True}
            )
        if phone:
            ContactPhone.objects.get_or_create(
                contact=contact, number=phone, defaults={"label": "portale"}
            )
        PrivacyConsent.objects.create(
            user=user,
            policy_version=settings.SPORTELLO_PRIVACY_VERSION,
            accepted_at=timezone.now(),
            ip=ip,
        )
        Registration.objects.create(
            user=user,
            company=company[:200],
            tax_id=tax_id,
            phone=phone,
            match=match.reason,
            created_at=timezone.now(),
        )
    log.info(
        "portal account registered",
        extra={"contact": contact.pk, "match": match.reason, "review": contact.needs_review},
    )
    if contact.needs_review:
        transaction.on_commit(lambda: account_pending_notify(contact=contact))
    return contact


def account_pending_notify(*, contact: Contact) -> int:
    """Tell the staff of SPORTELLO_SIGNUP_NOTIFY_ROLES that an account waits for approval.

    Returns how many were told. A failed delivery is logged: the account still waits
    in the admin's list, where agents find it anyway.
    """
    agents = agents_in_roles(settings.SPORTELLO_SIGNUP_NOTIFY_ROLES)
    if not agents:
        return 0
    registration = Registration.objects.filter(user_id=contact.user_id).first()
    link = settings.SPORTELLO_SITE_URL + reverse(
        "admin:portal_pendingaccount_change", args=[contact.pk]
    )
    context = {
        "contact": contact,
        "email": contact.user.email if contact.user else "",
        "registration": registration,
        "link": link,
    }
    # One e-mail per language, each agent in the one they chose (staff.Agent.language).
    by_language: dict[str, list[str]] = {}
    for agent in agents:
        by_language.setdefault(agent.language_code, []).append(agent.user.email)
    told = 0
    for language, addresses in by_language.items():
        with translation.override(language):
            subject = _("Portal account awaiting approval: %(name)s") % {"name": contact}
            body = render_to_string(
                "portal/email/signup_pending.txt",
                {**context, "match": match_label(registration.match) if registration else ""},
            )
        try:
            send_mail(subject, body, None, addresses)
        except OSError as exc:
            log.warning(
                "sign-up notice not sent",
                extra={"contact": contact.pk, "language": language, "error": str(exc)},
            )
            continue
        told += len(addresses)
    return told


def account_approve_with_new_organisation(*, contact: Contact, actor=None) -> Organisation:
    """Create the organisation the customer typed at sign-up and approve the account.

    The company name and partita IVA (or codice fiscale) come from the registration;
    the e-mail's domain joins the organisation unless it is free mail or someone
    else's. Raises ``PortalInputError`` with the reason when the typed data cannot
    make an organisation (no company name, a VAT number another organisation has).
    """
    registration = Registration.objects.filter(user_id=contact.user_id).first()
    company = (registration.company if registration else "").strip()
    if not company:
        raise PortalInputError(
            _("The customer typed no company name: open the account and choose the organisation."),
            field="organisation",
        )
    tax_id = registration.tax_id
    org = Organisation(name=company)
    if tax_id.isdigit() and len(tax_id) == 11:
        org.vat_number = tax_id
    elif tax_id:
        org.fiscal_code = tax_id
    try:
        org.full_clean()
    except ValidationError as exc:
        reasons = " ".join(m for ms in exc.message_dict.values() for m in ms)
        raise PortalInputError(
            _("Cannot create %(company)s from the registration: %(reasons)s")
            % {"company": company, "reasons": reasons},
            field="organisation",
        ) from exc
    email = contact.user.email.lower() if contact.user else ""
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    with transaction.atomic():
        org.save()
        if (
            domain
            and domain not in FREE_MAIL_DOMAINS
            and not OrganisationDomain.objects.filter(domain=domain).exists()
        ):
            OrganisationDomain.objects.create(organisation=org, domain=domain)
        account_approve(contact=contact, organisation=org, actor=actor)
    return org


def account_approve(*, contact: Contact, organisation: Organisation | None, actor=None) -> Contact:
    """An agent confirms a pending account, optionally choosing its organisation; the
    customer is told by e-mail that the portal now shows their tickets."""
    contact.organisation = organisation or contact.organisation
    contact.needs_review = False
    contact.save(update_fields=["organisation", "needs_review"])
    log.info("portal account approved", extra={"contact": contact.pk, "by": str(actor or "")})
    account_approved_notify(contact=contact)
    return contact


def account_approved_notify(*, contact: Contact) -> None:
    if contact.user is None or not contact.user.email:
        return
    support = SupportSettings.load()
    link = settings.SPORTELLO_SITE_URL.rstrip("/") + "/portale/"
    with translation.override(contact.language or settings.LANGUAGE_CODE):
        subject = _("Your support portal account is active")
        body = render_to_string(
            "portal/email/account_approved.txt",
            {"contact": contact, "support": support, "link": link},
        )
    try:
        send_mail(subject, body, None, [contact.user.email])
    except OSError as exc:  # the approval stands; the customer can sign in anyway
        log.warning("approval e-mail not sent", extra={"contact": contact.pk, "error": str(exc)})


# ---------------------------------------------------------------------------
# Attachments


def upload_check(*, name: str, size: int) -> str:
    """Check an upload against the configured limits; return the type we store it as.

    The type follows the (allowed) extension, never the browser's Content-Type, so a
    page disguised as a picture is stored as what its name says.
    """
    suffix = PurePath(name or "").suffix.lower()
    allowed = [t.lower() if t.startswith(".") else f".{t.lower()}" for t in _allowed_types()]
    if suffix not in allowed:
        raise PortalInputError(
            _("%(name)s: files of this type cannot be attached. Allowed: %(types)s.")
            % {"name": name, "types": ", ".join(allowed)},
            field="attachments",
        )
    limit = settings.SPORTELLO_UPLOAD_MAX_BYTES
    if size > limit:
        shown_size, shown_limit = _megabytes(size), _megabytes(limit)
        if shown_size == shown_limit:  # a few bytes over: "10,0 MB; the limit is 10,0 MB"
            shown_size, shown_limit = _bytes(size), _bytes(limit)
        raise PortalInputError(
            _("%(name)s is %(size)s; the limit is %(limit)s per file.")
            % {"name": name, "size": shown_size, "limit": shown_limit},
            field="attachments",
        )
    if size == 0:
        raise PortalInputError(_("%(name)s is empty.") % {"name": name}, field="attachments")
    return mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"


def _allowed_types() -> list[str]:
    return list(settings.SPORTELLO_UPLOAD_TYPES)


def _megabytes(size: int) -> str:
    return f"{number_format(size / (1024 * 1024), decimal_pos=1)} MB"


def _bytes(size: int) -> str:
    return _("%(count)s bytes") % {"count": number_format(size, force_grouping=True)}


def uploads_check(uploads: list[Upload]) -> None:
    if len(uploads) > settings.SPORTELLO_UPLOAD_MAX_FILES:
        raise PortalInputError(
            _("At most %(count)s files per message.")
            % {"count": settings.SPORTELLO_UPLOAD_MAX_FILES},
            field="attachments",
        )
    for upload in uploads:
        upload_check(name=upload.name, size=len(upload.content))


def _attach(ticket: Ticket, message: Message, uploads: list[Upload], actor) -> None:
    for upload in uploads:
        tickets.attachment_add(
            ticket=ticket,
            message=message,
            filename=PurePath(upload.name.replace("\\", "/")).name[:255] or "allegato",
            content=upload.content,
            content_type=upload_check(name=upload.name, size=len(upload.content)),
            actor=actor,
        )


def attachment_is_safe_image(*, content_type: str, head: bytes) -> bool:
    """Shown inline only when the stored type is a raster image and the bytes agree
    (the same rule as the desk's, ``tickets.files``)."""
    return files.is_safe_image(content_type=content_type, head=head)


# ---------------------------------------------------------------------------
# Tickets


def _actor(user) -> tickets.Actor:
    return tickets.Actor(user=user, label=user.email or user.get_username())


def portal_ticket_open(
    *,
    user,
    contact: Contact,
    subject: str,
    description: str,
    category: str = "",
    priority: str = "normal",
    uploads: list[Upload] | None = None,
) -> Ticket:
    """Open a ticket from the portal, store its attachments and acknowledge it by e-mail.

    A request about the state's INIT system is answered as out of scope and closed
    without charge, as the e-mail channel does (policy: "non possiamo fornire assistenza
    per il sistema INIT").
    """
    uploads = uploads or []
    uploads_check(uploads)
    if not (description or "").strip():
        raise PortalInputError(_("Describe the problem."), field="description")
    tickets.typed_text_check(text=description, field="description")
    actor = _actor(user)
    with transaction.atomic():
        ticket = tickets.ticket_open(
            subject=subject,
            channel=Channel.PORTAL,
            contact=contact,
            organisation=contact.organisation,
            actor=actor,
            priority=priority,
            category=category,
            message=MessageInput(text=description.strip(), sender=user.email),
        )
        _attach(ticket, ticket.first_message, uploads, actor)
        outbound.answer_new_ticket(ticket=ticket, to=user.email, texts=(subject, description))
    return ticket


def portal_reply(*, user, contact: Contact, ticket: Ticket, text: str, uploads=None) -> Message:
    """The customer answers on the portal; a ticket waiting for them, or resolved, reopens."""
    uploads = uploads or []
    if not (text or "").strip() and not uploads:
        raise PortalInputError(_("Write a message or attach a file."), field="text")
    if ticket.status == Status.CLOSED:
        raise PortalError(
            _("Ticket %(number)s is closed; reopen it to reply.") % {"number": ticket.number},
            code="ticket_closed",
        )
    uploads_check(uploads)
    tickets.typed_text_check(text=text)
    actor = _actor(user)
    with transaction.atomic():
        message = tickets.message_add(
            ticket=ticket,
            actor=actor,
            author_contact=contact,
            message=MessageInput(
                kind=MessageKind.PORTAL,
                direction=Direction.INBOUND,
                text=(text or "").strip(),
                sender=user.email,
                subject=outbound.subject_for(ticket),
            ),
        )
        _attach(ticket, message, uploads, actor)
        if ticket.status in (Status.WAITING, Status.RESOLVED):
            tickets.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=actor)
    return message


def portal_close(*, user, ticket: Ticket) -> Ticket:
    """The customer says the problem is solved: the ticket is closed (charges frozen)."""
    if ticket.status == Status.CLOSED:
        return ticket
    with transaction.atomic():
        return tickets.ticket_change_status(ticket=ticket, status=Status.CLOSED, actor=_actor(user))


def reopen_deadline(ticket: Ticket):
    """Until when a closed ticket may be reopened (SupportSettings.reopen_window_days)."""
    if ticket.closed_at is None:
        return None
    return ticket.closed_at + timedelta(days=SupportSettings.load().reopen_window_days)


def can_reopen(ticket: Ticket) -> bool:
    if ticket.status == Status.RESOLVED:
        return True
    if ticket.status != Status.CLOSED:
        return False
    deadline = reopen_deadline(ticket)
    return deadline is None or timezone.now() <= deadline


def portal_reopen(*, user, ticket: Ticket) -> Ticket:
    """Reopen a resolved ticket, or a closed one within the reopen window."""
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        return ticket
    deadline = reopen_deadline(ticket)
    if ticket.status == Status.CLOSED and deadline and timezone.now() > deadline:
        raise PortalError(
            _(
                "Ticket %(number)s was closed more than %(days)s days ago: open a new ticket "
                "and mention it."
            )
            % {"number": ticket.number, "days": SupportSettings.load().reopen_window_days},
            code="reopen_window_passed",
        )
    with transaction.atomic():
        return tickets.ticket_change_status(ticket=ticket, status=Status.OPEN, actor=_actor(user))


def portal_rate(*, user, ticket: Ticket, rating: int, comment: str = "") -> TicketRating:
    """Record the customer's satisfaction (1-5) with a resolved or closed ticket, once."""
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise PortalError(
            _("A ticket can be rated once it is resolved."), code="not_resolved", field="rating"
        )
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise PortalInputError(_("Choose a rating from 1 to 5."), field="rating")
    with transaction.atomic():
        obj, created = TicketRating.objects.get_or_create(
            ticket=ticket,
            defaults={
                "rating": rating,
                "comment": (comment or "").strip()[:2000],
                "author": user,
                "created_at": timezone.now(),
            },
        )
        if not created:
            raise PortalError(_("This ticket has already been rated."), code="already_rated")
        tickets.record_event(
            ticket=ticket,
            kind="changed",
            actor=_actor(user),
            data={"rating": rating, "comment": bool(obj.comment)},
        )
    return obj


# ---------------------------------------------------------------------------
# The public contact form


def contact_request_file(
    *,
    name: str,
    email: str,
    message: str,
    company: str = "",
    phone: str = "",
) -> Ticket:
    """File a "Hai domande? Lascia un messaggio" request: non-billable (SPEC 2), with an
    acknowledgement to the writer."""
    email = email.strip().lower()
    support = SupportSettings.load()
    with transaction.atomic():
        contact = customers.contact_for_sender(address=email, name=name)
        details = [f"{name.strip()} <{email}>"]
        if company.strip():
            details.append(company.strip())
        if phone:
            details.append(phone)
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Contact form: %(name)s") % {"name": name.strip()[:80]}
        ticket = tickets.ticket_open(
            subject=subject,
            channel=Channel.CONTACT_FORM,
            contact=contact,
            actor=tickets.Actor(label=email),
            billable=False,
            non_billable_reason=NonBillableReason.INFORMATION,
            message=MessageInput(
                text=f"{message.strip()}\n\n-- \n" + "\n".join(details), sender=email
            ),
        )
        outbound.acknowledgement(ticket=ticket, to=email, limit_per_hour=support.ack_limit_per_hour)
    return ticket
