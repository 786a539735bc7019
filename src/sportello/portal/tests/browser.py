"""What the browser tests of the portal, of the desk and of the README share: a Sportello
of their own (data directory, environment, ``manage()``, ``sportello serve`` on a loopback
port, waited for on ``/health``), a real SMTP server's mailbox (aiosmtpd), a free loopback
port and the in-browser accessibility audit."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sportello.core.testenv import Loopback, Output, wait_for


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.port: int | None = None  # set by loopback_mailbox()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def wait_for(self, predicate, timeout=60.0):
        def matching():
            with self.lock:
                return next((m for m in self.messages if predicate(m)), None)

        return wait_for(matching, what="a matching e-mail", timeout=timeout)


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def desk_signed_in(browser, url: str, username: str, password: str, viewport: dict):
    """A new Italian browser context signed in to the desk as ``username``: (context,
    page, errors), ``errors`` collecting page errors and failed requests."""
    context = browser.new_context(viewport=viewport, locale="it-IT")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{url}/desk/login/")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url(re.compile(r"/desk/$"))
    return context, page, errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(env: dict, port: int):
    """``sportello serve`` (web only, migrated already) on ``127.0.0.1:port`` until the
    block ends; yields its URL once ``/health`` answers."""
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sportello", "serve", "--bind", f"127.0.0.1:{port}",
         "--no-migrate", "--no-worker", "--web-workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"sportello serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, what="sportello serve to answer /health")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def htmx_settled(page) -> None:
    """Wait until htmx has no request, swap or settle in progress. New content is wired to
    htmx only when it settles, so a test that types into a freshly swapped input waits
    for this first (it waits for the input to exist, then calls this)."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def page_errors(page) -> list[str]:
    """Script errors and failed responses of ``page`` (the browser's favicon aside), as
    they happen: a test asserts the list is empty at the end."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    return errors


@contextmanager
def loopback_mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback keeping what it receives; its port is ``.port``."""
    mailbox = Mailbox()
    server = Loopback(mailbox)
    server.start()
    mailbox.port = server.port
    try:
        yield mailbox
    finally:
        server.stop()


class Sportello:
    """A Sportello of its own for a browser test, as ``make run`` sets one up: a data
    directory (SQLite database, queue, files), a loopback port, and the environment of
    its commands. Nothing of this process's own configuration reaches it (no
    ``SPORTELLO_*``, ``EMAIL_*``, ``DATABASE_URL`` or ``REDIS_URL``): only ``settings``,
    and, with a ``mailbox``, outgoing mail sent there by SMTP."""

    def __init__(self, data_dir: Path, *, mailbox: Mailbox | None = None, **settings: str):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SPORTELLO_", "EMAIL_")) and k not in ("DATABASE_URL", "REDIS_URL")
        }
        env.update(
            SPORTELLO_DATA_DIR=str(self.data_dir),
            SPORTELLO_BIND=f"127.0.0.1:{self.port}",
            SPORTELLO_LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="sportello.settings",
            PYTHONUNBUFFERED="1",
        )
        if mailbox is not None:
            env.update(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(mailbox.port),
            )
        env.update(settings)
        self.env = env

    def manage(self, *args: str, code: str | None = None) -> str:
        """``sportello ARGS`` (``code``: ``-c`` with it dedented); its standard output.
        Fails the test, with the command's standard error, when the command fails."""
        cmd = [sys.executable, "-m", "sportello", *args]
        if code:
            cmd += ["-c", textwrap.dedent(code)]
        done = subprocess.run(cmd, env=self.env, timeout=180, capture_output=True, text=True)
        assert done.returncode == 0, f"sportello {' '.join(args)}: {done.stderr}"
        return done.stdout

    @contextmanager
    def serve(self, *args: str, ports: tuple[int, ...] = ()) -> Iterator[Output]:
        """``sportello serve ARGS``, ready once ``/health`` answers 200 (and every one of
        ``ports`` takes a connection); stopped, with what it started, on leaving. Yields
        its output (standard output and error), read as it comes."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "sportello", "serve", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its worker and receiver too can be stopped at once
        )
        output = Output(proc.stdout)
        try:
            wait_for(lambda: self._ready(proc, output, ports), what="sportello serve to answer")
            yield output
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def _ready(self, proc: subprocess.Popen, output: Output, ports: tuple[int, ...]) -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"sportello serve exited with {proc.returncode}: {output.text()}")
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310
                if response.status != 200:
                    return False
            for port in ports:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    pass
        except OSError:
            return False
        return True


@contextmanager
def served_with_mailbox(data_dir: Path, *, setup: str) -> Iterator[dict]:
    """What the portal's and the desk's browser tests run against: a :class:`Sportello`
    whose mail goes to a loopback mailbox, whose links name it, whose background tasks
    run within the request (no worker to wait for), migrated, prepared by the ``setup``
    code (run in ``sportello shell``) and served by two web workers.

    Yields ``{"url", "manage", "mailbox"}``."""
    with loopback_mailbox() as mailbox:
        site = Sportello(data_dir, mailbox=mailbox, SPORTELLO_HUEY_IMMEDIATE="1")
        site.env["SPORTELLO_SITE_URL"] = site.url
        site.manage("migrate", "-v0")
        site.manage("shell", code=setup)
        with site.serve("--no-migrate", "--no-worker", "--web-workers", "2"):
            yield {"url": site.url, "manage": site.manage, "mailbox": mailbox}


# Accessibility, checked in the browser on every public page: what the browser computes
# (labels, tab order, focus ring, colour contrast per WCAG 2.1), not what the HTML says.
A11Y_AUDIT = """
() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  };
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || !visible(el)) continue;
    const named = el.labels?.length || el.getAttribute("aria-label") ||
                  el.getAttribute("aria-labelledby") || el.title;
    if (!named) problems.push(`no label: ${el.outerHTML.slice(0, 80)}`);
  }
  for (const el of document.querySelectorAll("[tabindex]")) {
    if (el.tabIndex > 0) problems.push(`positive tabindex: ${el.outerHTML.slice(0, 80)}`);
  }
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || !visible(el)) continue;
    const s = getComputedStyle(el);
    const l1 = lum(rgb(s.color).slice(0, 3)), l2 = lum(background(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) {
      const what = el.textContent.trim().slice(0, 40);
      problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: "${what}"`);
    }
  }
  return problems;
}
"""
