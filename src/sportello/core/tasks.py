"""Core background tasks."""

from __future__ import annotations

import os
from pathlib import Path

from huey.contrib.djhuey import db_task


@db_task()
def queue_probe(path: str) -> int:
    """Write the worker's process id to ``path``: proves the queue reaches a consumer.

    Used by the deployment check in the docs and by the tests.
    """
    Path(path).write_text(str(os.getpid()))
    return os.getpid()
