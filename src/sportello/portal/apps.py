from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "sportello.portal"
    label = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from sportello.billing import signals as billing

        from . import prepaid_notices

        # The low-balance e-mail of prepaid hours (billing announces, it cannot mail).
        billing.prepaid_balance_low.connect(
            prepaid_notices.on_prepaid_balance_low, dispatch_uid="portal-prepaid"
        )
