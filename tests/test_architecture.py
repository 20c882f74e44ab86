"""The shape of the code, checked statically: which room may import which, no import cycle
in bot/, no SQL built in bot/, and nothing loose at bot/'s top level.

The checks read the source with `ast` and never import it, so every import counts: at module
level, inside functions and under `TYPE_CHECKING`. docs/architecture.md draws the rooms and
the table below. Each checker takes the repository root, so the tests at the bottom feed it a
small synthetic tree to prove it can fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Our four packages. bot/ is split further into rooms (see ``room_of``).
PACKAGES = ("bot", "flows", "nlu", "storage")

#: The rooms of bot/: its subpackages and the three wiring modules at its top.
BOT_ROOMS = (
    "common",
    "inbound",
    "outbound",
    "channels",
    "operatives",
    "integration",
    "api",
    "web",
    "cli",
)
BOT_TOP_FILES = ("__init__.py", "app.py", "settings.py", "runtime.py")

_INNER = frozenset({"flows", "nlu", "storage"})
_BOT = frozenset({f"bot.{room}" for room in (*BOT_ROOMS, "app", "settings", "runtime")} | {"bot"})

#: Which rooms each room may import, besides itself. Everything in bot/ may import flows, nlu
#: and storage; flows may import nlu (and the two pure modules of storage below); nlu and
#: storage import nothing of ours.
ALLOWED: dict[str, frozenset[str]] = {
    "bot": _INNER,  # bot/__init__.py
    "bot.settings": _INNER,
    "bot.common": _INNER | {"bot.settings"},
    "bot.inbound": _INNER | {"bot.common", "bot.settings"},
    "bot.operatives": _INNER | {"bot.common", "bot.settings"},
    "bot.outbound": _INNER | {"bot.common", "bot.operatives", "bot.settings"},
    "bot.integration": _INNER | {"bot.common", "bot.outbound", "bot.operatives", "bot.settings"},
    "bot.api": _INNER
    | {"bot.common", "bot.integration", "bot.outbound", "bot.runtime", "bot.settings"},
    "bot.runtime": _INNER | {"bot.common", "bot.inbound", "bot.settings"},
    "bot.channels": _INNER
    | {
        "bot.common",
        "bot.inbound",
        "bot.outbound",
        "bot.operatives",
        "bot.runtime",
        "bot.settings",
    },
    "bot.web": _INNER
    | {
        "bot.common",
        "bot.inbound",
        "bot.integration",
        "bot.outbound",
        "bot.operatives",
        "bot.runtime",
        "bot.settings",
    },
    "bot.cli": _INNER | _BOT,
    "bot.app": _INNER | _BOT,
    "flows": frozenset({"nlu"}),
    "nlu": frozenset(),
    "storage": frozenset(),
}

#: Single modules a room may import from a room it may not import as a whole. The flows
#: share storage's value types (the enums stored in columns, UK mobile parsing): both are
#: pure, with no table, session or engine behind them.
ALLOWED_MODULES: dict[str, frozenset[str]] = {
    "flows": frozenset({"storage.enums", "storage.phones"}),
}

#: Names that build SQL. Importing any of them from sqlalchemy or sqlmodel (any submodule)
#: in bot/ means a query is being written outside storage/.
SQL_BUILDERS = frozenset(
    {
        "select",
        "update",
        "insert",
        "delete",
        "text",
        "func",
        "col",
        "and_",
        "or_",
        "exists",
        "case",
        "literal_column",
        "Table",
    }
)
_SQL_LIBRARIES = ("sqlalchemy", "sqlmodel")


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to an absolute module name."""

    path: Path
    line: int
    module: str


def room_of(module: str) -> str | None:
    """The room a module belongs to (``bot.inbound``, ``bot.app``, ``flows``...), or None
    for a module that is not ours (the standard library, third-party packages)."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    if parts[0] != "bot":
        return parts[0]
    if len(parts) == 1:
        return "bot"
    return f"bot.{parts[1]}"


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files(root: Path, packages: tuple[str, ...] = PACKAGES) -> Iterator[Path]:
    for package in packages:
        base = root / package
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every module `path` imports, wherever the import sits. ``from pkg import name`` counts
    as importing ``pkg.name`` when that is a module of ours, else ``pkg``; a literal
    ``importlib.import_module("...")`` counts too."""
    module = _module_name(root, path)
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            found.extend(Import(path, node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                keep = len(base_parts) - (node.level - 1)
                base = ".".join(base_parts[: max(keep, 0)])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                as_path = root.joinpath(*candidate.split("."))
                is_module = (
                    as_path.with_suffix(".py").is_file() or (as_path / "__init__.py").is_file()
                )
                found.append(Import(path, node.lineno, candidate if is_module else target))
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(Import(path, node.lineno, node.args[0].value))
    return found


def _where(root: Path, path: Path, line: int) -> str:
    return f"{path.relative_to(root).as_posix()}:{line}"


def import_violations(root: Path) -> list[str]:
    """Each import that crosses the rooms outward, as "file:line imports X (room A may not
    import room B)"; a module in a room the table does not know is reported too."""
    problems: list[str] = []
    for path in _source_files(root):
        own = room_of(_module_name(root, path))
        assert own is not None
        if own not in ALLOWED:
            problems.append(f"{_where(root, path, 1)} is in {own}, a room with no import rule")
            continue
        for imp in imports_of(root, path):
            target = room_of(imp.module)
            if target is None or target == own or target in ALLOWED[own]:
                continue
            if imp.module in ALLOWED_MODULES.get(own, frozenset()):
                continue
            problems.append(
                f"{_where(root, path, imp.line)} imports {imp.module} "
                f"(room {own} may not import room {target})"
            )
    return problems


def import_cycles(root: Path) -> list[list[str]]:
    """Import cycles among bot/ modules, each as a path that starts and ends at one module.
    Every import is an edge, including lazy ones, since a cycle hidden inside a function is
    still two modules that cannot be understood apart."""
    modules = {_module_name(root, p): p for p in _source_files(root, ("bot",))}
    graph: dict[str, list[str]] = {
        name: sorted(
            {
                imp.module
                for imp in imports_of(root, path)
                if imp.module in modules and imp.module != name
            }
        )
        for name, path in modules.items()
    }
    # Tarjan's strongly connected components; each component larger than one is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(start: str) -> None:
        work: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return [_cycle_path(graph, set(component)) for component in components]


def _cycle_path(graph: dict[str, list[str]], component: set[str]) -> list[str]:
    """One concrete cycle through a strongly connected component: a breadth-first search
    from its first module back to itself, staying inside the component."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in graph[node]:
                if nxt not in component:
                    continue
                if nxt == start:
                    back = [node]
                    while back[-1] != start:
                        back.append(previous[back[-1]])
                    return [*reversed(back), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return sorted(component)  # unreachable for a real component


def sql_in_bot(root: Path) -> list[str]:
    """Places in bot/ that build SQL: a SQL-building name imported from sqlalchemy or
    sqlmodel (or used through ``import sqlalchemy as sa``), and any ``__table__``."""
    problems: list[str] = []
    for path in _source_files(root, ("bot",)):
        library_aliases: set[str] = set()
        tree = _parse(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] in _SQL_LIBRARIES:
                    for alias in node.names:
                        if alias.name in SQL_BUILDERS:
                            problems.append(
                                f"{_where(root, path, node.lineno)} imports {alias.name} "
                                f"from {node.module}"
                            )
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in _SQL_LIBRARIES:
                        library_aliases.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            if node.attr == "__table__":
                problems.append(f"{_where(root, path, node.lineno)} uses __table__")
            elif node.attr in SQL_BUILDERS and _base_name(node.value) in library_aliases:
                problems.append(f"{_where(root, path, node.lineno)} uses {node.attr} from sql")
    return problems


def _base_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def queries_run_in_bot(root: Path) -> list[str]:
    """Calls of ``.exec(...)`` or ``.execute(...)`` in bot/: a query run there rather than
    by a function in storage/repositories/."""
    problems: list[str] = []
    for path in _source_files(root, ("bot",)):
        for node in ast.walk(_parse(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"exec", "execute"}
            ):
                problems.append(f"{_where(root, path, node.lineno)} runs .{node.func.attr}(...)")
    return problems


def stray_top_level(root: Path) -> list[str]:
    """Entries at bot/'s top level other than the wiring modules and the room packages."""
    strays: list[str] = []
    for entry in sorted((root / "bot").iterdir()):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            if entry.name not in BOT_ROOMS:
                strays.append(f"bot/{entry.name}/ is not a room")
            elif not (entry / "__init__.py").is_file():
                strays.append(f"bot/{entry.name}/ has no __init__.py")
        elif entry.name not in BOT_TOP_FILES:
            strays.append(f"bot/{entry.name} belongs in a room")
    return strays


# The real tree.


def _report(problems: list[str]) -> str:
    return "\n" + "\n".join(problems)


def test_no_module_imports_outward_across_the_rooms() -> None:
    problems = import_violations(ROOT)
    assert not problems, _report(problems)


def test_no_import_cycle_in_bot() -> None:
    cycles = import_cycles(ROOT)
    assert not cycles, _report([" -> ".join(cycle) for cycle in cycles])


def test_no_sql_built_in_bot() -> None:
    problems = sql_in_bot(ROOT)
    assert not problems, _report(problems)


def test_no_query_run_in_bot() -> None:
    problems = queries_run_in_bot(ROOT)
    assert not problems, _report(problems)


def test_bot_top_level_holds_only_the_wiring_and_the_rooms() -> None:
    strays = stray_top_level(ROOT)
    assert not strays, _report(strays)


def test_every_room_says_what_it_may_import() -> None:
    """Each room's package docstring names its imports, so a reader sees the rule where
    the code is."""
    missing = []
    for room in BOT_ROOMS:
        init = ROOT / "bot" / room / "__init__.py"
        doc = ast.get_docstring(_parse(init)) if init.is_file() else None
        if not doc or "may import" not in doc.lower():
            missing.append(f"bot/{room}/__init__.py")
    assert not missing, _report(missing)


# The checkers can fail: synthetic trees with one offence each.


def _write(root: Path, relative: str, source: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A clean miniature of the repository: every check passes on it."""
    for name in BOT_TOP_FILES:
        _write(tmp_path, f"bot/{name}")
    for room in BOT_ROOMS:
        _write(tmp_path, f"bot/{room}/__init__.py", '"""May import: nothing."""\n')
    for package in ("flows", "nlu", "storage"):
        _write(tmp_path, f"{package}/__init__.py")
    _write(tmp_path, "bot/common/clock.py", "import datetime\nfrom bot import settings\n")
    _write(tmp_path, "bot/inbound/pipeline.py", "from bot.common import clock\nimport flows\n")
    _write(tmp_path, "bot/outbound/planning.py", "from ..operatives import x\n")
    _write(tmp_path, "bot/operatives/x.py", "from sqlmodel import Session\n")
    _write(tmp_path, "flows/step.py", "from nlu import y\n")
    _write(tmp_path, "nlu/y.py", "import re\n")
    return tmp_path


def test_checkers_pass_a_clean_tree(tree: Path) -> None:
    assert import_violations(tree) == []
    assert import_cycles(tree) == []
    assert sql_in_bot(tree) == []
    assert queries_run_in_bot(tree) == []
    assert stray_top_level(tree) == []


def test_an_outward_import_is_reported_with_its_line(tree: Path) -> None:
    _write(
        tree,
        "bot/outbound/dispatcher.py",
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bot.channels import sms\n",
    )
    _write(tree, "bot/inbound/snapshot.py", "def f():\n    from .. import runtime\n")
    _write(tree, "storage/repo.py", "import bot.common.clock\n")
    _write(tree, "flows/rule.py", "from storage import repo\nfrom storage.enums import Kind\n")
    _write(tree, "bot/common/links.py", "import importlib\nimportlib.import_module('bot.web')\n")

    assert sorted(import_violations(tree)) == [
        "bot/common/links.py:2 imports bot.web (room bot.common may not import room bot.web)",
        "bot/inbound/snapshot.py:2 imports bot.runtime "
        "(room bot.inbound may not import room bot.runtime)",
        "bot/outbound/dispatcher.py:4 imports bot.channels "
        "(room bot.outbound may not import room bot.channels)",
        "flows/rule.py:1 imports storage.repo (room flows may not import room storage)",
        "storage/repo.py:1 imports bot.common.clock (room storage may not import room bot.common)",
    ]


def test_a_room_without_a_rule_is_reported(tree: Path) -> None:
    _write(tree, "bot/plugins/__init__.py")
    assert import_violations(tree) == [
        "bot/plugins/__init__.py:1 is in bot.plugins, a room with no import rule"
    ]


def test_an_import_cycle_is_reported_as_a_path(tree: Path) -> None:
    _write(tree, "bot/inbound/snapshot.py", "def answer():\n    from bot.inbound import pipeline\n")
    _write(tree, "bot/inbound/pipeline.py", "from bot.inbound.context import c\n")
    _write(tree, "bot/inbound/context.py", "from . import snapshot\n")

    assert import_cycles(tree) == [
        [
            "bot.inbound.context",
            "bot.inbound.snapshot",
            "bot.inbound.pipeline",
            "bot.inbound.context",
        ]
    ]


def test_sql_built_in_bot_is_reported(tree: Path) -> None:
    _write(tree, "bot/web/queries.py", "from sqlmodel import Session, col, select\n")
    _write(tree, "bot/outbound/claim.py", "from sqlalchemy.dialects.postgresql import insert\n")
    _write(tree, "bot/common/rows.py", "import sqlalchemy as sa\nq = sa.func.count()\n")
    _write(tree, "bot/inbound/store.py", "def f(m):\n    return m.__table__\n")

    assert sorted(sql_in_bot(tree)) == [
        "bot/common/rows.py:2 uses func from sql",
        "bot/inbound/store.py:2 uses __table__",
        "bot/outbound/claim.py:1 imports insert from sqlalchemy.dialects.postgresql",
        "bot/web/queries.py:1 imports col from sqlmodel",
        "bot/web/queries.py:1 imports select from sqlmodel",
    ]


def test_a_query_run_in_bot_is_reported(tree: Path) -> None:
    _write(tree, "bot/web/page.py", "def f(session, q):\n    return session.exec(q).all()\n")
    assert queries_run_in_bot(tree) == ["bot/web/page.py:2 runs .exec(...)"]


def test_a_loose_module_or_unknown_package_at_bot_top_is_reported(tree: Path) -> None:
    _write(tree, "bot/pipeline.py")
    _write(tree, "bot/dispatch/__init__.py")
    _write(tree, "bot/README.txt")

    assert stray_top_level(tree) == [
        "bot/README.txt belongs in a room",
        "bot/dispatch/ is not a room",
        "bot/pipeline.py belongs in a room",
    ]
