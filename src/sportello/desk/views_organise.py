"""Desk pages that organise tickets: tags, merge, split, related tickets and saved
views. Thin, like ``views``: parse, call one service, redirect back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from sportello.errors import SportelloError
from sportello.staff import roles
from sportello.tickets.merging import merge_check
from sportello.tickets.models import Message, Ticket

from . import organise_selectors, selectors, services
from .access import agent_view
from .errors import DeskPermissionError
from .models import SavedView
from .views import _back, _to_ticket, desk_action


def _ticket(request, pk: int) -> Ticket:
    return selectors.ticket_get_for(user=request.user, pk=pk)


# --- tags -----------------------------------------------------------------------------


@agent_view
@require_POST
@desk_action
def tags(request, pk: int):
    ticket = _ticket(request, pk)
    services.tags_set(ticket=ticket, user=request.user, text=request.POST.get("tags", ""))
    messages.success(request, _("Tags saved."))
    return _to_ticket(pk)


@agent_view
@require_POST
@desk_action
def tag_remove(request, pk: int):
    ticket = _ticket(request, pk)
    services.tag_remove(ticket=ticket, user=request.user, name=request.POST.get("name", ""))
    messages.success(request, _("Tag removed."))
    return _to_ticket(pk)


# --- merge ----------------------------------------------------------------------------


def _counts(ticket: Ticket) -> dict:
    return {
        "messages": ticket.messages.count(),
        "interventions": ticket.interventions.count(),
        "attachments": ticket.attachments.count(),
    }


@agent_view
def merge(request, pk: int):
    """Merge this ticket into another: candidates of the same organisation first, then a
    confirmation saying what moves; the POST merges and opens the ticket kept."""
    ticket = _ticket(request, pk)
    into = request.POST.get("into") or request.GET.get("into") or ""
    target = None
    if into.isdigit():
        target = _ticket(request, int(into))
    if request.method == "POST":
        if target is None:
            messages.error(request, _("Choose the ticket to merge into."))
            return HttpResponseRedirect(reverse("desk:merge", args=[pk]))
        try:
            services.ticket_merge(source=ticket, target=target, user=request.user)
        except DeskPermissionError:
            raise PermissionDenied
        except SportelloError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("desk:merge", args=[pk]))
        messages.success(
            request,
            _("Ticket %(old)s merged into %(new)s.") % {"old": ticket.number, "new": target.number},
        )
        return _to_ticket(target.pk)
    problem = ""
    if target is not None:
        try:
            merge_check(source=ticket, target=target)
        except SportelloError as exc:
            problem = exc.message
    query = request.GET.get("q", "")
    return render(
        request,
        "desk/merge.html",
        {
            "ticket": ticket,
            "target": target,
            "problem": problem,
            "moving": _counts(ticket),
            "query": query,
            "candidates": []
            if target
            else organise_selectors.merge_candidates(ticket=ticket, query=query),
        },
    )


def merge_selected_ids(request) -> list[int]:
    source = request.POST if request.method == "POST" else request.GET
    return sorted({int(i) for i in source.getlist("ids") if i.isdigit()})


@agent_view
def merge_selected(request):
    """The bulk bar's merge: the selected tickets, and which one to keep (the oldest is
    proposed); the others are merged into it."""
    ids = merge_selected_ids(request)
    if request.method == "POST":
        target = request.POST.get("target", "")
        try:
            kept = services.tickets_merge_selected(
                user=request.user,
                ticket_ids=ids,
                target_id=int(target) if target.isdigit() else 0,
            )
        except DeskPermissionError:
            raise PermissionDenied
        except SportelloError as exc:
            messages.error(request, exc.message)
            return _back(request, reverse("desk:queue"))
        messages.success(
            request,
            ngettext(
                "%(n)d ticket merged into %(number)s.",
                "%(n)d tickets merged into %(number)s.",
                len(ids) - 1,
            )
            % {"n": len(ids) - 1, "number": kept.number},
        )
        return _to_ticket(kept.pk)
    chosen = list(
        Ticket.objects.filter(pk__in=ids)
        .select_related("organisation", "contact")
        .order_by("created_at", "pk")
    )
    if len(chosen) < 2:
        messages.error(request, _("Select at least two tickets to merge."))
        return HttpResponseRedirect(reverse("desk:queue"))
    for t in chosen:
        t.moving = _counts(t)
    organisations = {t.organisation_id for t in chosen}
    return render(
        request,
        "desk/merge_selected.html",
        {"chosen": chosen, "mixed_organisations": len(organisations) > 1},
    )


# --- split and related ----------------------------------------------------------------


@agent_view
@require_POST
@desk_action
def split(request, pk: int, message_pk: int):
    ticket = _ticket(request, pk)
    message = get_object_or_404(Message, pk=message_pk, ticket=ticket)
    new = services.message_split(
        message=message, user=request.user, subject=request.POST.get("subject", "")
    )
    messages.success(
        request,
        _("The message is now ticket %(new)s, related to %(old)s.")
        % {"new": new.number, "old": ticket.number},
    )
    return _to_ticket(new.pk)


@agent_view
@require_POST
@desk_action
def link(request, pk: int):
    ticket = _ticket(request, pk)
    other = services.ticket_link(
        ticket=ticket, user=request.user, number=request.POST.get("number", "")
    )
    messages.success(request, _("Related to %(number)s.") % {"number": other.number})
    return _to_ticket(pk)


@agent_view
@require_POST
@desk_action
def unlink(request, pk: int, other_pk: int):
    ticket = _ticket(request, pk)
    other = _ticket(request, other_pk)
    services.ticket_unlink(ticket=ticket, other=other, user=request.user)
    messages.success(request, _("No longer related to %(number)s.") % {"number": other.number})
    return _to_ticket(pk)


# --- saved views ----------------------------------------------------------------------


@agent_view
def saved_views(request):
    """GET: the agent's views and the shared ones, to rename or delete. POST: save the
    queue as shown (its queue, filters, order and columns) under a name."""
    if request.method == "POST":
        post = request.POST
        try:
            view = services.saved_view_save(
                user=request.user,
                name=post.get("name", ""),
                queue=post.get("queue", ""),
                filters={k: post.get(k, "") for k in selectors.FILTERS},
                sort=post.get("sort", "-created"),
                columns=post.getlist("columns"),
                shared=post.get("shared") == "on",
            )
        except DeskPermissionError:
            raise PermissionDenied
        except SportelloError as exc:
            messages.error(request, exc.message)
            return _back(request, reverse("desk:queue"))
        messages.success(request, _("View %(name)s saved.") % {"name": view.name})
        return HttpResponseRedirect(reverse("desk:queue") + f"?view={view.pk}")
    agent = roles.agent_for(request.user)
    views = organise_selectors.saved_views_for(agent=agent)
    for view in views:
        view.may_change = organise_selectors.saved_view_may_change(user=request.user, view=view)
    return render(
        request,
        "desk/saved_views.html",
        {"views": views, "queues": selectors.QUEUES, "column_choices": selectors.COLUMNS},
    )


def _view(request, pk: int) -> SavedView:
    return organise_selectors.saved_view_get(user=request.user, pk=pk)


@agent_view
@require_POST
@desk_action
def saved_view_rename(request, pk: int):
    view = services.saved_view_rename(
        user=request.user, view=_view(request, pk), name=request.POST.get("name", "")
    )
    messages.success(request, _("View renamed to %(name)s.") % {"name": view.name})
    return _back(request, reverse("desk:views"))


@agent_view
@require_POST
@desk_action
def saved_view_delete(request, pk: int):
    view = _view(request, pk)
    services.saved_view_delete(user=request.user, view=view)
    messages.success(request, _("View %(name)s deleted.") % {"name": view.name})
    return _back(request, reverse("desk:views"))
