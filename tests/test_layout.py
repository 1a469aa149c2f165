"""The house rules of the tree, checked: packages import only those below them, services never
import Streamlit, pages never reach the store or MLflow, and no file points outside the
repository."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# Bottom to top, as the README's layout lists them: each may import only those before it.
LAYERS = ["core", "store", "audit", "notify", "registry", "evidence", "decisions", "monitoring",
          "governance", "reports", "api", "demo", "cli"]


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_every_services_package_has_its_place_in_the_layers() -> None:
    packages = {p.name for p in (ROOT / "services").iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(LAYERS)
    assert not [p.name for p in (ROOT / "services").glob("*.py") if p.name != "__init__.py"]


def test_services_packages_import_only_the_layers_below_them() -> None:
    upward = []
    for package in LAYERS:
        allowed = set(LAYERS[:LAYERS.index(package) + 1])
        for path in (ROOT / "services" / package).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "services" and len(parts) > 1 and parts[1] not in allowed:
                    upward.append(f"{path.relative_to(ROOT)} imports {name}")
    assert upward == []


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("services", ("streamlit",)),
    ("pages", ("sqlalchemy", "mlflow")),
])
def test_layers_keep_their_hands_off(folder: str, forbidden: tuple[str, ...]) -> None:
    found = [f"{path.relative_to(ROOT)} imports {name}"
             for path in (ROOT / folder).rglob("*.py") for name in _imports(path)
             if name.split(".")[0] in forbidden]
    assert found == []


def test_no_file_points_to_documents_outside_the_repository() -> None:
    ours = [path for folder in ("services", "ui", "pages", "tests", "benchmarks", "migrations")
            for path in (ROOT / folder).rglob("*") if path.suffix in (".py", ".md", ".toml")
            and "data" not in path.relative_to(ROOT).parts[:2]]  # benchmarks/data: peers' venvs
    ours += [ROOT / name for name in ("README.md", "pyproject.toml", "app.py", "Makefile")]
    outside = [str(path.relative_to(ROOT)) for path in ours
               if any(pointer in path.read_text(errors="replace")
                      for pointer in ("../shared", "shared facts", "shared/design"))
               and path != Path(__file__)]
    assert outside == []
