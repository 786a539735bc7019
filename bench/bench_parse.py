"""The mail parser alone: ``parse_message`` over every message of the shared corpus.

    bench_parse.py [ROUNDS] [--against REV]

Parses the whole corpus (mbox files split into their messages) once per round and prints
one JSON line: messages per second by the median round's wall clock and CPU time, and by
the best round's CPU time (the figure that moves least when other processes share the
machine).

``--against REV`` measures the parser of git revision REV too (``mail/parse.py`` as one
module, or the ``mail/parse/`` package), imported from a copy in a temporary folder, and
alternates the two in every round (before, after; then after, before), so both see the
same machine. The JSON line then has both rates and their ratio (after / before, from
each figure; above 1 means the current code is faster).
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("SPORTELLO_SHARED_DIR", ROOT.parent / "shared")) / "mail-corpus"
MODULE = "src/sportello/mail/parse"


def corpus(parser) -> list[bytes]:
    messages = []
    for entry in json.loads((CORPUS / "manifest.json").read_text()):
        raw = (CORPUS / entry["file"]).read_bytes()
        messages.extend(parser.iter_mbox(raw) if parser.is_mbox(raw) else [raw])
    return messages


def parser_at(rev: str):
    """The parser of revision ``rev``, importable beside the current one as
    ``parse_at_<rev>``: a copy of its module or package in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="sportello-bench-parse-"))
    name = "parse_at_" + "".join(c if c.isalnum() else "_" for c in rev)
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "--", MODULE, f"{MODULE}.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not listing:
        raise SystemExit(f"{rev} has no {MODULE}.py nor {MODULE}/")
    for path in listing:
        relative = path[len(MODULE) :].lstrip("/") or ".py"
        target = folder / name / relative if relative != ".py" else folder / f"{name}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        source = subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        target.write_bytes(source)
    sys.path.insert(0, str(folder))
    return importlib.import_module(name)


def one_round(parser, messages: list[bytes]) -> tuple[float, float]:
    """Seconds of wall clock and of CPU to parse every message once."""
    wall, cpu = time.perf_counter(), time.process_time()
    for raw in messages:
        parser.parse_message(raw)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    args = sys.argv[1:]
    against = None
    if "--against" in args:
        at = args.index("--against")
        against = args[at + 1]
        del args[at : at + 2]
    rounds = int(args[0]) if args else 5
    sys.path.insert(0, str(ROOT / "src"))
    from sportello.mail import parse as current

    messages = corpus(current)
    parsers = {"after": current}
    if against:
        parsers["before"] = parser_at(against)
    for parser in parsers.values():  # warm up: imports, regex compilation, caches
        one_round(parser, messages[:50])
    seconds: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in parsers}
    for i in range(rounds):
        order = list(parsers) if i % 2 else list(reversed(parsers))
        for name in order:
            wall, cpu = one_round(parsers[name], messages)
            seconds[name]["wall"].append(wall)
            seconds[name]["cpu"].append(cpu)
    result: dict = {"bench": "mail_parse", "messages": len(messages), "rounds": rounds}
    figures = {
        "wall_median": lambda s: statistics.median(s["wall"]),
        "cpu_median": lambda s: statistics.median(s["cpu"]),
        "cpu_best": lambda s: min(s["cpu"]),
    }
    for name, clocks in seconds.items():
        result[name] = {
            f"{figure}_messages_per_second": round(len(messages) / of(clocks), 1)
            for figure, of in figures.items()
        }
    if against:
        result["against"] = against
        result["ratio_after_over_before"] = {
            figure: round(of(seconds["before"]) / of(seconds["after"]), 3)
            for figure, of in figures.items()
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
