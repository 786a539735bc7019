"""How a message is shown: new content first, quoted history and signature folded away.

Used by the agents' ticket view (admin) and the portal. The HTML was sanitised with nh3
when the mail was parsed; here ``cid:`` references become links to the stored inline
images, so they show where the sender put them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sportello.tickets.quotes import is_forward_subject, split_reply

from .models import Attachment, Message

CID = re.compile(r"""(src\s*=\s*["'])cid:([^"']+)(["'])""", re.IGNORECASE)


@dataclass(frozen=True)
class ShownMessage:
    message: Message
    new_text: str
    folded_text: str
    html: str
    attachments: list[Attachment]


def message_shown(message: Message, *, attachment_url: Callable[[Attachment], str]) -> ShownMessage:
    attachments = list(message.attachments.all())
    new, folded = split_reply(message.text or "", forwarded=is_forward_subject(message.subject))
    html = message.html or ""
    if html and attachments:
        by_cid = {a.content_id.strip("<>"): a for a in attachments if a.content_id}

        def to_url(match: re.Match) -> str:
            attachment = by_cid.get(match.group(2).strip("<>"))
            if attachment is None:
                return match.group(0)
            return f"{match.group(1)}{attachment_url(attachment)}{match.group(3)}"

        html = CID.sub(to_url, html)
    return ShownMessage(message, new, folded, html, attachments)
