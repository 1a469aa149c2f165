"""The `govern` list commands lay their tables out by the longest value: a long model or owner
name, or a wide (CJK) one, never pushes the columns out of line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from services.cli.main import main
from services.cli.table import table, width
from services.core.clock import utcnow
from services.core.principal import Principal, Role
from services.governance.accounts import add_user
from services.governance.findings import raise_finding
from services.registry.adapter import Registry

VICTOR = Principal("victor", "Victor", frozenset({Role.VALIDATOR}))
ADMIN = Principal("adam", "Adam", frozenset({Role.ADMIN}))


def _starts(line: str, header: str) -> list[int]:
    # Where each column starts in a line, read from the header's column names.
    return [line.index(name) for name in header.split()]


@pytest.mark.parametrize("names", [
    ["a", "credit-risk-scorecard-for-small-business-lending-europe-2026"],
    ["零售信贷评分模型", "x"],  # wide characters take two columns each
    ["", "line\nbreak\tand tab"],
])
def test_every_column_starts_at_the_same_place_on_every_line(names: list[str]) -> None:
    lines = table(["model", "owner", "due"],
                  [[name, f"owner-of-{name}", "2026-12-01"] for name in names])
    header = lines[0]
    due = header.index("due")
    for line, name in zip(lines[1:], names, strict=True):
        before_due = line[:line.rindex("2026-12-01")]
        assert width(before_due) == due, (name, line)
        assert "\n" not in line and "\t" not in line and not line.endswith(" ")


def test_figures_can_be_aligned_on_the_right() -> None:
    lines = table(["to", "tries"], [["ops", 3], ["risk-desk", 12]], right=[1])
    assert [len(line) for line in lines] == [len(lines[0])] * 3
    assert lines[1].endswith(" 3") and lines[2].endswith("12")


def test_govern_findings_list_keeps_columns_for_long_owner_names(
        engine: Engine, registry: Registry, store_url: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    owners = ["alice", "maria.del.carmen.long-surname-of-the-risk-management-desk"]
    add_user(engine=engine, actor=ADMIN, username=owners[1], password="a long pass phrase 42",
             roles=frozenset({Role.MODEL_OWNER}))
    for owner in owners:
        raise_finding(engine=engine, registry=registry, actor=VICTOR,
                      model_name="loan-approval", version="1",
                      title=f"Gap owned by {owner}", severity="medium", category="data",
                      description="The hold-out under-represents a region.",
                      due_on=utcnow().date() + timedelta(days=30), owner=owner)
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", store_url)
    assert main(["findings", "list"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2
    title_at = header.index("title")
    for row, owner in zip(rows, owners, strict=True):
        assert row.index("Gap owned by") == title_at and owner in row
