"""The billing pages in a real browser (Debian's chromium, Playwright) against
``sportello serve`` with the demo data: reports, audit trail, month close with its
drafting progress, a statement. At 1280 px and 360 px, each page screenshotted under
test-artifacts/billing-browser/ and checked for accessibility in the browser: the
portal's audit (labels, tab order, WCAG contrast) and the checks below (lang, captions,
header scopes, named charts, visible focus, no page-wide horizontal scroll).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from sportello.core.demo import AGENT_PASSWORD
from sportello.portal.tests.browser import A11Y_AUDIT, desk_signed_in, free_port

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO / "test-artifacts" / "billing-browser"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}

# What the portal's audit does not look at, for data pages: the document's language,
# every table captioned and its header cells scoped, every chart an image with a name
# and a description, nothing wider than the window.
TABLES_AND_CHARTS = """
() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  for (const t of document.querySelectorAll("main table")) {
    const what = t.outerHTML.slice(0, 60);
    if (!t.caption || !t.caption.textContent.trim()) problems.push(`no caption: ${what}`);
    for (const th of t.querySelectorAll("th")) {
      if (!["col", "row"].includes(th.getAttribute("scope")))
        problems.push(`th without scope: ${th.outerHTML.slice(0, 60)}`);
    }
  }
  for (const svg of document.querySelectorAll("main svg")) {
    const ids = (svg.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
    const texts = ids.map((id) => document.getElementById(id)?.textContent.trim());
    if (svg.getAttribute("role") !== "img" || texts.length < 2 || texts.some((t) => !t))
      problems.push(`chart without a name and description: ${svg.outerHTML.slice(0, 60)}`);
    if (!svg.querySelector("text")) problems.push("chart without text labels");
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    const wide = [...document.querySelectorAll("main *")].filter(
      (e) => e.getBoundingClientRect().right > window.innerWidth + 1);
    const names = wide.slice(0, 3).map((e) => e.outerHTML.slice(0, 80));
    problems.push(`page scrolls sideways: ${names.join(" | ")}`);
  }
  return problems;
}
"""
FOCUS_RING = """
() => { const s = getComputedStyle(document.activeElement);
        return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2; }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        SPORTELLO_DATA_DIR=str(tmp_path_factory.mktemp("billing-server")),
        SPORTELLO_HUEY_IMMEDIATE="1",
        SPORTELLO_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="sportello.settings",
    )

    def manage(*args):
        done = subprocess.run(
            [sys.executable, "-m", "sportello", *args],
            env=env,
            timeout=300,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "-v0")
    manage("demo")
    manage(
        "shell",
        "-c",
        "from sportello.billing.closing import tickets_close_expired; tickets_close_expired()",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "sportello", "serve", "--bind", f"127.0.0.1:{port}",
         "--no-migrate", "--no-worker", "--web-workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("sportello serve did not answer /health within 30 s")
        time.sleep(0.2)
    yield {"url": url, "manage": manage}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def shots():
    folder = ARTIFACTS / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in(browser, url, viewport):
    context, page, errors = desk_signed_in(browser, url, "carla", AGENT_PASSWORD, viewport)
    context.set_default_timeout(15_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def check(page, shots, name):
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert page.evaluate(A11Y_AUDIT) == [], name
    assert page.evaluate(TABLES_AND_CHARTS) == [], name


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_the_billing_pages_read_well_and_pass_the_accessibility_checks(
    browser, server, shots, device
):
    server = server["url"]
    page, errors = signed_in(browser, server, VIEWPORTS[device])
    context = page.context

    # The month close: draft every organisation, the progress says n of N.
    page.goto(f"{server}/desk/billing/?month=2026-11")
    page.get_by_role("button", name="Genera le bozze per tutte le organizzazioni").click()
    page.wait_for_url(re.compile(r"month=2026-11"))
    progress = page.locator("#drafting")
    assert re.search(r"(\d+) di \1 organizzazioni", progress.inner_text())
    assert page.get_by_role("progressbar").count() == 1
    check(page, shots, f"{device}-month")

    page.get_by_role("link", name="Rivedi la bozza").first.click()
    page.wait_for_url(re.compile(r"/statement/\d+/"))
    check(page, shots, f"{device}-statement")

    page.get_by_role("navigation", name="Fatturazione").get_by_role("link", name="Report").click()
    page.wait_for_url(re.compile(r"/desk/billing/reports/"))
    assert page.get_by_role("img", name=re.compile("Ricavi e ticket per mese")).is_visible()
    assert page.locator("svg").count() == 8
    month_table = page.locator("#by_month table")
    assert "Totale" in month_table.inner_text()
    check(page, shots, f"{device}-reports")
    # The filter by organisation, from the form, keeps the choice.
    page.get_by_label("Organizzazione", exact=True).select_option(label="Comune di Stroncone")
    page.get_by_role("button", name="Mostra").click()
    page.wait_for_url(re.compile(r"organisation=\d+"))
    assert page.locator("#by_organisation tbody tr").count() == 1
    check(page, shots, f"{device}-reports-stroncone")
    with page.expect_download() as download:
        page.locator("#by_month").get_by_role("link", name=re.compile("CSV per Excel")).click()
    assert download.value.suggested_filename.startswith("report-by-month-")
    # Keyboard: the focused control shows a ring.
    page.get_by_label("Dal mese").focus()
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUS_RING)

    page.get_by_role("navigation", name="Fatturazione").get_by_role(
        "link", name="Registro modifiche"
    ).click()
    page.wait_for_url(re.compile(r"/desk/billing/audit/"))
    assert page.locator("table.audit tbody tr").count() >= 5
    check(page, shots, f"{device}-audit")
    page.get_by_label("Tipo di modifica").select_option("statement")
    page.get_by_role("button", name="Filtra").click()
    page.wait_for_url(re.compile(r"category=statement"))
    assert "bozza creata" in page.locator("table.audit").inner_text()
    check(page, shots, f"{device}-audit-statements")
    assert errors == []
    context.close()


@pytest.mark.slow
def test_the_month_page_follows_a_worker_drafting_and_reloads_when_done(browser, server, shots):
    """The worker's progress (written here by hand, as the worker writes it) reaches an
    open month page through htmx polling, under the CSP; when the run is done the page
    reloads itself, its button enabled again."""
    manage, url = server["manage"], server["url"]
    status = (
        "from datetime import date; from sportello.billing import drafting as d; "
        "s = d.DraftingStatus(period='2026-10', state={state!r}, done={done}, total=5, "
        "drafted={done}, started_by='carla'); d._save(date(2026, 10, 1), s)"
    )
    manage("shell", "-c", status.format(state="running", done=2))
    page, errors = signed_in(browser, url, VIEWPORTS["desktop"])
    page.goto(f"{url}/desk/billing/?month=2026-10")
    assert "2 di 5 organizzazioni" in page.locator("#drafting").inner_text()
    assert page.get_by_role(
        "button", name="Genera le bozze per tutte le organizzazioni"
    ).is_disabled()
    check(page, shots, "drafting-running")
    manage("shell", "-c", status.format(state="done", done=5))
    page.get_by_text("Generazione terminata").wait_for()  # htmx polled it, then reloaded
    assert "5 di 5 organizzazioni" in page.locator("#drafting").inner_text()
    assert page.locator("#drafting[hx-trigger]").count() == 0  # polling stopped
    assert page.get_by_role(
        "button", name="Genera le bozze per tutte le organizzazioni"
    ).is_enabled()
    page.screenshot(path=str(shots / "drafting-done.png"), full_page=True)
    assert errors == []
    page.context.close()
