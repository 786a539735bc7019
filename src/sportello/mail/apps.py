from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "sportello.mail"
    label = "mail"
    verbose_name = _("E-mail")

    def ready(self) -> None:
        from sportello.tickets import signals

        from . import notifications

        signals.status_changed.connect(notifications.on_status_changed, dispatch_uid="mail")
