"""SLA policies in the admin (the admin role only, like all of the admin site); the
clocks and the e-mails sent are read-only records."""

from django.contrib import admin

from .models import SlaClock, SlaNotice, SlaPolicy


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "priority",
        "organisation",
        "response_minutes",
        "resolution_minutes",
        "warn_percent",
        "active",
    ]
    list_filter = ["priority", "active"]
    search_fields = ["name", "organisation__name"]
    autocomplete_fields = ["organisation"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlaNotice)
class SlaNoticeAdmin(ReadOnly):
    list_display = ["ticket", "target", "kind", "sent_at"]
    list_filter = ["target", "kind"]
    search_fields = ["ticket__number"]


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnly):
    list_display = ["ticket", "target", "warn_at", "due_at", "paused", "final_state"]
    list_filter = ["target", "paused"]
    search_fields = ["ticket__number"]
