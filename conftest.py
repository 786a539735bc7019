"""Test-wide set-up: a private data directory, so tests never touch ./var."""

import os
import tempfile

os.environ.setdefault("SPORTELLO_DATA_DIR", tempfile.mkdtemp(prefix="sportello-test-"))
os.environ.setdefault("SPORTELLO_HUEY_IMMEDIATE", "1")
