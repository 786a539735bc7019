import pytest
from django.core.cache import cache

from .support import SCREENSHOTS_KEY, portal_cast


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate limits live in the cache; each test starts with none used.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(db):
    return portal_cast()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    folder = config.stash.get(SCREENSHOTS_KEY, None)
    if folder is not None:
        terminalreporter.write_line(f"Portal browser screenshots: {folder}")
