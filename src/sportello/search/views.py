"""``/desk/search/?q=...``: the agents' search page, its htmx partial and its JSON.

The page is whole on a normal request; htmx (``HX-Request``) gets the results partial
``search/_results.html``, which the desk can also include; ``?format=json`` answers
JSON for a type-ahead. A ticket number goes straight to the ticket (302), except in
JSON, which names it.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from sportello.customers.models import Organisation
from sportello.staff.models import Agent, Team
from sportello.staff.roles import can_work_tickets
from sportello.tickets.models import Channel, Priority, Status

from .errors import SearchError
from .selectors import Filters, filters_from, ticket_search


def _page(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 5 else 1


@require_GET
def results(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not can_work_tickets(request.user):
        raise PermissionDenied
    q = request.GET.get("q", "")
    error = ""
    try:
        filters = filters_from(request.GET)
    except SearchError as exc:
        filters, error = Filters(), exc.message
    found = ticket_search(
        user=request.user, q=q, filters=filters, page=_page(request.GET.get("page", ""))
    )
    if request.GET.get("format") == "json":
        response = JsonResponse(_json(found, error), status=400 if error else 200)
    elif found.redirect is not None and not error and not request.headers.get("HX-Request"):
        response = redirect(found.hits[0].url)
    else:
        template = (
            "search/_results.html" if request.headers.get("HX-Request") else ("search/results.html")
        )
        response = render(
            request,
            template,
            {
                "found": found,
                "q": q,
                "error": error,
                "filters": filters,
                "statuses": Status.choices,
                "priorities": Priority.choices,
                "channels": Channel.choices,
                "teams": Team.objects.order_by("name"),
                "agents": Agent.objects.filter(active=True).select_related("user"),
                "organisations": Organisation.objects.filter(pk=filters.organisation)
                if filters.organisation
                else [],
                "query_string": _without_page(request.GET),
            },
            status=400 if error else 200,
        )
    response["Cache-Control"] = "private, no-store"
    return response


def _without_page(params) -> str:
    copy = params.copy()
    copy.pop("page", None)
    return copy.urlencode()


def _json(found, error: str) -> dict:
    return {
        "query": found.query.raw,
        "mode": found.mode,
        "error": error,
        "total": found.total,
        "page": found.page,
        "redirect": found.hits[0].url if found.redirect is not None else None,
        "results": [
            {
                "number": h.ticket.number,
                "subject": h.ticket.subject,
                "subject_html": h.subject_html,
                "snippet_html": h.snippet_html,
                "status": h.ticket.status,
                "status_label": str(h.ticket.get_status_display()),
                "created_at": h.ticket.created_at.isoformat(),
                "organisation": str(h.ticket.organisation) if h.ticket.organisation else "",
                "url": h.url,
            }
            for h in found.hits
        ],
    }
