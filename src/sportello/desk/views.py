"""The agents' desk: thin views that parse the request, call one selector or service and
render. Writes are POSTs that redirect back (a reload never repeats them); an htmx request
for a list gets its rows partial, rendered by the same view (STYLE 2.10)."""

from __future__ import annotations

import html
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sportello.billing.calendars import business_calendar
from sportello.billing.services import tariff_version_in_force
from sportello.core.identifiers import IdentifierError, normalize_phone
from sportello.core.models import SupportSettings
from sportello.customers.models import Contact, ContactPhone, Organisation
from sportello.errors import SportelloError
from sportello.mail.outbound import customer_addresses
from sportello.sla import selectors as sla_selectors
from sportello.staff import roles
from sportello.staff.models import Agent, Team
from sportello.territory import selectors as territory
from sportello.tickets.models import (
    STATUS_TRANSITIONS,
    Attachment,
    Channel,
    Intervention,
    InterventionKind,
    NonBillableReason,
    Priority,
    Status,
)
from sportello.tickets.views import attachment_response

from . import organise_selectors, selectors, services
from . import queue_state as organise
from .access import agent_view, billing_view, supervisor_view
from .errors import DeskPermissionError
from .models import CannedReply, RunningTimer
from .placeholders import placeholder_context, placeholders_render


class DeskLoginView(auth_views.LoginView):
    template_name = "desk/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("desk:queue")


class DeskLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("desk:login")


def _back(request, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return HttpResponseRedirect(target or default)


def desk_action(view):
    """A POST that calls a service: its SportelloError becomes a message on the page it
    came from, a permission error a 403; the ticket is left as it was."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DeskPermissionError:
            raise PermissionDenied
        except SportelloError as exc:
            messages.error(request, exc.message)
            pk = kwargs.get("pk")
            default = reverse("desk:ticket", args=[pk]) if pk else reverse("desk:queue")
            return _back(request, default)

    return wrapper


def _filter_choices() -> dict:
    return {
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "channels": Channel.choices,
        "agents": list(Agent.objects.filter(active=True).select_related("user")),
        "teams": list(Team.objects.all()),
    }


@agent_view
@require_GET
def queue(request):
    agent = roles.agent_for(request.user)
    state = organise.queue_state(request)
    name = state.queue
    try:
        page = selectors.queue_page(
            agent=agent,
            queue=name,
            filters=state.filters,
            sort=state.sort,
            after=request.GET.get("after", ""),
        )
    except SportelloError as exc:
        messages.error(request, exc.message)
        page = selectors.queue_page(agent=agent, queue=name)
    selected = {int(i) for i in request.GET.getlist("ids") if i.isdigit()}
    params = request.GET.copy()
    params.pop("ids", None)
    poll_url = request.path + (f"?{params.urlencode()}" if params else "")
    context = {
        "queue_name": name,
        "queue_label": state.saved.name if state.saved else selectors.QUEUES[name],
        "poll_url": poll_url,
        "queues": selectors.QUEUES,
        "counts": selectors.queue_counts(agent=agent),
        "page": page,
        "selected": selected,
        "sorts": selectors.SORTS,
        "can_supervise": roles.can_supervise(request.user),
        "organisation_options": _organisation_options(page.filters.get("organisation", "")),
        **organise.queue_context(request, agent=agent, state=state),
        **_filter_choices(),
    }
    if request.htmx:
        return render(request, "desk/_queue_rows.html", context)
    return render(request, "desk/queue.html", context)


def _organisation_options(selected: str):
    """The organisation filter's <option>s, built in one pass with the standard library's
    escape (500 of them on the benchmark data: a template loop, or Django's lazy-aware
    escape per value, cost more than the rest of the page)."""
    rows = Organisation.objects.order_by("name").values_list("pk", "name")
    return mark_safe(  # noqa: S308 - every value escaped just here
        "".join(
            f'<option value="{pk}"{" selected" if str(pk) == selected else ""}>'
            f"{html.escape(name)}</option>"
            for pk, name in rows
        )
    )


@agent_view
@require_POST
@desk_action
def bulk(request):
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    if request.POST.get("action") == "merge":  # asks which ticket to keep first
        return organise.merge_selected_redirect(request, ids)
    count = services.tickets_bulk(
        user=request.user,
        ticket_ids=ids,
        action=request.POST.get("action", ""),
        value=request.POST.get("value", ""),
        text=request.POST.get("text", ""),
    )
    messages.success(request, _("%(n)d tickets updated.") % {"n": count})
    return _back(request, reverse("desk:queue"))


def _ticket(request, pk: int):
    return selectors.ticket_get_for(user=request.user, pk=pk)


def _in_hours(interventions: list[Intervention]) -> dict[int, bool]:
    """The calendar's decision for each intervention (before any override)."""
    if not interventions:
        return {}
    years = {timezone.localtime(i.started_at).year for i in interventions}
    calendar = business_calendar(years=years | {y + 1 for y in years} | {y - 1 for y in years})
    return {i.pk: calendar.is_in_hours(i.started_at) for i in interventions}


@agent_view
@require_GET
def ticket(request, pk: int):
    ticket = _ticket(request, pk)
    return render(request, "desk/ticket.html", _ticket_context(request, ticket))


def _ticket_context(request, ticket, **extra) -> dict:
    agent = roles.agent_for(request.user)
    timeline = selectors.ticket_timeline(ticket=ticket)
    interventions = [e.obj for e in timeline if e.kind == "intervention"]
    in_hours = _in_hours(interventions)
    for item in interventions:
        item.calendar_in_hours = in_hours[item.pk]
        item.out_of_hours = (
            item.out_of_hours_override
            if item.out_of_hours_override is not None
            else not in_hours[item.pk]
        )
    canned, reply_text, unknown = _canned(request, ticket)
    context = {
        "ticket": ticket,
        "timeline": timeline,
        "canned_replies": CannedReply.objects.only("pk", "title"),
        "canned": canned,
        "reply_text": reply_text,
        "unknown_placeholders": unknown,
        "preview": selectors.charge_preview(ticket=ticket),
        "timer": selectors.timer_running(agent=agent, ticket=ticket),
        "agent": agent,
        "can_bill": roles.can_bill(request.user),
        "can_supervise": roles.can_supervise(request.user),
        "next_statuses": [(s, Status(s).label) for s in sorted(STATUS_TRANSITIONS[ticket.status])],
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kinds": InterventionKind.choices,
        "non_billable_reasons": NonBillableReason.choices,
        "distance_km": ticket.organisation.distance_km if ticket.organisation else None,
        "customer_to": _customer_to(ticket),
        "seen": selectors.ticket_last_event(ticket=ticket),
        "sla": sla_selectors.ticket_sla(ticket),
        # Zone, suggested assignee, pick-ups and returns: territory/_*.html includes.
        "territory": territory.ticket_territory(ticket=ticket),
        "organise": organise_selectors.ticket_organise(ticket=ticket),
        "tag_names": organise_selectors.tag_names(),
        "may_split": ticket.status != Status.CLOSED
        and sum(1 for e in timeline if e.kind == "message") > 1,
        **_filter_choices(),
    }
    context.update(extra)
    return context


def _canned(request, ticket):
    """The canned reply asked for with ?canned=<id>, rendered for this ticket and agent."""
    pk = request.GET.get("canned", "")
    if not pk.isdigit():
        return None, "", ()
    canned = get_object_or_404(CannedReply, pk=pk)
    rendered = placeholders_render(
        canned.body, placeholder_context(ticket=ticket, user=request.user)
    )
    return canned, rendered.text, rendered.unknown


def _customer_to(ticket) -> str:
    return ", ".join(customer_addresses(ticket))


@agent_view
@require_GET
def preview(request, pk: int):
    ticket = _ticket(request, pk)
    return render(
        request,
        "desk/_preview.html",
        {"ticket": ticket, "preview": selectors.charge_preview(ticket=ticket)},
    )


def _to_ticket(pk: int, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("desk:ticket", args=[pk]) + anchor)


@agent_view
@require_POST
@desk_action
def reply(request, pk: int):
    ticket = _ticket(request, pk)
    seen = request.POST.get("seen", "")
    if seen.isdigit() and not request.POST.get("confirm"):
        # Two agents, no lock: changes by others since this draft began are shown, and
        # the agent confirms before the reply goes (peers' "stale send" complaint).
        changes = selectors.ticket_changes_since(
            ticket=ticket, after_event=int(seen), exclude_user=request.user
        )
        if changes:
            context = _ticket_context(
                request,
                ticket,
                stale_changes=changes,
                reply_text=request.POST.get("text", ""),
                stale_seen=seen,
            )
            return render(request, "desk/ticket.html", context, status=409)
    services.reply_send(
        ticket=ticket,
        user=request.user,
        text=request.POST.get("text", ""),
        then_status=request.POST.get("then_status", ""),
    )
    messages.success(request, _("Reply queued for sending by e-mail."))
    return _to_ticket(pk)


@agent_view
@require_POST
@desk_action
def note(request, pk: int):
    ticket = _ticket(request, pk)
    services.note_add(ticket=ticket, user=request.user, text=request.POST.get("note", ""))
    messages.success(request, _("Internal note added."))
    return _to_ticket(pk)


@agent_view
@require_POST
@desk_action
def fields(request, pk: int):
    ticket = _ticket(request, pk)
    team_id = request.POST.get("team", "")
    team = (
        ""
        if team_id == ""
        else (None if team_id == "none" else get_object_or_404(Team, pk=team_id))
    )
    services.ticket_fields_set(
        ticket=ticket,
        user=request.user,
        status=request.POST.get("status", ""),
        priority=request.POST.get("priority", ""),
        team=team,
    )
    messages.success(request, _("Ticket updated."))
    return _to_ticket(pk)


@agent_view
@require_POST
@desk_action
def assign(request, pk: int):
    ticket = _ticket(request, pk)
    value = request.POST.get("assignee", "")
    if value == "me":
        services.ticket_take(ticket=ticket, user=request.user)
    else:
        assignee = get_object_or_404(Agent, pk=value) if value else None
        services.ticket_assign_checked(ticket=ticket, assignee=assignee, user=request.user)
    messages.success(request, _("Assignment saved."))
    return _to_ticket(pk)


@agent_view
@require_POST
@desk_action
def attach(request, pk: int):
    ticket = _ticket(request, pk)
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, _("Choose a file to attach first."))
        return _to_ticket(pk)
    services.attachments_add(
        ticket=ticket,
        user=request.user,
        files=files,
        max_bytes=settings.SPORTELLO_UPLOAD_MAX_BYTES,
        allowed=settings.SPORTELLO_UPLOAD_TYPES,
    )
    messages.success(request, _("Attachment added."))
    return _to_ticket(pk)


@agent_view
@require_POST
@desk_action
def timer_start(request, pk: int):
    ticket = _ticket(request, pk)
    services.timer_start(user=request.user, ticket=ticket, kind=request.POST.get("kind", "phone"))
    return _to_ticket(pk, "#interventions")


def _my_timer(request, timer_pk: int) -> RunningTimer:
    agent = roles.agent_for(request.user)
    return get_object_or_404(RunningTimer, pk=timer_pk, agent=agent)


@agent_view
@require_POST
@desk_action
def timer_stop(request, pk: int, timer_pk: int):
    _ticket(request, pk)
    timer = _my_timer(request, timer_pk)
    services.timer_stop(user=request.user, timer=timer, notes=request.POST.get("notes", ""))
    messages.success(request, _("Call recorded."))
    return _to_ticket(pk, "#interventions")


@agent_view
@require_POST
@desk_action
def timer_discard(request, pk: int, timer_pk: int):
    _ticket(request, pk)
    services.timer_discard(user=request.user, timer=_my_timer(request, timer_pk))
    return _to_ticket(pk, "#interventions")


@agent_view
@require_POST
@desk_action
def intervention_add(request, pk: int):
    ticket = _ticket(request, pk)
    services.intervention_record(
        ticket=ticket,
        user=request.user,
        kind=request.POST.get("kind", ""),
        started_at=services.parse_local(request.POST.get("started_at", ""), field="started_at"),
        minutes=request.POST.get("minutes", ""),
        km=request.POST.get("km", ""),
        notes=request.POST.get("notes", ""),
    )
    messages.success(request, _("Intervention recorded."))
    return _to_ticket(pk, "#interventions")


@billing_view
@require_POST
@desk_action
def intervention_override(request, pk: int, intervention_pk: int):
    ticket = _ticket(request, pk)
    intervention = get_object_or_404(Intervention, pk=intervention_pk, ticket=ticket)
    services.intervention_override(
        intervention=intervention,
        user=request.user,
        choice=request.POST.get("choice", ""),
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, _("Out-of-hours decision saved."))
    return _to_ticket(pk, "#interventions")


@billing_view
@require_POST
@desk_action
def billing(request, pk: int):
    ticket = _ticket(request, pk)
    services.billing_set(
        ticket=ticket,
        user=request.user,
        waive_call_fee=request.POST.get("waive_call_fee") == "on",
        waive_reason=request.POST.get("waive_reason", ""),
        billable=request.POST.get("non_billable") != "on",
        non_billable_reason=request.POST.get("non_billable_reason", ""),
    )
    messages.success(request, _("Billing saved."))
    return _to_ticket(pk)


@agent_view
@require_GET
def attachment(request, pk: int):
    """An attachment of any ticket, for whoever may open the ticket's page."""
    return attachment_response(get_object_or_404(Attachment, pk=pk))


# --- new requests ----------------------------------------------------------------------


def _lookup(phone: str):
    """The caller, from the number (region IT): (E.164 or "", contacts found, error)."""
    phone = (phone or "").strip()
    if not phone:
        return "", [], ""
    try:
        number = normalize_phone(phone)
    except IdentifierError as exc:
        return "", [], str(exc)
    contacts = list(
        Contact.objects.filter(pk__in=ContactPhone.objects.filter(number=number).values("contact"))
        .select_related("organisation")
        .order_by("last_name")[:10]
    )
    return number, contacts, ""


@agent_view
@require_GET
def call_lookup(request):
    number, contacts, error = _lookup(request.GET.get("phone", ""))
    contact = contacts[0] if len(contacts) == 1 else None
    return render(
        request,
        "desk/_caller.html",
        {
            "number": number,
            "contacts": contacts,
            "error": error,
            "open_tickets": selectors.open_tickets_of(
                contact=contact, organisation=contact.organisation if contact else None
            ),
            # The caller's zone and who is there (territory/_caller_zone.html).
            "caller_zone": territory.organisation_suggestions(
                organisation=contact.organisation if contact else None
            ),
        },
    )


@agent_view
@require_POST
@desk_action
def call_start(request):
    timer = services.timer_start(user=request.user, ticket=None, kind="phone")
    return render(request, "desk/_call_timer.html", {"timer": timer})


def _quick_context(request, **extra) -> dict:
    support = SupportSettings.load()
    return {
        "channels": [(c, Channel(c).label) for c in services.QUICK_CHANNELS],
        "call_fee": _call_fee(),
        "support": support,
        "contacts": Contact.objects.none(),
        **extra,
    }


def _call_fee():
    version = tariff_version_in_force(on=timezone.localdate())
    return version.call_fee


@agent_view
def call(request):
    """'Nuova chiamata' and the quick form for SMS, WhatsApp, other mailboxes, in person."""
    agent = roles.agent_for(request.user)
    if request.method != "POST":
        channel = request.GET.get("channel", Channel.PHONE)
        return render(request, "desk/call.html", _quick_context(request, channel=channel))
    post = request.POST
    timer = None
    if post.get("timer"):
        timer = RunningTimer.objects.filter(pk=post["timer"], agent=agent, ticket=None).first()
    contact = None
    if post.get("contact"):
        contact = get_object_or_404(Contact, pk=post["contact"])
    add_to = None
    if post.get("add_to"):
        add_to = selectors.ticket_get_for(user=request.user, pk=int(post["add_to"]))
    possible = {"yes": True, "no": False}.get(post.get("official_channels_possible", ""))
    try:
        if agent is None:
            raise DeskPermissionError(_("Only an agent can file requests."))
        ticket = services.request_file(
            user=request.user,
            channel=post.get("channel", Channel.PHONE),
            subject=post.get("subject", ""),
            text=post.get("text", ""),
            contact=contact,
            official_channels_possible=possible,
            timer=timer,
            add_to=add_to,
            files=request.FILES.getlist("files"),
        )
    except DeskPermissionError:
        raise PermissionDenied
    except SportelloError as exc:
        context = _quick_context(
            request, channel=post.get("channel", Channel.PHONE), error=exc, form=post, timer=timer
        )
        return render(request, "desk/call.html", context, status=400)
    messages.success(request, _("Ticket %(number)s saved.") % {"number": ticket.number})
    return HttpResponseRedirect(reverse("desk:ticket", args=[ticket.pk]))


@supervisor_view
def canned_list(request):
    """Canned replies: supervisors add, change and remove them."""
    editing = None
    if request.GET.get("edit", "").isdigit():
        editing = get_object_or_404(CannedReply, pk=request.GET["edit"])
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                services.canned_reply_delete(
                    user=request.user,
                    reply=get_object_or_404(CannedReply, pk=request.POST["delete"]),
                )
                messages.success(request, _("Canned reply removed."))
            else:
                services.canned_reply_save(
                    user=request.user,
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    reply=editing,
                )
                messages.success(request, _("Canned reply saved."))
            return HttpResponseRedirect(reverse("desk:canned"))
        except DeskPermissionError:
            raise PermissionDenied
        except SportelloError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "desk/canned.html",
        {
            "replies": CannedReply.objects.all(),
            "editing": editing,
            "placeholders": sorted(placeholder_context(ticket=_Blank(), user=None)),
        },
    )


class _Blank:
    """A ticket with nothing in it: only the placeholders' names are wanted."""

    contact = organisation = None
    number = subject = ""


@agent_view
def presence(request, pk: int):
    """Heartbeat of an open ticket page: who else is viewing or replying (no lock)."""
    ticket = _ticket(request, pk)
    if request.method == "POST":
        selectors.presence_beat(
            ticket=ticket, user=request.user, replying=request.POST.get("replying") == "1"
        )
    others = selectors.presence_others(ticket=ticket, user=request.user)
    return render(request, "desk/_presence.html", {"ticket": ticket, "others": others})


@agent_view
@require_POST
@desk_action
def preferences(request):
    # Each of the desk's small forms sends only its own field; the others stay as they were.
    shortcuts = request.POST.get("shortcuts")
    language = request.POST.get("language")
    services.preference_set(
        user=request.user,
        shortcuts=None if shortcuts is None else shortcuts == "on",
        language=language,
    )
    if language is not None:
        # The confirmation already speaks the language just chosen.
        translation.activate(language or settings.LANGUAGE_CODE)
    messages.success(request, _("Preferences saved."))
    return _back(request, reverse("desk:queue"))
