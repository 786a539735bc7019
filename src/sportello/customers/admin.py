from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sportello.territory.selectors import organisation_zone, zone_map

from .models import Contact, ContactEmail, ContactPhone, Organisation, OrganisationDomain


class OrganisationDomainInline(admin.TabularInline):
    model = OrganisationDomain
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "vat_number",
        "comune",
        "zone_shown",
        "hourly_rate",
        "in_district",
        "billing_mode",
    ]
    list_filter = ["in_district", "billing_mode", "active"]
    search_fields = ["name", "vat_number", "fiscal_code", "comune", "domains__domain"]
    inlines = [OrganisationDomainInline]
    fieldsets = [
        (None, {"fields": ["name", "active", "notes"]}),
        (_("Tax and e-invoicing"), {"fields": ["vat_number", "fiscal_code", "sdi_code", "pec"]}),
        (
            _("Address"),
            {"fields": ["address", "postcode", "comune", "zone_shown", "province", "country"]},
        ),
        (_("Billing"), {"fields": ["hourly_rate", "billing_mode", "in_district", "distance_km"]}),
    ]
    readonly_fields = ["zone_shown"]

    def changelist_view(self, request, extra_context=None):
        self._zones = zone_map()  # one query for the page's zone column
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("zone"))
    def zone_shown(self, obj):
        """The zone that lists the organisation's comune (staff.Zone.comuni)."""
        zone = organisation_zone(organisation=obj, zones=getattr(self, "_zones", None))
        return zone.name if zone else _("no zone")


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 0


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organisation", "is_manager", "needs_review"]
    list_filter = ["is_manager", "needs_review", "organisation"]
    search_fields = ["first_name", "last_name", "emails__address", "phones__number"]
    autocomplete_fields = ["organisation", "user"]
    inlines = [ContactEmailInline, ContactPhoneInline]
