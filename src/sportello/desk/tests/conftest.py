import pytest
from django.core.cache import cache

from .support import desk_cast


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    # The cast has seven passwords: a fast hash keeps the role matrix quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(db):
    return desk_cast()
