"""Tests for sportello.mail.parse: real mails from shared/mail-corpus, replayed as bytes.

Run without Django: ``.venv/bin/pytest -p no:django src/sportello/mail``.
The corpus is found at ``<repo root>/../shared`` (override: SPORTELLO_SHARED_DIR);
without it the run fails (core/testenv.py: shared_dir).
"""

from __future__ import annotations

import email
import json
import os
import struct
import subprocess
import sys
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sportello
from sportello.core.testenv import shared_dir
from sportello.mail.parse import (
    ParsedMessage,
    decode_encoded_words,
    html_to_text,
    is_mbox,
    iter_mbox,
    parse_message,
    parse_message_ids,
    sanitize_html,
    split_mbox,
    split_messages,
    ticket_tag_in,
)
from sportello.tickets.quotes import split_reply

CORPUS = shared_dir() / "mail-corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())

# The manifest's "kind" is a header heuristic (see SOURCES.md). Where it is wrong
# for a file, the parser is right, and the file is listed here with the reason.
KIND_EXCEPTIONS = {
    # Mailing-list posts, not auto-replies: "Precedence: bulk" sent by a list manager
    # (Sender: owner-x@ / x-owner@), or a newsletter with List-Unsubscribe. The
    # heuristic only knows List-Id.
    "cpython/msg_32.eml": "mailing-list",
    "cpython/msg_33.eml": "mailing-list",
    "flanker/apache-message-news-mime.eml": "mailing-list",
    "flanker/from-encoding.eml": "mailing-list",
    "flanker/message-external-body.eml": "mailing-list",
    "mail-parser/mail_test_5.eml": "mailing-list",
    # An RFC 8098 read receipt says the mail arrived: not a bounce.
    "flanker/disposition-notification.eml": "auto-reply",
    # Justified non-None for "message"/"reply" kinds:
    # a bare message/delivery-status (Action: failed) without multipart/report around it;
    "flanker/bounce/delayed-broken.eml": "bounce",
    # Verizon's MMS gateway NDR: null sender, "Undeliverable Message";
    "sisimai/bsd/lhost-verizon-01.eml": "bounce",
    # Exchange out-of-office (X-MS-Exchange-Inbox-Rules-Loop) and Apple vacation replies.
    "sisimai/bsd/rfc3834-02.eml": "auto-reply",
    "sisimai/bsd/rfc3834-03.eml": "auto-reply",
    "sisimai/bsd/rfc3834-04.eml": "auto-reply",
}
EXPECTED_KIND = {
    "bounce": "bounce",
    "auto-reply": "auto-reply",
    "mailing-list": "mailing-list",
    "message": None,
    "reply": None,
}


def corpus_bytes(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def corpus(name: str) -> ParsedMessage:
    return parse_message(corpus_bytes(name))


def _has_surrogates(value: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def _assert_clean(parsed: ParsedMessage) -> None:
    assert isinstance(parsed, ParsedMessage)
    for value in (parsed.subject, parsed.text, parsed.html, parsed.from_name):
        assert isinstance(value, str)
        assert "\x00" not in value
        assert not _has_surrogates(value)
    for attachment in parsed.attachments:
        assert attachment.filename
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert not _has_surrogates(attachment.filename)
        assert attachment.size == len(attachment.payload)
    assert parsed.date is None or parsed.date.tzinfo is not None


# --------------------------------------------------------------------------- corpus


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e["file"])
def test_it_parses_every_corpus_file(entry):
    raw = corpus_bytes(entry["file"])
    if entry["file"].endswith(".mbox"):
        messages = split_mbox(raw)
        assert messages
        for message in messages:
            _assert_clean(parse_message(message))
    else:
        _assert_clean(parse_message(raw))


@pytest.mark.parametrize(
    "entry", [e for e in MANIFEST if e["kind"] in EXPECTED_KIND], ids=lambda e: e["file"]
)
def test_it_classifies_corpus_mail_like_the_manifest(entry):
    expected = KIND_EXCEPTIONS.get(entry["file"], EXPECTED_KIND[entry["kind"]])
    assert corpus(entry["file"]).auto_kind == expected


def test_it_splits_the_corpus_mboxes_into_bounces():
    messages = split_mbox(corpus_bytes("sisimai/mailbox/mbox-0.mbox"))
    assert len(messages) == 37
    parsed = [parse_message(m) for m in messages]
    people = [p for p in parsed if p.auto_kind is None]
    # One of them is a person forwarding a bounce: not a bounce itself.
    assert [p.subject for p in people] == ["Fwd: Returned mail: see transcript for details"]
    assert all(p.auto_kind == "bounce" for p in parsed if p not in people)
    assert all(p.bounced_message_ids for p in parsed[:33])

    (single,) = split_mbox(corpus_bytes("sisimai/mailbox/mbox-1.mbox"))
    assert parse_message(single).auto_kind == "bounce"


@pytest.mark.parametrize(
    "entry", [e for e in MANIFEST if e["file"].endswith(".eml")], ids=lambda e: e["file"]
)
def test_it_keeps_the_bytes_of_every_named_attachment(entry):
    """Every part with a filename comes out with the bytes the stdlib decodes.

    Parts inside a forwarded message stay inside its .eml attachment.
    """
    raw = corpus_bytes(entry["file"])
    parsed = parse_message(raw)
    payloads = {a.payload for a in parsed.attachments}
    reference = email.message_from_bytes(raw, policy=policy.compat32)
    for part in _leaves_outside_forwarded_messages(reference):
        if not part.get_filename() or part.get_content_type() == "application/ms-tnef":
            continue  # winmail.dat is unpacked when tnefparse is installed: tested below
        assert part.get_payload(decode=True) in payloads, part.get_filename()


def _leaves_outside_forwarded_messages(part):
    if part.get_content_maintype() == "message":
        return
    if part.is_multipart():
        for child in part.get_payload():
            yield from _leaves_outside_forwarded_messages(child)
    else:
        yield part


def test_it_keeps_an_attached_pdf_as_a_pdf():
    parsed = corpus("flanker/attached-pdf.eml")
    (pdf,) = parsed.attachments
    assert pdf.filename == "test.pdf"
    assert pdf.content_type == "application/pdf"
    assert pdf.payload.startswith(b"%PDF")
    assert parsed.text == "Test - body content"


def test_it_decodes_subjects_and_bodies_a_user_would_read():
    parsed = corpus("django-helpdesk/all-special-chars.eml")
    assert parsed.subject == "Testovácí email"
    assert parsed.text == "íářčšáíéřášč"
    assert parsed.from_name == "Timothy Hobbs"
    assert parsed.from_address == "timothy.hobbs@auto-mat.cz"

    parsed = corpus("django-helpdesk/quoted_printable.eml")
    assert parsed.subject == "Český test"
    assert parsed.text == "Tohle je test českých písmen odeslaných z gmailu."

    # The subject's last character arrives as a second encoded word.
    parsed = corpus("django-helpdesk/utf-nondecodable.eml")
    assert parsed.subject == "Fwd: Cyklozaměstnavatel - změna vyhodnocení"
    assert "Ahoj Johne" in parsed.text
    assert parsed.in_reply_to == [
        "CAK0Q_=uQY=3V5iUSgEN16GLtYoJ-6oQu-vYjsgQ=jv6DwOkuLQ@mail.gmail.com"
    ]

    # Raw 8-bit Latin-1 in a 1997 From header.
    assert corpus("flanker/from-encoding.eml").from_name == "Ingo Lütkebohle"
    assert corpus("flanker/bilingual-simple.eml").subject == (
        "Simple text. How are you? Как ты поживаешь?"
    )
    # Mostly UTF-8 with one broken byte: one replacement character, no mojibake.
    assert corpus("flanker/mailformed-headers.eml").from_name == "Юникод запрещен\ufffd"


def test_it_keeps_an_attachment_of_a_mail_without_body():
    parsed = corpus("django-helpdesk/blank-body-with-attachment.eml")
    assert parsed.subject.startswith("Attachment without body - and a loooo")
    assert parsed.subject.endswith("ong subject")
    assert parsed.text == ""
    (attachment,) = parsed.attachments
    assert attachment.filename == "baf"
    assert attachment.payload == b"You shouldn't see this.\n"


def test_it_keeps_an_inline_forward_as_text_and_folds_it_on_request():
    parsed = corpus("django-helpdesk/forwarded-message.eml")
    assert parsed.message_id == "0d3a17d5-7136-75c0-c8ba-a7698c57ac42@gmail.com"
    assert parsed.text.startswith("This is email body")
    assert "your application accessed the GitHub API" in parsed.text
    new, history = split_reply(parsed.text)
    assert new == "This is email body"
    assert history.startswith("-----Original Message-----")


def test_it_keeps_forwarded_messages_as_eml_files():
    parsed = corpus("cpython/msg_46.eml")  # GroupWise "forward as attachment"
    (forwarded,) = parsed.attachments
    assert forwarded.filename == "forwarded-message.eml"
    assert forwarded.content_type == "message/rfc822"
    inner = parse_message(forwarded.payload)
    assert inner.subject and inner.from_address

    parsed = corpus("flanker/enclosed.eml")
    (enclosed,) = parsed.attachments
    assert enclosed.filename == "thanks.eml"
    assert parse_message(enclosed.payload).text  # the .eml opens as a mail again


def test_it_decodes_rfc2047_and_rfc2231_attachment_names():
    # RFC 2047 encoded words inside a quoted parameter (Outlook, Gmail).
    (attachment,) = corpus("mail-parser/mail_test_11.eml").attachments
    assert attachment.filename.startswith("Prokuratura Rejonowa Warszawa-Śródmieście północ")
    assert attachment.filename.endswith(".pdf")
    # Raw UTF-8 in the parameter.
    (attachment,) = corpus("mail-parser/mail_test_1.eml").attachments
    assert attachment.filename == "ФНС_РФ558.zip"
    assert attachment.payload.startswith(b"PK\x03\x04")

    raw = (
        b"From: a@example.com\nSubject: x\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n'
        b"--b\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=UTF-8''fattura%20n%C2%B01.pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"
    )
    (attachment,) = parse_message(raw).attachments
    assert attachment.filename == "fattura n°1.pdf"
    assert attachment.payload == b"%PDF-"


def test_it_marks_images_referenced_by_cid_as_inline():
    parsed = corpus("mail-parser/mail_test_2.eml")
    inline = [a for a in parsed.attachments if a.inline]
    assert {a.filename for a in inline} == {"intestazione.jpg", "logometeo.jpg"}
    for image in inline:
        assert f'src="cid:{image.content_id}"' in parsed.html
        assert image.payload.startswith(b"\xff\xd8")  # JPEG
    (pdf,) = [a for a in parsed.attachments if not a.inline]
    assert pdf.filename == "Bollettino.pdf" and pdf.payload.startswith(b"%PDF")


def test_it_reads_bounce_reports():
    parsed = corpus("flanker/bounce/zed.eml")
    assert parsed.auto_kind == "bounce"
    assert parsed.bounced_message_ids == ["20090708054735.GC7578@example.com"]
    assert parsed.bounce_recipients == [
        "asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com"
    ]
    assert parsed.bounce_status == "5.1.1"
    assert [a.filename for a in parsed.attachments] == [
        "delivery-status.txt",
        "original-message.eml",
    ]

    # message/rfc822-headers (sic) and a quota bounce.
    parsed = corpus("mail-parser/mail_malformed_2.eml")
    assert parsed.bounced_message_ids == ["004801d1fc84$01c934ac$b247f0b7$@infospacemail.com"]
    assert parsed.bounce_recipients == ["abh@netpar.com.br"]
    assert parsed.bounce_status == "4.2.2"

    # A truncated boundary parameter: the delimiter lines are used instead.
    parsed = corpus("cpython/msg_25.eml")
    assert parsed.auto_kind == "bounce"
    assert parsed.bounced_message_ids == ["01040616033903.00962@server"]
    assert "too many hops" in parsed.text.lower()


def test_it_reads_auto_replies():
    parsed = corpus("sisimai/bsd/rfc3834-01.eml")
    assert parsed.auto_kind == "auto-reply"
    assert parsed.auto_submitted == "auto-replied"


def test_it_reads_mailing_list_ids():
    parsed = corpus("mail-parser/mail_test_13.eml")
    assert parsed.auto_kind == "mailing-list"
    assert parsed.list_id == "3f21937f0f636c8cec1db30bf.140953.list-id.mcsv.net"


@pytest.mark.parametrize("linesep", [b"\r\n", b"\r"], ids=["crlf", "cr-only"])
def test_it_reads_crlf_and_cr_only_mail_like_lf(linesep):
    lf = corpus_bytes("talon/gmail.eml").replace(b"\r\n", b"\n")
    expected = parse_message(lf)
    parsed = parse_message(lf.replace(b"\n", linesep))
    assert parsed.subject == expected.subject == "Re: Test"
    assert parsed.text == expected.text
    assert parsed.message_id == expected.message_id
    assert parsed.html == expected.html


def test_sisimai_dos_and_mac_copies_parse_like_the_bsd_ones():
    for name in ("lhost-postfix-01.eml", "rhost-aol-01.eml", "lhost-gmail-01.eml"):
        bsd = corpus(f"sisimai/bsd/{name}")
        for variant in ("dos", "mac"):
            other = corpus(f"sisimai/{variant}/{name}")
            assert (other.subject, other.auto_kind) == (bsd.subject, bsd.auto_kind)
            assert other.bounced_message_ids == bsd.bounced_message_ids
            assert other.bounce_recipients == bsd.bounce_recipients


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x00\x00",
        b"\r\r\r",
        b"not an e-mail at all",
        b"\xff\xfe\xfd garbage \x80\x81",
        b"Subject: \xe8 caff\xe8\n\nbody \xe8",
        b"Content-Type: multipart/mixed\n\nno boundary at all",
        b'Content-Type: multipart/mixed; boundary="x"\n\n--x\n--x\n--x--',
        b"Content-Type: text/plain; charset=x-no-such-charset\n\ncaff\xc3\xa8",
        b"Content-Type: text/plain; charset=base64\n\nSGk=",
        b"Content-Transfer-Encoding: base64\n\n!!!not base64!!!",
        b"Content-Type: message/rfc822\n\n",
        b"From: <>\nTo: ,,,\nCc: undisclosed-recipients:;\nDate: yesterday\n\n",
        b"Subject: =?utf-8?B?broken?= =?x-unknown?Q?caf=E8?= =?utf-8?q?ok?=\n\n",
        b":\n: :\n\n",
        b"From: a@b.c\x00\nSubject: n\x00ul\n\nbo\x00dy",
    ],
)
def test_it_never_raises_on_bad_input(raw):
    parsed = parse_message(raw)
    _assert_clean(parsed)


def test_it_records_what_it_worked_around():
    assert "empty message" in parse_message(b"").defects
    assert "NUL bytes removed" in parse_message(b"Subject: a\x00b\n\nx").defects
    parsed = parse_message(b"Content-Type: text/plain; charset=x-klingon\n\ncaff\xc3\xa8")
    assert parsed.text == "caffè"
    assert any("x-klingon" in d for d in parsed.defects)


def test_it_survives_deep_mime_nesting():
    depth = 200
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    tail = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    raw = b"Subject: deep\n" + head + b"Content-Type: text/plain\n\nbottom" + tail
    parsed = parse_message(raw)
    _assert_clean(parsed)
    assert parsed.subject == "deep"


def test_it_decodes_8bit_headers_and_unknown_charsets():
    raw = (
        b"From: =?iso-8859-1?q?Jos=E9?= Rossi <JOSE@Example.IT>\n"
        b"To: \xc3\x80ngelo <angelo@example.it>\n"
        b"Subject: =?x-unknown?Q?Fattura_n=C2=B0_12?=\n"
        b"Content-Type: text/plain; charset=iso-8859-1\n\nPer\xf2 \x80 10\n"
    )
    parsed = parse_message(raw)
    assert parsed.from_name == "José Rossi"
    assert parsed.from_address == "jose@example.it"
    assert parsed.to == ["angelo@example.it"]
    assert parsed.subject == "Fattura n° 12"
    # Latin-1 labels are read as Windows-1252 (WHATWG): 0x80 is the euro sign.
    assert parsed.text == "Però € 10"


def test_it_splits_addresses_before_decoding_names():
    raw = (
        b"From: =?utf-8?q?Rossi=2C_Mario?= <M.Rossi@Example.it>\n"
        b'To: "Bianchi, Luca" <l.bianchi@example.it>, anna@example.it (Anna)\n'
        b"Cc: undisclosed-recipients:;\n"
        b"Reply-To: ufficio@example.it\n"
        b"Delivered-To: assistenza@init-s.it\n"
        b"X-Original-To: Assistenza@Init-S.it\n\n"
    )
    parsed = parse_message(raw)
    assert (parsed.from_name, parsed.from_address) == ("Rossi, Mario", "m.rossi@example.it")
    assert parsed.to == ["l.bianchi@example.it", "anna@example.it"]
    assert parsed.cc == []
    assert parsed.reply_to == ["ufficio@example.it"]
    assert parsed.delivered_to == ["assistenza@init-s.it"]
    assert parsed.x_original_to == ["assistenza@init-s.it"]
    assert parsed.recipients[0] == "assistenza@init-s.it"


def test_it_parses_dates_as_aware_datetimes():
    parsed = parse_message(b"Date: Tue, 3 Mar 2026 10:15:00 +0100\n\n")
    assert parsed.date == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    # RFC 5322 3.3: -0000 is UTC with no local zone known.
    parsed = parse_message(b"Date: Tue, 3 Mar 2026 10:15:00 -0000\n\n")
    assert parsed.date == datetime(2026, 3, 3, 10, 15, tzinfo=UTC)
    # A broken Date falls back to when the mail arrived (newest Received header).
    parsed = parse_message(
        b"Received: from x by y; Wed, 4 Mar 2026 08:00:00 +0000\nDate: someday\n\n"
    )
    assert parsed.date == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    assert "Date header unparseable" in parsed.defects


def test_it_unpacks_winmail_dat_when_tnefparse_is_installed():
    pytest.importorskip("tnefparse")
    parsed = parse_message(_mail_with_winmail_dat())
    assert [(a.filename, a.payload) for a in parsed.attachments] == [
        ("rapporto.txt", b"stampante guasta")
    ]
    assert parsed.attachments[0].content_type == "text/plain"


def test_it_keeps_winmail_dat_without_tnefparse(monkeypatch):
    monkeypatch.setitem(sys.modules, "tnefparse", None)  # import fails
    parsed = parse_message(_mail_with_winmail_dat())
    (attachment,) = parsed.attachments
    assert attachment.filename == "winmail.dat"
    assert attachment.content_type == "application/ms-tnef"


def test_it_keeps_a_broken_winmail_dat():
    raw = (
        b'From: a@example.com\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nciao\n--b\nContent-Type: application/ms-tnef\n"
        b'Content-Disposition: attachment; filename="winmail.dat"\n\nnot tnef\n--b--\n'
    )
    parsed = parse_message(raw)
    assert [a.filename for a in parsed.attachments] == ["winmail.dat"]
    assert parsed.text == "ciao"


def _mail_with_winmail_dat() -> bytes:
    def obj(name: int, kind: int, data: bytes) -> bytes:
        # TNEF attribute: level, id, type, length, data, checksum (MS-OXTNEF 2.1.3.3).
        checksum = struct.pack("<H", sum(data) & 0xFFFF)
        return struct.pack("<BHHI", 2, name, kind, len(data)) + data + checksum

    tnef = (
        struct.pack("<IH", 0x223E9F78, 1)
        + obj(0x9002, 6, bytes(14))  # attAttachRendData: an attachment starts
        + obj(0x8010, 1, b"rapporto.txt\x00")  # attAttachTitle
        + obj(0x800F, 6, b"stampante guasta")  # attAttachData
    )
    import base64

    return (
        b'From: a@example.com\nSubject: guasto\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nvedi allegato\n"
        b"--b\nContent-Type: application/ms-tnef; name=winmail.dat\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(tnef) + b"--b--\n"
    )


def test_it_names_attachments_that_have_no_name():
    raw = (
        b'From: a@example.com\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nciao\n"
        b"--b\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n/9j/\n"
        b"--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n"
        b"--b\nContent-Type: message/rfc822\n\nSubject: inner\n\nhello\n"
        b'--b\nContent-Type: application/octet-stream; name="../../etc/passwd"\n\nx\n--b--\n'
    )
    names = [a.filename for a in parse_message(raw).attachments]
    assert names == ["image-1.jpg", "attachment-2.pdf", "forwarded-message.eml", "passwd"]


def test_it_prefers_the_last_alternative_and_derives_text_from_html_only_mail():
    raw = (
        b"From: a@example.com\nContent-Type: text/html; charset=utf-8\n\n"
        b"<html><head><style>p{color:red}</style><title>t</title></head><body>"
        b"<p>Buongiorno,</p><p>la stampante <b>non</b> funziona.</p>"
        b'<ul><li>primo</li><li>secondo</li></ul><p>Vedi <a href="https://x.it/a">qui</a>.</p>'
        b"<blockquote>vecchio<br>testo</blockquote><script>alert(1)</script></body></html>"
    )
    parsed = parse_message(raw)
    assert parsed.text == (
        "Buongiorno,\n\nla stampante non funziona.\n\n- primo\n- secondo\n\n"
        "Vedi qui (https://x.it/a).\n\n> vecchio\n> testo"
    )
    assert "<script" not in parsed.html and "alert" not in parsed.html


def test_it_decodes_format_flowed_text():
    raw = (
        b"Content-Type: text/plain; charset=utf-8; format=flowed\n\n"
        b"Questa riga continua \nqui.\n> citazione che \n> continua\n-- \nMario\n"
    )
    parsed = parse_message(raw)
    assert parsed.text == "Questa riga continua qui.\n> citazione che continua\n-- \nMario"


# --------------------------------------------------------------------------- auto kinds


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), None),
        (("Auto-Submitted: no",), None),
        (("Auto-Submitted: auto-replied",), "auto-reply"),
        (("Auto-Submitted: auto-generated; owner-email=x@y.it",), "auto-reply"),
        (("X-Autoreply: yes",), "auto-reply"),
        (("X-Autorespond: Out of office",), "auto-reply"),
        (("Precedence: junk",), "auto-reply"),
        (("Precedence: list",), "mailing-list"),
        (("List-Id: Soci <soci.example.it>",), "mailing-list"),
        (("List-Unsubscribe: <mailto:leave@example.it>", "Precedence: bulk"), "mailing-list"),
        (("Precedence: bulk", "Sender: owner-soci@example.it"), "mailing-list"),
        # Outlook stamps this on mail people write: alone, it means nothing.
        (("X-Auto-Response-Suppress: All",), None),
        (("X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply",), None),
        # An Exchange rule forwarding a person's mail keeps a real envelope sender.
        (("X-Auto-Response-Suppress: All", "X-MS-Exchange-Inbox-Rules-Loop: m@x.it"), None),
        (("Return-Path: <>", "X-MS-Exchange-Inbox-Rules-Loop: m@x.it"), "auto-reply"),
        (("Auto-Submitted: no (written by Mario)",), None),
        (("X-Auto-Response-Suppress: OOF", "Subject: Risposta automatica: guasto"), "auto-reply"),
        (("Return-Path: <>", "Subject: Automatic reply: guasto"), "auto-reply"),
        (("Return-Path: <>", "Subject: Undelivered Mail Returned to Sender"), "bounce"),
        (("X-Failed-Recipients: x@example.it",), "bounce"),
        (("Content-Type: multipart/report; report-type=delivery-status; boundary=b",), "bounce"),
    ],
)
def test_it_classifies_automatic_mail(headers, expected):
    lines = list(headers)
    subject = next((h for h in lines if h.startswith("Subject:")), None)
    base = ["From: Mario <mario@example.it>", subject or "Subject: Re: stampante"]
    raw = "\n".join(base + [h for h in lines if h is not subject]).encode() + b"\n\nciao\n"
    assert parse_message(raw).auto_kind == expected


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example.it",
        "Mail Delivery Subsystem <postmaster@example.it>",
        "MAILER-DAEMON",
        "Mail Delivery System <>",
    ],
)
def test_it_treats_mail_from_the_mailer_daemon_as_a_bounce(sender):
    raw = f"From: {sender}\nSubject: failure notice\n\nSorry.\n".encode()
    assert parse_message(raw).auto_kind == "bounce"


def test_it_finds_the_bounced_message_id_in_a_plain_text_bounce():
    raw = (
        b"From: MAILER-DAEMON@mx.example.it\nSubject: failure notice\n"
        b"Message-ID: <own@mx.example.it>\n\n"
        b"<nobody@example.org>:\nSorry, no mailbox here by that name.\n\n"
        b"--- Below this line is a copy of the message.\n\n"
        b"From: assistenza@init-s.it\nMessage-ID: <ticket-42.7@init-s.it>\nSubject: x\n"
    )
    parsed = parse_message(raw)
    assert parsed.bounced_message_ids == ["ticket-42.7@init-s.it"]
    assert parsed.bounce_recipients == ["nobody@example.org"]


# --------------------------------------------------------------------------- HTML


def test_it_sanitises_html():
    dirty = (
        '<p onclick="steal()">Hi <script>alert(1)</script><b>there</b></p>'
        '<img src="x" onerror="alert(2)">'
        '<img src="cid:image001.png@01D9" alt="logo">'
        '<img src="https://tracker.example/pixel.gif">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">'
        '<a href="javascript:alert(3)">js</a>'
        '<a href="data:text/html,<script>x</script>">data</a>'
        '<a href="/admin/delete">relative</a>'
        '<a href="https://example.it/doc">doc</a>'
        '<div style="position:fixed;top:0;color:red;background:url(https://t.example/x)">s</div>'
        '<iframe src="https://evil.example"></iframe><form action="x"><input name="p"></form>'
        "<style>body{display:none}</style><table><tr><td colspan=2>cell</td></tr></table>"
    )
    clean = sanitize_html(dirty)
    for bad in (
        "script",
        "onclick",
        "onerror",
        "alert",
        "javascript:",
        "tracker.example",
        "svg",
        "data:text",
        "/admin",
        "position",
        "url(",
        "iframe",
        "<form",
        "<input",
        "display:none",
    ):
        assert bad not in clean, bad
    assert '<img src="cid:image001.png@01D9" alt="logo">' in clean
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in clean
    assert '<a href="https://example.it/doc" rel="noopener noreferrer nofollow">doc</a>' in clean
    assert 'style="color:red"' in clean
    assert '<td colspan="2">cell</td>' in clean


def test_html_to_text_keeps_paragraphs_links_and_quotes():
    html = (
        '<div>Ciao,<br>ecco il <a href="https://example.it/x">link</a> e '
        '<a href="mailto:a@example.it">a@example.it</a>.</div>'
        "<ol><li>uno</li><li>due</li></ol>"
        "<table><tr><td>A</td><td>B</td></tr></table>"
        "<pre>  spazi\n  tenuti</pre>"
        '<div class="gmail_quote">Il giorno lun 3 mar ha scritto:'
        "<blockquote>citato</blockquote></div>"
    )
    assert html_to_text(html) == (
        "Ciao,\necco il link (https://example.it/x) e a@example.it.\n\n"
        "1. uno\n2. due\n\nA  B\n\n  spazi\n  tenuti\n\n"
        "Il giorno lun 3 mar ha scritto:\n> citato"
    )


# --------------------------------------------------------------------------- threading


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("<a@example.it>", ["a@example.it"]),
        (
            "  <a@example.it>   <b@example.it>\r\n\t<c@example.it> ",
            ["a@example.it", "b@example.it", "c@example.it"],
        ),
        ("<a@example.it><b@example.it>", ["a@example.it", "b@example.it"]),
        ("<a@example.it> (Mario's message of Mon <x@y.it>)", ["a@example.it"]),
        ('"Mario Rossi" <a@example.it>', ["a@example.it"]),
        ("<a@example.it> <a@example.it>", ["a@example.it"]),
        ("< a@exam\r\n ple.it >", ["a@example.it"]),
        ("a@example.it", ["a@example.it"]),
        ("a@example.it, b@example.it", ["a@example.it", "b@example.it"]),
        ("(comment only)", []),
        ("<CAK0Q_=uQY=3V5i+x$y@mail.gmail.com>", ["CAK0Q_=uQY=3V5i+x$y@mail.gmail.com"]),
    ],
)
def test_parse_message_ids(value, expected):
    assert parse_message_ids(value) == expected


def test_it_reads_the_thread_headers_of_a_reply():
    raw = (
        b"Message-ID:   <reply-3@example.it>  \n"
        b"In-Reply-To: <ticket-2@init-s.it> (message from Sportello)\n"
        b"References: <ticket-1@init-s.it>\n <ticket-2@init-s.it>\n"
        b"Subject: RE: AW: [Ticket#2026-000123] Stampante\n\n"
    )
    parsed = parse_message(raw)
    assert parsed.message_id == "reply-3@example.it"
    assert parsed.in_reply_to == ["ticket-2@init-s.it"]
    assert parsed.references == ["ticket-1@init-s.it", "ticket-2@init-s.it"]
    assert parsed.thread_message_ids == ["ticket-2@init-s.it", "ticket-1@init-s.it"]
    assert ticket_tag_in(parsed.subject) == "2026-000123"
    assert parse_message(b"Subject: x\n\n").message_id is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[Ticket#2026-000123] Stampante", "2026-000123"),
        ("RE: AW: [Ticket#2026-000123]", "2026-000123"),
        ("R: I: Fwd: Re: [Ticket#2026-000123] guasto", "2026-000123"),
        ("[ticket#2026-000123]", "2026-000123"),
        ("[TICKET #2026-000123]", "2026-000123"),
        ("[ Ticket# 2026 - 000123 ]", "2026-000123"),
        ("Ticket#2026-000123 without brackets", "2026-000123"),
        ("[Ticket#2026-1234567] grown past six digits", "2026-1234567"),
        ("[Ｔｉｃｋｅｔ＃２０２６－０００１２３] full-width", "2026-000123"),
        ("[Ticket#2026–000123] en dash", "2026-000123"),
        ("[Ticket#2026-000123] and [Ticket#2025-000999]", "2026-000123"),
        ("Ticket 2026-000123 without the hash", None),
        ("[Ticket#2026-00012] too short", None),
        ("[Ticket#26-000123] short year", None),
        ("MyTicket#2026-000123", None),
        ("Invoice 2026-000123", None),
        ("", None),
    ],
)
def test_ticket_tag_in(subject, expected):
    assert ticket_tag_in(subject) == expected


def test_ticket_tag_in_with_another_prefix():
    assert ticket_tag_in("Re: [Richiesta n. 2026-000007]", prefix="Richiesta n.") == "2026-000007"
    assert ticket_tag_in("Re: [Ticket#2026-000007]", prefix="Richiesta n.") is None


def test_it_decodes_encoded_words_split_inside_a_character():
    # "è" is C3 A8 in UTF-8; a client cut the word between the two bytes.
    assert decode_encoded_words("=?utf-8?B?Y2Fmw6g=?=") == "cafè"
    assert decode_encoded_words("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A8?= corto") == "cafè corto"
    assert decode_encoded_words("a =?utf-8?q?b?=  =?utf-8?q?c?= d") == "a bc d"
    assert decode_encoded_words("=?bogus?Q?x?=") == "x"


# --------------------------------------------------------------------------- mbox


MBOX = (
    b"From alice@example.it Tue Mar  3 10:00:00 2026\n"
    b"From: alice@example.it\nSubject: uno\n\n>From the start\n>>From quoted\n\n"
    b"From bob@example.it Tue Mar  3 11:00:00 2026\n"
    b"From: bob@example.it\nSubject: due\n\nsecond\nFrom here on, not a separator\n\n"
)


def test_it_splits_an_mbox_and_unescapes_from_lines():
    first, second = split_mbox(MBOX)
    assert first == b"From: alice@example.it\nSubject: uno\n\nFrom the start\n>From quoted\n"
    assert parse_message(second).text == "second\nFrom here on, not a separator"
    assert list(iter_mbox(MBOX.replace(b"\n", b"\r\n")))[0].startswith(b"From: alice")


def test_it_tells_an_mbox_from_a_single_message():
    assert is_mbox(MBOX)
    assert not is_mbox(b"From: alice@example.it\nSubject: x\n\nbody")
    assert not is_mbox(b"From here to there\nnot a header line\n")
    single = b"From: alice@example.it\nSubject: x\n\nbody"
    assert split_messages(single) == [single]
    assert len(split_messages(MBOX)) == 2


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_it_never_raises_on_random_bytes(raw):
    _assert_clean(parse_message(raw))


_FRAGMENTS = [
    b"From: a@b.it\n",
    b"Subject: =?utf-8?q?x?=\n",
    b"Content-Type: multipart/mixed; boundary=zz\n",
    b'Content-Type: multipart/alternative; boundary="zz"\n',
    b"Content-Type: text/html; charset=utf-8\n",
    b"Content-Type: message/rfc822\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf\n",
    b"\n",
    b"--zz\n",
    b"--zz--\n",
    b"<p onclick=x>hi</p>\n",
    b"=E2=82=AC=\n",
    b"SGVsbG8=\n",
    b"\xe8\xff\x00\r",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40))
def test_it_never_raises_on_mime_shaped_junk(fragments):
    _assert_clean(parse_message(b"".join(fragments)))


def test_the_parser_does_not_import_django():
    # The parser runs in the SMTP receiver and in tests without settings.
    code = (
        "import sys, sportello.mail.parse, sportello.tickets.quotes;"
        "sys.exit('django' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(sportello.__file__).resolve().parents[1])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def test_it_matches_percent_encoded_cid_urls():
    raw = (
        b'From: a@example.com\nContent-Type: multipart/related; boundary="b"\n\n'
        b'--b\nContent-Type: text/html\n\n<p><img src="cid:logo%40example.it"></p>\n'
        b"--b\nContent-Type: image/png\nContent-ID: <logo@example.it>\n"
        b"Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
        b"--b\nContent-Type: image/png\nContent-ID: <unused@example.it>\n"
        b"Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n"
    )
    logo, unused = parse_message(raw).attachments
    assert (logo.content_id, logo.inline) == ("logo@example.it", True)
    # Nothing refers to it: listed as an attachment, never hidden.
    assert (unused.content_id, unused.inline) == ("unused@example.it", False)


def test_it_recovers_a_multipart_whose_boundary_parameter_is_wrong():
    raw = (
        b'From: a@example.com\nSubject: x\nContent-Type: multipart/mixed; boundary="wrong"\n\n'
        b"--right\nContent-Type: text/plain\n\nciao\n"
        b'--right\nContent-Type: application/pdf; name="a.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\nJVBERi0=\n--right--\n"
    )
    parsed = parse_message(raw)
    assert parsed.text == "ciao"
    assert [(a.filename, a.payload) for a in parsed.attachments] == [("a.pdf", b"%PDF-")]
    assert any("boundary not found" in d for d in parsed.defects)
