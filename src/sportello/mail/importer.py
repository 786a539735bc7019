"""Large imports on several cores: `sportello mail ingest --jobs N`.

Messages are filed by N worker processes at once. What must stay in order stays in
order: the messages of one conversation (linked by Message-ID, In-Reply-To and
References, followed transitively) go to the same worker, which files them in the order
of the input, so a reply is never filed before the message it answers. Conversations
are spread over the workers; the output lines come back in input order.

A reply tied to its ticket only by the subject tag (``[Ticket#2026-000123]``) of a ticket
that does not exist yet can only answer a ticket this import opens: its conversation is
filed after all the others, by this process, once that ticket exists.
"""

from __future__ import annotations

import multiprocessing
import queue
import sys
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import DatabaseError, connections

from sportello.tickets.models import Ticket

from .parse import peek_headers, ticket_tag_in
from .services import ingest_raw

TEMPFAIL = "tempfail"


def thread_ids(raw: bytes) -> list[str]:
    """The ids that tie a message to its conversation: its own, its parents'."""
    return _links(raw)[0]


def _links(raw: bytes) -> tuple[list[str], str | None]:
    """A message's conversation ids and the ticket number tagged in its subject (an
    unreadable header block: none, the message stands alone)."""
    peek = peek_headers(raw)
    return peek.conversation_ids, ticket_tag_in(peek.subject, settings.SPORTELLO_TICKET_TAG)


def plan_import(raws: Sequence[bytes], jobs: int) -> tuple[list[list[int]], list[int]]:
    """Indexes for each worker, and those to file afterwards in this process: the
    conversations with a message tagged for a ticket that does not exist yet."""
    links = [_links(raw) for raw in raws]  # one header parse per message
    groups = _grouped([ids for ids, _tag in links])
    tags = {index: tag for index, (_ids, tag) in enumerate(links) if tag}
    existing = set(
        Ticket.objects.filter(number__in=set(tags.values())).values_list("number", flat=True)
    )
    waiting = {index for index, tag in tags.items() if tag not in existing}
    later = [group for group in groups if waiting.intersection(group)]
    now = [group for group in groups if not waiting.intersection(group)]
    return share_out(now, jobs), sorted(index for group in later for index in group)


def conversations(raws: Sequence[bytes]) -> list[list[int]]:
    """Indexes of ``raws`` grouped by conversation (union-find over shared ids), each
    group in input order, groups in the order of their first message."""
    return _grouped([thread_ids(raw) for raw in raws])


def _grouped(ids_of: list[list[str]]) -> list[list[int]]:
    parent = list(range(len(ids_of)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, ids in enumerate(ids_of):
        for mid in ids:
            other = owner.setdefault(mid, index)
            a, b = root(index), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for index in range(len(ids_of)):
        groups.setdefault(root(index), []).append(index)
    return sorted(groups.values(), key=lambda group: group[0])


def share_out(groups: list[list[int]], jobs: int) -> list[list[int]]:
    """Whole conversations to ``jobs`` workers, the next one to the least loaded."""
    loads: list[list[int]] = [[] for _ in range(jobs)]
    for group in sorted(groups, key=len, reverse=True):
        min(loads, key=len).extend(group)
    return [sorted(load) for load in loads if load]


def _work(indexes, items, options, results) -> None:
    """One worker process: file its messages in order, report each result."""
    for index in indexes:
        label, raw = items[index]
        try:
            result = ingest_raw(raw, source_detail=label[:255], **options)
        except DatabaseError as exc:
            results.put((index, TEMPFAIL, f"{label}: database unavailable ({exc})"))
            connections.close_all()
            sys.exit(75)
        results.put((index, result.state, result.line()))
    connections.close_all()


def ingest_parallel(
    items: Sequence[tuple[str, bytes]],
    *,
    jobs: int,
    options: dict,
    on_result: Callable[[int, str, str], None],
) -> None:
    """File ``items`` ((label, raw bytes)) with ``jobs`` processes; call ``on_result(index,
    state, line)`` in input order. A worker that loses the database stops; the others
    finish, and the caller sees TEMPFAIL for the messages that were not filed."""
    plan, later = plan_import([raw for _label, raw in items], jobs)
    context = multiprocessing.get_context("fork")  # the children inherit items, no copy
    results = context.Queue()
    connections.close_all()  # never share a database socket with a child
    workers = [
        context.Process(target=_work, args=(indexes, items, options, results), daemon=True)
        for indexes in plan
    ]
    for worker in workers:
        worker.start()
    done: dict[int, tuple[str, str]] = {}
    next_index = 0

    def report(index: int, state: str, line: str) -> None:
        nonlocal next_index
        done[index] = (state, line)
        while next_index in done:
            on_result(next_index, *done.pop(next_index))
            next_index += 1

    expected = sum(len(indexes) for indexes in plan)
    received = 0
    while received < expected:
        if not any(worker.is_alive() for worker in workers) and results.empty():
            break  # every worker ended; what is missing was never filed
        try:
            index, state, line = results.get(timeout=1)
        except queue.Empty:  # look at the workers again
            continue
        received += 1
        report(index, state, line)
    for worker in workers:
        worker.join()
    if received == expected:  # else the database is gone: leave them to the retry
        for index in later:
            label, raw = items[index]
            try:
                result = ingest_raw(raw, source_detail=label[:255], **options)
            except DatabaseError as exc:
                report(index, TEMPFAIL, f"{label}: database unavailable ({exc})")
                break
            report(index, result.state, result.line())
    for index in range(next_index, len(items)):
        on_result(index, *done.pop(index, (TEMPFAIL, f"{items[index][0]}: not filed")))
