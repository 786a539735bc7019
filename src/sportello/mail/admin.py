from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Mailbox, RawMessage
from .selectors import raw_file_mismatches
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
    actions = ["reprocess", "verify_files"]

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

    @admin.action(description=_("Check the stored files against their rows"))
    def verify_files(self, request, queryset):
        # Size and SHA-256 of each selected message's file (sportello mail verify does
        # every one); a mismatch is listed so the operator can redeliver or restore it.
        bad = list(raw_file_mismatches(queryset=queryset))
        checked = queryset.count()
        if not bad:
            self.message_user(
                request,
                ngettext(
                    "The stored file of %(count)d message matches its row.",
                    "The stored files of all %(count)d messages match their rows.",
                    checked,
                )
                % {"count": checked},
                messages.SUCCESS,
            )
            return
        self.message_user(
            request,
            ngettext(
                "%(bad)d of %(count)d messages has a stored file that does not match its row:",
                "%(bad)d of %(count)d messages have a stored file that does not match their row:",
                len(bad),
            )
            % {"bad": len(bad), "count": checked},
            messages.ERROR,
        )
        for row, reason in bad[:50]:
            self.message_user(
                request,
                format_html(
                    "#{} {} ({}): {}", row.pk, row.file.name, row.get_state_display(), reason
                ),
                messages.ERROR,
            )


class MailboxForm(forms.ModelForm):
    class Meta:
        model = Mailbox
        fields = ["password", "oauth2_client_secret"]  # the admin adds its fieldsets' own
        widgets = {
            # Kept when the form is saved again, never shown on screen.
            "password": forms.PasswordInput(render_value=True),
            "oauth2_client_secret": forms.PasswordInput(render_value=True),
        }


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
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
        "oauth2_token_expires_at",
        "uidvalidity",
        "last_uid",
        "claimed_until",
        "claimed_by",
        "last_polled_at",
        "last_error",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "active",
                    ("protocol", "security"),
                    ("host", "port"),
                    "username",
                    "password",
                    "folder",
                    "done_folder",
                    "poll_interval",
                ]
            },
        ),
        (
            _("OAuth2 (Microsoft 365, Gmail)"),
            {
                "fields": [
                    "oauth2_token_url",
                    "oauth2_client_id",
                    "oauth2_client_secret",
                    "oauth2_refresh_token",
                    "oauth2_scope",
                    "oauth2_token",
                    "oauth2_token_expires_at",
                ],
                "description": _(
                    "Sign in once with the provider, paste the refresh token here: the "
                    "access token is then renewed before it expires."
                ),
            },
        ),
        (
            _("State"),
            {
                "fields": [
                    "last_polled_at",
                    "last_error",
                    "uidvalidity",
                    "last_uid",
                    "claimed_by",
                    "claimed_until",
                ]
            },
        ),
    ]
