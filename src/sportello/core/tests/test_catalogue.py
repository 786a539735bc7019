"""Italian is the default language: every string the code marks for translation must
have an Italian translation, and the compiled catalogue must be the current one."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

import sportello

PACKAGE = Path(sportello.__file__).parent


def msgids(po: Path, *flags: str) -> list[str]:
    """The msgids msgattrib selects (``--untranslated``, ``--only-fuzzy``)."""
    out = subprocess.run(
        ["msgattrib", *flags, "--no-location", "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        line.removeprefix("msgid ").strip('"')
        for line in out.splitlines()
        if line.startswith("msgid ") and line != 'msgid ""'
    ]


@pytest.fixture(scope="module")
def fresh_catalogue(tmp_path_factory) -> Path:
    """The Italian catalogue as makemessages would leave it now, built in a copy of the
    package so that the working tree is untouched."""
    copy = tmp_path_factory.mktemp("catalogue") / "sportello"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    cwd = Path.cwd()
    try:
        os.chdir(copy)
        call_command("makemessages", locale=["it"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(cwd)
    return copy / "locale" / "it" / "LC_MESSAGES" / "django.po"


def test_every_marked_string_has_an_italian_translation(fresh_catalogue):
    assert msgids(fresh_catalogue, "--untranslated") == []
    assert msgids(fresh_catalogue, "--only-fuzzy") == []


def test_the_shipped_catalogue_is_compiled(tmp_path):
    po = PACKAGE / "locale" / "it" / "LC_MESSAGES" / "django.po"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(po)], check=True)
    assert compiled.read_bytes() == (po.parent / "django.mo").read_bytes(), (
        "django.mo is older than django.po: run `make messages`"
    )
