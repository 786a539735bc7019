"""The stored clocks follow the ticket services; the SLA e-mails go once, to the right
people, through a real SMTP server on loopback."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from sportello.core.models import CalendarDay
from sportello.sla import services
from sportello.sla.models import SlaClock, SlaNotice, SlaPolicy
from sportello.staff.models import Agent, Role, Team
from sportello.staff.services import agent_save
from sportello.tickets import services as tickets
from sportello.tickets.inputs import MessageInput
from sportello.tickets.services import Actor

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ROME)


def open_ticket(people, when, **kw):
    return tickets.ticket_open(
        subject="Stampante ferma",
        channel="email",
        message=MessageInput(text="Non stampa", sender="alice@alice.example.it"),
        contact=people["alice"],
        created_at=when,
        **kw,
    )


@pytest.fixture
def policies(people):
    general = SlaPolicy.objects.create(
        name="Normale", priority="normal", response_minutes=60, resolution_minutes=510
    )
    own = SlaPolicy.objects.create(
        name="Alice urgente",
        priority="urgent",
        organisation=people["org_a"],
        response_minutes=30,
        resolution_minutes=240,
    )
    return {"general": general, "own": own}


def stored(ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket)


def test_policy_choose_prefers_the_organisation_policy():
    general = SimpleNamespace(active=True, priority="high", organisation_id=None)
    own = SimpleNamespace(active=True, priority="high", organisation_id=7)
    off = SimpleNamespace(active=False, priority="high", organisation_id=8)
    table = [
        ((general, own), "high", 7, own),
        ((own, general), "high", 7, own),
        ((general, own), "high", 9, general),
        ((general, own), "high", None, general),
        ((general, own), "low", 7, None),
        ((general, off), "high", 8, general),
        ((own,), "high", 9, None),
    ]
    for policies, priority, org, expected in table:
        assert services.policy_choose(policies, priority=priority, organisation_id=org) is expected


def test_escalation_goes_to_the_teams_supervisors_else_to_all():
    sara = SimpleNamespace(team_id=1, role=Role.SUPERVISOR)
    piero = SimpleNamespace(team_id=2, role=Role.SUPERVISOR)
    ada = SimpleNamespace(team_id=1, role=Role.ADMIN)
    every = [sara, piero, ada]
    table = [
        (1, every, [sara, ada]),
        (2, every, [piero]),
        (3, every, [sara, piero]),  # a team without a supervisor
        (None, every, [sara, piero]),
        (None, [ada], [ada]),  # nobody but an admin
        (None, [], []),
    ]
    for team, supervisors, expected in table:
        ticket = SimpleNamespace(team_id=team)
        assert services.escalation_recipients(ticket, supervisors) == expected


def test_no_policy_no_clock(people):
    ticket = open_ticket(people, at(2026, 3, 9, 9))
    assert not SlaClock.objects.filter(ticket=ticket).exists()


def test_opening_stores_the_first_response_due_time(people, policies):
    ticket = open_ticket(people, at(2026, 3, 6, 18, 30))  # Friday evening
    clock = stored(ticket)
    assert clock.policy == policies["general"]
    assert clock.target == "response"
    assert clock.due_at == at(2026, 3, 9, 9, 30)  # 30 on Friday, 30 on Monday
    assert clock.warn_at == at(2026, 3, 9, 9, 18)


def test_the_organisation_policy_wins_and_a_priority_change_follows(people, policies):
    ticket = open_ticket(people, at(2026, 3, 9, 9), priority="urgent")
    assert stored(ticket).policy == policies["own"]
    assert stored(ticket).due_at == at(2026, 3, 9, 9, 30)
    tickets.ticket_update(ticket=ticket, priority="normal")
    assert stored(ticket).policy == policies["general"]
    assert stored(ticket).due_at == at(2026, 3, 9, 10)
    tickets.ticket_update(ticket=ticket, priority="low")  # no policy for low
    assert not SlaClock.objects.filter(ticket=ticket).exists()


def test_waiting_pauses_a_reply_moves_on_resolving_meets(people, policies):
    ticket = open_ticket(people, at(2026, 3, 9, 9))
    tickets.ticket_change_status(ticket=ticket, status="waiting", when=at(2026, 3, 9, 9, 20))
    clock = stored(ticket)
    assert (clock.paused, clock.due_at, clock.target) == (True, None, "response")
    tickets.ticket_change_status(ticket=ticket, status="open", when=at(2026, 3, 9, 14, 30))
    assert stored(ticket).due_at == at(2026, 3, 9, 15, 10)  # 20 used, 40 left
    tickets.message_add(
        ticket=ticket,
        actor=Actor(user=people["bob"].user),
        message=MessageInput(
            kind="email",
            direction="out",
            text="Buongiorno, la stampante...",
            recipients=["alice@alice.example.it"],
            created_at=at(2026, 3, 9, 15),
        ),
    )
    clock = stored(ticket)
    assert clock.target == "resolution"
    # 510 minutes, 20 + 30 of them used by 15:00 (waiting does not count): 460 left,
    # 240 to 19:00, then Tuesday 9:00 + 220 = 12:40.
    assert clock.due_at == at(2026, 3, 10, 12, 40)
    tickets.ticket_change_status(ticket=ticket, status="resolved", when=at(2026, 3, 10, 10))
    clock = stored(ticket)
    assert (clock.target, clock.due_at, clock.final_state) == ("", None, "met")
    # A reopen continues the resolution clock.
    tickets.ticket_change_status(ticket=ticket, status="open", when=at(2026, 3, 11, 9))
    clock = stored(ticket)
    assert clock.target == "resolution"
    # Tuesday 9:00-10:00 was used too: 460 - 240 - 60 = 160 left from Wednesday 9:00.
    assert clock.due_at == at(2026, 3, 11, 11, 40)


def test_an_automatic_message_is_no_response(people, policies):
    ticket = open_ticket(people, at(2026, 3, 9, 9))
    tickets.message_add(
        ticket=ticket,
        message=MessageInput(
            kind="email",
            direction="out",
            text="Abbiamo ricevuto la sua richiesta",
            automatic=True,
            created_at=at(2026, 3, 9, 9, 1),
        ),
    )
    assert stored(ticket).target == "response"


def test_a_closure_added_moves_the_due_times(people, policies, django_capture_on_commit_callbacks):
    ticket = open_ticket(people, at(2026, 12, 4, 18, 30))  # Friday
    assert stored(ticket).due_at == at(2026, 12, 7, 9, 30)
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=datetime(2026, 12, 7).date(), kind="closure")
    # Monday closed, Tuesday 8 the Immacolata: Wednesday.
    assert stored(ticket).due_at == at(2026, 12, 9, 9, 30)


def _supervisors():
    User = get_user_model()
    sistemi = Team.objects.get(name="Sistemi")
    reti = Team.objects.create(name="Reti")
    sara = agent_save(
        agent=Agent(
            user=User.objects.create_user("sara", "sara@init-s.it", "x", first_name="Sara"),
            role=Role.SUPERVISOR,
            team=sistemi,
        )
    )
    piero = agent_save(
        agent=Agent(
            user=User.objects.create_user("piero", "piero@init-s.it", "x", first_name="Piero"),
            role=Role.SUPERVISOR,
            team=reti,
        )
    )
    return sara, piero


def test_warning_to_the_assignee_and_escalation_to_the_team_supervisor_once(people, policies, smtp):
    sara, _piero = _supervisors()
    bob = people["bob"]
    bob.user.email = "bob@init-s.it"
    bob.user.save()
    ticket = open_ticket(people, at(2026, 3, 9, 9))
    tickets.ticket_assign(ticket=ticket, assignee=bob)  # team Sistemi, Sara's

    assert services.notices_send(now=at(2026, 3, 9, 9, 40)) == []  # warns at 9:48
    sent = services.notices_send(now=at(2026, 3, 9, 9, 50))
    assert [(s.kind, s.target, s.recipients) for s in sent] == [
        ("warning", "response", ("bob@init-s.it",))
    ]
    mail = smtp.to("bob@init-s.it")
    assert len(mail) == 1
    assert ticket.number in mail[0]["Subject"]
    assert "/desk/ticket/" in mail[0].get_body().get_content()

    sent = services.notices_send(now=at(2026, 3, 9, 10, 5))
    assert [(s.kind, s.recipients) for s in sent] == [("breach", ("sara@init-s.it",))]
    assert len(smtp.to("sara@init-s.it")) == 1
    assert not smtp.to("piero@init-s.it")
    # Once per ticket and target: later runs send nothing more.
    assert services.notices_send(now=at(2026, 3, 9, 11)) == []
    assert services.notices_send(now=at(2026, 3, 10, 11)) == []
    assert SlaNotice.objects.filter(ticket=ticket).count() == 2
    assert len(smtp.to("bob@init-s.it")) == 1


def test_the_resolution_target_warns_on_its_own(people, policies, smtp):
    _supervisors()
    ticket = open_ticket(people, at(2026, 3, 9, 9))
    tickets.message_add(
        ticket=ticket,
        message=MessageInput(
            kind="email",
            direction="out",
            text="Ci guardiamo",
            recipients=["alice@alice.example.it"],
            created_at=at(2026, 3, 9, 9, 10),
        ),
    )
    # 80% of 510 = 408 minutes: 240 in the morning, 168 after 14:30 = 17:18.
    sent = services.notices_send(now=at(2026, 3, 9, 19, 30))
    assert [(s.kind, s.target) for s in sent] == [("breach", "resolution")]
    # Unassigned: nobody to warn, nothing recorded; the supervisors heard of the breach.
    assert list(SlaNotice.objects.values_list("kind", flat=True)) == ["breach"]


def test_nothing_is_sent_for_a_ticket_answered_or_waiting(people, policies, smtp):
    _supervisors()
    ticket = open_ticket(people, at(2026, 3, 9, 9))
    tickets.ticket_change_status(ticket=ticket, status="waiting", when=at(2026, 3, 9, 9, 10))
    assert services.notices_send(now=at(2026, 3, 20, 9)) == []
    assert smtp.mail == []


def test_the_check_command_sends_once(people, policies, smtp, capsys):
    _supervisors()
    open_ticket(people, at(2026, 3, 9, 9))
    call_command("sla", "check")
    first = capsys.readouterr().out
    assert "Sent 1 SLA e-mail(s)." in first
    assert "breach response" in first
    call_command("sla", "check")
    assert "Sent 0 SLA e-mail(s)." in capsys.readouterr().out


def test_the_refresh_command_stores_clocks_of_tickets_loaded_without_signals(people, policies):
    ticket = open_ticket(people, at(2026, 3, 9, 9))
    SlaClock.objects.all().delete()
    call_command("sla", "refresh")
    assert stored(ticket).due_at == at(2026, 3, 9, 10)
