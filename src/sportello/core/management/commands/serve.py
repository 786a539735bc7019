"""``sportello serve``: migrate, then run every long-lived process in one terminal.

Starts the web server (gunicorn, a production WSGI server) on SPORTELLO_BIND
(default 127.0.0.1:8000) and the Huey consumer that runs background work. Ctrl-C or
SIGTERM stops them all; if one of them dies the others are stopped too and the
command exits 1, so a supervisor (systemd) notices and restarts the lot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sportello.core.siteurl import site_url_for_bind
from sportello.mail.models import Mailbox


class Command(BaseCommand):
    help = "Migrate, then run the web server and the background worker until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=settings.SPORTELLO_BIND,
            help="host:port for the web server (default %(default)s).",
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=2,
            help="gunicorn worker processes (default %(default)s).",
        )
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrations.")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the Huey consumer (run it elsewhere).",
        )

    def handle(self, *args, **options):
        if ":" not in options["bind"]:
            raise CommandError(
                f"--bind {options['bind']!r} is not host:port, e.g. 127.0.0.1:8000.", returncode=2
            )
        if not settings.SPORTELLO_SITE_URL_IS_SET:
            # Links in e-mails follow where we listen: the web server, the worker and the
            # mail receiver are started below and read it from their environment.
            settings.SPORTELLO_SITE_URL = site_url_for_bind(options["bind"])
            os.environ["SPORTELLO_SITE_URL"] = settings.SPORTELLO_SITE_URL
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        processes = self.start(options)
        self.stopping = False

        def stop(signum, frame):
            self.stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"Sportello on http://{options['bind']}/, links in e-mails to "
            f"{settings.SPORTELLO_SITE_URL}/ (Ctrl-C stops everything)"
        )
        failed = None
        while not self.stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    failed = name
                    self.stopping = True
                    break
            time.sleep(0.2)
        self.shutdown(processes)
        if failed:
            raise CommandError(
                f"{failed} exited with status {processes[failed].returncode}; stopped the others.",
                returncode=1,
            )
        return "Stopped."

    def start(self, options) -> dict[str, subprocess.Popen]:
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "sportello.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["web_workers"]),
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
        }
        if options["no_worker"]:
            pass
        elif settings.HUEY_IMMEDIATE:
            # Huey's consumer refuses immediate mode, and there is nothing for it to do:
            # tasks run inside the web process. Periodic tasks (sweeps, SLA timers) do not.
            self.stdout.write(
                "SPORTELLO_HUEY_IMMEDIATE is on: background tasks run inside the web "
                "process and periodic tasks do not run; no worker started. "
                "Unset it to start the worker."
            )
        else:
            commands["worker"] = [python, "-m", "sportello", "run_huey", "--quiet"]
        commands.update(self.extra_processes(options))
        return {name: subprocess.Popen(cmd) for name, cmd in commands.items()}

    def extra_processes(self, options) -> dict[str, list[str]]:
        """Processes other apps add (the mail receiver, when configured)."""
        processes: dict[str, list[str]] = {}
        if Mailbox.objects.filter(active=True).exists():
            processes["fetchmail"] = [sys.executable, "-m", "sportello", "fetchmail"]
        smtpd = [sys.executable, "-m", "sportello", "smtpd", "--bind"]
        if settings.SPORTELLO_SMTP_BIND:
            processes["smtpd"] = [*smtpd, settings.SPORTELLO_SMTP_BIND]
        if settings.SPORTELLO_LMTP_BIND:
            processes["lmtpd"] = [*smtpd, settings.SPORTELLO_LMTP_BIND, "--lmtp"]
        return processes

    def shutdown(self, processes: dict[str, subprocess.Popen]) -> None:
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
