from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "sportello.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        # The index follows every write of the rows it is built from (receivers.py).
        from django.conf import settings

        from . import receivers

        if getattr(settings, "SPORTELLO_SEARCH_LIVE", True):
            receivers.connect()
