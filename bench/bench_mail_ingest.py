"""Mail intake rate: the corpus replayed to N messages (default 5,000).

Each copy gets its own Message-ID, so none is a duplicate. Measures, on fresh databases
on the PostgreSQL server of DATABASE_URL (or fresh SQLite files when it is unset):

- the stdlib parser alone over the same messages (the ceiling),
- `sportello mail ingest` over a folder of .eml files, with one process and with
  `--jobs 2` (conversations kept whole and in order, see mail/importer.py),
- the SMTP receiver: 4 parallel SMTP sessions to `sportello smtpd`, with
  `sportello run_huey` filing; messages accepted per second and filed per second.

- what durable storing costs (issue 17), per message, on the disk of the data directory:
  the raw file written as before (open, write, close) against ``write_durable``
  (temporary file, fsync, rename, fsync of the folder), and the raw row's SQLite commit
  with WAL's ``synchronous=NORMAL`` against ``FULL``; interleaved, both orders.

Prints one JSON line per measurement. ``bench_mail_ingest.py N --store-only`` runs the last
one alone.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("SPORTELLO_SHARED_DIR", ROOT.parent / "shared")) / "mail-corpus"
MESSAGE_ID = re.compile(rb"^message-id:.*(\r?\n[ \t].*)*\r?\n", re.IGNORECASE | re.MULTILINE)


def corpus() -> list[bytes]:
    sys.path.insert(0, str(ROOT / "src"))
    from sportello.mail.parse import is_mbox, iter_mbox

    messages = []
    for entry in json.loads((CORPUS / "manifest.json").read_text()):
        raw = (CORPUS / entry["file"]).read_bytes()
        messages.extend(iter_mbox(raw) if is_mbox(raw) else [raw])
    return messages


def replay(messages: list[bytes], count: int) -> list[bytes]:
    out = []
    for i in range(count):
        raw = messages[i % len(messages)]
        head, sep, body = (
            raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
        )
        head = MESSAGE_ID.sub(b"", head + b"\n")
        out.append(
            f"Message-ID: <bench-{i}@sportello.bench>\n".encode()
            + head.rstrip(b"\n")
            + (sep or b"\n\n")
            + body
        )
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    count = int(args[0]) if args else 5000
    messages = replay(corpus(), count)
    if "--store-only" in sys.argv:  # the durable store's cost alone, in seconds
        store_cost(messages[:500])
        return
    vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"

    start = time.perf_counter()
    for raw in messages:
        email.message_from_bytes(raw, policy=email.policy.default).get_body()
    parse_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "bench": "mail_parse_stdlib",
                "messages": count,
                "messages_per_second": round(count / parse_s, 1),
            }
        )
    )

    store_cost(messages[:500])
    for jobs in (1, 2):
        env = files_ingest(messages, vendor, jobs)
    smtp_receiver(messages, env, vendor)


def store_cost(messages: list[bytes], rounds: int = 2) -> None:
    """Milliseconds per message of storing the raw bytes and committing their row, the
    plain way and the durable way, in a fresh folder of the temporary directory (give
    TMPDIR on the disk the data lives on: a tmpfs makes fsync free)."""
    import sqlite3

    sys.path.insert(0, str(ROOT / "src"))
    from sportello.core.files import write_durable

    def plain(path: Path, raw: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(raw)

    def durable(path: Path, raw: bytes) -> None:
        write_durable(path, raw)

    def commits(db: Path, synchronous: str) -> float:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("CREATE TABLE IF NOT EXISTS raw (sha TEXT UNIQUE, size INTEGER)")
        start = time.perf_counter()
        for i, raw in enumerate(messages):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO raw VALUES (?, ?)", (f"{synchronous}{i}-{time.time()}", len(raw))
            )
            conn.execute("COMMIT")
        conn.close()
        return time.perf_counter() - start

    results: dict[str, list[float]] = {}
    orders = [("plain", "durable"), ("durable", "plain")] * rounds
    for order in orders:
        for name in order:
            folder = Path(tempfile.mkdtemp(prefix=f"sportello-bench-store-{name}-"))
            write = plain if name == "plain" else durable
            start = time.perf_counter()
            for i, raw in enumerate(messages):
                write(folder / "raw" / f"{i % 256:02x}" / f"{i}.eml", raw)
            seconds = time.perf_counter() - start
            results.setdefault(f"file_{name}", []).append(seconds)
            db = folder / "rows.sqlite3"
            sync = "NORMAL" if name == "plain" else "FULL"
            results.setdefault(f"commit_{sync.lower()}", []).append(commits(db, sync))
            subprocess.run(["rm", "-rf", str(folder)], check=True)
    per_message = {
        key: [round(1000 * s / len(messages), 2) for s in values] for key, values in results.items()
    }
    print(
        json.dumps(
            {
                "bench": "mail_raw_store_cost",
                "messages": len(messages),
                "ms_per_message": per_message,
                "fsync_cost_ms_per_message": round(
                    min(per_message["file_durable"])
                    - min(per_message["file_plain"])
                    + min(per_message["commit_full"])
                    - min(per_message["commit_normal"]),
                    2,
                ),
            }
        )
    )


def files_ingest(messages: list[bytes], vendor: str, jobs: int) -> dict:
    """`sportello mail ingest --jobs N` over a folder of .eml files, on a fresh database;
    returns the environment used (the SMTP run takes its settings)."""
    data = tempfile.mkdtemp(prefix="sportello-bench-mail-")
    env = {**os.environ}
    if vendor == "postgresql":
        env["DATABASE_URL"] = fresh_postgres_database(env["DATABASE_URL"], "sportello_bench_mail")
    env = {
        **env,
        "SPORTELLO_DATA_DIR": data,
        "SPORTELLO_HUEY_IMMEDIATE": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    sportello = [sys.executable, "-m", "sportello"]
    subprocess.run([*sportello, "migrate", "-v0"], env=env, check=True)
    folder = Path(data) / "eml"
    folder.mkdir()
    for i, raw in enumerate(messages):
        (folder / f"{i:06d}.eml").write_bytes(raw)
    start = time.perf_counter()
    result = subprocess.run(
        [*sportello, "mail", "ingest", "--no-progress", "--jobs", str(jobs), str(folder)],
        env=env,
        capture_output=True,
        text=True,
    )
    ingest_s = time.perf_counter() - start
    lines = result.stdout.splitlines()
    states: dict[str, int] = {}
    for line in lines:
        state = line.split()[-1]
        states[state] = states.get(state, 0) + 1
    print(
        json.dumps(
            {
                "bench": "mail_ingest_files",
                "database": vendor,
                "jobs": jobs,
                "messages": len(lines),
                "seconds": round(ingest_s, 1),
                "messages_per_second": round(len(lines) / ingest_s, 1),
                "states": states,
                "exit": result.returncode,
            }
        )
    )
    return env


def smtp_receiver(messages: list[bytes], env: dict, vendor: str, senders: int = 4) -> None:
    """Send every message to `sportello smtpd` over ``senders`` parallel SMTP sessions (as
    an MTA delivers), with `sportello run_huey` filing them. Two figures: messages accepted
    per second (stored and queued, 250 answered), and filed per second (all tickets done)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**env, "SPORTELLO_MAIL_DOMAINS": "init-s.it,sportello.bench"}
    sportello = [sys.executable, "-m", "sportello"]
    # A fresh database, so the same messages are new again, not duplicates of the import.
    env["SPORTELLO_DATA_DIR"] = tempfile.mkdtemp(prefix="sportello-bench-smtp-")
    if vendor == "postgresql":
        env["DATABASE_URL"] = fresh_postgres_database(env["DATABASE_URL"], "sportello_bench_smtp")
    subprocess.run([*sportello, "migrate", "-v0"], env=env, check=True)
    receiver = subprocess.Popen(
        [*sportello, "smtpd", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    receiver.stdout.readline()  # "Receiving SMTP on ...": it is listening
    worker = subprocess.Popen([*sportello, "run_huey", "--quiet"], env=env)
    try:
        deliver_and_wait(messages, port, env, vendor, senders)
    finally:
        receiver.terminate()
        worker.terminate()
        receiver.wait(60)
        worker.wait(60)


def deliver_and_wait(messages: list[bytes], port: int, env: dict, vendor: str, senders: int):
    import smtplib
    import threading

    queue = list(enumerate(messages))
    lock = threading.Lock()
    refused: list[str] = []

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    _, raw = queue.pop()
                # An MTA speaks CRLF (RFC 5321 2.3.8); smtplib sends bytes as they are.
                raw = re.sub(rb"\r?\n", b"\r\n", raw)
                try:
                    client.sendmail("sender@example.org", ["assistenza@init-s.it"], raw)
                except smtplib.SMTPException as exc:
                    refused.append(str(exc)[:200])

    start = time.perf_counter()
    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted_s = time.perf_counter() - start
    while pending_count(env, vendor):
        time.sleep(0.2)
    filed_s = time.perf_counter() - start
    count = len(messages) - len(refused)
    print(
        json.dumps(
            {
                "bench": "mail_smtp_receiver",
                "database": vendor,
                "messages": count,
                "senders": senders,
                "accepted_per_second": round(count / accepted_s, 1),
                "filed_seconds": round(filed_s, 1),
                "filed_per_second": round(count / filed_s, 1),
                "refused": refused[:3],
            }
        )
    )


def pending_count(env: dict, vendor: str) -> int:
    """Messages stored but not filed yet, read straight from the database (a `sportello
    shell` per poll would steal a core from what is being measured)."""
    query = "SELECT COUNT(*) FROM mail_rawmessage WHERE state = 'pending'"
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as db:
            return db.execute(query).fetchone()[0]
    import sqlite3

    with sqlite3.connect(Path(env["SPORTELLO_DATA_DIR"]) / "sportello.sqlite3") as db:
        return db.execute(query).fetchone()[0]


def fresh_postgres_database(url: str, name: str) -> str:
    """Create (again) database ``name`` on the server of ``url``; return its URL."""
    import psycopg

    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


if __name__ == "__main__":
    main()
