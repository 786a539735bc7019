"""The ``sportello`` console script: every Django management command, one entry point.

Commands with a hyphen in their public name (``bench-data``) map to Django command
modules with an underscore, which is what Python can import.
"""

from __future__ import annotations

import os
import sys

ALIASES = {"bench-data": "bench_data"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sportello.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "sportello"
    # The command's name, and the one `help` is asked about (sportello help bench-data).
    for position in (1, 2) if len(argv) > 2 and argv[1] == "help" else (1,):
        if len(argv) > position and argv[position] in ALIASES:
            argv[position] = ALIASES[argv[position]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
