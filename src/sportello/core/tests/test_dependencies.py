"""Apps depend downward only, and no module import goes round in a circle (STYLE 2.1).

Read from the source with ``ast``, without importing anything: every ``import`` of a
``sportello`` module in the application code (tests and migrations aside), at module
level or inside a function, except those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import sportello

SRC = Path(sportello.__file__).resolve().parent

# Lower numbers are lower: an app may import its own rank or below, never above.
# tariff (pure) <- customers, staff <- tickets <- billing, mail, search <- portal, desk.
# search indexes tickets, customers and the mail filed on tickets (it listens to
# tickets.signals) and is what the desk's agents search with: beside billing and mail.
# territory (zones, suggested assignee, agenda of visits) records legs through the ticket
# services and is shown by the desk: beside them too.
RANK = {
    "errors": 0,
    "tariff": 0,
    "core": 1,
    "customers": 2,
    "staff": 2,
    "tickets": 3,
    "billing": 4,
    "mail": 4,
    "search": 4,
    "sla": 4,
    "territory": 4,
    "portal": 5,
    "desk": 5,
}
# Billing and mail sit side by side: neither imports the other.
SIDE_BY_SIDE = {frozenset({"billing", "mail"})}

# Entry points, which nothing imports: they may call the services of any app.
# The admin pages are interfaces like the desk; commands, the demo and the test plugin
# drive the whole application; settings and URLs wire it.
ENTRY_POINTS = (
    "sportello.settings",
    "sportello.urls",
    "sportello.wsgi",
    "sportello.asgi",
    "sportello.cli",
    "sportello.__main__",
    "sportello.core.demo",
    "sportello.core.testenv",
)


def is_entry_point(module: str) -> bool:
    parts = module.split(".")
    return module in ENTRY_POINTS or parts[-1] == "admin" or "management" in parts


# Where an import inside a function is the documented way: Django's AppConfig.ready()
# (apps.py), a Huey task importing the services that queue it (tasks.py, STYLE 1.3), and
# the pytest plugin, loaded before Django is set up.
FUNCTION_IMPORTS_ALLOWED = ("apps", "tasks", "testenv")

# Exceptions to the rules below, each to be struck once fixed: none left. A test fails on
# an entry not listed, and on a listed entry that is gone.
KNOWN_FUNCTION_IMPORTS: set[str] = set()
KNOWN_CIRCLES: set[str] = set()
KNOWN_TEST_IMPORTS: set[str] = set()


def modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        if "tests" in rel.parts or "migrations" in rel.parts or rel.name == "conftest":
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(module: str, path: Path, known: dict[str, Path]):
    """``(target module, line, inside a function)`` for each sportello import."""
    tree = ast.parse(path.read_text(), str(path))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if not target.startswith("sportello"):
                continue
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != module:
                yield target, node.lineno, id(node) in inside


def app_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@functools.cache
def graph():
    known = modules()
    return known, {
        module: list(imports(module, path, known)) for module, path in sorted(known.items())
    }


def upward_imports(edges) -> list[str]:
    upward = []
    for module, targets in edges.items():
        if is_entry_point(module):
            continue
        for target, line, _inside in targets:
            a, b = app_of(module), app_of(target)
            if a == b or a not in RANK or b not in RANK:
                continue
            if RANK[b] > RANK[a] or frozenset({a, b}) in SIDE_BY_SIDE:
                upward.append(f"{module}:{line} imports {target}")
    return upward


def circles(edges) -> list[str]:
    # A task importing its services inside the task is how a circle is broken (STYLE 1.3).
    follows = {
        module: {
            target
            for target, _line, inside in targets
            if not (inside and module.rsplit(".", 1)[-1] in FUNCTION_IMPORTS_ALLOWED)
        }
        for module, targets in edges.items()
    }
    found = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(follows.get(module, ())):
            if state.get(target) == 1:
                found.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(follows):
        if module not in state:
            visit(module)
    return found


def test_every_app_is_ranked():
    known, _edges = graph()
    apps = {app_of(m) for m in known if m.count(".") >= 1} - {"settings", "urls", "cli"}
    apps -= {"wsgi", "asgi", "__main__"}
    assert apps - set(RANK) == set(), "rank the new app in RANK (and in STYLE 2.1)"


def test_apps_import_only_apps_below_them():
    _known, edges = graph()
    assert upward_imports(edges) == [], "a lower app announces a signal (tickets.signals)"


def test_nothing_imports_an_entry_point():
    _known, edges = graph()
    wrong = [
        f"{module}:{line} imports {target}"
        for module, targets in edges.items()
        for target, line, _inside in targets
        if is_entry_point(target) and not is_entry_point(module) and target != "sportello"
    ]
    assert wrong == []


def test_imports_inside_functions_only_where_they_are_the_documented_way():
    _known, edges = graph()
    hidden = {
        f"{module} -> {target}"
        for module, targets in edges.items()
        for target, _line, inside in targets
        if inside and module.rsplit(".", 1)[-1] not in FUNCTION_IMPORTS_ALLOWED
    }
    assert hidden - KNOWN_FUNCTION_IMPORTS == set(), "import at module level"
    assert KNOWN_FUNCTION_IMPORTS - hidden == set(), "fixed: strike it from the list"


def test_no_module_import_goes_round_in_a_circle():
    _known, edges = graph()
    found = set(circles(edges))
    assert found - KNOWN_CIRCLES == set()
    assert KNOWN_CIRCLES - found == set(), "fixed: strike it from the list"


def test_the_check_sees_an_upward_import_and_a_circle(tmp_path):
    """The rules above are not vacuous: a planted fault is found."""
    lower = tmp_path / "sportello" / "tickets"
    lower.mkdir(parents=True)
    (lower / "services.py").write_text("from sportello.billing import services\n")
    higher = tmp_path / "sportello" / "billing"
    higher.mkdir()
    (higher / "services.py").write_text("from sportello.tickets.services import x\n")
    known = {
        "sportello.tickets.services": lower / "services.py",
        "sportello.billing.services": higher / "services.py",
    }
    found = {m: list(imports(m, p, known)) for m, p in known.items()}
    assert upward_imports(found) == [
        "sportello.tickets.services:1 imports sportello.billing.services"
    ]
    assert circles(found) == [
        "sportello.billing.services -> sportello.tickets.services -> sportello.billing.services"
    ]


def test_no_test_module_imports_another():
    """Shared fixtures live in conftest.py, helpers in support modules (builders.py,
    factories.py, sportello.core.testenv): a test module is never imported."""
    wrong = []
    for path in SRC.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(a.name for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.rsplit(".", 1)[-1].startswith("test_") for n in names):
                wrong.append(f"{path.relative_to(SRC)}:{node.lineno}")
    for path in SRC.rglob("conftest.py"):
        if "from .test_" in path.read_text():
            wrong.append(f"{path.relative_to(SRC)}")
    found = {w.split(":")[0] for w in wrong}
    assert found - KNOWN_TEST_IMPORTS == set(), wrong
    assert KNOWN_TEST_IMPORTS - found == set(), "fixed: strike it from the list"
