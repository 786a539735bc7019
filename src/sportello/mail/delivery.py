"""Sending a stored outbound message: the SMTP side of outbound mail.

``outbound`` writes what is to be sent (a pending ``Message`` row) and queues the
``message_send`` task; the task calls this module, which builds the e-mail from the row,
sends it and records the outcome. Nothing here queues or decides what to write, so the
task and the services never import each other in a circle.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from sportello.tickets.models import DeliveryStatus, Message


def is_address(value: str) -> bool:
    """Whether ``value`` is an e-mail address we may send to (``local@domain``).

    A sender's header can yield a bare word ("giulia", "MAILER-DAEMON"): the local
    MTA would deliver it to a local mailbox, or to whatever it guesses.
    """
    try:
        validate_email(value or "")
    except ValidationError:
        return False
    return True


def deliverable(addresses) -> list[str]:
    """The e-mail addresses among ``addresses``, in order, anything else dropped."""
    return [a for a in addresses or [] if is_address(a)]


_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def header_safe(value: str) -> str:
    """A header value on one line: CR and LF (typed in a subject or a name, say) become
    one space. The one place every header we write passes through: Django would refuse
    the whole message with BadHeaderError (RFC 5322 2.2: a header is one logical line)."""
    return _LINE_BREAKS.sub(" ", value or "").strip()


def build_email(message: Message) -> EmailMultiAlternatives:
    """The e-mail of an outbound ``message``: every header through ``header_safe``, and
    only real addresses as recipients (see ``deliverable``)."""
    headers = {"Message-ID": f"<{message.message_id}>"}
    if message.in_reply_to:
        headers["In-Reply-To"] = f"<{message.in_reply_to}>"
    if message.references:
        headers["References"] = " ".join(f"<{r}>" for r in message.references.split())
    if message.automatic:
        # RFC 3834: mark automatic answers, so well-behaved auto-responders stay quiet.
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    email = EmailMultiAlternatives(
        subject=header_safe(message.subject),
        body=message.text,
        from_email=header_safe(message.sender),
        to=[header_safe(a) for a in deliverable(message.recipients)],
        cc=[header_safe(a) for a in deliverable(message.cc)],
        headers={name: header_safe(value) for name, value in headers.items()},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as fh:
            email.attach(attachment.filename, fh.read(), attachment.content_type)
    return email


def message_deliver(*, message_id: int) -> str:
    """Send one pending message; raise on failure so the task retries."""
    claimed = Message.objects.filter(pk=message_id, delivery_status=DeliveryStatus.PENDING)
    message = claimed.select_related("ticket").first()
    if message is None:
        return "nothing to send"
    if not deliverable(message.recipients):
        claimed.update(
            delivery_status=DeliveryStatus.FAILED,
            delivery_error="No recipient address: add an e-mail to the contact.",
        )
        return "failed"
    build_email(message).send(fail_silently=False)
    claimed.update(delivery_status=DeliveryStatus.SENT, delivery_error="")
    return "sent"


def message_delivery_failed(*, message_id: int, error: str) -> None:
    Message.objects.filter(pk=message_id).update(
        delivery_status=DeliveryStatus.FAILED, delivery_error=error[:2000]
    )
