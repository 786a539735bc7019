"""What a queue page shows: the queue, filters, order and columns asked for in the query
string, or those of a saved view (``?view=<id>``), whose pages (``after``) and live
refresh keep the view. Used by ``views.queue``; the organising pages are in
``views_organise``."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from sportello.staff import roles

from . import organise_selectors, selectors
from .models import SavedView


@dataclass
class QueueState:
    queue: str
    filters: dict
    sort: str
    columns: list[str]
    saved: SavedView | None = None


def queue_state(request) -> QueueState:
    pk = request.GET.get("view", "")
    if pk.isdigit():
        view = organise_selectors.saved_view_get(user=request.user, pk=int(pk))
        queue = view.queue if view.queue in selectors.QUEUES else "open"
        return QueueState(
            queue=queue,
            filters=dict(view.filters or {}),
            sort=view.sort,
            columns=selectors.columns_clean(view.columns),
            saved=view,
        )
    queue = request.GET.get("queue") or "mine"
    if queue not in selectors.QUEUES:
        queue = "mine"
    return QueueState(
        queue=queue,
        filters=request.GET.dict(),
        sort=request.GET.get("sort", "-created"),
        columns=selectors.columns_clean(request.GET.getlist("columns")),
    )


def queue_context(request, *, agent, state: QueueState) -> dict:
    views = organise_selectors.saved_views_for(agent=agent)
    counts = organise_selectors.saved_view_counts(agent=agent, views=views)
    for view in views:
        view.count = counts.get(view.pk, 0)
        view.may_change = organise_selectors.saved_view_may_change(user=request.user, view=view)
    if state.saved is not None:
        state.saved.count = counts.get(state.saved.pk, 0)
    return {
        "columns": state.columns,
        "column_choices": selectors.COLUMNS,
        "saved_views": views,
        "saved_view": state.saved,
        "tag_names": organise_selectors.tag_names(),
        "may_share": roles.can_supervise(request.user),
    }


def merge_selected_redirect(request, ids: list[int]) -> HttpResponseRedirect:
    """The bulk bar's "merge": to the page that asks which ticket to keep."""
    return HttpResponseRedirect(
        reverse("desk:merge-selected") + "?" + urlencode({"ids": ids}, doseq=True)
    )
