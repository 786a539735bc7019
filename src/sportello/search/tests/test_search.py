"""Search as an agent uses it: hand-made Italian and English tickets, on whichever database
the suite runs (SQLite by default, PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from sportello.billing.models import TicketCharges
from sportello.customers.models import ContactEmail, ContactPhone
from sportello.search.models import SearchDocument
from sportello.search.selectors import Filters, ticket_search
from sportello.staff.models import Agent, Team
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import MessageKind
from sportello.tickets.services import (
    attachment_add,
    message_add,
    ticket_assign,
    ticket_change_status,
    ticket_open,
    ticket_update,
)
from sportello.tickets.tests.factories import cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    c = cast()
    ContactPhone.objects.create(contact=c["alice"], number="+390744752000", label="ufficio")
    return c


@pytest.fixture
def bob(people):
    return people["bob"].user


def numbers(results) -> list[str]:
    return [h.ticket.number for h in results.hits]


def search(user, q, **filters):
    return ticket_search(user=user, q=q, filters=Filters(**filters))


def open_ticket(subject, text="", contact=None, days_ago=0, **kw):
    return ticket_open(
        subject=subject,
        message=MessageInput(text=text),
        channel="email",
        contact=contact,
        created_at=timezone.now() - timedelta(days=days_ago),
        **kw,
    )


def test_it_finds_words_whatever_their_accents_and_case(people, bob):
    t = open_ticket("Perché la stampante non stampa?", "Il PC è lento.", people["alice"])
    assert numbers(search(bob, "perche")) == [t.number]
    assert numbers(search(bob, "PERCHÉ")) == [t.number]
    assert numbers(search(bob, "e lento pc")) == [t.number]


def test_it_matches_italian_and_english_word_forms(people, bob):
    it = open_ticket("Problema con la stampante", "Non stampa più.", people["alice"])
    en = open_ticket("Printers offline", "Both printers stopped working.", people["charlie"])
    assert numbers(search(bob, "stampanti")) == [it.number]
    assert numbers(search(bob, "printer")) == [en.number]
    assert numbers(search(bob, "working printer")) == [en.number]


def test_all_words_must_match_and_a_minus_leaves_out(people, bob):
    a = open_ticket("Stampante in rete", "La rete è lenta", people["alice"])
    b = open_ticket("Stampante locale", "Cavo USB", people["alice"])
    assert set(numbers(search(bob, "stampante"))) == {a.number, b.number}
    assert numbers(search(bob, "stampante rete")) == [a.number]
    assert numbers(search(bob, "stampante -rete")) == [b.number]


def test_subject_ranks_above_body_and_recent_above_old(people, bob):
    body = open_ticket("Richiesta varia", "Il firewall blocca la VPN", people["alice"], days_ago=1)
    subject = open_ticket("Firewall", "Non entra nessuno", people["alice"], days_ago=30)
    assert numbers(search(bob, "firewall")) == [subject.number, body.number]
    old = open_ticket("Backup notturno", "fallito", people["alice"], days_ago=20)
    new = open_ticket("Backup notturno", "fallito", people["alice"], days_ago=2)
    assert numbers(search(bob, "backup")) == [new.number, old.number]


def test_snippets_highlight_the_words_and_escape_the_rest(people, bob):
    open_ticket(
        "Errore <script>alert(1)</script>",
        "Compare <b>errore</b> & la stampante si ferma",
        people["alice"],
    )
    hit = search(bob, "errori").hits[0]
    assert "<script>" not in hit.subject_html
    assert "&lt;script&gt;" in hit.subject_html
    assert "<mark>Errore</mark>" in hit.subject_html
    assert "<b>" not in hit.snippet_html
    assert "&lt;b&gt;<mark>errore</mark>&lt;/b&gt; &amp; la stampante" in hit.snippet_html


def test_a_ticket_number_goes_straight_to_the_ticket(people, bob):
    t = open_ticket("Monitor", "nero", people["alice"])
    year, n = t.number.split("-")
    for typed in (t.number, f"#{year}-{int(n)}", f"[Ticket#{t.number}]", f" {t.number} "):
        found = search(bob, typed)
        assert found.mode == "number" and found.redirect == t, typed
    # A fragment of the number lists the tickets whose number contains it.
    assert numbers(search(bob, n)) == [t.number]


def test_an_address_or_a_phone_lists_the_contacts_tickets(people, bob):
    a1 = open_ticket("Uno", "x", people["alice"], days_ago=3)
    a2 = open_ticket("Due", "y", people["alice"], days_ago=1)
    open_ticket("Tre", "z", people["charlie"])
    found = search(bob, "ALICE@alice.example.it")
    assert found.mode == "contact" and numbers(found) == [a2.number, a1.number]
    for phone in ("0744 752000", "+39 0744 752000", "0039 0744752000", "0744/752000"):
        found = search(bob, phone)
        assert found.mode == "contact" and numbers(found) == [a2.number, a1.number], phone
    # Pieces of addresses, phones and VAT numbers match by substring.
    assert set(numbers(search(bob, "@alice.example"))) == {a1.number, a2.number}
    assert set(numbers(search(bob, "752000"))) == {a1.number, a2.number}
    vat = people["org_a"].vat_number
    found = search(bob, f"IT{vat}")
    assert found.mode == "organisation" and numbers(found) == [a2.number, a1.number]
    assert set(numbers(search(bob, vat[3:10]))) == {a1.number, a2.number}
    # And the words of a name or an organisation are words like any other.
    assert set(numbers(search(bob, "rossi"))) == {a1.number, a2.number}
    assert set(numbers(search(bob, "alice co"))) == {a1.number, a2.number}


def test_attachment_file_names_are_searchable(people, bob):
    t = open_ticket("Fattura", "in allegato", people["alice"])
    attachment_add(ticket=t, filename="Preventivo_Rete_2026.pdf", content=b"%PDF-1.4")
    assert numbers(search(bob, "preventivo")) == [t.number]
    assert numbers(search(bob, "preventivi rete")) == [t.number]


@pytest.mark.parametrize(
    "typed",
    [
        '"',
        '"foo AND bar',
        "-",
        "- -",
        "--",
        "*",
        "stamp*",
        "AND",
        "OR NOT",
        "NEAR(stampante rete)",
        "subject:stampante",
        "(",
        ")",
        "'; DROP TABLE tickets_ticket; --",
        "\\",
        "%",
        "_",
        "@",
        "a" * 5000,
        "stampante " * 500,
        "\x00stampante",
        "😀 stampante",
        "!!&&||",
        "^stampante",
        "+",
        "2026-",
        "-stampante",
    ],
)
def test_no_input_breaks_the_query(people, bob, typed):
    t = open_ticket("Stampante", "ferma", people["alice"])
    found = search(bob, typed)
    # Punctuation and operators are only separators: the words around them still count.
    if typed in ("stampante " * 500, "\x00stampante", "😀 stampante", "^stampante", "stamp*"):
        assert numbers(found) == ([] if typed == "stamp*" else [t.number])


def test_filters_narrow_the_results(people, bob):
    team = Team.objects.create(name="Reti")
    a = open_ticket("Stampante A", "x", people["alice"], priority="high")
    b = open_ticket("Stampante B", "x", people["charlie"])
    c = open_ticket("Stampante C", "x", people["charlie"])
    ticket_assign(ticket=b, assignee=people["bob"], team=team)
    ticket_change_status(ticket=c, status="waiting")
    assert numbers(search(bob, "stampante", priority="high")) == [a.number]
    assert set(numbers(search(bob, "stampante", organisation=people["org_b"].pk))) == {
        b.number,
        c.number,
    }
    assert numbers(search(bob, "stampante", assignee=people["bob"].pk)) == [b.number]
    assert numbers(search(bob, "stampante", team=team.pk)) == [b.number]
    assert numbers(search(bob, "stampante", status=["waiting"])) == [c.number]
    assert set(numbers(search(bob, "stampante", unassigned=True))) == {a.number, c.number}
    assert numbers(search(bob, "stampante", channel="phone")) == []
    # Filters apply to numbers, contacts and fragments too.
    assert search(bob, a.number, status=["closed"]).redirect is None
    assert numbers(search(bob, "alice@alice.example.it", priority="normal")) == []


def test_only_staff_who_work_tickets_may_search(people):
    open_ticket("Stampante", "x", people["alice"])
    customer = User.objects.create_user("alice", "alice@alice.example.it", "x")
    inactive = User.objects.create_user("gone", "gone@example.com", "x")
    Agent.objects.create(user=inactive, active=False)
    for user in (AnonymousUser(), customer, inactive):
        with pytest.raises(PermissionDenied):
            search(user, "stampante")


def test_the_index_follows_every_write(people, bob):
    t = open_ticket("Monitor", "", people["alice"])
    assert numbers(search(bob, "monitor")) == [t.number]
    message_add(
        ticket=t,
        message=MessageInput(kind=MessageKind.EMAIL, direction="in", text="Lo schermo sfarfalla"),
    )
    assert numbers(search(bob, "schermi")) == [t.number]
    message_add(
        ticket=t,
        message=MessageInput(
            kind=MessageKind.INTERNAL_NOTE, direction="internal", text="cavo HDMI"
        ),
    )
    assert numbers(search(bob, "hdmi")) == [t.number]
    ticket_update(ticket=t, subject="Schermo nero")
    assert numbers(search(bob, "monitor")) == []
    assert numbers(search(bob, "nero")) == [t.number]
    ticket_update(ticket=t, contact=people["charlie"], organisation=people["org_b"])
    assert numbers(search(bob, "verdi")) == [t.number]
    assert numbers(search(bob, "rossi")) == []
    # A contact's new address, a changed name, an organisation renamed.
    ContactEmail.objects.create(contact=people["charlie"], address="cv@nuovo.example.it")
    assert numbers(search(bob, "cv@nuovo.example.it")) == [t.number]
    charlie = people["charlie"]
    charlie.last_name = "Bianchi"
    charlie.save()
    assert numbers(search(bob, "bianchi")) == [t.number]
    org = people["org_b"]
    org.name = "Acciaierie Umbre"
    org.save()
    assert numbers(search(bob, "acciaierie")) == [t.number]
    ContactEmail.objects.filter(address="cv@nuovo.example.it").delete()
    assert numbers(search(bob, "@nuovo.example")) == []


def test_automatic_mail_is_not_indexed(people, bob):
    t = open_ticket("Richiesta", "testo", people["alice"])
    message_add(
        ticket=t,
        message=MessageInput(
            kind=MessageKind.EMAIL,
            direction="out",
            text="Abbiamo ricevuto la sua richiesta",
            automatic=True,
        ),
    )
    assert numbers(search(bob, "ricevuto")) == []


def test_a_deleted_ticket_leaves_the_index(people, bob):
    t = open_ticket("Monitor", "nero", people["alice"])
    attachment_add(ticket=t, filename="foto.png", content=b"png")
    TicketCharges.objects.filter(ticket=t).delete()  # charges protect their ticket
    t.delete()
    assert not SearchDocument.objects.exists()
    assert numbers(search(bob, "monitor")) == []


def test_rebuild_gives_the_index_the_writes_kept(people, bob):
    t = open_ticket("Stampante ferma", "Errore 0x42", people["alice"])
    message_add(
        ticket=t, message=MessageInput(kind=MessageKind.EMAIL, direction="in", text="Ancora ferma")
    )
    attachment_add(ticket=t, filename="errore.jpg", content=b"jpg")
    open_ticket("Rete lenta", "Tutto lento", people["charlie"])
    kept = sorted(SearchDocument.objects.values_list("ticket_id", "subject", "meta", "keys"))
    bodies = {d.ticket_id: d.body.split() for d in SearchDocument.objects.all()}
    call_command("search", "rebuild", "--no-progress")
    assert sorted(SearchDocument.objects.values_list("ticket_id", "subject", "meta", "keys")) == (
        kept
    )
    assert {d.ticket_id: d.body.split() for d in SearchDocument.objects.all()} == bodies
    assert numbers(search(bob, "stampanti")) == [t.number]


def test_pages_hold_25_tickets_each(people, bob):
    made = [open_ticket(f"Backup {i}", "x", people["alice"], days_ago=i) for i in range(30)]
    first = ticket_search(user=bob, q="backup")
    second = ticket_search(user=bob, q="backup", page=2)
    assert first.total == second.total == 30
    assert len(first.hits) == 25 and first.has_next
    assert numbers(first) + numbers(second) == [t.number for t in made]
    assert not second.has_next


def test_a_ticket_saved_without_the_service_is_indexed_too(people, bob):
    from sportello.tickets.models import Message, Ticket

    t = Ticket.objects.create(
        number="2026-900001", subject="Scanner", channel="email", created_at=timezone.now()
    )
    Message.objects.create(
        ticket=t, kind="email", direction="in", text="Non scansiona", created_at=timezone.now()
    )
    assert numbers(search(bob, "scanner scansiona")) == [t.number]
    message = t.messages.get()
    message.delivery_status = "sent"
    message.save(update_fields=["delivery_status"])
    message.text = "Ora scansiona a colori"
    message.save()
    assert numbers(search(bob, "colori")) == [t.number]
