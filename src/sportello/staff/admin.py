from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sportello.territory.selectors import zone_organisations

from .models import Agent, Skill, Team, Zone
from .services import agent_save, zone_save


@admin.register(Team, Skill)
class NamedAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ComuniField(forms.CharField):
    """A zone's comuni as the admin types them: one per line (stored as a list)."""

    widget = forms.Textarea(attrs={"rows": 8})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class ZoneForm(forms.ModelForm):
    comuni = ComuniField(
        label=_("comuni"),
        required=False,
        help_text=_("One comune per line: organisations there are in this zone."),
    )

    class Meta:
        model = Zone
        fields = ["name", "comuni"]


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    """Zones are the admin role's (the admin site is theirs only, staff.roles)."""

    form = ZoneForm
    search_fields = ["name"]
    list_display = ["name", "comuni_shown", "organisations_shown"]
    readonly_fields = ["organisations_shown"]

    @admin.display(description=_("comuni"))
    def comuni_shown(self, obj):
        return ", ".join(obj.comuni or ()) or "—"

    @admin.display(description=_("organisations"))
    def organisations_shown(self, obj):
        names = [o.name for o in zone_organisations(zone=obj)]
        return ", ".join(names) or "—"

    def save_model(self, request, obj, form, change):
        zone_save(zone=obj)


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "team", "home_zone", "active"]
    list_filter = ["role", "team", "home_zone", "active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["skills"]

    def save_model(self, request, obj, form, change):
        # The user's admin access follows the role (staff.services.agent_save).
        agent_save(agent=obj)
