"""Progress of the month close's background drafting ("generate drafts for every
organisation"), shown on the month page while the worker drafts.

The status lives in Django's cache (Redis in production, shared files on one machine):
the web process writes *queued* when it enqueues, the worker *running* with ``n of N``
after every chunk of organisations and *done* at the end, with the organisations whose
draft failed and why. A reload of the page reads it again, so the progress survives it;
a status older than ``KEEP_SECONDS`` is forgotten.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from django.core.cache import cache
from django.utils import timezone

from sportello.tickets.events import SYSTEM, Actor

from .statements import statements_draft_month

KEEP_SECONDS = 24 * 3600
# A run that says *queued* or *running* and has not moved for this long is stale (the
# worker was stopped): the page lets the user start it again.
STALE_SECONDS = 15 * 60


@dataclass
class DraftingStatus:
    period: str  # YYYY-MM
    state: str = "queued"  # queued | running | done
    done: int = 0
    total: int = 0
    drafted: int = 0
    blocked: int = 0
    errors: list[dict] = field(default_factory=list)  # {"organisation", "message"}
    started_by: str = ""
    updated_at: str = ""

    @property
    def finished(self) -> bool:
        return self.state == "done"

    @property
    def percent(self) -> int:
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def stale(self) -> bool:
        if self.finished or not self.updated_at:
            return False
        updated = datetime.fromisoformat(self.updated_at)
        return (timezone.now() - updated).total_seconds() > STALE_SECONDS


def _key(period: date) -> str:
    return f"billing:drafting:{period:%Y-%m}"


def _save(period: date, status: DraftingStatus) -> DraftingStatus:
    status.updated_at = timezone.now().isoformat()
    cache.set(_key(period), asdict(status), KEEP_SECONDS)
    return status


def drafting_status(period: date) -> DraftingStatus | None:
    """The last drafting run of ``period``'s month, or None when there was none lately."""
    data = cache.get(_key(period.replace(day=1)))
    return DraftingStatus(**data) if data else None


def drafting_queued(period: date, actor: Actor) -> DraftingStatus:
    """The page enqueued a run: say so until the worker starts."""
    return _save(period, DraftingStatus(period=f"{period:%Y-%m}", started_by=actor.display))


def drafting_running(status: DraftingStatus | None) -> bool:
    return status is not None and not status.finished and not status.stale


def drafting_run(*, period: date, organisation=None, actor: Actor = SYSTEM) -> DraftingStatus:
    """Draft the month (all organisations, or one), recording progress as it goes."""
    period = period.replace(day=1)
    status = DraftingStatus(period=f"{period:%Y-%m}", state="running", started_by=actor.display)
    previous = drafting_status(period)
    if previous is not None and previous.started_by:
        status.started_by = previous.started_by

    def progress(done, total, results, failed):
        status.done, status.total = done, total
        status.drafted = sum(1 for r in results if r.statement is not None)
        status.blocked = sum(1 for r in results if r.statement is not None and r.blockers)
        status.errors = [
            {"organisation": org.name, "message": message} for org, message in failed.items()
        ]
        _save(period, status)

    try:
        statements_draft_month(
            period=period, organisation=organisation, actor=actor, progress=progress
        )
    except Exception as exc:
        status.errors.append({"organisation": "", "message": str(exc) or type(exc).__name__})
        raise
    finally:
        status.state = "done"
        _save(period, status)
    return status
