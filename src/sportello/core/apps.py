from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sportello.core"
    label = "core"
    verbose_name = _("Configuration")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import (
            auth,  # noqa: F401  (connects the failed-login counter)
            checks,  # noqa: F401 - registers the deploy checks
        )
        from .models import SupportSettings, support_cache_clear

        post_save.connect(support_cache_clear, sender=SupportSettings, dispatch_uid="support")
        post_delete.connect(support_cache_clear, sender=SupportSettings, dispatch_uid="support")
