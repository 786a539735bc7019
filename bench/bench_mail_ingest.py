"""Mail intake rate: the corpus replayed to N messages (default 5,000).

Each copy gets its own Message-ID, so none is a duplicate. Measures, on the database of
DATABASE_URL (or a fresh SQLite file):

- the stdlib parser alone over the same messages (the ceiling),
- `sportello mail ingest` over a folder of .eml files (one process, as an import),
- the SMTP receiver, when `sportello.mail.smtpd` is available (one SMTP session per
  message to `sportello smtpd`, filing included).

Prints one JSON line per measurement.
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
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    messages = replay(corpus(), count)
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

    data = tempfile.mkdtemp(prefix="sportello-bench-mail-")
    env = {
        **os.environ,
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
        [*sportello, "mail", "ingest", "--no-progress", str(folder)],
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
                "messages": len(lines),
                "seconds": round(ingest_s, 1),
                "messages_per_second": round(len(lines) / ingest_s, 1),
                "states": states,
                "exit": result.returncode,
            }
        )
    )


if __name__ == "__main__":
    main()
