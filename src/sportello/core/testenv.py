"""pytest plugin loaded with ``-p`` (see pyproject.toml) before pytest-django reads settings.

Gives every test run a private data directory, so tests never touch ./var, and runs
Huey tasks immediately unless a test starts a real consumer.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-test-"))
os.environ.setdefault("SPORTELLO_HUEY_IMMEDIATE", "1")


def shared_dir() -> Path:
    """The shared material the tests check against (mail corpus, tariff scenarios):
    ``$SPORTELLO_SHARED_DIR``, else ``<repo root>/../shared``. Without it the tests
    cannot check what they must, so they fail at collection instead of skipping."""
    override = os.environ.get("SPORTELLO_SHARED_DIR")
    if override:
        path = Path(override)
    else:
        root = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
        path = root.parent / "shared"
    if not (path / "mail-corpus").is_dir() or not (path / "tariff-scenarios.json").is_file():
        raise RuntimeError(
            f"The shared test material is not at {path}: set SPORTELLO_SHARED_DIR to the "
            "directory that holds mail-corpus/ and tariff-scenarios.json."
        )
    return path


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
