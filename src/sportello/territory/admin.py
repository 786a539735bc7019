"""Visits in the admin, read-only: they are planned and closed in the desk, through the
services that leave the ticket's events and record the leg (STYLE 2.1). Calendar feeds
are not listed: only a digest of each token is stored, and the technician manages it."""

from django.contrib import admin

from .models import Visit


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["scheduled_at", "kind", "ticket", "technician", "state"]
    list_filter = ["state", "kind", "technician"]
    search_fields = ["ticket__number", "ticket__subject", "notes"]
    date_hierarchy = "scheduled_at"
    list_select_related = ["ticket", "technician__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
