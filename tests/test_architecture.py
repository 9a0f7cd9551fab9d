"""The import rules of docs/architecture.md, read from the source with ``ast``."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wiki"

# What a request is made of: a service that reaches for these would only work inside one.
FLASK_REQUEST_NAMES = {"request", "session", "g", "flash", "redirect", "abort", "render_template",
                       "render_template_string", "make_response", "jsonify"}
HTTP_LAYERS = ("wiki.web", "wiki.views", "wiki.forms", "wiki.errors", "flask_login")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, str | None]]:
    """Every import in *path*, as (module, name): ``from a import b`` is ("a", "b"),
    ``import a`` is ("a", None). Imports inside functions count too."""
    found = []
    package = module_name(path if path.name == "__init__.py" else path.parent, root)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this file is in
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}".rstrip(".")
            found += [(base, alias.name) for alias in node.names]
    return found


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """The modules *path* imports, ``from a import b`` counting as ``a.b`` as well as ``a``
    (``b`` may be a module)."""
    return {module for base, name in imports(path, root)
            for module in ((base,) if name is None else (base, f"{base}.{name}"))}


def within(module: str, layers: tuple[str, ...]) -> bool:
    return any(module == layer or module.startswith(layer + ".") for layer in layers)


def sources(folder: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / "wiki" / folder).rglob("*.py"))


def http_in(path: Path, root: Path = ROOT) -> list[str]:
    """What in *path* belongs to HTTP, which services and the policy never touch."""
    from_flask = [name for base, name in imports(path, root) if base == "flask"]
    return sorted(
        [module for module in imported_modules(path, root) if within(module, HTTP_LAYERS)]
        + [f"flask.{name}" for name in from_flask if name in FLASK_REQUEST_NAMES]
        + ["import flask" for name in from_flask if name is None])


def shown(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def views_imported(path: Path, root: Path = ROOT) -> list[str]:
    """The view modules (``wiki/views/<name>.py``) that *path* imports."""
    views = {module_name(view, root) for view in sources("views", root)
             if view.name != "__init__.py"}
    return sorted(imported_modules(path, root) & views - {module_name(path, root)})


@pytest.mark.parametrize("path", sources("services"), ids=shown)
def test_services_know_nothing_of_http(path):
    assert http_in(path) == []


@pytest.mark.parametrize("path", sources("views"), ids=shown)
def test_no_view_imports_another_view(path):
    assert views_imported(path) == []


@pytest.mark.parametrize("path", sources("web"), ids=shown)
def test_the_web_plumbing_never_imports_a_view(path):
    assert [module for module in imported_modules(path) if within(module, ("wiki.views",))] == []


def test_the_models_import_only_the_extensions():
    imported = {base for base, _ in imports(PACKAGE / "models.py") if within(base, ("wiki",))}
    assert imported <= {"wiki.extensions"}


def test_the_policy_is_pure():
    assert http_in(PACKAGE / "permissions.py") == []


def test_the_checks_catch_each_way_of_breaking_the_rules(tmp_path):
    """So that an empty answer above means something."""
    views = tmp_path / "wiki" / "views"
    views.mkdir(parents=True)
    (views / "__init__.py").write_text("")
    (views / "pages.py").write_text("from wiki.views import form_status\n")
    (views / "history.py").write_text("from . import pages\n")
    (views / "links.py").write_text("def later():\n    from wiki.views.pages import view\n")
    service = tmp_path / "wiki" / "services" / "sneaky.py"
    service.parent.mkdir()
    service.write_text(
        "import flask\n"
        "from flask import current_app, request\n"
        "def later():\n"
        "    from wiki.web.access import require\n"
        "    from ..views import pages\n")

    assert http_in(service, tmp_path) == [
        "flask.request", "import flask", "wiki.views", "wiki.views.pages", "wiki.web.access",
        "wiki.web.access.require"]
    assert views_imported(views / "pages.py", tmp_path) == []
    assert views_imported(views / "history.py", tmp_path) == ["wiki.views.pages"]
    assert views_imported(views / "links.py", tmp_path) == ["wiki.views.pages"]
