from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from django.core.management import call_command

from sportello.core.testenv import Output, wait_for
from sportello.customers.models import Contact, Organisation
from sportello.staff.models import Agent, Zone
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Channel, Intervention, Message, Status, Ticket

SPORTELLO = [sys.executable, "-m", "sportello"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_demo_loads_the_first_company_and_a_realistic_desk(capsys, settings):
    settings.SPORTELLO_SITE_URL = "http://127.0.0.1:8123"
    call_command("demo")
    out = capsys.readouterr().out
    assert "admin / sportello-admin" in out
    assert "http://127.0.0.1:8123/desk/login/" in out  # agents work in the desk
    assert "http://127.0.0.1:8123/admin/" in out
    assert Organisation.objects.count() == 5
    assert Contact.objects.count() == 12
    assert Agent.objects.count() == 4 and Zone.objects.count() == 2
    assert Ticket.objects.count() == 60
    assert set(Ticket.objects.values_list("channel", flat=True)) >= {
        c for c in Channel.values if c != Channel.CONTACT_FORM
    }
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    assert Message.objects.count() > 60 and Intervention.objects.exists()
    # An Italian desk: no English subject or text in the demo's conversations.
    english = {"the", "on", "every", "since", "cannot", "says", "printer", "software"}
    for subject, text in Ticket.objects.values_list("subject", "messages__text"):
        words = set(f"{subject} {text or ''}".lower().replace(".", " ").split())
        assert not words & english, (subject, text)
    # Every demo organisation passes its own validation (VAT check digits included).
    for org in Organisation.objects.all():
        org.full_clean()


@pytest.mark.django_db
def test_demo_leaves_a_database_with_data_alone(capsys):
    call_command("demo")
    call_command("demo")
    assert "already has data" in capsys.readouterr().out
    assert Ticket.objects.count() == 60


@pytest.mark.django_db
def test_bench_data_inserts_tickets_messages_and_numbers(capsys):
    call_command("bench_data", tickets=300, organisations=20, no_progress=True)
    assert Ticket.objects.count() == 300
    assert 600 <= Message.objects.count() <= 1800
    assert Organisation.objects.count() == 20
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 300
    # The sequence continues after the bulk insert: a new ticket gets a fresh number.
    from sportello.tickets.services import ticket_open

    fresh = ticket_open(subject="after bench", channel="email", message=MessageInput(text="x"))
    assert fresh.number not in numbers


@pytest.mark.django_db
def test_bench_data_refuses_a_database_with_tickets():
    from django.core.management.base import CommandError

    call_command("bench_data", tickets=5, organisations=2, no_progress=True)
    with pytest.raises(CommandError) as exc:
        call_command("bench_data", tickets=5, organisations=2, no_progress=True)
    assert "--force" in str(exc.value)


def test_the_console_script_reaches_every_command_and_the_alias():
    result = subprocess.run([*SPORTELLO, "help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for name in ("serve", "demo", "bench_data", "run_huey", "migrate"):
        assert name in result.stdout
    alias = subprocess.run(
        [*SPORTELLO, "bench-data", "--help"], capture_output=True, text=True, timeout=60
    )
    assert alias.returncode == 0 and "--tickets" in alias.stdout
    helped = subprocess.run(
        [*SPORTELLO, "help", "bench-data"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr
    assert "--tickets" in helped.stdout and "Unknown command" not in helped.stderr


def test_check_deploy_reports_nothing_with_the_documented_production_settings(tmp_path):
    env = {
        **os.environ,
        "SPORTELLO_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "a-long-random-production-key-" + "x7Qz9" * 10,
        "ALLOWED_HOSTS": "assistenza.example.it",
        "SPORTELLO_HTTPS": "1",
        "SPORTELLO_SITE_URL": "https://assistenza.example.it",
    }
    result = subprocess.run(
        [*SPORTELLO, "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


ENQUEUE_PROBE = (
    "import django, sys; django.setup();"
    "from sportello.core.tasks import queue_probe; queue_probe(sys.argv[1])"
)


def start_serve(tmp_path, *args, immediate: bool):
    port = free_port()
    env = {
        **os.environ,
        "SPORTELLO_DATA_DIR": str(tmp_path),
        "SPORTELLO_HUEY_IMMEDIATE": "1" if immediate else "0",
        "DJANGO_SETTINGS_MODULE": "sportello.settings",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "SPORTELLO_SMTP_BIND", "SPORTELLO_LMTP_BIND"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [*SPORTELLO, "serve", "--bind", f"127.0.0.1:{port}", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(proc.stdout)

    def health():
        if proc.poll() is not None:
            return {"exited": proc.returncode}
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            return None

    body = wait_for(health, what="serve to answer /health")
    return proc, port, env, body, output


def stop_serve(proc, output) -> str:
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return output.text(wait=True)


def test_serve_answers_runs_tasks_then_stops_everything_on_ctrl_c(tmp_path):
    proc, port, env, body, output = start_serve(tmp_path, immediate=False)
    try:
        assert body == {**(body or {}), "status": "ok"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=5) as r:
            assert r.status == 200
        # A task enqueued by another process runs in the worker serve started.
        marker = tmp_path / "ran-by"
        subprocess.run(
            [sys.executable, "-c", ENQUEUE_PROBE, str(marker)], env=env, check=True, timeout=60
        )
        wait_for(marker.exists, what="the worker started by serve to run the task")
    finally:
        out = stop_serve(proc, output)
    assert proc.returncode == 0, out
    assert "Stopped." in out
    # Unset SPORTELLO_SITE_URL follows --bind: the links in e-mails name this server.
    assert f"links in e-mails to http://127.0.0.1:{port}/" in out
    # No gunicorn or huey child is left behind.
    leftovers = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""


def test_serve_in_immediate_mode_says_it_starts_no_worker(tmp_path):
    proc, port, env, body, output = start_serve(tmp_path, "--web-workers", "1", immediate=True)
    try:
        assert body == {**(body or {}), "status": "ok"}
        # Said when serve decides what to start: no worker is started after it.
        output.wait_line("no worker started")
    finally:
        out = stop_serve(proc, output)
    assert proc.returncode == 0, out
    assert "no worker started" in out
    assert "run_huey" not in out and "ConfigurationError" not in out


@pytest.mark.django_db
def test_support_settings_are_cached_but_a_save_shows_at_once():
    from sportello.core.models import SupportSettings

    first = SupportSettings.load()
    first.support_windows["0"].append(["20:00", "21:00"])  # changed in place, not saved
    assert ["20:00", "21:00"] not in SupportSettings.load().support_windows["0"]
    first.company_name = "INIT Servizi S.r.l."
    first.save()
    assert SupportSettings.load().company_name == "INIT Servizi S.r.l."
    assert ["20:00", "21:00"] in SupportSettings.load().support_windows["0"]
