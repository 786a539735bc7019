from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "sportello.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import TariffVersion
        from .services import tariff_cache_clear

        # Cache invalidation is what signals are for (STYLE 1.3).
        post_save.connect(tariff_cache_clear, sender=TariffVersion)
        post_delete.connect(tariff_cache_clear, sender=TariffVersion)
