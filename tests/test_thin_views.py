"""Views stay thin: parse the request, call a service, render. A view that builds or runs a
query, or borrows another view's helpers, is caught here, read from the source."""

import ast
from pathlib import Path

import pytest

import wiki.views

VIEWS = sorted(Path(wiki.views.__file__).parent.glob("*.py"))
DATA_ACCESS = ("sqlalchemy", "wiki.extensions.db")


def imported_names(tree: ast.Module) -> set[str]:
    """Every module and module attribute *tree* imports, dotted (``wiki.extensions.db``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def data_access(tree: ast.Module) -> list[str]:
    """Imports of the database layer, and uses of ``db.`` or ``select(``, in *tree*."""
    found = sorted(name for name in imported_names(tree) if name.startswith(DATA_ACCESS))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "db":
            found.append(f"line {node.lineno}: db.{node.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "select":
            found.append(f"line {node.lineno}: select(...)")
    return found


@pytest.mark.parametrize("module", VIEWS, ids=lambda path: path.name)
def test_no_view_builds_or_runs_a_query(module):
    assert data_access(ast.parse(module.read_text())) == []


@pytest.mark.parametrize("module", VIEWS, ids=lambda path: path.name)
def test_no_view_imports_another_view(module):
    """Shared helpers (loaders such as get_revision_or_404) live in wiki.web, not in a view."""
    names = imported_names(ast.parse(module.read_text()))
    assert [name for name in names if name.startswith("wiki.views.")
            and name not in {"wiki.views.form_status", "wiki.views.FORM_REFUSED"}] == []


def test_the_check_catches_a_query_in_a_view():
    source = ("from wiki.extensions import db\nfrom sqlalchemy import select\n"
              "def view():\n    return db.session.scalars(select(Page))\n")
    assert sorted(data_access(ast.parse(source))) == [
        "line 4: db.session", "line 4: select(...)", "sqlalchemy.select", "wiki.extensions.db"]
