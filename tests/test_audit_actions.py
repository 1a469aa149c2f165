"""Audit action names are whole words in one place: a name seen on the Audit screen is found
in the source by searching for it, and no service builds one from parts."""

from __future__ import annotations

import ast
from pathlib import Path

from services.audit.actions import AuditAction

SERVICES = Path(__file__).parents[1] / "services"


def _action_arguments() -> list[tuple[str, ast.expr]]:
    """Every `action=` given to append() and every refusal named to refusals_recorded()."""
    found = []
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            where = f"{path.relative_to(SERVICES.parent)}:{node.lineno}"
            if node.func.id == "append":
                found += [(where, k.value) for k in node.keywords if k.arg == "action"]
            elif node.func.id == "refusals_recorded":
                found.append((where, node.args[2]))
    return found


def _names_a_member(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name) and expr.id == "refused":
        return True  # refusals_recorded passing on the refused name its caller gave it
    if isinstance(expr, ast.IfExp):
        return _names_a_member(expr.body) and _names_a_member(expr.orelse)
    return (isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name)
            and expr.value.id == "AuditAction" and expr.attr in AuditAction.__members__)


def test_every_audited_write_names_its_action_from_the_enum() -> None:
    found = _action_arguments()
    assert len(found) > 30  # the walk found the writers
    assert [w for w, expr in found if not _names_a_member(expr)] == []


def test_every_refusal_is_recorded_under_a_refused_name() -> None:
    refused = [expr.attr for _, expr in _action_arguments()
               if isinstance(expr, ast.Attribute) and expr.attr.endswith("_REFUSED")]
    assert refused and all(AuditAction[name].value.endswith(".refused") for name in refused)


def test_action_names_are_unique_and_dotted() -> None:
    values = [a.value for a in AuditAction]
    assert len(values) == len(set(values))
    assert all(v.count(".") in (1, 2) and v == v.lower() for v in values)
