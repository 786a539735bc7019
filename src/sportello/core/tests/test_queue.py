"""A task enqueued by one process runs in a separate consumer process, on each storage."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sportello.core.testenv import wait_for

ENQUEUE = (
    "import django; django.setup();"
    "from sportello.core.tasks import queue_probe; import sys; queue_probe(sys.argv[1])"
)


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return None
    return url


def run_probe(tmp_path: Path, extra_env: dict[str, str]) -> int:
    env = {
        **os.environ,
        "SPORTELLO_DATA_DIR": str(tmp_path),
        "SPORTELLO_HUEY_IMMEDIATE": "0",
        "SPORTELLO_QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "DJANGO_SETTINGS_MODULE": "sportello.settings",
        **extra_env,
    }
    env.pop("DATABASE_URL", None)  # the probe needs no database
    marker = tmp_path / "ran-by"
    # The "web" side enqueues and exits; nothing runs the task in this process.
    enqueuer = subprocess.run(
        [sys.executable, "-c", ENQUEUE, str(marker)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert enqueuer.returncode == 0, enqueuer.stderr
    assert not marker.exists(), "the task ran in the enqueuing process, not in a worker"
    consumer = subprocess.Popen(
        [sys.executable, "-m", "sportello", "run_huey", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(marker.exists, what="the consumer to run the task")
        return int(marker.read_text())  # written whole (queue_probe renames it into place)
    finally:
        consumer.terminate()
        consumer.wait(timeout=20)


def test_it_runs_a_task_in_a_separate_consumer_on_sqlite(tmp_path):
    worker_pid = run_probe(tmp_path, {})
    assert worker_pid not in (os.getpid(), 0)
    assert (tmp_path / "huey.sqlite3").exists()


def test_it_runs_a_task_in_a_separate_consumer_on_redis(tmp_path):
    url = _redis_url()
    if url is None:
        pytest.fail(
            "Redis is not reachable on 127.0.0.1:6379: .ci/run starts it; start it "
            "with `redis-server --daemonize yes` for a local run."
        )
    worker_pid = run_probe(tmp_path, {"REDIS_URL": url})
    assert worker_pid not in (os.getpid(), 0)
    assert not (tmp_path / "huey.sqlite3").exists(), "Redis set, yet the SQLite queue was used"
