"""The `govern` command: reports for people and --json for machines, errors in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.main import main
from services.core.settings import Settings


def test_models_json_lists_the_inventory(demo_env: Settings,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["credit-risk"]["champion"] == "2"
    assert rows["marketing-propensity"]["contract_gaps"] == 7


def test_db_current_reports_a_store_behind_and_exits_non_zero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    assert main(["db", "current", "--json"]) == 1
    state = json.loads(capsys.readouterr().out)
    assert state["current"] is None and state["head"]
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0


def test_an_unreachable_registry_is_an_error_in_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert main(["models"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The MLflow registry at http://127.0.0.1:9 cannot be reached")
    assert "Traceback" not in err
