"""Admin for tickets. Writes that matter to billing and the audit trail (status,
interventions, waivers) go through the services, so the admin shows them read-only
on the ticket and edits them on their own pages where the service is called.

An admin module is an interface, like the desk: nothing imports it, and it calls the
services of whichever app does the work (mail sends the reply, billing shows the
charges), so it may import apps above its own (tests/test_dependencies.py)."""

from django import forms
from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sportello.billing.models import TicketCharges
from sportello.mail import outbound
from sportello.tariff.text import format_money, language_of

from . import services
from .errors import TicketInputError
from .event_text import event_text
from .inputs import MessageInput
from .models import (
    STATUS_TRANSITIONS,
    Attachment,
    Direction,
    Intervention,
    Message,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
)
from .rendering import message_shown


def euro(value) -> str:
    """Money as the charge lines write it: 15,00 € (it), €15.00 (en)."""
    return format_money(value, language_of(get_language()))


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = [
        "created_at",
        "direction",
        "kind",
        "sender",
        "subject",
        "text",
        "automatic",
        "delivery_status",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class InterventionInline(admin.TabularInline):
    model = Intervention
    extra = 0
    fields = [
        "kind",
        "started_at",
        "duration_seconds",
        "km",
        "technician",
        "out_of_hours_override",
        "override_reason",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ["created_at", "kind", "actor_label", "change"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("what changed"))
    def change(self, obj):
        return event_text(obj)


class TicketAdminForm(forms.ModelForm):
    """The ticket plus what an agent does on it: answer, note, move it on."""

    reply = forms.CharField(
        label=_("reply to the customer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Sent by e-mail from the support address, in the ticket's thread."),
    )
    internal_note = forms.CharField(
        label=_("internal note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by agents only, never by the customer."),
    )
    new_status = forms.ChoiceField(label=_("change status to"), required=False)
    # No Meta: the admin builds the model form around this one (modelform_factory).

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = STATUS_TRANSITIONS.get(self.instance.status, ()) if self.instance.pk else ()
        self.fields["new_status"].choices = [("", "---------")] + [
            (status, Status(status).label) for status in Status.values if status in allowed
        ]

    def clean_internal_note(self):
        return _typed(self.cleaned_data["internal_note"].strip())

    def clean_reply(self):
        text = _typed(self.cleaned_data["reply"].strip())
        if text and self.instance.pk:
            if not outbound.customer_addresses(self.instance):
                raise forms.ValidationError(
                    _(
                        "Nobody to send it to: the ticket's contact has no e-mail address. "
                        "Add one to the contact, or call and write an internal note."
                    )
                )
        return text


ANSWER_FIELDS = ["reply", "internal_note", "new_status"]


def _typed(text: str) -> str:
    try:
        services.typed_text_check(text=text)
    except TicketInputError as exc:
        raise forms.ValidationError(exc.message)
    return text


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = [
        "number",
        "subject",
        "organisation",
        "channel",
        "status",
        "priority",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "channel", "priority", "billable", "team"]
    search_fields = ["number", "subject", "organisation__name", "messages__text"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "number",
        "status",
        "created_at",
        "resolved_at",
        "closed_at",
        "charge_lines",
        "conversation",
        # Written by tickets.tagging and tickets.merging, from the desk.
        "merged_into",
        "related",
        "tags",
    ]
    autocomplete_fields = ["organisation", "contact", "assignee", "linked_to"]
    list_select_related = ["organisation", "assignee__user"]
    inlines = [MessageInline, InterventionInline, EventInline]

    class Media:
        css = {"all": ["tickets/conversation.css"]}  # no inline styles under the CSP

    def get_fieldsets(self, request, obj=None):
        fields = [f for f in self.get_fields(request, obj) if f not in ANSWER_FIELDS]
        if obj is None:
            return [(None, {"fields": fields})]
        return [(None, {"fields": fields}), (_("Answer"), {"fields": ANSWER_FIELDS})]

    @admin.display(description=_("conversation"))
    def conversation(self, obj):
        """The whole conversation, quoted history folded, inline images in place."""
        if not obj.pk:
            return "-"
        messages = obj.messages.prefetch_related("attachments", "raw_messages")
        shown = [
            message_shown(m, attachment_url=lambda a: reverse("desk:attachment", args=[a.pk]))
            for m in messages
        ]
        return render_to_string("tickets/_conversation.html", {"messages": shown})

    @admin.display(description=_("charges"))
    def charge_lines(self, obj):
        """Each charge line with the rule that produced it, in the admin's language."""
        charges = TicketCharges.objects.filter(ticket=obj).first() if obj.pk else None
        if charges is None:
            return "-"
        if charges.problem:
            return charges.problem
        language = get_language() or "it"
        # The description ends with the amount ("... = 15,00 €"): not repeated after it.
        rows = format_html_join(
            "", "<li>{}</li>", ((line.description(language),) for line in charges.lines.all())
        )
        state = _("frozen") if charges.frozen else _("follows the ticket")
        return format_html(
            "<ul>{}</ul>{} {} + {} {} = <strong>{}</strong> ({}, {})",
            rows,
            _("net"),
            euro(charges.net),
            _("VAT"),
            euro(charges.vat),
            euro(charges.total),
            charges.tariff_version,
            state,
        )

    def save_model(self, request, obj, form, change):
        """Route admin edits through the services, so the event trail stays complete."""
        actor = services.Actor(user=request.user)
        if not change:
            opened = services.ticket_open(
                subject=obj.subject,
                channel=obj.channel,
                organisation=obj.organisation,
                contact=obj.contact,
                actor=actor,
                priority=obj.priority,
                category=obj.category,
                official_channels_possible=obj.official_channels_possible,
            )
            obj.pk, obj.number, obj.created_at = opened.pk, opened.number, opened.created_at
            changes = {
                f: form.cleaned_data[f] for f in form.changed_data if f in services.UPDATABLE_FIELDS
            }
            obj = opened
        else:
            changes = {
                f: form.cleaned_data[f] for f in form.changed_data if f in services.UPDATABLE_FIELDS
            }
            obj = Ticket.objects.get(pk=obj.pk)
        # The form already ran Ticket.clean(), so the services' checks pass here.
        if changes:
            services.ticket_update(ticket=obj, actor=actor, **changes)
        if "assignee" in form.changed_data:
            services.ticket_assign(ticket=obj, assignee=form.cleaned_data["assignee"], actor=actor)
        if not change:
            return
        # The answer before the status, so "reply and resolve" reads in that order.
        if form.cleaned_data.get("reply"):
            outbound.reply_send(ticket=obj, text=form.cleaned_data["reply"], actor=actor)
        if form.cleaned_data.get("internal_note"):
            services.message_add(
                ticket=obj,
                actor=actor,
                message=MessageInput(
                    kind=MessageKind.INTERNAL_NOTE,
                    direction=Direction.INTERNAL,
                    text=form.cleaned_data["internal_note"],
                ),
            )
        if form.cleaned_data.get("new_status"):
            services.ticket_change_status(
                ticket=obj, status=form.cleaned_data["new_status"], actor=actor
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never typed in: these rows are written by the services only, each with its
    event, so a hand-made or edited row would escape the audit trail (STYLE 2.1)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "created_at", "direction", "kind", "sender", "automatic"]
    list_filter = ["direction", "kind", "automatic", "delivery_status"]
    search_fields = ["ticket__number", "subject", "text", "message_id"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["filename", "ticket", "content_type", "size", "created_at"]
    search_fields = ["filename", "ticket__number", "sha256"]


class InterventionAdminForm(forms.ModelForm):
    """The service's own checks, shown on the field they concern."""

    class Meta:
        model = Intervention
        fields = [
            "ticket",
            "kind",
            "started_at",
            "duration_seconds",
            "km",
            "technician",
            "notes",
            "out_of_hours_override",
            "override_reason",
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        get = data.get if not self.instance.pk else lambda f: data.get(f, getattr(self.instance, f))
        try:
            services.intervention_check(
                kind=get("kind"),
                started_at=get("started_at"),
                duration_seconds=get("duration_seconds"),
                out_of_hours_override=get("out_of_hours_override"),
                override_reason=get("override_reason") or "",
            )
        except TicketInputError as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, str(exc))
        return data


@admin.register(Intervention)
class InterventionAdmin(admin.ModelAdmin):
    """A new intervention is recorded by ``intervention_add`` (charges and event follow);
    an existing one can only have its out-of-hours decision overridden, with a reason."""

    form = InterventionAdminForm
    list_display = ["ticket", "kind", "started_at", "duration_seconds", "km", "technician"]
    list_filter = ["kind"]
    raw_id_fields = ["ticket"]
    OVERRIDE_FIELDS = ("out_of_hours_override", "override_reason")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["created_at"]
        return [f.name for f in Intervention._meta.fields if f.name not in self.OVERRIDE_FIELDS]

    def has_delete_permission(self, request, obj=None):
        return False  # no service removes an intervention: its charges and event stay

    def save_model(self, request, obj, form, change):
        actor = services.Actor(user=request.user)
        data = form.cleaned_data
        if not change:
            saved = services.intervention_add(
                ticket=data["ticket"],
                kind=data["kind"],
                started_at=data["started_at"],
                duration_seconds=data.get("duration_seconds"),
                km=data.get("km"),
                technician=data.get("technician"),
                notes=data.get("notes") or "",
                out_of_hours_override=data.get("out_of_hours_override"),
                override_reason=data.get("override_reason") or "",
                actor=actor,
            )
            obj.pk, obj.created_at = saved.pk, saved.created_at
        elif set(form.changed_data) & set(self.OVERRIDE_FIELDS):
            services.intervention_override_out_of_hours(
                intervention=Intervention.objects.select_related("ticket").get(pk=obj.pk),
                out_of_hours=data.get("out_of_hours_override"),
                reason=data.get("override_reason") or "",
                actor=actor,
            )

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields or inlines: everything was saved by the service


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    """The audit trail is append-only and written by the services alone."""

    list_display = ["ticket", "created_at", "kind", "actor_label", "change"]
    list_filter = ["kind"]
    fields = ["ticket", "created_at", "kind", "actor_label", "change"]
    readonly_fields = fields

    @admin.display(description=_("what changed"))
    def change(self, obj):
        return event_text(obj)
