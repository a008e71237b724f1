"""The layering the code promises, checked on its syntax trees (``ast``, never regular expressions).

**SQL only in services.** A *blueprint module* is every module under ``survey/`` except

- the data layer: the packages ``survey.services`` (every query and write), ``survey.models`` (the tables)
  and ``survey.migrations`` (schema changes);
- the app-level infrastructure in :data:`INFRASTRUCTURE`: ``survey.db`` (defines the session),
  ``survey.migrate`` (runs the migrations) and, for now, ``survey.auth`` (the user loader, the scope's
  agency tree, ``agency_in_scope``) and ``survey.cli`` (maintenance commands), which still run queries of
  their own.

So the audience packages (``survey.agency``, ``survey.admin``, ``survey.api``, ``survey.downloads``,
``survey.public`` …) and the other top-level helpers (``survey.errors``, ``survey.templating`` …) are
checked. A blueprint module neither calls ``execute``, ``scalar``, ``scalars``, ``get`` or ``query`` on
``db.session`` (or on a session taken from it, ``with db.write() as s`` / ``s = db.session``), nor
imports query-building names (:data:`QUERY_NAMES`: ``select``, ``func`` …) from SQLAlchemy. Transaction
control (``db.session.rollback()``) and ``sqlalchemy.exc`` stay allowed.

**No import cycles.** Every ``import`` and ``from … import`` in ``survey`` and ``analytics``, at module
level or inside functions, is an edge to the module it names (``from pkg import name`` names
``pkg.name`` when that is a module, else ``pkg``). Importing ``a.b.c`` is an edge to ``a.b.c`` only, not
to its parent packages, and edges between a package and its own submodules are left out: Python runs a
package's ``__init__`` before any of its submodules, so a package and the modules in it load as one unit
(this is how every blueprint package registers its routes: ``bp`` first, then the view modules, which
import ``bp``). Any other cycle fails.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("survey", "analytics")

#: Packages of the data layer: they run SQL by design.
DATA_LAYER = ("survey.services", "survey.models", "survey.migrations")
#: App-level modules allowed to run SQL (``survey.auth`` and ``survey.cli`` only until their queries move).
INFRASTRUCTURE = frozenset({"survey.db", "survey.migrate", "survey.auth", "survey.cli"})
#: Session methods that run SQL.
SQL_METHODS = frozenset({"execute", "scalar", "scalars", "get", "query"})
#: Names that build queries; a blueprint module importing one from SQLAlchemy is writing SQL.
QUERY_NAMES = frozenset(
    {
        "select",
        "func",
        "text",
        "insert",
        "update",
        "delete",
        "exists",
        "union",
        "union_all",
        "and_",
        "or_",
        "not_",
        "case",
        "literal",
        "literal_column",
        "bindparam",
        "column",
        "table",
        "aliased",
        "joinedload",
        "selectinload",
        "subqueryload",
        "contains_eager",
        "load_only",
        "defer",
        "undefer",
    }
)
#: Modules of SQLAlchemy whose query-building names count (``sqlalchemy.exc``, ``sqlalchemy.types`` … do not).
QUERY_MODULES = frozenset({"sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression", "sqlalchemy.orm"})


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            name = ".".join(parts)
            found[name] = Module(name, path, is_package)
    return found


MODULES = _modules()


def _tree(module: Module) -> ast.Module:
    return ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The module a ``from … import`` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


# -- SQL only in services ---------------------------------------------------------------------------------------


def _is_blueprint_module(name: str) -> bool:
    if name in INFRASTRUCTURE or not name.startswith("survey"):
        return False
    return not any(name == layer or name.startswith(layer + ".") for layer in DATA_LAYER)


def _is_db_session(node: ast.expr, aliases: set[str]) -> bool:
    """``db.session`` itself, or a name bound to a session taken from ``db``."""
    if isinstance(node, ast.Attribute) and node.attr == "session":
        return isinstance(node.value, ast.Name) and node.value.id == "db"
    return isinstance(node, ast.Name) and node.id in aliases


def _session_aliases(tree: ast.Module) -> set[str]:
    """Names bound to ``db.session`` or to ``db.write()``'s session (``with db.write() as session``)."""
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_db_session(node.value, set()):
            aliases.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "db"
                    and isinstance(item.optional_vars, ast.Name)
                ):
                    aliases.add(item.optional_vars.id)
    return aliases


def sql_in(module: Module, tree: ast.Module | None = None) -> list[str]:
    """Where ``module`` (or ``tree``, parsed from it) runs SQL or imports query builders: ``line: what``."""
    tree = tree or _tree(module)
    aliases = _session_aliases(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_METHODS
            and _is_db_session(node.func.value, aliases)
        ):
            found.append(f"{node.lineno}: session.{node.func.attr}()")
        elif isinstance(node, ast.ImportFrom) and _absolute(module, node) in QUERY_MODULES:
            found.extend(f"{node.lineno}: import {a.name}" for a in node.names if a.name in QUERY_NAMES | {"*"})
        elif isinstance(node, ast.Import):
            found.extend(f"{node.lineno}: import {a.name}" for a in node.names if a.name in QUERY_MODULES)
    return found


def test_the_rule_sees_the_blueprints() -> None:
    """The check covers the audience packages and leaves the data layer and the infrastructure alone."""
    checked = {name for name in MODULES if _is_blueprint_module(name)}
    for name in ("survey.agency.views", "survey.api.indices", "survey.downloads.views", "survey.admin.par"):
        assert name in checked
    for name in ("survey.services.statistics.breakdowns", "survey.models.agency", "survey.db", "survey.auth"):
        assert name in MODULES and name not in checked


def test_the_check_finds_sql() -> None:
    """The detector itself: each way of running SQL in a view is found, transaction control is not."""
    source = (
        "from sqlalchemy import select, func\n"
        "from sqlalchemy.exc import DBAPIError\n"
        "def view():\n"
        "    db.session.scalars(select(A))\n"
        "    db.session.get(A, 1)\n"
        "    db.session.rollback()\n"
        "    with db.write() as s:\n"
        "        s.execute(q)\n"
        "    session.get('flask-session key')\n"
    )
    found = sql_in(Module("survey.probe", ROOT / "survey" / "probe.py", False), ast.parse(source))
    assert found == [
        "1: import select",
        "1: import func",
        "4: session.scalars()",
        "5: session.get()",
        "8: session.execute()",
    ]


def test_no_blueprint_module_runs_sql() -> None:
    offenders = {
        name: found for name, module in MODULES.items() if _is_blueprint_module(name) and (found := sql_in(module))
    }
    assert offenders == {}, "SQL belongs in survey/services/: " + "; ".join(
        f"{name} ({', '.join(found)})" for name, found in sorted(offenders.items())
    )


# -- no import cycles ------------------------------------------------------------------------------------------------


def _imported(module: Module) -> Iterator[str]:
    """Every module of ``survey``/``analytics`` that ``module`` imports, anywhere in its body."""
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            names = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]
        else:
            continue
        yield from (name for name in names if name in MODULES)


def _related(a: str, b: str) -> bool:
    """One is the other's package (or an ancestor of it)."""
    return a.startswith(b + ".") or b.startswith(a + ".")


def import_graph() -> dict[str, set[str]]:
    return {
        name: {target for target in _imported(module) if target != name and not _related(name, target)}
        for name, module in MODULES.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The graph's strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(root: str) -> None:
        # Iterative, so a deep graph cannot hit the recursion limit.
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(tuple(sorted(component)))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return sorted(found)


def test_cycle_detection_works() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [("a", "b", "c")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_count() -> None:
    """The exports cycle is hidden by a local import: the graph must see such imports."""
    graph = import_graph()
    local = [
        name
        for name, module in MODULES.items()
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.FunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("survey.services")
    ]
    assert local, "expected some function-level imports of services"
    assert any(graph[name] for name in local)


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles: " + "; ".join(" ↔ ".join(c) for c in found)
