"""`mail ingest --jobs N`: several processes, conversations kept whole and in order."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from sportello.mail.importer import conversations, plan_import, share_out
from sportello.mail.tests.builders import customer_mail
from sportello.tickets.models import Direction, Ticket
from sportello.tickets.services import ticket_number_last
from sportello.tickets.tests.factories import cast


def with_id(mid: str, **headers) -> bytes:
    return customer_mail(Message_ID=f"<{mid}>", **headers)


def test_conversations_follow_ids_transitively_and_keep_input_order():
    raws = [
        with_id("a@x", subject="Stampante"),
        with_id("b@x", subject="Re: Stampante", In_Reply_To="<a@x>"),
        with_id("c@x", subject="Altro problema"),
        # Answers b only, by References: still a's conversation.
        with_id("d@x", subject="Re: Re: Stampante", References="<b@x>"),
        with_id("e@x", subject="Re: Altro", References="<zzz@ours> <c@x>"),
        b"not an e-mail at all",
    ]
    assert conversations(raws) == [[0, 1, 3], [2, 4], [5]]


def test_share_out_gives_whole_conversations_to_the_least_loaded_worker():
    plan = share_out([[0, 1, 3], [2, 4], [5], [6]], 2)
    assert plan == [[0, 1, 3, 6], [2, 4, 5]]  # 4 and 3 messages, no conversation split
    assert share_out([[0], [1]], 4) == [[0], [1]]  # no idle workers started


@pytest.mark.django_db(transaction=True)
def test_ingest_with_two_jobs_threads_replies_and_prints_in_input_order(tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast()
    messages = [
        with_id("t1@alice.example.it", subject="Stampante guasta"),
        with_id("u1@alice.example.it", subject="PC lento", sender="bruno@alice.example.it"),
        with_id(
            "t2@alice.example.it", subject="Re: Stampante", In_Reply_To="<t1@alice.example.it>"
        ),  # noqa: E501
        with_id("u2@alice.example.it", subject="Rete giù", sender="carla@alice.example.it"),
        with_id("t3@alice.example.it", subject="Re: Stampante", References="<t2@alice.example.it>"),  # noqa: E501
    ]
    for n, raw in enumerate(messages):
        (tmp_path / f"{n:02d}.eml").write_bytes(raw)
    out, err = io.StringIO(), io.StringIO()
    command = ["mail", "ingest", "--jobs", "2", "--no-progress", str(tmp_path)]
    call_command(*command, stdout=out, stderr=err)

    lines = out.getvalue().split()
    states = lines[1::2]
    assert states == ["created", "created", "appended", "created", "appended"]
    printer = Ticket.objects.get(subject="Stampante guasta")
    assert lines[0] == lines[4] == lines[8] == printer.number  # in input order
    assert printer.messages.filter(direction=Direction.INBOUND).count() == 3
    assert Ticket.objects.count() == 3
    assert "Done: 2 appended, 3 created." in err.getvalue()


def tagged_import() -> list[bytes]:
    """Four requests, then a reply that names, only by its tag, the number the import's
    first new ticket will get."""
    year = timezone.localtime().year
    first = f"{year}-{ticket_number_last(year=year) + 1:06d}"  # what the import will give it
    return [
        with_id("t1@alice.example.it", subject="Stampante guasta"),
        *(
            with_id(f"o{n}@alice.example.it", subject=f"Altro {n}", sender=f"c{n}@alice.example.it")
            for n in range(3)
        ),
        with_id("t2@alice.example.it", subject=f"Re: [Ticket#{first}] Stampante guasta"),
    ]


@pytest.mark.django_db
def test_a_reply_tagged_for_a_ticket_not_yet_opened_is_filed_after_the_others():
    plan, later = plan_import(tagged_import(), 2)
    assert later == [4] and sorted(i for load in plan for i in load) == [0, 1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_reply_tagged_for_a_ticket_opened_in_the_same_import_lands_in_it(tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast()
    messages = tagged_import()
    for n, raw in enumerate(messages):
        (tmp_path / f"{n:02d}.eml").write_bytes(raw)
    out = io.StringIO()
    call_command("mail", "ingest", "--jobs", "2", "--no-progress", str(tmp_path), stdout=out)

    lines = out.getvalue().split()
    assert lines[1::2] == ["created"] * 4 + ["appended"]  # in input order
    # Parallel workers number the four new tickets in the order they file them, which is
    # not the input order: the reply lands in whichever of them has the number it names.
    tag = messages[-1].split(b"[Ticket#")[1].split(b"]")[0].decode()
    assert lines[8] == tag and tag in lines[0:8:2]
    assert Ticket.objects.get(number=tag).messages.filter(direction=Direction.INBOUND).count() == 2
    assert Ticket.objects.count() == 4

    # Once that ticket exists, a tagged reply goes straight to a worker.
    assert plan_import(messages[-1:], 2) == ([[0]], [])


@pytest.mark.django_db(transaction=True)
def test_without_jobs_a_folder_is_filed_by_one_process_per_core(tmp_path, settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast()
    from sportello.mail import importer

    used = []
    real = importer.ingest_parallel
    monkeypatch.setattr(
        importer, "ingest_parallel", lambda *a, **kw: used.append(kw["jobs"]) or real(*a, **kw)
    )
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    for n in range(25):
        (tmp_path / f"{n:02d}.eml").write_bytes(
            with_id(f"m{n}@x", subject=f"Richiesta {n}", sender=f"s{n}@alice.example.it")
        )
    out = io.StringIO()
    call_command("mail", "ingest", "--no-progress", str(tmp_path), stdout=out)
    assert used == [2]
    assert out.getvalue().split()[1::2] == ["created"] * 25

    few = tmp_path / "few"
    few.mkdir()
    (few / "a.eml").write_bytes(with_id("single@x", subject="Una sola"))
    call_command("mail", "ingest", "--no-progress", str(few), stdout=io.StringIO())
    assert used == [2]  # a handful is filed at once, without starting workers
