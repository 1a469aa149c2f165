"""The README's governance-contract example runs, and what it registers meets the contract."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import pytest

from services.core.settings import PROJECT_ROOT
from services.registry.adapter import Registry
from services.registry.contract import check_contract


def _example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## The governance contract", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README lost its contract example"
    return match.group(1)


def test_the_readme_example_registers_a_governable_model_into_the_workspace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, elsewhere = tmp_path / "workspace", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("GOVERNANCE_HOME", str(home))
    mlflow.set_tracking_uri("")  # MLflow's own default: ./mlruns in the current folder
    monkeypatch.chdir(elsewhere)
    exec(compile(_example(), "README.md", "exec"), {})  # noqa: S102 - our own documentation
    registry = Registry(f"sqlite:///{home / 'mlflow.db'}")
    lineage = registry.lineage("loan-approval", "1")
    report = check_contract(registry.get_model("loan-approval"), lineage)
    assert report.complete, report.gaps
    assert list((home / "mlartifacts" / "loan-approval").rglob("MLmodel"))
    assert list(elsewhere.iterdir()) == []  # no ./mlruns, no ./mlflow.db


def test_the_readme_decision_example_ingests_into_the_demo(demo_copy: object,
                                                           tmp_path: Path) -> None:
    from services.core.principal import Principal, Role
    from services.core.settings import Settings
    from services.decisions.ingest import ingest_decisions_file
    from services.store.engine import make_engine

    readme = (PROJECT_ROOT / "README.md").read_text()
    example = re.search(r"```json\n(.*?)```", readme.split("## The decision log", 1)[1], re.S)
    assert example, "the README lost its decision example"
    path = tmp_path / "decisions.jsonl"
    path.write_text(example.group(1))
    settings = Settings()  # type: ignore[call-arg]  # demo_copy points it at its copy
    report = ingest_decisions_file(
        engine=make_engine(settings.database_url),
        registry=Registry(settings.mlflow_tracking_uri),
        actor=Principal("svc", "Serving", frozenset({Role.MODEL_OWNER})), path=path)
    assert (report.accepted, report.quarantined) == (1, 0), report.reasons
