"""The parser's package keeps one front door: callers import ``sportello.mail.parse``,
never one of its modules, so the modules can be split or merged without touching them."""

from __future__ import annotations

import ast
from pathlib import Path

import sportello
import sportello.mail.parse as parse

SRC = Path(sportello.__file__).resolve().parent
PACKAGE = SRC / "mail" / "parse"


def test_every_public_name_is_importable_from_the_package():
    assert [name for name in parse.__all__ if not hasattr(parse, name)] == []


def test_nothing_outside_the_package_imports_one_of_its_modules():
    inside = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    wrong = []
    for path in [*SRC.rglob("*.py"), *(SRC.parents[1] / "bench").glob("*.py")]:
        if PACKAGE in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # from .parse.mime import ...: relative to the file's package
                    package = path.relative_to(SRC.parent).with_suffix("").parts[:-1]
                    base = package[: len(package) - node.level + 1]
                    module = ".".join([*base, *([module] if module else [])])
                names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("sportello.mail.parse.") and name.split(".")[3] in inside:
                    wrong.append(f"{path.relative_to(SRC.parents[1])}:{node.lineno} {name}")
    assert wrong == [], "import from sportello.mail.parse (its __init__ re-exports)"
