from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "sportello.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from sportello.customers import signals as customers
        from sportello.tickets import signals as tickets

        from . import receivers
        from .models import TariffVersion
        from .services import tariff_cache_clear

        # Cache invalidation is what signals are for (STYLE 1.3).
        post_save.connect(tariff_cache_clear, sender=TariffVersion)
        post_delete.connect(tariff_cache_clear, sender=TariffVersion)
        # Charges follow the ticket; the district comes from the tariff (STYLE 2.1).
        tickets.pricing_changed.connect(receivers.on_pricing_changed, dispatch_uid="billing")
        customers.district_wanted.connect(receivers.district_comuni, dispatch_uid="billing")
