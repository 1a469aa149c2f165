"""Explanations and replay across the kinds of model people register (#15): each kind trained
small, registered in one real MLflow registry by its own flavor, its decisions ingested through
the real API with the scores its trained object gave. For every kind: the replay reproduces
the score, contributions are named by the logged inputs and add up to the replayed score, a
counterfactual really flips the decision, the case file renders with its override form, and
`govern explain --json` agrees. A version the console cannot load says so and keeps its
actions."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from streamlit.testing.v1 import AppTest

from services.cli.main import main
from services.core.clock import utcnow
from services.core.principal import Principal, Role
from services.decisions.counterfactual import smallest_flip
from services.decisions.explain import ADDITIVITY_TOLERANCE, DecisionExplainer
from services.decisions.ingest import record_decisions
from services.decisions.why import prepare_explainer
from services.registry.adapter import Registry
from services.store.engine import make_engine
from services.store.migrate import upgrade
from tests.model_kinds import (
    CATEGORICAL,
    KINDS,
    SENSITIVE,
    RegisteredKind,
    loan_book,
    register_kind,
)

APP = str(Path(__file__).resolve().parents[1] / "app.py")
THRESHOLD = 0.5
DECISIONS_PER_KIND = 4
UNLOADABLE = "m-unloadable"
ANALYST = Principal("ana", "Ana Lyst", frozenset({Role.ANALYST}))


@dataclass
class Matrix:
    home: Path
    uri: str
    kinds: dict[str, RegisteredKind]
    decisions: dict[str, list[tuple[str, dict[str, Any], float]]]  # kind -> (id, inputs, score)
    explainers: dict[str, DecisionExplainer] = field(default_factory=dict)

    def explainer(self, kind: str) -> DecisionExplainer:
        if kind not in self.explainers:
            registered = self.kinds[kind]
            self.explainers[kind] = prepare_explainer(
                registry=Registry(self.uri), model_name=registered.model_name,
                version=registered.version)
        return self.explainers[kind]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """One registry and one store for the module: every kind registered, its decisions in."""
    home = tmp_path_factory.mktemp("explain-matrix")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("kinds", artifact_location=(home / "art").as_uri())
    book = loan_book()
    kinds = {kind: register_kind(client, experiment, kind, book) for kind in KINDS}
    unloadable = register_kind(client, experiment, "custom pyfunc", book, name=UNLOADABLE)
    engine = make_engine(f"sqlite:///{home / 'governance.db'}")
    upgrade(engine)
    registry = Registry(uri)
    decisions = {kind: _decide(engine, registry, registered)
                 for kind, registered in [*kinds.items(), ("unloadable", unloadable)]}
    # Then the version turns into one logged by a flavor the console cannot load.
    stored = client.get_model_version_download_uri(UNLOADABLE, unloadable.version)
    mlmodel = Path(stored.removeprefix("file://")) / "MLmodel"
    spec = yaml.safe_load(mlmodel.read_text())
    spec["flavors"] = {"onnx": {"onnx_version": "1.17"},
                       "python_function": {"loader_module": "mlflow.onnx"}}
    mlmodel.write_text(yaml.safe_dump(spec))
    from services.governance.accounts import add_user

    add_user(engine=engine, actor=Principal("root", "Root", frozenset({Role.ADMIN})),
             username=ANALYST.id, password="a long passphrase 42",
             roles=ANALYST.roles, display_name=ANALYST.name)
    engine.dispose()
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(name, None)  # set by mlflow.set_tracking_uri: no later test inherits it
    yield Matrix(home, uri, kinds, decisions)


def _decide(engine: Any, registry: Registry,
            registered: RegisteredKind) -> list[tuple[str, dict[str, Any], float]]:
    """Score hold-out applicants with the trained object, as serving would, and log them."""
    rows = registered.holdout[registered.inputs].head(DECISIONS_PER_KIND * 3)
    scores = registered.served(rows)
    chosen = _both_outcomes(scores)[:DECISIONS_PER_KIND]
    logged = []
    for position in chosen:
        inputs = {k: (v.item() if hasattr(v, "item") else v)
                  for k, v in rows.iloc[position].to_dict().items()}
        logged.append((f"{registered.model_name}-{position}", inputs, float(scores[position])))
    report = record_decisions(
        engine=engine, registry=registry,
        actor=Principal("svc", "Serving", frozenset({Role.MODEL_OWNER})),
        decisions=[{"decision_id": decision_id, "model_name": registered.model_name,
                    "model_version": registered.version, "decided_at": utcnow().isoformat(),
                    "subject_ref": f"APP-{decision_id}", "features": inputs, "score": score,
                    "threshold": THRESHOLD,
                    "outcome": "approved" if score >= THRESHOLD else "declined"}
                   for decision_id, inputs, score in logged])
    assert (report.accepted, report.quarantined) == (len(logged), 0), report.reasons
    return logged


def _both_outcomes(scores: np.ndarray) -> list[int]:
    above = [i for i, s in enumerate(scores) if s >= THRESHOLD]
    below = [i for i, s in enumerate(scores) if s < THRESHOLD]
    mixed = [i for pair in zip(above, below, strict=False) for i in pair]
    return mixed + [i for i in range(len(scores)) if i not in mixed]


@pytest.fixture
def workspace(matrix: Matrix, monkeypatch: pytest.MonkeyPatch) -> Matrix:
    """The matrix's store and registry as the app's and the command line's workspace."""
    monkeypatch.setenv("GOVERNANCE_HOME", str(matrix.home))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", matrix.uri)
    return matrix


@pytest.mark.parametrize("kind", KINDS)
def test_the_replay_reproduces_the_score_the_trained_model_gave(matrix: Matrix,
                                                                kind: str) -> None:
    explainer = matrix.explainer(kind)
    for _decision, inputs, score in matrix.decisions[kind]:
        replayed = explainer.replay(inputs, score)
        assert replayed.matches, (replayed.recomputed, score)


@pytest.mark.parametrize("kind", KINDS)
def test_contributions_are_the_logged_inputs_and_add_up_to_the_replayed_score(
        matrix: Matrix, kind: str) -> None:
    explainer = matrix.explainer(kind)
    for _decision, inputs, score in matrix.decisions[kind]:
        explanation = explainer.explain(inputs)
        assert [c.feature for c in explanation.contributions] != []
        assert {c.feature for c in explanation.contributions} == set(inputs)
        assert explanation.adds_up
        assert abs(explanation.explained_score - score) <= ADDITIVITY_TOLERANCE
        assert 0.0 <= explanation.base_value <= 1.0
        shown = {c.feature: c.shown for c in explanation.contributions}
        assert shown["age"] == str(int(inputs["age"]))  # a whole number shows without .0


@pytest.mark.parametrize("kind", KINDS)
def test_a_counterfactual_really_flips_the_decision_with_a_value_the_input_can_take(
        matrix: Matrix, kind: str) -> None:
    explainer = matrix.explainer(kind)
    registered = matrix.kinds[kind]
    holdout = registered.holdout
    flips = 0
    for _decision, inputs, score in matrix.decisions[kind]:
        flip = smallest_flip(explainer, inputs, threshold=THRESHOLD,
                             never_change=frozenset(SENSITIVE))
        if flip is None:
            continue
        flips += 1
        assert flip.feature not in SENSITIVE
        changed = {**inputs, flip.feature: flip.changed_to}
        # Scored by the trained object itself, not the console's loading of it.
        rescored = float(registered.served(pd.DataFrame([changed])[registered.inputs])[0])
        assert (rescored >= THRESHOLD) != (score >= THRESHOLD)
        assert rescored == pytest.approx(flip.new_score, abs=1e-9)
        if flip.feature in CATEGORICAL:
            assert flip.changed_to in set(holdout[flip.feature])
        else:
            assert holdout[flip.feature].min() <= flip.changed_to <= holdout[flip.feature].max()
        if flip.feature in ("age", "months"):
            assert isinstance(flip.changed_to, int) and "." not in flip.shown_changed
    assert flips > 0, "no decision of this kind had a single change that flips it"


@pytest.mark.parametrize("kind", KINDS)
def test_the_case_file_explains_replays_and_keeps_its_override_form(workspace: Matrix,
                                                                     kind: str) -> None:
    decision_id = workspace.decisions[kind][0][0]
    at = _case_file(decision_id)
    assert not at.exception
    assert at.title[0].value.replace("\\", "") == f"Decision {decision_id}"
    texts = _texts(at)
    assert "Reproduced: version" in texts
    assert "does not add up" not in texts
    assert at.get("plotly_chart")  # the waterfall
    assert "Checked: they add up to the replayed score" in " ".join(c.value for c in at.caption)
    assert at.text_area and at.radio  # the override form


@pytest.mark.parametrize("kind", KINDS)
def test_govern_explain_json_agrees_with_the_explanation(
        workspace: Matrix, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    decision_id, inputs, score = workspace.decisions[kind][-1]
    assert main(["explain", decision_id, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    explanation = workspace.explainer(kind).explain(inputs)
    assert report["verified"] and report["adds_up"] and report["replay_matches"]
    assert report["logged_score"] == pytest.approx(score, abs=1e-12)
    assert report["explained_score"] == pytest.approx(explanation.explained_score, abs=1e-12)
    assert report["base_value"] == pytest.approx(explanation.base_value, abs=1e-12)
    assert {c["input"]: c["effect"] for c in report["contributions"]} == pytest.approx(
        {c.feature: c.effect for c in explanation.contributions}, abs=1e-12)
    assert report["method"] == explanation.method.value
    assert report["inputs"]["age"] == str(int(inputs["age"]))  # stored as 35.0, shown as 35


def test_a_version_that_cannot_be_loaded_says_why_and_keeps_the_case_files_actions(
        workspace: Matrix, capsys: pytest.CaptureFixture[str]) -> None:
    decision_id = workspace.decisions["unloadable"][0][0]
    at = _case_file(decision_id)
    assert not at.exception
    texts = _texts(at)
    assert "cannot be loaded: it is logged as onnx, python_function" in texts
    assert "Reproduced" not in texts and not at.get("plotly_chart")
    assert at.text_area and at.radio  # the analyst can still act
    assert {m.label for m in at.metric} >= {"Outcome now", "Score", "Threshold"}
    assert main(["explain", decision_id, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["verified"] and report["contributions"] == []
    assert "cannot be loaded" in report["explanation_problem"]
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert [gap.split(":")[1].strip() for gap in rows[UNLOADABLE]["version_gaps"]] == [
        "model flavor the console loads"]
    assert all(rows[workspace.kinds[kind].model_name]["version_gaps"] == [] for kind in KINDS)


@pytest.mark.parametrize("kind", ["lightgbm", "xgboost", "custom pyfunc"])
def test_evidence_runs_on_versions_logged_by_other_flavors(matrix: Matrix, kind: str,
                                                           tmp_path: Path) -> None:
    from sklearn.metrics import roc_auc_score

    from services.core.policy import load_policy
    from services.core.settings import PROJECT_ROOT
    from services.evidence.run import run_evidence

    engine = make_engine(f"sqlite:///{tmp_path / 'governance.db'}")
    upgrade(engine)
    registered = matrix.kinds[kind]
    run = run_evidence(engine=engine, registry=Registry(matrix.uri),
                       policy=load_policy(PROJECT_ROOT / "policy.toml"),
                       actor=Principal("val", "Val", frozenset({Role.VALIDATOR})),
                       model_name=registered.model_name, version=registered.version)
    holdout = registered.holdout
    expected = roc_auc_score(holdout["repaid"], registered.served(holdout[registered.inputs]))
    figures = run.evaluation.evaluation().metrics.figures()
    assert figures["roc_auc"] == pytest.approx(expected, abs=1e-9)
    assert run.fairness is not None


def _case_file(decision_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["signed_in"] = (ANALYST, utcnow())
    at.run()
    at.switch_page("pages/case_file.py")
    at.query_params["decision"] = decision_id
    return at.run()


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind)).replace("\\", "")
