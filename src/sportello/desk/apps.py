from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "sportello.desk"
    label = "desk"
    verbose_name = _("Agent desk")

    def ready(self) -> None:
        from sportello.tickets import signals

        from . import notify

        signals.ticket_assigned.connect(notify.on_ticket_assigned, dispatch_uid="desk-notify")
        signals.message_added.connect(notify.on_message_added, dispatch_uid="desk-notify")
