"""``sportello demo``: load the first company's configuration and a demo desk.

Does nothing (and says so) when the database already holds organisations or
tickets, so ``make run`` can call it every time.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from sportello.core import demo


class Command(BaseCommand):
    help = (
        "Load demo data (5 organisations, 12 contacts, 4 agents, 60 tickets) "
        "if the database is empty."
    )

    def handle(self, *args, **options):
        if not demo.database_is_empty():
            return "The database already has data: demo not loaded."
        summary = demo.load_demo()
        self.stdout.write(
            f"Demo loaded: {summary.organisations} organisations, {summary.contacts} contacts, "
            f"{summary.agents} agents, {summary.tickets} tickets."
        )
        self.stdout.write(f"Admin login:  {demo.ADMIN_LOGIN[0]} / {demo.ADMIN_LOGIN[1]}")
        agents = ", ".join(a[0] for a in demo.AGENTS)
        self.stdout.write(f"Agent logins: {agents} / password {demo.AGENT_PASSWORD}")
        site = settings.SPORTELLO_SITE_URL.rstrip("/")
        return f"Agents sign in at {site}/desk/login/; the admin at {site}/admin/."
