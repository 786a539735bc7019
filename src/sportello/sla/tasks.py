"""SLA background tasks: thin wrappers around the services (STYLE 2.7).

The periodic task only sends the warnings and escalations that are due; clocks are
computed on read and stored on write, never polled."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_periodic_task(crontab(minute="*"))
@lock_task("sla-notices-send")
def notices_send() -> int:
    """Every minute: the SLA warnings to assignees and escalations to supervisors."""
    from .services import notices_send as send

    return len(send())


@db_task()
@lock_task("sla-clocks-refresh")
def clocks_refresh_open() -> int:
    """After a policy or calendar edit: every open ticket's stored clock again."""
    from .services import clocks_refresh_open as refresh

    return refresh()
