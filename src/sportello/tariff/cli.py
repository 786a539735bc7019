"""``sportello tariff quote FILE``: price the scenarios of SPEC 5.1 and print them as JSON.

Usage: ``quote FILE [--lang it|en]``; FILE is a path or ``-`` for standard input. One
scenario object in gives one quote object out; a list gives a list, in the same order.
Output: JSON on stdout, indent 2, amounts as decimal strings.

How it fails: exit status 2 and one line on stderr, naming the field and the scenario, for
any bad input (unknown channel, naive start, missing minutes, ...), an unreadable file,
invalid JSON or a usage error; nothing is printed on stdout then. Exit 0 otherwise.

Pure Python: the Django management command only forwards its arguments to :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, NoReturn

from sportello.tariff.calendar import default_calendar
from sportello.tariff.engine import quote
from sportello.tariff.errors import TariffError
from sportello.tariff.scenarios import load_scenarios, quote_to_json, scenario_years
from sportello.tariff.text import LANGUAGES
from sportello.tariff.values import DEFAULT_TARIFF

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "main"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # STYLE 2.3: 2 for bad input or usage, so cron can tell it from failures
PROG = "sportello tariff"


class _UsageError(Exception):
    pass


class _Exit(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that writes to the given streams and never calls ``sys.exit``."""

    def __init__(self, *args, out: IO[str], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._out = out

    def _print_message(self, message: str, file: IO[str] | None = None) -> None:
        if message:
            self._out.write(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise _UsageError((message or "").strip())
        raise _Exit(status)

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser(stdout: IO[str]) -> _Parser:
    parser = _Parser(prog=PROG, description="Tariff tools (SPEC 5).", out=stdout)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    quote_cmd = commands.add_parser(
        "quote",
        help="price the scenarios of a JSON file (SPEC 5.1)",
        description="Price one scenario object or a list of them; print JSON quotes.",
        out=stdout,
    )
    quote_cmd.add_argument("file", metavar="FILE", help='scenario JSON file, or "-" for stdin')
    quote_cmd.add_argument(
        "--lang", choices=LANGUAGES, default="it", help="language of the descriptions"
    )
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read(path: str, stdin: IO[str] | None) -> bytes | str:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        buffer = getattr(stream, "buffer", None)
        return buffer.read() if buffer is not None else stream.read()
    return Path(path).read_bytes()


def main(
    argv: list[str],
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    *,
    stdin: IO[str] | None = None,
) -> int:
    """Run ``tariff`` with ``argv`` (without the program name); return the exit status."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        args = _parser(out).parse_args(argv)
    except _Exit as done:
        return done.status
    except _UsageError as exc:
        err.write(f"{PROG}: error: {_one_line(str(exc))} (try: {PROG} quote --help)\n")
        return EXIT_BAD_INPUT

    prog = f"{PROG} quote"
    shown = "stdin" if args.file == "-" else args.file
    try:
        raw = _read(args.file, stdin)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        err.write(f"{prog}: cannot read {shown}: {_one_line(reason)}\n")
        return EXIT_BAD_INPUT
    try:
        facts, is_list = load_scenarios(raw)
        # Built once for all scenarios, covering exactly the years they need.
        calendar = default_calendar(scenario_years(facts, tz_name="Europe/Rome"))
        quotes = [quote_to_json(quote(f, DEFAULT_TARIFF, calendar), lang=args.lang) for f in facts]
    except TariffError as exc:
        err.write(f"{prog}: {shown}: {_one_line(str(exc))}\n")
        return EXIT_BAD_INPUT
    result = quotes if is_list else quotes[0]
    out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover - manual use: python -m sportello.tariff.cli
    raise SystemExit(main(sys.argv[1:]))
