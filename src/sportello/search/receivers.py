"""The index follows every write, in the writer's transaction.

Django's model signals are used, not the services' own signals, because the rows a
ticket is found by are written from several places that know nothing of search: ticket
services, the mail intake, the portal's sign-up (contacts and phones), the admin
(organisations, contacts). ``post_save``/``post_delete`` reach every one of them;
``bulk_create`` and ``QuerySet.update`` do not, which is why bulk loads end with
``sportello search rebuild`` (``bench-data`` runs it).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from sportello.customers.models import Contact, ContactEmail, ContactPhone, Organisation
from sportello.tickets import signals
from sportello.tickets.models import Attachment, Message, Ticket

from . import index

# A ticket saved with only these fields keeps its document as it is.
_TICKET_INDEXED_FIELDS = frozenset(
    {"subject", "number", "contact", "contact_id", "organisation", "organisation_id"}
)

_MESSAGE_INDEXED_FIELDS = frozenset({"text", "sender", "direction", "automatic", "ticket"})


def ticket_saved(sender, instance: Ticket, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    if created:
        if not getattr(instance, "opening", False):  # else ticket_opened indexes it
            index.document_ticket_created(ticket=instance, messages=())
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not (set(update_fields) & _TICKET_INDEXED_FIELDS):
        return  # a status change, an assignment: nothing the index holds
    index.document_ticket_changed(ticket=instance)


def message_saved(sender, instance: Message, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    if created:
        if not getattr(instance.ticket, "opening", False):  # else ticket_opened has it
            index.document_message_added(message=instance)
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not (set(update_fields) & _MESSAGE_INDEXED_FIELDS):
        return  # delivery status and the like
    index.document_build(ticket=instance.ticket)


def _deleted_itself(sender, kwargs) -> bool:
    """True when the row itself was deleted, not swept away by its ticket's (or contact's)
    deletion, which takes the document with it."""
    origin = kwargs.get("origin")
    model = getattr(origin, "model", type(origin))
    return model is sender


def ticket_opened(sender, ticket: Ticket, message: Message | None, **kwargs) -> None:
    """A new ticket with its first message: one INSERT."""
    index.document_ticket_created(ticket=ticket, messages=[message] if message else ())


def conversation_moved(sender, ticket_ids, **kwargs) -> None:
    """A merge or a split moved messages by QuerySet.update: rebuild both documents."""
    index.documents_refresh(ticket_ids=ticket_ids)


def message_deleted(sender, instance: Message, **kwargs) -> None:
    if _deleted_itself(sender, kwargs):
        _rebuild_if_ticket_exists(instance.ticket_id)


def attachment_saved(sender, instance: Attachment, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    if created:
        index.document_attachment_added(attachment=instance)
    else:
        _rebuild_if_ticket_exists(instance.ticket_id)


def attachment_deleted(sender, instance: Attachment, **kwargs) -> None:
    if _deleted_itself(sender, kwargs):
        _rebuild_if_ticket_exists(instance.ticket_id)


def _rebuild_if_ticket_exists(ticket_id: int) -> None:
    # A ticket being deleted takes its document with it (CASCADE); nothing to rebuild.
    ticket = Ticket.objects.filter(pk=ticket_id).select_related("contact", "organisation").first()
    if ticket is not None:
        index.document_build(ticket=ticket)


def contact_changed(sender, instance: Contact, raw: bool = False, created: bool = False, **kw):
    if not raw and not created:
        index.documents_of_contact(contact_id=instance.pk)


def contact_detail_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    """An e-mail address or phone number of a contact was added or changed."""
    if not raw and instance.contact_id:
        index.documents_of_contact(contact_id=instance.contact_id)


def contact_detail_deleted(sender, instance, **kwargs) -> None:
    if _deleted_itself(sender, kwargs) and instance.contact_id:
        index.documents_of_contact(contact_id=instance.contact_id)


def organisation_changed(sender, instance: Organisation, raw=False, created=False, **kw):
    if not raw and not created:
        index.documents_of_organisation(organisation_id=instance.pk)


def connect() -> None:
    uid = "sportello.search"
    post_save.connect(ticket_saved, sender=Ticket, dispatch_uid=f"{uid}.ticket")
    signals.ticket_opened.connect(ticket_opened, sender=Ticket, dispatch_uid=f"{uid}.opened")
    post_save.connect(message_saved, sender=Message, dispatch_uid=f"{uid}.message")
    signals.conversation_moved.connect(
        conversation_moved, sender=Ticket, dispatch_uid=f"{uid}.moved"
    )
    post_delete.connect(message_deleted, sender=Message, dispatch_uid=f"{uid}.message-del")
    post_save.connect(attachment_saved, sender=Attachment, dispatch_uid=f"{uid}.att")
    post_delete.connect(attachment_deleted, sender=Attachment, dispatch_uid=f"{uid}.att-del")
    post_save.connect(contact_changed, sender=Contact, dispatch_uid=f"{uid}.contact")
    for model in (ContactEmail, ContactPhone):
        name = model.__name__.lower()
        post_save.connect(contact_detail_saved, sender=model, dispatch_uid=f"{uid}.{name}")
        post_delete.connect(contact_detail_deleted, sender=model, dispatch_uid=f"{uid}.{name}-del")
    post_save.connect(organisation_changed, sender=Organisation, dispatch_uid=f"{uid}.org")
