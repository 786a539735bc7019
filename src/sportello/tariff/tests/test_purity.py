"""The tariff package stays pure: importing or running it never loads Django (STYLE 2.1)."""

from __future__ import annotations

import os
import subprocess
import sys

from sportello.tariff.tests.support import repo_root

CODE = """
import io, sys
import sportello.tariff, sportello.tariff.engine, sportello.tariff.calendar
import sportello.tariff.scenarios, sportello.tariff.cli
assert "django" not in sys.modules, "imported django"
# Running the command (holidays, calendar, quotes, JSON) must not load it either.
status = sportello.tariff.cli.main(
    ["quote", "-"], io.StringIO(), io.StringIO(),
    stdin=io.StringIO('{"hourly_rate": "60", "opened_via": "phone", "written_messages": 0,'
                      ' "official_channels_possible": false, "interventions":'
                      ' [{"kind": "phone", "start": "2026-04-06T10:00:00+02:00", "minutes": 3}]}'),
)
assert status == 0, status
leaked = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
assert not leaked, leaked
print("pure")
"""


def test_it_never_imports_django():
    root = repo_root()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root / "src"), env.get("PYTHONPATH")]))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", CODE], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pure"
