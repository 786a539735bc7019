"""Sending a stored outbound message: the SMTP side of outbound mail.

``outbound`` writes what is to be sent (a pending ``Message`` row) and queues the
``message_send`` task; the task calls this module, which builds the e-mail from the row,
sends it and records the outcome. Nothing here queues or decides what to write, so the
task and the services never import each other in a circle.
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives

from sportello.tickets.models import DeliveryStatus, Message


def build_email(message: Message) -> EmailMultiAlternatives:
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
        subject=message.subject,
        body=message.text,
        from_email=message.sender,
        to=message.recipients,
        cc=message.cc,
        headers=headers,
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
    if not message.recipients:
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
