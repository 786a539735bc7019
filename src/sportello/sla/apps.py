from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sportello.sla"
    label = "sla"
    verbose_name = _("SLA")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from sportello.core.models import CalendarDay, SupportSettings
        from sportello.tickets import signals

        from . import receivers
        from .models import SlaPolicy

        signals.ticket_opened.connect(receivers.on_ticket_opened, dispatch_uid="sla-opened")
        signals.status_changed.connect(receivers.on_status_changed, dispatch_uid="sla-status")
        signals.pricing_changed.connect(receivers.on_pricing_changed, dispatch_uid="sla-changed")
        for model in (SlaPolicy, CalendarDay, SupportSettings):
            for signal in (post_save, post_delete):
                signal.connect(
                    receivers.on_configuration_changed,
                    sender=model,
                    dispatch_uid=f"sla-config-{model.__name__}-{signal is post_save}",
                )
