"""``sportello tariff quote FILE``: price SPEC 5.1 scenarios (JSON) with the policy tariff.

FILE is a path or ``-`` for standard input; one scenario object in gives one result
object out, a list gives a list. Bad input exits with status 2 and one line on standard
error that names the field. ``--lang en`` explains lines in English (default Italian).
"""

import sys

from django.core.management.base import BaseCommand

from sportello.tariff import cli


class Command(BaseCommand):
    help = "Tariff tools. `tariff quote FILE [--lang it|en]` prices SPEC 5.1 scenarios."

    def run_from_argv(self, argv):
        # The pure CLI parses its own arguments and sets the exit status (2 on bad input).
        args = argv[2:]
        if not args or args[0] in ("-h", "--help"):
            self.print_help(argv[0], argv[1])
            self.stdout.write("\nUsage: sportello tariff quote FILE [--lang it|en]")
            sys.exit(0 if args else 2)
        sys.exit(cli.main(args, sys.stdout, sys.stderr, stdin=sys.stdin))

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv takes over
        pass
