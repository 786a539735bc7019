"""The mail receivers the tests start as child processes (``sportello smtpd``): the
environment they run in (this test's database, mail kept in memory, our domain) and their
output read line by line."""

from __future__ import annotations

import os
import select
import subprocess

import pytest


def sportello_env(db_settings) -> dict[str, str]:
    if db_settings["ENGINE"].endswith("postgresql"):
        url = (
            f"postgres://{db_settings['USER'] or 'postgres'}:{db_settings['PASSWORD'] or ''}@"
            f"{db_settings['HOST'] or '127.0.0.1'}:{db_settings['PORT'] or 5432}/"
            f"{db_settings['NAME']}"
        )
    else:
        url = f"sqlite:///{db_settings['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SPORTELLO_MAIL_DOMAINS": "init-s.it",
        "PYTHONUNBUFFERED": "1",
    }


def read_line(proc: subprocess.Popen, timeout: float = 60) -> str:
    ready, _w, _x = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail(f"no output in {timeout}s; stderr: {proc.stderr.read().decode()}")
    line = proc.stdout.readline().decode()
    if not line:
        proc.wait(timeout=30)
        pytest.fail(f"exited {proc.returncode}: {proc.stderr.read().decode()[-3000:]}")
    return line
