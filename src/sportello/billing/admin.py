from django.contrib import admin

from .models import ChargeLine, TariffVersion, TicketCharges


@admin.register(TariffVersion)
class TariffVersionAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "valid_from",
        "call_fee",
        "leg_per_km",
        "out_of_hours_factor",
        "vat_percent",
    ]
    date_hierarchy = "valid_from"


class ChargeLineInline(admin.TabularInline):
    model = ChargeLine
    extra = 0
    fields = ["position", "code", "description_it", "amount"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TicketCharges)
class TicketChargesAdmin(admin.ModelAdmin):
    """Read-only: charges are computed from the ticket, never typed in."""

    list_display = ["ticket", "net", "vat", "total", "frozen", "tariff_version", "problem"]
    list_filter = ["frozen", "tariff_version"]
    search_fields = ["ticket__number", "ticket__organisation__name"]
    inlines = [ChargeLineInline]
    readonly_fields = [
        "ticket",
        "tariff_version",
        "net",
        "vat",
        "total",
        "problem",
        "frozen",
        "frozen_at",
        "computed_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
