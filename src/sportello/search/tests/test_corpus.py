"""The real mail corpus of ../shared/mail-corpus/, filed by the mail services, then searched."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command

from sportello.mail.services import ingest_raw
from sportello.mail.tests.test_intake import corpus_messages
from sportello.search import text
from sportello.search.models import SearchDocument
from sportello.search.selectors import ticket_search
from sportello.tickets.models import Attachment, Ticket
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people = cast()
    for name, raw in corpus_messages():
        ingest_raw(raw, source="import", source_detail=name)
    assert Ticket.objects.count() > 30
    return people


def _docs():
    return {
        d.ticket_id: (d.subject, d.meta, Counter(d.body.split()), d.keys)
        for d in SearchDocument.objects.all()
    }


def test_every_filed_ticket_is_found_by_number_subject_and_sender(filed):
    bob = filed["bob"].user
    for ticket in Ticket.objects.select_related("contact"):
        found = ticket_search(user=bob, q=ticket.number)
        assert found.redirect == ticket
        subject_words = [w for w in text.words(ticket.subject) if len(w) > 2][:6]
        if subject_words:
            found = ticket_search(user=bob, q=" ".join(subject_words), per_page=200)
            assert ticket.pk in [h.ticket.pk for h in found.hits], ticket.subject
        address = ticket.contact.emails.first() if ticket.contact else None
        if address:
            found = ticket_search(user=bob, q=address.address, per_page=200)
            assert found.mode == "contact"
            assert ticket.pk in [h.ticket.pk for h in found.hits]


def test_attachment_names_and_message_text_from_real_mail_are_found(filed):
    bob = filed["bob"].user
    attachments = list(Attachment.objects.exclude(filename=""))
    assert attachments, "the corpus has mail with attachments"
    for attachment in attachments:
        stem_words = [w for w in text.words(attachment.filename) if len(w) > 2][:3]
        if not stem_words:
            continue
        found = ticket_search(user=bob, q=" ".join(stem_words), per_page=400)
        assert attachment.ticket_id in [h.ticket.pk for h in found.hits], attachment.filename
    # The quoted-printable message of django-helpdesk is Italian-free English text; its
    # words are found whatever their form.
    qp = Ticket.objects.filter(messages__text__icontains="quoted").first()
    if qp is not None:
        assert qp.pk in [h.ticket.pk for h in ticket_search(user=bob, q="quoted").hits]


def test_the_index_kept_by_intake_equals_a_rebuild(filed):
    kept = _docs()
    assert len(kept) == Ticket.objects.count()
    call_command("search", "rebuild", "--no-progress")
    assert _docs() == kept
