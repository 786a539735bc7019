"""pytest plugin loaded with ``-p`` (see pyproject.toml) before pytest-django reads settings.

Gives every test run a private data directory, so tests never touch ./var, and runs
Huey tasks immediately unless a test starts a real consumer.
"""

import io
import os
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import TypeVar

from aiosmtpd.controller import Controller

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-test-"))
os.environ.setdefault("SPORTELLO_HUEY_IMMEDIATE", "1")


def shared_dir() -> Path:
    """The shared material the tests check against (mail corpus, tariff scenarios):
    ``$SPORTELLO_SHARED_DIR``, else ``<repo root>/../shared``. Without it the tests
    cannot check what they must, so they fail at collection instead of skipping."""
    override = os.environ.get("SPORTELLO_SHARED_DIR")
    if override:
        path = Path(override)
    else:
        root = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
        path = root.parent / "shared"
    if not (path / "mail-corpus").is_dir() or not (path / "tariff-scenarios.json").is_file():
        raise RuntimeError(
            f"The shared test material is not at {path}: set SPORTELLO_SHARED_DIR to the "
            "directory that holds mail-corpus/ and tariff-scenarios.json."
        )
    return path


T = TypeVar("T")


def wait_for(condition: Callable[[], T], *, what: str, timeout: float = 60.0) -> T:
    """Check ``condition`` until it returns something true, and return that. Tests wait
    on the thing they need (a file written, a row filed, a port open), never a fixed
    time, so a busy machine only makes them slower. Fails naming ``what`` never came."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}, in vain")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class Output:
    """A child process's text output read as it comes, so a test can wait for a line
    (``wait_line``) and still have all of it at the end (``text``)."""

    def __init__(self, stream):
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._seen: list[str] = []
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream) -> None:
        for line in iter(stream.readline, "" if isinstance(stream, io.TextIOBase) else b""):
            self._lines.put(line if isinstance(line, str) else line.decode(errors="replace"))
        self._lines.put(None)

    def wait_line(self, contains: str, *, timeout: float = 60.0) -> str:
        """The first line (from here on) containing ``contains``; fails at end of output."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line with {contains!r} in {timeout:.0f} s; so far: {self.text()[-3000:]}"
                ) from None
            if line is None:
                self._lines.put(None)
                raise AssertionError(f"output ended without {contains!r}: {self.text()[-3000:]}")
            self._seen.append(line)
            if contains in line:
                return line

    def text(self, *, wait: bool = False) -> str:
        """Everything read so far (``wait``: until the stream ends)."""
        if wait:
            self._reader.join(timeout=60)
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._lines.put(None)
                break
            self._seen.append(line)
        return "".join(self._seen)


def database_url() -> str:
    """The URL of the database this test uses, for a child process to open the same one
    (PostgreSQL's test database, or SQLite's file)."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        return (
            f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    return f"sqlite:///{settings['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process a test starts: this one's, the test's own
    database, output unbuffered (so the test can wait for a line), and ``extra``."""
    return {**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1", **extra}


def stop(proc: subprocess.Popen, *, timeout: float = 30.0) -> None:
    """Kill a child that is still running and reap it (a test's ``finally``)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=timeout)


class Loopback(Controller):
    """aiosmtpd's threaded controller on 127.0.0.1, on a port the kernel picks (port 0);
    ``make`` builds the protocol (the desk's own SMTP or LMTP receiver) when given."""

    def __init__(self, handler, make=None):
        super().__init__(handler, hostname="127.0.0.1", port=0)
        self.make = make

    def factory(self):
        return self.make(self.handler) if self.make else super().factory()

    def _trigger_server(self):
        # Controller connects to self.port to start the protocol: learn the real one first.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Capture:
    """An aiosmtpd handler that keeps every message: (envelope from, to, parsed mail)."""

    def __init__(self):
        self.mail: list = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.original_content, policy=email_policy.default)
        with self._lock:
            self.mail.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 OK"

    def to(self, address: str) -> list:
        with self._lock:
            return [m for _f, rcpts, m in self.mail if address in rcpts]


try:
    import pytest
except ImportError:  # pragma: no cover - only pytest loads this module
    pytest = None

if pytest is not None:

    @pytest.fixture(autouse=True)
    def _fresh_process_caches():
        """Each test starts with empty per-process caches: its database is new too."""
        yield
        from django.apps import apps

        if apps.ready:  # pure-Python test runs (-p no:django) never load the app
            from sportello.billing.services import tariff_cache_clear
            from sportello.core.models import support_cache_clear

            tariff_cache_clear()
            support_cache_clear()
