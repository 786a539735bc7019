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
from pathlib import Path
from typing import TypeVar

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


def stop(proc: subprocess.Popen, *, timeout: float = 30.0) -> None:
    """Kill a child that is still running and reap it (a test's ``finally``)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=timeout)


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
