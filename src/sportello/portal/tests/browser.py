"""What the browser tests of the portal and of the desk share: a real SMTP server's
mailbox (aiosmtpd), a free loopback port and the in-browser accessibility audit."""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
import socket
import subprocess
import sys
import threading
import urllib.request

from sportello.core.testenv import wait_for


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

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
