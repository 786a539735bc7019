"""What ticket services announce to apps that tickets must not know about (STYLE 1.3:
signals only for "things that should not know about each other"). Receivers run inside
the service's transaction; anything they send waits for the commit (on_commit)."""

from django.dispatch import Signal

# A message was added to a ticket. Arguments: ticket, message, notify (False for
# imports and demo data, which must not write to anybody).
message_added = Signal()

# A ticket changed status. Arguments: ticket, old, new, actor, notify.
status_changed = Signal()

# A ticket's assignee changed (``services.ticket_assign``). Arguments: ticket, old (the
# previous assignee's id or None), new (the Agent or None), actor.
ticket_assigned = Signal()

# A ticket was opened by ``services.ticket_open``, its first message (or None) saved, all
# in the opening transaction. Arguments: ticket, message. While it is being opened the
# ticket carries ``opening = True``, so that receivers of the rows' ``post_save`` can
# leave the new ticket and its first message to this one signal (the search index writes
# one row instead of two).
ticket_opened = Signal()

# What a ticket is priced from changed: it was opened, a message that counts as written,
# an intervention, a billing field or its status. Receivers run in the service's
# transaction, so the charges are current when the service returns. Arguments: ticket,
# opened_with_written (the ticket was just opened with that many written messages and
# nothing else; None otherwise) and, for a status change, status=(old, new) and actor.
pricing_changed = Signal()

# Messages and attachments moved from one ticket to another (a merge, a split), by
# QuerySet.update, which sends no post_save. Arguments: ticket_ids (every ticket whose
# conversation changed). The search index rebuilds their documents.
conversation_moved = Signal()
