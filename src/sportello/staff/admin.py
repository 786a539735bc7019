from django.contrib import admin

from .models import Agent, Skill, Team, Zone


@admin.register(Team, Zone, Skill)
class NamedAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "team", "home_zone", "active"]
    list_filter = ["role", "team", "home_zone", "active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["skills"]

    def save_model(self, request, obj, form, change):
        # The user's admin access follows the role (staff.services.agent_save).
        from .services import agent_save

        agent_save(agent=obj)
