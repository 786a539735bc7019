"""Reports, audit list and drafting progress in the browser's terms: what a billing user
sees and downloads (figures of the hand-made November, ``month.py``)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from sportello.billing import drafting
from sportello.billing import statements as st
from sportello.billing.models import BillingAudit, Statement
from sportello.staff.models import Role
from sportello.tickets import services
from sportello.tickets.events import Actor
from sportello.tickets.models import TicketEvent
from sportello.tickets.tests.factories import AgentFactory, UserFactory

from .month import november

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)
PERIOD = {"from": "2026-10", "to": "2026-11"}


@pytest.fixture(autouse=True)
def own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def month():
    return november()


@pytest.fixture
def billing_client(client):
    AgentFactory(user=UserFactory(username="dora", is_staff=True), role=Role.BILLING)
    client.force_login(UserFactory(username="dora"))
    return client


def test_the_reports_page_draws_every_chart_with_its_table(month, billing_client):
    page = billing_client.get(reverse("billing:reports"), PERIOD)
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    html = page.content.decode()
    assert html.count("<svg") == 8 and html.count("<table") == 8
    assert html.count("<caption>") == 8
    # The month chart: accessible name and description, one bar per month, values as text.
    assert 'aria-labelledby="by_month-chart-title by_month-chart-desc"' in html
    assert "ott 2026: 0,00 €; nov 2026: 302,50 €" in html.replace("Ott", "ott").replace(
        "Nov", "nov"
    )
    assert '<th scope="row">Totale</th>' in html
    assert "302,50 €" in html and "16,2%" in html
    assert "style=" not in html


def test_the_organisation_filter_and_bad_input(month, billing_client):
    html = billing_client.get(
        reverse("billing:reports"), {**PERIOD, "organisation": month["org_b"].pk}
    ).content.decode()
    assert "52,50 €" in html and "302,50 €" not in html
    html = billing_client.get(
        reverse("billing:reports"), {"from": "2026-13", "to": "2026-11", "organisation": "x"}
    ).content.decode()
    assert "non è un mese" in html and "organizzazione" in html


@pytest.mark.parametrize(
    ("excel", "separator", "total"), [(False, ",", "302.50"), (True, ";", "302,50")]
)
def test_each_report_downloads_as_csv(month, billing_client, excel, separator, total):
    url = reverse("billing:report-csv", args=["by_organisation"])
    response = billing_client.get(url, {**PERIOD, **({"excel": "1"} if excel else {})})
    assert response.status_code == 200
    assert "report-by-organisation-2026-10_2026-11.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0] == separator.join(["organisation", "tickets", "revenue"])
    assert lines[-1].split(separator) == ["Totale", "5", total]
    assert response.content.startswith(b"\xef\xbb\xbf") == excel
    assert billing_client.get(reverse("billing:report-csv", args=["nope"])).status_code == 404


def test_the_audit_list_shows_who_when_before_after_and_filters(month, billing_client):
    t3 = month["tickets"][2]  # its waiver was recorded by the system
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    detail = reverse("billing:statement", args=[draft.pk])
    billing_client.post(
        detail,
        {"action": "add_line", "description": "Sconto", "amount": "-5,00", "reason": "accordo"},
    )
    services.ticket_update(
        ticket=month["tickets"][0],
        billable=False,
        non_billable_reason="warranty",
        actor=Actor(label="carla"),
    )
    url = reverse("billing:audit")
    html = billing_client.get(url).content.decode()
    assert "riga manuale aggiunta" in html and "dora" in html and "accordo" in html
    assert t3.number in html and "Cliente storico" in html
    assert "bozza creata" in html

    html = billing_client.get(url, {"category": "waiver"}).content.decode()
    assert t3.number in html and "accordo" not in html and "1 modifica" in html
    html = billing_client.get(url, {"category": "billable", "who": "carla"}).content.decode()
    assert "warranty" in html and "1 modifica" in html
    # A ticket's own changes and those of the statement that bills it, no other ticket's.
    html = billing_client.get(url, {"ticket": t3.number}).content.decode()
    assert "Cliente storico" in html and "accordo" in html and "warranty" not in html
    html = billing_client.get(url, {"since": "ieri"}).content.decode()
    assert "non è una data" in html


def test_the_audit_list_is_paged(month, billing_client, monkeypatch):
    from sportello.billing import report_views

    monkeypatch.setattr(report_views, "AUDIT_PAGE", 2)
    url = reverse("billing:audit")
    count = (
        BillingAudit.objects.count()
        + TicketEvent.objects.filter(kind__in=["billing", "intervention_changed"]).count()
    )
    first = billing_client.get(url).content.decode()
    assert "pagina 1 di" in first and 'rel="next"' in first
    last = billing_client.get(url, {"page": 99}).content.decode()
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert count > 2


def test_writes_record_who_before_and_after(month):
    t1 = month["tickets"][0]
    services.ticket_update(ticket=t1, billable=False, non_billable_reason="warranty")
    services.ticket_update(ticket=t1, billable=True, actor=Actor(label="carla"))
    event = t1.events.filter(kind="billing").latest("created_at", "pk")
    assert event.actor_label == "carla"
    assert event.data == {"billable": [False, True], "non_billable_reason": ["warranty", ""]}

    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    line = st.statement_line_add(
        statement=draft, description="Sconto", amount="-5", reason="accordo"
    )
    st.statement_line_remove(line=line, actor=Actor(label="dora"))
    removed = BillingAudit.objects.get(action="line_removed")
    assert removed.actor_label == "dora"
    assert removed.before == {
        "description": "Sconto",
        "amount": "-5.00",
        "vat_percent": "22.00",
        "natura": "",
        "reason": "accordo",
    }


def test_drafting_runs_in_the_background_and_the_page_shows_its_progress(month, billing_client):
    url = reverse("billing:month")
    response = billing_client.post(url, {"month": "2026-11"}, follow=True)
    html = response.content.decode()
    # Tests run the task at once: by the reload it is done, 2 of 2 organisations.
    assert "2 di 2 organizzazioni" in html and "Mostra le bozze" in html
    assert 'hx-trigger="every 2s"' not in html
    status = billing_client.get(reverse("billing:drafting"), {"month": "2026-11"})
    assert status.status_code == 200
    assert "2 di 2 organizzazioni" in status.content.decode()
    assert Statement.objects.filter(state="draft").count() == 2


def test_a_queued_run_is_polled_and_survives_a_reload(month, billing_client):
    drafting.drafting_queued(NOV, Actor(label="dora"))
    for _ in range(2):  # a reload reads the same status
        html = billing_client.get(reverse("billing:month"), {"month": "2026-11"}).content.decode()
        assert 'hx-trigger="every 2s"' in html and "in attesa" in html
        assert re.search(r"<button type=\"submit\" disabled>", html)
    fragment = billing_client.get(reverse("billing:drafting"), {"month": "2026-11"})
    assert 'hx-get="/desk/billing/month/drafting/?month=2026-11"' in fragment.content.decode()
    assert "HX-Refresh" not in fragment
    assert billing_client.get(reverse("billing:drafting"), {"month": "x"}).status_code == 404
    # Once done, a polling page is told to reload (the drafts then show in its table).
    drafting.drafting_run(period=NOV)
    done = billing_client.get(
        reverse("billing:drafting"), {"month": "2026-11"}, headers={"HX-Request": "true"}
    )
    assert done["HX-Refresh"] == "true" and "hx-trigger" not in done.content.decode()


def test_the_task_lists_organisations_it_could_not_draft_and_drafts_the_others(month, monkeypatch):
    real = st._draft_many

    def flaky(org_ids, period, actor, **kw):
        if month["org_b"].pk in org_ids:
            raise RuntimeError("database went away")
        return real(org_ids, period, actor, **kw)

    monkeypatch.setattr(st, "_draft_many", flaky)
    from sportello.billing.tasks import statements_draft_month

    statements_draft_month("2026-11-01", None, None)
    status = drafting.drafting_status(NOV)
    assert (status.state, status.done, status.total, status.drafted) == ("done", 2, 2, 1)
    assert status.errors == [
        {"organisation": "Bruno Orvieto S.n.c.", "message": "database went away"}
    ]
    assert Statement.objects.get(state="draft").organisation == month["org_a"]


def test_the_reports_page_costs_a_fixed_number_of_queries(
    month, billing_client, django_assert_max_num_queries
):
    """Eight reports in a couple of queries each, however many tickets: grouping is done by
    the database; only waived fees are looked at one by one (without queries)."""
    billing_client.get(reverse("billing:reports"), PERIOD)  # sessions, tariff cache warm
    with django_assert_max_num_queries(20):
        assert billing_client.get(reverse("billing:reports"), PERIOD).status_code == 200


def test_a_credit_note_in_the_trail_names_what_it_corrects_and_why(month, billing_client):
    draft = st.statement_draft(organisation=month["org_a"], period=NOV).statement
    issued = st.statement_issue(statement=draft, issue_date=date(2026, 12, 1))
    st.credit_note_issue(
        statement=issued,
        lines=[{"description": "Storno T2", "amount": "10"}],
        reason="telefonata contestata",
        actor=Actor(label="dora"),
        issue_date=date(2026, 12, 2),
    )
    entry = BillingAudit.objects.filter(action="issued").latest("pk")
    assert entry.actor_label == "dora"
    assert entry.after["corrects"] == "2026/0001" and entry.after["kind"] == "credit_note"
    html = billing_client.get(reverse("billing:audit"), {"category": "statement"}).content
    assert "telefonata contestata" in html.decode() and "2026/0002" in html.decode()
