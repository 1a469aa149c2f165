"""The README's governance-contract example runs, and what it registers meets the contract."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from services.contract import check_contract
from services.registry import Registry
from services.settings import PROJECT_ROOT


def _example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## The governance contract", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README lost its contract example"
    return match.group(1)


def test_the_readme_example_registers_a_governable_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = MlflowClient(uri).create_experiment(
        "readme", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    monkeypatch.chdir(tmp_path)
    exec(compile(_example(), "README.md", "exec"), {})  # noqa: S102 - our own documentation
    registry = Registry(uri)
    report = check_contract(registry.get_model("loan-approval"),
                            registry.lineage("loan-approval", "1"))
    assert report.complete, report.gaps
