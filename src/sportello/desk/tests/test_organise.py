"""Saved views, tags, merge, split and related tickets from the desk: services and pages."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sportello.desk import organise_selectors, selectors, services
from sportello.desk.errors import DeskInputError, DeskPermissionError
from sportello.desk.models import RunningTimer, SavedView
from sportello.tickets import services as tickets
from sportello.tickets import tagging
from sportello.tickets.inputs import MessageInput
from sportello.tickets.models import Message, Status, Ticket

from .support import PASSWORD

pytestmark = pytest.mark.django_db


def make(people, n, subject="Richiesta", **kw):
    return [
        tickets.ticket_open(
            subject=f"{subject} {i}",
            channel="email",
            contact=kw.get("contact", people["alice"]),
            message=MessageInput(text="Testo", sender="alice@alice.example.it"),
        )
        for i in range(n)
    ]


def save(people, who="bob", **kw):
    data = {
        "name": "Stampanti",
        "queue": "open",
        "filters": {"tag": "stampante"},
        "sort": "-updated",
        "columns": ["number", "subject", "tags"],
    }
    data.update(kw)
    return services.saved_view_save(user=people[who].user, **data)


# --- saved views: services --------------------------------------------------------------


def test_an_agent_saves_a_personal_view_with_filters_sort_and_columns(people):
    view = save(people, columns=["tags", "number", "subject", "bogus"][:3])
    assert (view.owner, view.shared, view.queue, view.sort) == (
        people["bob"],
        False,
        "open",
        "-updated",
    )
    assert view.filters == {"tag": "stampante"}
    assert view.columns == ["number", "subject", "tags"]  # the table's order


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"queue": "nowhere"}, "queue"),
        ({"sort": "random"}, "sort"),
        ({"columns": ["subject", "salary"]}, "columns"),
        ({"filters": {"status": "lost"}}, "status"),
        ({"filters": {"organisation": "abc"}}, "organisation"),
    ],
)
def test_a_view_that_cannot_be_saved_says_which_field(people, change, field):
    with pytest.raises(DeskInputError) as caught:
        save(people, **change)
    assert caught.value.field == field
    assert not SavedView.objects.exists()


def test_two_views_of_one_agent_need_two_names(people):
    save(people)
    with pytest.raises(DeskInputError, match="Stampanti"):
        save(people)
    save(people, who="mario")  # another agent's view may share the name


def test_only_supervisors_share_views_and_change_shared_ones(people):
    with pytest.raises(DeskPermissionError):
        save(people, shared=True)
    shared = save(people, who="sara", shared=True)
    with pytest.raises(DeskPermissionError):
        services.saved_view_rename(user=people["bob"].user, view=shared, name="Mia")
    with pytest.raises(DeskPermissionError):
        services.saved_view_delete(user=people["bob"].user, view=shared)
    services.saved_view_rename(user=people["ada"].user, view=shared, name="Di tutti")
    assert SavedView.objects.get().name == "Di tutti"
    services.saved_view_delete(user=people["sara"].user, view=shared)
    assert not SavedView.objects.exists()


def test_an_agent_renames_and_deletes_their_own_views_only(people):
    mine = save(people)
    theirs = save(people, who="mario")
    services.saved_view_rename(user=people["bob"].user, view=mine, name="Toner")
    with pytest.raises(DeskPermissionError):
        services.saved_view_delete(user=people["bob"].user, view=theirs)
    services.saved_view_delete(user=people["bob"].user, view=mine)
    assert list(SavedView.objects.values_list("owner__user__username", flat=True)) == ["mario"]


def test_views_are_listed_with_their_counts_in_one_query(people):
    made = make(people, 4)
    for t in made[:3]:
        tagging.ticket_tags_change(ticket=t, add=["stampante"])
    tagging.ticket_tags_change(ticket=made[0], add=["urgente"])
    tickets.ticket_assign(ticket=made[0], assignee=people["bob"])
    save(people)
    save(people, name="Mie urgenti", queue="mine", filters={"tag": "urgente"})
    save(people, who="sara", name="Di tutti", shared=True, filters={})
    save(people, who="mario", name="Di Mario", filters={})
    views = organise_selectors.saved_views_for(agent=people["bob"])
    assert [v.name for v in views] == ["Di tutti", "Mie urgenti", "Stampanti"]
    with CaptureQueriesContext(connection) as ctx:
        counts = organise_selectors.saved_view_counts(agent=people["bob"], views=views)
    assert len(ctx.captured_queries) == 1
    assert [counts[v.pk] for v in views] == [4, 1, 3]


# --- saved views: pages -----------------------------------------------------------------


def test_the_queue_saves_what_it_shows_and_opens_it_again(client, people):
    made = make(people, 3)
    tagging.ticket_tags_change(ticket=made[1], add=["vpn"])
    client.login(username="bob", password=PASSWORD)
    page = client.get(reverse("desk:queue") + "?queue=open&tag=VPN&columns=number&columns=tags")
    html = page.content.decode()
    assert html.count("data-row") == 1 and made[1].number in html
    # The save form carries the queue, the filters and the columns as shown.
    form = html[html.index('class="save-view"') :]
    form = form[: form.index("</form>")]
    for needle in ('name="queue" value="open"', 'name="tag" value="VPN"', 'value="number"'):
        assert needle in form
    response = client.post(
        reverse("desk:views"),
        {
            "name": "VPN",
            "queue": "open",
            "sort": "-created",
            "tag": "vpn",
            "columns": ["number", "tags"],
        },
    )
    view = SavedView.objects.get()
    assert response["Location"] == reverse("desk:queue") + f"?view={view.pk}"
    html = client.get(response["Location"]).content.decode()
    assert html.count("data-row") == 1
    assert re.search(r'<th scope="col" class="col-number">', html)
    assert 'class="col-organisation"' not in html
    # The sidebar lists the view with its count, and marks it (not its queue) open.
    assert html.count('aria-current="page"') == 1
    assert re.search(
        rf'href="\?view={view.pk}" aria-current="page">VPN.*?<span class="count"[^>]*>1</span>',
        html,
        re.S,
    )


def test_a_saved_view_keeps_its_filters_through_pages_and_the_live_refresh(
    client, people, monkeypatch
):
    made = make(people, 5)
    for t in made:
        tagging.ticket_tags_change(ticket=t, add=["rete"])
    make(people, 2, subject="Altro")
    view = save(people, filters={"tag": "rete"}, sort="-created")
    client.login(username="bob", password=PASSWORD)
    original = selectors.queue_page

    def small(**kw):
        kw["size"] = 2
        return original(**kw)

    monkeypatch.setattr(selectors, "queue_page", small)
    url = reverse("desk:queue") + f"?view={view.pk}"
    seen = []
    for _ in range(5):
        html = client.get(url).content.decode()
        seen += re.findall(r'name="ids" value="(\d+)"', html)
        cursor = re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', html)
        if not cursor:
            break
        url = reverse("desk:queue") + "?" + cursor.group(1).replace("&amp;", "&")
        assert f"view={view.pk}" in url
    assert [int(i) for i in seen] == [t.pk for t in reversed(made)]
    rows = client.get(
        reverse("desk:queue") + f"?view={view.pk}&ids={made[-1].pk}", headers={"HX-Request": "true"}
    ).content.decode()
    assert "<html" not in rows and f"view={view.pk}" in rows
    assert re.search(rf'value="{made[-1].pk}"[^>]*checked', rows)


def test_the_views_page_renames_and_deletes(client, people):
    view = save(people)
    client.login(username="bob", password=PASSWORD)
    assert "Stampanti" in client.get(reverse("desk:views")).content.decode()
    client.post(reverse("desk:view-rename", args=[view.pk]), {"name": "Toner"})
    assert SavedView.objects.get().name == "Toner"
    client.post(reverse("desk:view-delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_queue_queries_stay_constant_with_views_and_tags(client, people):
    client.login(username="bob", password=PASSWORD)
    save(people)
    made = make(people, 3)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("desk:queue") + "?queue=open").status_code == 200
        return len(ctx.captured_queries)

    count()
    few = count()
    for t in make(people, 10) + made:
        tagging.ticket_tags_change(ticket=t, add=["a", "b"])
    save(people, name="Altra", filters={})
    count()  # the counts are cached for a few seconds: compare warm with warm
    assert count() == few


# --- tags, merge, split, link from the desk ---------------------------------------------


def test_tags_are_set_on_the_ticket_page_and_shown_in_the_queue(client, people):
    (ticket,) = make(people, 1)
    client.login(username="bob", password=PASSWORD)
    client.post(reverse("desk:tags", args=[ticket.pk]), {"tags": "Stampante, toner"})
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["stampante", "toner"]
    page = client.get(reverse("desk:ticket", args=[ticket.pk])).content.decode()
    assert "Tag aggiunti: stampante, toner" in page
    client.post(reverse("desk:tag-remove", args=[ticket.pk]), {"name": "toner"})
    assert list(ticket.tags.values_list("name", flat=True)) == ["stampante"]
    queue = client.get(reverse("desk:queue") + "?queue=open").content.decode()
    assert 'class="tag"' in queue and ">stampante</a>" in queue


def test_the_bulk_bar_tags_untags_and_merges_a_selection(client, people):
    a, b, c = make(people, 3)
    client.login(username="bob", password=PASSWORD)
    ids = [a.pk, b.pk, c.pk]
    client.post(reverse("desk:bulk"), {"ids": ids, "action": "tag", "text": "rete, vpn"})
    assert Ticket.objects.filter(tags__name="vpn").count() == 3
    client.post(reverse("desk:bulk"), {"ids": [a.pk], "action": "untag", "text": "vpn"})
    assert Ticket.objects.filter(tags__name="vpn").count() == 2
    response = client.post(reverse("desk:bulk"), {"ids": ids, "action": "merge"})
    assert response.status_code == 302 and reverse("desk:merge-selected") in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert all(t.number in page for t in (a, b, c))
    response = client.post(reverse("desk:merge-selected"), {"ids": ids, "target": b.pk})
    assert response["Location"] == reverse("desk:ticket", args=[b.pk])
    assert Message.objects.filter(ticket=b).count() == 3
    assert set(Ticket.objects.filter(merged_into=b).values_list("pk", flat=True)) == {a.pk, c.pk}


def test_merging_from_the_ticket_page_confirms_and_leaves_a_link(client, people):
    kept, merged = make(people, 2)
    (elsewhere,) = make(people, 1, subject="Altra ditta", contact=people["charlie"])
    RunningTimer.objects.create(
        agent=people["bob"], ticket=merged, kind="phone", started_at=merged.created_at
    )
    client.login(username="bob", password=PASSWORD)
    page = client.get(reverse("desk:merge", args=[merged.pk])).content.decode()
    # Candidates of the same organisation first.
    assert page.index(kept.number) < page.index(elsewhere.number)
    confirm = client.get(
        reverse("desk:merge", args=[merged.pk]) + f"?into={kept.pk}"
    ).content.decode()
    assert "1 messaggio" in confirm and kept.number in confirm
    assert not Ticket.objects.filter(merged_into=kept).exists()  # a GET changes nothing
    response = client.post(reverse("desk:merge", args=[merged.pk]), {"into": kept.pk})
    assert response["Location"] == reverse("desk:ticket", args=[kept.pk])
    merged.refresh_from_db()
    assert merged.status == Status.CLOSED and merged.merged_into == kept
    assert RunningTimer.objects.get().ticket == kept  # a call in progress follows
    page = client.get(reverse("desk:ticket", args=[merged.pk])).content.decode()
    assert f"Unito in {kept.number}" in page
    assert reverse("desk:ticket", args=[kept.pk]) in page
    page = client.get(reverse("desk:ticket", args=[kept.pk])).content.decode()
    assert f"Ticket {merged.number} unito qui" in page


def test_a_message_is_split_and_tickets_are_related_from_the_desk(client, people):
    ticket, other = make(people, 2)
    second = tickets.message_add(
        ticket=ticket,
        message=MessageInput(kind="email", text="E il wifi?"),
        author_contact=people["alice"],
    )
    client.login(username="bob", password=PASSWORD)
    response = client.post(
        reverse("desk:split", args=[ticket.pk, second.pk]), {"subject": "Wifi in ufficio"}
    )
    new = Ticket.objects.get(subject="Wifi in ufficio")
    assert response["Location"] == reverse("desk:ticket", args=[new.pk])
    page = client.get(reverse("desk:ticket", args=[new.pk])).content.decode()
    assert f"Aperto da un messaggio del ticket {ticket.number}" in page and "E il wifi?" in page
    assert reverse("desk:ticket", args=[ticket.pk]) in page  # related, shown on both pages
    client.post(reverse("desk:link", args=[ticket.pk]), {"number": other.number})
    page = client.get(reverse("desk:ticket", args=[other.pk])).content.decode()
    assert f"Collegato al ticket {ticket.number}" in page
    client.post(reverse("desk:unlink", args=[other.pk, ticket.pk]))
    assert not other.related.exists()
    response = client.post(
        reverse("desk:link", args=[ticket.pk]), {"number": "2099-999999"}, follow=True
    )
    assert "2099-999999" in response.content.decode()
