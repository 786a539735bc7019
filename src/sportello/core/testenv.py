"""pytest plugin loaded with ``-p`` (see pyproject.toml) before pytest-django reads settings.

Gives every test run a private data directory, so tests never touch ./var, and runs
Huey tasks immediately unless a test starts a real consumer.
"""

import os
import tempfile

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-test-"))
os.environ.setdefault("SPORTELLO_HUEY_IMMEDIATE", "1")


try:
    import pytest
except ImportError:  # pragma: no cover - only pytest loads this module
    pytest = None

if pytest is not None:

    @pytest.fixture(autouse=True)
    def _fresh_process_caches():
        """Each test starts with empty per-process caches: its database is new too."""
        yield
        from django.apps import apps

        if apps.ready:  # pure-Python test runs (-p no:django) never load the app
            from sportello.billing.services import tariff_cache_clear
            from sportello.core.models import support_cache_clear

            tariff_cache_clear()
            support_cache_clear()
