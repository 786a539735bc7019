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
    # Written aside and renamed into place, so whoever sees the file sees all of it.
    partial = Path(f"{path}.partial")
    partial.write_text(str(os.getpid()))
    os.replace(partial, path)
    return os.getpid()
