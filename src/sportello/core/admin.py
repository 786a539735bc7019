from django.contrib import admin

from .models import CalendarDay, SupportSettings


@admin.register(SupportSettings)
class SupportSettingsAdmin(admin.ModelAdmin):
    list_display = ["company_name", "support_phone", "time_zone"]

    def has_add_permission(self, request):
        return not SupportSettings.objects.exists()


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "note"]
    list_filter = ["kind"]
    date_hierarchy = "date"
