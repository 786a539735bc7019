"""pytest plugin loaded with ``-p`` (see pyproject.toml) before pytest-django reads settings.

Gives every test run a private data directory, so tests never touch ./var, and runs
Huey tasks immediately unless a test starts a real consumer.
"""

import os
import tempfile

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-test-"))
os.environ.setdefault("SPORTELLO_HUEY_IMMEDIATE", "1")
