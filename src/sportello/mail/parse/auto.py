"""Mail a machine sent: bounces (RFC 3464/6522), auto-replies (RFC 3834), mailing lists
(RFC 2369/2919), and what a bounce says about the mail that did not arrive."""

from __future__ import annotations

import re

from .charsets import _normalise_newlines
from .headers import _dedupe, _Headers, parse_message_ids
from .mime import _Bounce, _message_id_in_headers
from .values import AUTO_REPLY, BOUNCE, MAILING_LIST

_DSN_FIELD_RE = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*)$", re.MULTILINE)
_STATUS_RE = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_BODY_MSGID_RE = re.compile(r"^[ \t>]*Message-ID[ \t]*:[ \t]*(<[^<>\r\n]+>|\S+@\S+)", re.I | re.M)


def _dsn_details(texts: list[str]) -> tuple[list[str], str | None]:
    """Failed recipients and the first status code from RFC 3464 report fields."""
    recipients: list[str] = []
    statuses: list[tuple[str, str]] = []
    for text in texts:
        # RFC 3464 2.1: blocks are separated by blank lines; each recipient has one.
        for block in re.split(r"\r?\n[ \t]*\r?\n", _normalise_newlines(text)):
            fields: dict[str, str] = {}
            for name, value in _DSN_FIELD_RE.findall(block):
                fields.setdefault(name.lower(), value.strip())
            recipient = fields.get("final-recipient") or fields.get("original-recipient")
            if recipient:
                # "rfc822; user@example.com" (RFC 3464 2.3.2: address-type ; address)
                address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
                if "@" in address:
                    recipients.append(address)
            status = _STATUS_RE.search(fields.get("status", ""))
            if status:
                statuses.append((fields.get("action", "").lower(), status.group(1)))
    failed = [code for action, code in statuses if action.startswith("failed")]
    status = (failed or [code for _, code in statuses] or [None])[0]
    return _dedupe(recipients), status


def _bounced_ids(bounce: _Bounce, texts: list[str], own_id: str | None) -> list[str]:
    """Message-IDs of the mail that bounced: from the returned headers, else the text.

    The returned headers are trusted even when the id equals the bounce's own:
    some MTAs (Lotus Domino) reuse the original Message-ID for the report.
    """
    ids: list[str] = []
    for headers in bounce.original_headers:
        ids.extend(_message_id_in_headers(headers))
    if not ids:
        ids.extend(bounce.embedded_ids)
    if ids:
        return _dedupe(ids)
    # Bounces without a machine-readable part (qmail, old Exim, appliances) quote
    # the original headers in their text or in a text attachment.
    for found in _BODY_MSGID_RE.findall("\n".join([*texts, *bounce.dsn_text])):
        ids.extend(parse_message_ids(found) or [found.strip("<>")])
    return [mid for mid in _dedupe(ids) if mid != own_id]


_TEXT_RECIPIENT_RE = re.compile(r"^[ \t]*<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>:", re.M)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_BOUNCE_SUBJECT_RE = re.compile(
    r"^(?:undeliver(?:ed|able)|delivery (?:status notification|"
    r"failure|failed|has failed|report|notification)|mail delivery (?:failed|failure|system)|"
    r"returned mail|failure notice|non[- ]?remis|mancato recapito|unzustellbar|"
    r"nicht zustellbar|message (?:not delivered|delivery failure|undeliverable)|"
    r"undelivered mail|delivery notification|warning: could not send|"
    r"mail system error|could not deliver|delivery problem)",
    re.IGNORECASE,
)
# Display names MTAs give their bounces ("Mail Delivery Subsystem <MAILER-DAEMON>").
_BOUNCE_NAME_RE = re.compile(
    r"^\s*(?:mail delivery (?:subsystem|system|service)|mailer[- ]?daemon|postmaster|"
    r"mail administrator)\s*$",
    re.IGNORECASE,
)
# Subject prefixes of out-of-office replies, as Outlook/Exchange and others write them.
_AUTO_SUBJECT_RE = re.compile(
    r"^\s*(?:automatic reply|auto(?:matische)?[- ]?(?:reply|response|respuesta|antwort)|"
    r"autoreply|out of (?:the )?office|risposta automatica|fuori sede|"
    r"abwesenheitsnotiz|réponse automatique|respuesta automática|absence)\b",
    re.IGNORECASE,
)
# Pre-RFC 2369 list managers (Majordomo, ezmlm, LISTSERV) mark their mail through
# the envelope sender: "owner-list@", "list-owner@", "list-request@".
_LIST_OWNER_RE = re.compile(r"(?:^|[<\s])(?:owner-[^@\s]+|[^@\s<]+-(?:owner|request|bounces?))@")


def _classify_auto(
    headers: _Headers,
    *,
    from_address: str,
    from_name: str = "",
    subject: str = "",
    bounce: _Bounce | None = None,
) -> str | None:
    """None for a person's mail, else "bounce", "auto-reply" or "mailing-list".

    First match wins:

    1. bounce: a multipart/report (RFC 6522) or a message/delivery-status part
       (RFC 3464 DSN; ARF complaints, RFC 5965, count too), or mail from
       mailer-daemon/postmaster, or a null envelope sender (``Return-Path: <>``)
       with a delivery-failure subject. Read receipts (RFC 8098 MDNs) are not
       bounces: the mail arrived. They are "auto-reply".
    2. auto-reply: RFC 3834 ``Auto-Submitted`` other than "no" (auto-replied and
       auto-generated alike: look at ``auto_submitted`` to tell them apart),
       ``X-Autoreply``/``X-Autorespond``, Apple's ``X-Apple-Action: VACATION``,
       ``Precedence: auto_reply``. ``X-Auto-Response-Suppress`` alone does NOT
       count: it only asks others not to answer, and Outlook, CRMs and many
       senders put it on mail that people wrote. It counts, with ``All``/``OOF``,
       together with an out-of-office subject ("Automatic reply:", "Risposta
       automatica:"). A null envelope sender (``Return-Path: <>``, RFC 3834 3.3)
       counts with such a subject or with Exchange's
       ``X-MS-Exchange-Inbox-Rules-Loop`` (the out-of-office assistant).
    3. mailing-list: RFC 2919 ``List-Id``, RFC 2369 ``List-Unsubscribe`` /
       ``List-Post``, ``Precedence: list``, or ``Precedence: bulk``/``junk`` from a
       list manager's owner address (Majordomo "owner-x@", ezmlm "x-owner@").
    4. auto-reply: remaining ``Precedence: bulk``/``junk`` (RFC 3834 2: do not
       answer it; vacation programs set it).
    """
    bounce = bounce or _Bounce()
    local = from_address.split("@", 1)[0]
    return_path = (headers.first("Return-Path") or "").strip()
    null_sender = "return-path" in headers and return_path.replace(" ", "") in ("<>", "")
    content_type = headers.text("Content-Type")
    report_types = [*bounce.report_types]
    if "multipart/report" in content_type:
        match = re.search(r"report-type\s*=\s*\"?([\w-]+)", content_type)
        report_types.append(match.group(1) if match else "")
    is_mdn = report_types and all(t == "disposition-notification" for t in report_types)
    if is_mdn and not bounce.dsn_text:
        return AUTO_REPLY
    if report_types or bounce.dsn_text:
        return BOUNCE
    if local in _BOUNCE_SENDERS or local.startswith("mailer-daemon"):
        return BOUNCE
    if _BOUNCE_NAME_RE.match(from_name):
        return BOUNCE
    if null_sender and _BOUNCE_SUBJECT_RE.search(subject):
        return BOUNCE
    if "x-failed-recipients" in headers:  # Exim, on every bounce it writes
        return BOUNCE

    # "auto-replied; owner-email=...", "no (a person wrote this)": the first token counts.
    auto_submitted = re.split(r"[\s;(]", headers.text("Auto-Submitted"), maxsplit=1)[0]
    if auto_submitted and auto_submitted != "no":
        # RFC 3834 5: anything but "no" means a program sent it.
        return AUTO_REPLY
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        value = headers.text(name)
        if name in headers and value not in ("no", "false", "0"):
            return AUTO_REPLY
    if headers.text("X-Apple-Action") == "vacation":
        return AUTO_REPLY
    precedence = headers.text("Precedence")
    if precedence in ("auto_reply", "auto-reply"):
        return AUTO_REPLY
    suppress = headers.text("X-Auto-Response-Suppress")
    if suppress and re.search(r"\b(all|oof)\b", suppress) and _AUTO_SUBJECT_RE.search(subject):
        return AUTO_REPLY
    if null_sender and (
        _AUTO_SUBJECT_RE.search(subject) or "x-ms-exchange-inbox-rules-loop" in headers
    ):
        # RFC 3834 3.3: responders send with a null envelope sender. A mail that an
        # Exchange rule forwards keeps a real sender, so it is not caught here.
        return AUTO_REPLY

    if any(name in headers for name in ("List-Id", "List-Unsubscribe", "List-Post")):
        return MAILING_LIST
    if precedence == "list":
        return MAILING_LIST
    if precedence in ("bulk", "junk"):
        envelope = " ".join(
            [return_path, headers.text("Sender"), " ".join(headers.all("X-Mailing-List"))]
        ).lower()
        if "mailing-list" in headers or "x-mailing-list" in headers:
            return MAILING_LIST
        if _LIST_OWNER_RE.search(envelope):
            return MAILING_LIST
        return AUTO_REPLY
    return None
