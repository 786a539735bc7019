"""The header peek: one cheap, forgiving look at a message's header block, shared by
the raw store's summary and the importer's conversation plan."""

from __future__ import annotations

from sportello.mail.importer import thread_ids
from sportello.mail.parse import HeaderPeek, peek_headers
from sportello.mail.tests.builders import customer_mail


def test_it_reads_ids_subject_and_sender():
    raw = customer_mail(
        subject="=?utf-8?q?Re:_Stampante_gi=C3=B9?=",
        sender="Alice Rossi <Alice@Alice.Example.it>",
        Message_ID="<b@x>",
        In_Reply_To="<a@x>",
        References="<z@x> <a@x>",
    )
    peek = peek_headers(raw)
    assert peek.message_id == "b@x" and peek.subject == "Re: Stampante giù"
    assert peek.sender == "alice@alice.example.it"
    assert peek.conversation_ids == ["b@x", "a@x", "z@x", "a@x"]
    assert thread_ids(raw) == peek.conversation_ids  # the importer's view is the same


def test_an_unreadable_header_block_is_an_empty_peek():
    assert peek_headers(b"\xff\xfe not mail at all") in (HeaderPeek(), peek_headers(b""))
    assert peek_headers(b"").conversation_ids == []
