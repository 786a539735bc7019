import pytest
from django.core.cache import cache

from sportello.desk.tests.support import desk_cast


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The desk's cast has seven passwords: a fast hash keeps the page tests quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SPORTELLO_SITE_URL = "https://assistenza.init-s.it"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(db):
    """Alice (org A), Charlie (org B); Bob and Mario (agents), Sara (supervisor),
    Carla (billing), Ada (admin role), Ugo (is_staff, no agent record)."""
    return desk_cast()
