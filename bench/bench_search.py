"""Search latency on a database filled by `sportello bench-data` (see bench/run.sh).

Usage: python bench/bench_search.py [REQUESTS_PER_CLIENT] [CLIENTS]
Uses DATABASE_URL (or the SQLite database of SPORTELLO_DATA_DIR). Measures:

1. the selector (``ticket_search``) in this process, 60 times per case: p50/p95;
2. the page ``/desk/search/?q=...`` served by ``sportello serve`` (gunicorn, 2 workers),
   CLIENTS (10) agents at once, each REQUESTS_PER_CLIENT (40) requests cycling through
   the cases: p50/p95 per case (a ticket number answers with its 302 to the ticket);
3. the index: documents and size on disk.

Cases: one word matching about 1% of tickets (a device name of bench-data), two words,
a ticket number, an e-mail address of a contact, a fragment of a partita IVA.
Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from sportello.customers.models import ContactEmail, Organisation  # noqa: E402
from sportello.search.selectors import ticket_search  # noqa: E402
from sportello.staff.models import Agent  # noqa: E402
from sportello.tickets.models import Ticket  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PER_CLIENT = int(sys.argv[1]) if len(sys.argv) > 1 else 40
CLIENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def agent_user():
    user, _ = get_user_model().objects.get_or_create(username="bench-search-agent")
    Agent.objects.get_or_create(user=user)
    return user


def cases() -> dict[str, str]:
    middle = Ticket.objects.order_by("pk").values_list("number", flat=True)
    count = middle.count()
    number = middle[count // 2]
    address = ContactEmail.objects.order_by("pk").values_list("address", flat=True)[10]
    vat = Organisation.objects.order_by("pk").values_list("vat_number", flat=True)[3]
    return {
        "one_word_1pct": "baltor",
        "two_words": "stampante errore",
        "two_words_narrow": "baltor stampante",
        "ticket_number": number,
        "email_address": address,
        "vat_number": vat,
    }


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def selector(user, queries: dict[str, str], repeat: int = 60) -> dict:
    out = {}
    for name, q in queries.items():
        ticket_search(user=user, q=q)  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            found = ticket_search(user=user, q=q)
            times.append((time.perf_counter() - start) * 1000)
        out[name] = {**percentiles(times), "total": found.total, "mode": found.mode}
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served(user, queries: dict[str, str]) -> dict:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    port = free_port()
    env = {**os.environ, "SPORTELLO_HUEY_IMMEDIATE": "1"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/sportello"),
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--no-migrate",
            "--no-worker",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=10).read()
                break
            except OSError:  # refused, reset or timed out while gunicorn starts
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("sportello serve did not answer /health") from None
                time.sleep(0.2)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        names = list(queries)
        times: dict[str, list[float]] = {n: [] for n in names}
        errors: list[str] = []
        lock = threading.Lock()

        def get(q: str) -> int:
            url = f"{base}/desk/search/?" + urllib.parse.urlencode({"q": q})
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            try:
                with opener.open(request, timeout=30) as response:
                    response.read()
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        for q in queries.values():  # warm every worker a little
            for _ in range(3):
                get(q)

        def agent(k: int) -> None:
            for i in range(PER_CLIENT):
                name = names[(k + i) % len(names)]
                start = time.perf_counter()
                status = get(queries[name])
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    times[name].append(elapsed)
                    if status not in (200, 302):
                        errors.append(f"{name}: {status}")

        started = time.perf_counter()
        threads = [threading.Thread(target=agent, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        every = [t for ts in times.values() for t in ts]
        return {
            "clients": CLIENTS,
            "requests": len(every),
            "requests_per_s": round(len(every) / wall, 1),
            "all": percentiles(every),
            **{name: percentiles(ts) for name, ts in times.items()},
            "errors": errors[:5],
        }
    finally:
        server.terminate()
        server.wait(timeout=20)


def index_size() -> dict:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_total_relation_size('search_searchdocument'), "
                "pg_database_size(current_database())"
            )
            index_bytes, db_bytes = cursor.fetchone()
        else:
            cursor.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search%' "
                "OR name LIKE 'sqlite_autoindex_search%'"
            )
            index_bytes = cursor.fetchone()[0]
            cursor.execute("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
            db_bytes = cursor.fetchone()[0]
    return {
        "index_mib": round(index_bytes / 2**20, 1),
        "database_mib": round(db_bytes / 2**20, 1),
        "index_share": round(index_bytes / db_bytes, 3),
    }


def main() -> None:
    tickets = Ticket.objects.count()
    if not tickets:
        raise SystemExit("No tickets: fill the database with `sportello bench-data` first.")
    user = agent_user()
    queries = cases()
    result = {
        "bench": "search",
        "database": connection.vendor,
        "tickets": tickets,
        "queries": queries,
        "selector": selector(user, queries),
        "index": index_size(),
    }
    print(json.dumps(result), file=sys.stderr)  # in case the served part fails
    connection.close()
    result["served"] = served(user, queries)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
