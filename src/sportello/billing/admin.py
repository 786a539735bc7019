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


# --- The month close (issue 13) ---------------------------------------------------------

from .models import (  # noqa: E402
    BillingAudit,
    BillingSettings,
    Statement,
    StatementLine,
    TicketDeferral,
)


@admin.register(BillingSettings)
class BillingSettingsAdmin(admin.ModelAdmin):
    """The company's fiscal data: printed on PDFs and written into every FatturaPA."""

    list_display = ["legal_name", "vat_number", "regime_fiscale", "iban"]

    def has_add_permission(self, request):
        return not BillingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class StatementLineInline(admin.TabularInline):
    model = StatementLine
    extra = 0
    fields = ["position", "ticket_row", "code", "description", "amount", "vat_percent", "natura"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    """Read-only: statements change only through billing.statements (and the commands)."""

    list_display = [
        "__str__",
        "kind",
        "state",
        "organisation",
        "period",
        "issue_date",
        "net",
        "vat",
        "total",
    ]
    list_filter = ["state", "kind", "period"]
    search_fields = ["organisation__name", "number"]
    inlines = [StatementLineInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Statement._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BillingAudit)
class BillingAuditAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "statement", "actor_label"]
    list_filter = ["action"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in BillingAudit._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TicketDeferral)
class TicketDeferralAdmin(admin.ModelAdmin):
    list_display = ["ticket", "until", "reason", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in TicketDeferral._meta.fields]

    def has_add_permission(self, request):
        return False


# --- Prepaid hours: read-only here; bought and corrected through the desk's services
# (/desk/billing/prepaid/), so every change has its movement and audit entry.

from .models import PrepaidAccount, PrepaidBundle, PrepaidMovement  # noqa: E402


class _ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PrepaidBundle)
class PrepaidBundleAdmin(_ReadOnly):
    list_display = ["organisation", "purchased_on", "expires_on", "hours", "amount", "rate"]
    list_filter = ["bought_in"]
    search_fields = ["organisation__name", "reference"]


@admin.register(PrepaidMovement)
class PrepaidMovementAdmin(_ReadOnly):
    list_display = ["created_at", "bundle", "kind", "hours", "amount", "balance_after", "statement"]
    list_filter = ["kind"]


@admin.register(PrepaidAccount)
class PrepaidAccountAdmin(_ReadOnly):
    list_display = ["organisation", "threshold_hours", "below_threshold", "alerted_at"]
