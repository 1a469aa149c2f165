"""The demo's findings, read from the shared demo: an open high-severity fairness finding on
the challenger failing its gate, a closed one on the champion, and `govern findings list`."""

from __future__ import annotations

import json

import pytest

from services.cli.main import main
from services.core.settings import Settings


def _listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["findings", "list", *args, "--json"]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_the_demo_has_an_open_finding_on_the_challenger_and_a_closed_one_on_the_champion(
        demo_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    found = {(f["version"], f["status"], f["category"], f["severity"])
             for f in _listed(capsys, "credit-risk")}
    assert found == {("3", "open", "fairness", "high"), ("2", "closed", "performance",
                                                          "medium")}


def test_govern_findings_list_open_leaves_settled_ones_out(
        demo_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert [f["version"] for f in _listed(capsys, "--open")] == ["3"]
    assert main(["findings", "list", "credit-risk"]) == 0
    out = capsys.readouterr().out
    assert "Approval rate by sex below the four-fifths rule" in out and "closed" in out
