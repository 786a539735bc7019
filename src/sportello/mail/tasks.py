"""Mail background tasks: thin wrappers around the services (STYLE 2.7)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from . import delivery
from .models import RawMessage

log = logging.getLogger(__name__)

SEND_RETRIES = 5


@db_task(retries=SEND_RETRIES, retry_delay=60, context=True)
def message_send(message_id: int, task=None) -> str:
    """Send an outbound message; after the last retry the failure shows on the ticket."""
    try:
        return delivery.message_deliver(message_id=message_id)
    except Exception as exc:
        # Immediate mode (tests, a desk run without `run_huey`) only schedules the retry,
        # and no consumer ever runs the schedule: there, the first failure is the last.
        retries_left = task.retries if task is not None and not HUEY.immediate else 0
        log.warning(
            "mail delivery failed",
            # Not "message": that key belongs to the LogRecord and would raise KeyError.
            extra={"message_pk": message_id, "retries_left": retries_left, "error": str(exc)},
        )
        if not retries_left:
            delivery.message_delivery_failed(
                message_id=message_id, error=f"{type(exc).__name__}: {exc}"
            )
            return "failed"
        raise


@db_task()
def raw_process(raw_id: int) -> str:
    """File a stored raw message (the SMTP receiver stores, this files)."""
    # Imported here, the documented way for a task (STYLE 1.3): the services queue this
    # task (outbound mail), so at module level each would import the other.
    from .services import raw_process as process

    row = RawMessage.objects.filter(pk=raw_id).first()
    if row is None:
        return "missing"
    return process(row).line()


# Stored mail whose filing task was lost (a worker killed mid-task, a queue wiped) is
# still "pending" in the database: after this long, the sweep queues it again.
PENDING_GRACE = timedelta(minutes=10)


@db_periodic_task(crontab(minute="*/5"))
def raw_pending_sweep() -> int:
    """Queue again the stored messages still waiting to be filed after PENDING_GRACE."""
    stale = RawMessage.objects.filter(
        state=RawMessage.State.PENDING, received_at__lt=timezone.now() - PENDING_GRACE
    ).values_list("pk", flat=True)[:1000]
    ids = list(stale)
    for raw_id in ids:
        raw_process(raw_id)
    if ids:
        log.warning("re-queued stored mail left pending", extra={"count": len(ids)})
    return len(ids)
