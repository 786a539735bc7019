"""The month close in the browser: a billing user drafts, reviews, issues, downloads;
an agent gets 403, a visitor the staff login, a missing statement 404."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from sportello.billing.models import Statement
from sportello.staff.models import Role
from sportello.tickets.tests.factories import AgentFactory, UserFactory

from .month import november

pytestmark = pytest.mark.django_db


@pytest.fixture
def month():
    return november()


@pytest.fixture
def billing_client(client):
    AgentFactory(user=UserFactory(username="dora", is_staff=True), role=Role.BILLING)
    client.force_login(UserFactory(username="dora"))
    return client


def test_the_month_close_from_draft_to_downloads(month, billing_client):
    url = reverse("billing:month")
    page = billing_client.get(url, {"month": "2026-11"})
    assert page.status_code == 200
    assert {"private", "no-store"} <= {p.strip() for p in page["Cache-Control"].split(",")}
    assert "Alice &amp; Co. S.r.l." in page.content.decode()
    billing_client.post(url, {"month": "2026-11"})  # the task runs at once in tests
    draft = Statement.objects.get(organisation=month["org_a"], state="draft")
    page = billing_client.get(url, {"month": "2026-11"}).content.decode()
    assert "305,00 €" in page and "pronto per l'emissione" in page

    detail = reverse("billing:statement", args=[draft.pk])
    page = billing_client.get(detail).content.decode()
    assert "Assistenza remota: 40 min" in page
    billing_client.post(
        detail,
        {"action": "add_line", "description": "Sconto", "amount": "-5,00", "reason": "accordo"},
    )
    billing_client.post(detail, {"action": "add_line", "description": "x", "amount": "1"})
    page = billing_client.get(detail).content.decode()
    assert "motivo" in page  # the refused line's error, in Italian
    draft.refresh_from_db()
    assert draft.net == Decimal("245.00")
    billing_client.post(detail, {"action": "issue"})
    draft.refresh_from_db()
    assert draft.state == "issued" and draft.display_number == "2026/0001"

    pdf = billing_client.get(reverse("billing:statement-pdf", args=[draft.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xml = billing_client.get(reverse("billing:statement-xml", args=[draft.pk]))
    root = ET.fromstring(xml.content)
    assert Decimal(root.findtext(".//ImportoTotaleDocumento")) == draft.total
    archive = billing_client.get(reverse("billing:month-zip"), {"month": "2026-11"})
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
        assert len(zf.namelist()) == 1
    csv = billing_client.get(reverse("billing:month-csv"), {"month": "2026-11", "excel": "1"})
    assert b"-5,00" in csv.content


def test_an_agent_gets_403_and_a_visitor_the_login(month, client):
    url = reverse("billing:month")
    response = client.get(url)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    AgentFactory(user=UserFactory(username="ugo", is_staff=True), role=Role.AGENT)
    client.force_login(UserFactory(username="ugo"))
    assert client.get(url).status_code == 403
    assert client.post(url, {"month": "2026-11"}).status_code == 403
    assert not Statement.objects.exists()


def test_a_missing_or_draft_statement_has_no_download(month, billing_client):
    assert billing_client.get(reverse("billing:statement", args=[999])).status_code == 404
    billing_client.post(reverse("billing:month"), {"month": "2026-11"})
    draft = Statement.objects.filter(state="draft").first()
    assert billing_client.get(reverse("billing:statement-xml", args=[draft.pk])).status_code == 404
    assert billing_client.get(reverse("billing:statement-pdf", args=[draft.pk])).status_code == 404


def test_a_customer_signed_in_to_the_portal_gets_403(month, client):
    user = UserFactory(username="alice-portal")
    alice = month["alice"]
    alice.user = user
    alice.is_manager = True
    alice.save()
    client.force_login(user)
    for url in (
        reverse("billing:month"),
        reverse("billing:month-csv") + "?month=2026-11",
        reverse("billing:month-zip") + "?month=2026-11",
    ):
        assert client.get(url).status_code == 403, url
