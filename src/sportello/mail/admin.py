from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Mailbox, RawMessage
from .services import raw_process


@admin.register(RawMessage)
class RawMessageAdmin(admin.ModelAdmin):
    """Every received e-mail; the quarantine is the ``state = quarantined`` filter."""

    list_display = [
        "received_at",
        "state",
        "sender",
        "subject",
        "source",
        "ticket",
        "attempts",
        "download",
    ]
    list_filter = ["state", "source"]
    search_fields = ["sender", "subject", "message_id", "sha256", "ticket__number"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in RawMessage._meta.fields]
    actions = ["reprocess"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # nothing received is ever thrown away

    @admin.display(description=_("raw .eml"))
    def download(self, obj):
        url = reverse("mail:raw-download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("download"))

    @admin.action(description=_("Process again (after fixing the cause)"))
    def reprocess(self, request, queryset):
        done = 0
        for row in queryset.filter(
            state__in=[RawMessage.State.QUARANTINED, RawMessage.State.PENDING]
        ):
            result = raw_process(row)
            done += result.state != RawMessage.State.QUARANTINED
        self.message_user(
            request,
            ngettext("%(count)d message filed.", "%(count)d messages filed.", done)
            % {"count": done},
            messages.SUCCESS,
        )


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "protocol",
        "host",
        "username",
        "folder",
        "active",
        "last_polled_at",
        "last_error",
    ]
    list_filter = ["protocol", "active"]
    readonly_fields = [
        "uidvalidity",
        "last_uid",
        "claimed_until",
        "claimed_by",
        "last_polled_at",
        "last_error",
    ]
