"""Desk response times under load: 10 signed-in agents at once against `sportello serve`.

Run against a database filled by `sportello bench-data --tickets 100000` (bench/run.sh),
with DATABASE_URL and SPORTELLO_DATA_DIR of that database. Prepares a benchmark agent,
a ticket with 20 messages and a ticket to log calls on, starts `sportello serve`
(gunicorn, 2 workers) on a free loopback port, then runs 10 threads, each its own
signed-in session, through: the "all open" queue (first page and page 200), the ticket
page with 20 messages, and logging a 12-minute call followed by the charge preview.
Also counts the SQL queries of each page in-process. Prints one JSON line.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,  # noqa: E402
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from sportello.desk import selectors  # noqa: E402
from sportello.staff.models import Agent, Role  # noqa: E402
from sportello.staff.services import agent_save  # noqa: E402
from sportello.tickets import services as tickets  # noqa: E402
from sportello.tickets.inputs import MessageInput  # noqa: E402
from sportello.tickets.models import Status, Ticket  # noqa: E402

AGENTS = int(os.environ.get("BENCH_AGENTS", "10"))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 30


def prepare() -> dict:
    User = get_user_model()
    user, _ = User.objects.get_or_create(username="bench-agent", defaults={"first_name": "Bench"})
    agent = Agent.objects.filter(user=user).first() or agent_save(
        agent=Agent(user=user, role=Role.AGENT)
    )
    # A ticket of 20 messages (bench-data gives about 4 each): top one up if needed.
    busy = (
        Ticket.objects.filter(status=Status.OPEN)
        .annotate(n=Count("messages"))
        .order_by("-n", "pk")
        .first()
    )
    for i in range(max(0, 20 - busy.n)):
        tickets.message_add(
            ticket=busy,
            message=MessageInput(
                kind="email", direction="in", text=f"Messaggio {i}", sender="b@x.it"
            ),
        )
    calls = Ticket.objects.filter(status=Status.OPEN, organisation__isnull=False).order_by("-pk")[1]
    page = selectors.queue_page(agent=agent, queue="open")
    for _ in range(198):
        page = selectors.queue_page(agent=agent, queue="open", after=page.next_cursor)
    return {
        "user": user,
        "busy": busy.pk,
        "messages": busy.messages.count(),
        "calls": calls.pk,
        "page200": page.next_cursor,
    }


def session_for(user) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def query_counts(ready: dict, urls: dict) -> dict:
    client = Client()
    client.force_login(ready["user"])
    out = {}
    for name, url in urls.items():
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        out[name] = len(ctx)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int) -> subprocess.Popen:
    env = {**os.environ, "SPORTELLO_HUEY_IMMEDIATE": "1", "SPORTELLO_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sportello", "serve", "--bind", f"127.0.0.1:{port}",
         "--no-migrate", "--no-worker", "--web-workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("sportello serve did not start")


class Agent_:
    """One signed-in browser: a keep-alive connection with its session cookie."""

    def __init__(self, port: int, session: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {settings.SESSION_COOKIE_NAME: session}

    def request(self, method: str, url: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = "http://127.0.0.1/"
        self.conn.request(method, url, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text


def run(port: int, sessions: list[str], urls: dict, ready: dict) -> dict:
    times: dict[str, list[float]] = {k: [] for k in (*urls, "log_call_and_preview")}
    failures: list[str] = []
    start_gate = threading.Barrier(len(sessions))

    def worker(session: str):
        me = Agent_(port, session)
        status, page = me.request("GET", urls["ticket_20_messages"])
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if found is None:
            raise RuntimeError(f"ticket page answered {status}: {page[:300]}")
        token = found.group(1)
        start_gate.wait()
        for _ in range(ROUNDS):
            for name, url in urls.items():
                t0 = time.perf_counter()
                status, _ = me.request("GET", url)
                times[name].append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    failures.append(f"{status} {url}")
            t0 = time.perf_counter()
            status, _ = me.request(
                "POST",
                f"/desk/ticket/{ready['calls']}/intervention/",
                {
                    "csrfmiddlewaretoken": token,
                    "kind": "phone",
                    "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                    "minutes": "12",
                },
            )
            status2, _ = me.request("GET", f"/desk/ticket/{ready['calls']}/preview/")
            times["log_call_and_preview"].append((time.perf_counter() - t0) * 1000)
            if status != 302 or status2 != 200:
                failures.append(f"log call {status} {status2}")

    threads = [threading.Thread(target=worker, args=(s,)) for s in sessions]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall

    def summary(values: list[float]) -> dict:
        values = sorted(values)
        return {
            "requests": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[int(len(values) * 0.95) - 1], 1),
            "max_ms": round(values[-1], 1),
        }

    return {
        "pages": {k: summary(v) for k, v in times.items()},
        "failures": failures[:5],
        "requests_per_s": round(sum(len(v) for v in times.values()) / wall, 1),
    }


def main() -> None:
    ready = prepare()
    urls = {
        "queue_all_open_page_1": "/desk/?queue=open",
        "queue_all_open_page_200": f"/desk/?queue=open&after={ready['page200']}",
        "ticket_20_messages": f"/desk/ticket/{ready['busy']}/",
    }
    counts = query_counts(ready, {**urls, "preview": f"/desk/ticket/{ready['calls']}/preview/"})
    sessions = [session_for(ready["user"]) for _ in range(AGENTS)]
    connection.close()
    port = free_port()
    proc = serve(port)
    try:
        result = run(port, sessions, urls, ready)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(
        json.dumps(
            {
                "bench": "desk",
                "database": connection.vendor,
                "tickets": Ticket.objects.count(),
                "agents": AGENTS,
                "rounds": ROUNDS,
                "ticket_messages": ready["messages"],
                "queries": counts,
                **result,
            }
        )
    )


if __name__ == "__main__":
    main()
