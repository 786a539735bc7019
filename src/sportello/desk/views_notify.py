"""The desk's notifications (list, bell, switches) and linking an unknown caller's number
to a contact in "Nuova chiamata". Thin views over ``desk.notify`` and the customers
services, like those of ``desk.views``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sportello.core.identifiers import normalize_phone
from sportello.customers import selectors as customers_selectors
from sportello.customers import services as customers
from sportello.customers.models import Contact, Organisation
from sportello.errors import SportelloError
from sportello.staff import roles
from sportello.territory import selectors as territory_selectors

from . import notify, selectors
from .access import agent_view
from .errors import DeskInputError, DeskPermissionError
from .models import DeskPreference, Notification, NotificationKind
from .views import _back, desk_action


@agent_view
@require_GET
def notifications(request):
    unread_only = request.GET.get("unread") == "1"
    return render(
        request,
        "desk/notifications.html",
        {
            "notifications": notify.notifications_for(user=request.user, unread_only=unread_only),
            "unread_only": unread_only,
            "unread": notify.unread_count(user=request.user),
        },
    )


@agent_view
@require_GET
def notifications_badge(request):
    """The header's bell, polled by htmx: the number of unread notifications."""
    return render(
        request, "desk/_notify_bell.html", {"unread": notify.unread_count(user=request.user)}
    )


def _mine(request, pk: int) -> Notification:
    try:
        return notify.notification_get(user=request.user, pk=pk)
    except Notification.DoesNotExist:
        raise Http404


@agent_view
@require_POST
@desk_action
def notification_open(request, pk: int):
    """Mark it read and go to its ticket."""
    entry = _mine(request, pk)
    notify.notification_read(user=request.user, notification=entry)
    return HttpResponseRedirect(reverse("desk:ticket", args=[entry.ticket_id]))


@agent_view
@require_POST
@desk_action
def notification_read(request, pk: int):
    notify.notification_read(user=request.user, notification=_mine(request, pk))
    return _back(request, reverse("desk:notifications"))


@agent_view
@require_POST
@desk_action
def notifications_read_all(request):
    count = notify.notifications_read_all(user=request.user)
    messages.success(request, _("%(n)d notifications marked as read.") % {"n": count})
    return _back(request, reverse("desk:notifications"))


SETTINGS_ROWS = (
    (NotificationKind.ASSIGNMENT, "notify_assignment_list", "notify_assignment_email"),
    (NotificationKind.CUSTOMER_REPLY, "notify_reply_list", "notify_reply_email"),
)


@agent_view
def notify_settings(request):
    """Per kind, in the list and by e-mail; mentions are always on."""
    if request.method == "POST":
        try:
            notify.notify_preferences_set(
                user=request.user,
                **{f: request.POST.get(f) == "on" for f in notify.PREFERENCE_FIELDS},
            )
        except DeskPermissionError:
            raise PermissionDenied
        messages.success(request, _("Notification preferences saved."))
        return HttpResponseRedirect(reverse("desk:notify-settings"))
    agent = roles.agent_for(request.user)
    preference = DeskPreference.objects.filter(agent=agent).first()
    rows = [
        {
            "label": kind.label,
            "list_field": list_field,
            "email_field": email_field,
            "in_list": notify.wants(preference, kind)[0],
            "by_email": notify.wants(preference, kind)[1],
        }
        for kind, list_field, email_field in SETTINGS_ROWS
    ]
    return render(
        request,
        "desk/notify_settings.html",
        {
            "rows": rows,
            "has_address": bool(request.user.email),
            # The agenda's calendar address, kept from these preferences too.
            "feed": territory_selectors.feed_of(agent=agent),
        },
    )


# --- an unknown caller's number, linked to a contact ("Nuova chiamata") -----------------


@agent_view
@require_GET
def call_contacts(request):
    """Contacts matching what the agent typed (name or organisation), to pick from."""
    return render(
        request,
        "desk/_call_contacts.html",
        {
            "found": customers_selectors.contacts_search(query=request.GET.get("who", "")),
            "query": request.GET.get("who", "").strip(),
        },
    )


@agent_view
def call_link(request):
    """GET: the form to link the unknown number (search a contact, or a new one).
    POST: store the caller's number on the contact picked (or created now) and answer with
    the caller box of a known caller, so the call goes on as for anyone known."""
    if request.method != "POST":
        return render(
            request,
            "desk/_call_link.html",
            {"number": request.GET.get("phone", ""), "organisations": _organisations()},
        )
    post = request.POST
    number = post.get("link_phone", "")
    try:
        if post.get("link_action") == "pick":
            if not post.get("link_contact"):
                raise DeskInputError(
                    _("Choose the contact to link the number to, or create a new one."),
                    field="link_contact",
                )
            contact = get_object_or_404(Contact, pk=post["link_contact"])
            customers.contact_phone_link(contact=contact, number=number)
        else:
            organisation = None
            if post.get("new_organisation"):
                organisation = get_object_or_404(Organisation, pk=post["new_organisation"])
            contact = customers.contact_create(
                first_name=post.get("new_first_name", ""),
                last_name=post.get("new_last_name", ""),
                organisation=organisation,
                email=post.get("new_email", ""),
                phone=number,
            )
    except SportelloError as exc:
        # The unknown caller's box again, the link form open with what was typed and the
        # message (200: htmx swaps it in place of the box).
        return render(
            request,
            "desk/_caller.html",
            {
                "number": number,
                "contacts": [],
                "link_open": True,
                "organisations": _organisations(),
                "link_error": exc.message,
                "form": post,
                "found": customers_selectors.contacts_search(query=post.get("who", "")),
            },
        )
    return render(
        request,
        "desk/_caller.html",
        {
            "number": normalize_phone(number),
            "contacts": [contact],
            "linked": contact,
            "open_tickets": selectors.open_tickets_of(
                contact=contact, organisation=contact.organisation
            ),
        },
    )


def _organisations():
    return Organisation.objects.filter(active=True).order_by("name").only("pk", "name")
