"""The demo's vendor model (bureau-score) through AppTest on a copy of the demo: the Model page
shows its vendor, release and documents with their SHA-256 and lets its owner keep another;
the case file of one of its decisions says why nothing is replayed or explained."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from services.core.principal import Principal, Role
from services.core.settings import Settings
from services.demo.vendor import DOCUMENTS, NAME
from services.store.engine import make_engine, session_scope
from services.store.models import AuditEvent, Decision, Evidence

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind)).replace("\\", "")


def _model_page(persona: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = persona
    at.query_params["model"] = NAME
    at.run()
    at.switch_page("pages/model.py").run()
    assert not at.exception
    return at


def _documents(at: AppTest) -> dict[str, str]:
    table = next(d.value for d in at.dataframe if "SHA-256" in d.value.columns)
    return dict(zip(table["File"], table["SHA-256"], strict=True))


def test_the_model_page_shows_a_vendor_models_facts_and_documents(demo_env: Settings) -> None:
    at = _model_page("executive")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vendor"] == "Northwind Credit Bureau"
    assert metrics["Vendor release"] == "4.2" and metrics["Champion"] == "v1"
    assert "the console holds no artifact to replay or explain it" in _texts(at)
    assert _documents(at) == {name: hashlib.sha256(text.encode()).hexdigest()
                              for _, name, text in DOCUMENTS}
    assert not [w for w in at.text_input if w.key == "vendor_document_title"]  # may not add
    contract = at.dataframe[-1].value.set_index("Requirement")
    assert contract.loc["version tag 'vendor_version'", "Present"]
    assert "Every record the governance contract asks for is present" in _texts(at)


def test_the_models_owner_keeps_a_document_received(demo_copy: Settings) -> None:
    at = _model_page("model_owner")
    content = b"Change notice: release 4.3 recalibrates thin files.\n"
    at.text_input(key="vendor_document_title").input("Change notice 4.3")
    at.get("file_uploader")[0].upload("change-4.3.txt", content, "text/plain")
    at.button(key="vendor_document_submit").click().run()
    assert not at.exception
    digest = hashlib.sha256(content).hexdigest()
    assert f"SHA-256 {digest}" in _texts(at)
    assert _documents(at)["change-4.3.txt"] == digest
    with session_scope(make_engine(demo_copy.database_url)) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None and last.action == "vendor_document.recorded"
        assert last.actor == "demo.amara" and last.payload["sha256"] == digest


def test_the_case_file_of_a_vendor_decision_says_why_there_is_no_replay(
        demo_copy: Settings) -> None:
    with session_scope(make_engine(demo_copy.database_url)) as session:
        decision_id = session.scalar(select(Decision.decision_id).where(
            Decision.model_name == NAME, Decision.outcome == "declined").limit(1))
    assert decision_id is not None
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = "analyst"
    at.run()
    at.switch_page("pages/case_file.py")
    at.query_params["decision"] = decision_id
    at.run()
    assert not at.exception
    said = _texts(at)
    assert "Scored by Northwind Credit Bureau" in said
    assert said.count("the console holds no artifact to replay or explain it") == 1
    assert not at.get("plotly_chart")  # no waterfall
    inputs = next(d.value for d in at.dataframe if "Input" in d.value.columns)
    assert set(inputs["Input"]) == {"income", "debt_ratio", "accounts_open", "region", "age"}
    assert at.text_area  # a person may still override it


def test_a_new_release_leaves_the_serving_release_and_settings_shown(
        demo_copy: Settings) -> None:
    from services.governance.vendors import register_vendor_model
    from services.registry.adapter import Registry

    registry = Registry(demo_copy.mlflow_tracking_uri, demo_copy.mlflow_registry_uri)
    before = registry.get_model(NAME).tags
    owner = Principal("demo.amara", "Amara", frozenset({Role.MODEL_OWNER}))
    register_vendor_model(
        engine=make_engine(demo_copy.database_url), registry=registry, actor=owner,
        name=NAME, vendor="Northwind Credit Bureau", vendor_version="4.3",
        purpose=before["intended_use"], owner=before["owner"], risk_tier=before["risk_tier"],
        inputs=registry.input_schema(NAME, "1"), label=before["label"],
        positive_label=before["positive_label"], artifact_root=demo_copy.artifact_root)
    after = registry.get_model(NAME).tags
    assert {k: after[k] for k in ("limitations", "sensitive_features")} == \
        {k: before[k] for k in ("limitations", "sensitive_features")}
    at = _model_page("executive")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vendor release"] == "4.2" and metrics["Champion"] == "v1"
    versions = next(d.value for d in at.dataframe if "Vendor release" in d.value.columns)
    assert dict(zip(versions["Version"], versions["Vendor release"], strict=True)) == \
        {"v2": "4.3", "v1": "4.2"}


def _new_release_without_scores(settings: Settings) -> None:
    from services.governance.vendors import register_vendor_model
    from services.registry.adapter import Registry

    registry = Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri)
    tags = registry.get_model(NAME).tags
    register_vendor_model(
        engine=make_engine(settings.database_url), registry=registry,
        actor=Principal("demo.amara", "Amara", frozenset({Role.MODEL_OWNER})), name=NAME,
        vendor="Northwind Credit Bureau", vendor_version="4.4",
        purpose=tags["intended_use"], owner=tags["owner"], risk_tier=tags["risk_tier"],
        inputs=registry.input_schema(NAME, "1"), label=tags["label"],
        positive_label=tags["positive_label"], artifact_root=settings.artifact_root)


def _evidence_page(version: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = "risk_manager"
    at.query_params["model"] = NAME
    at.query_params["version"] = version
    at.run()
    at.switch_page("pages/evidence.py").run()
    assert not at.exception
    return at


def test_a_vendor_version_with_its_scores_logged_runs_without_loading_a_model(
        demo_env: Settings) -> None:
    at = _evidence_page("1")
    run = next(b for b in at.button if b.label.startswith("Run evidence for v1"))
    assert "never run" in run.help and "loads this exact version" not in run.help.lower()
    assert not at.get("file_uploader")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_vendor_version_without_scores_offers_an_upload_up_front(demo_copy: Settings,
                                                                   suffix: str) -> None:
    import numpy as np

    from services.demo.vendor import applicants

    _new_release_without_scores(demo_copy)
    at = _evidence_page("2")
    assert "registered without a scored hold-out set" in _texts(at)
    run = at.button(key="run_scored_file")
    assert run.disabled  # nothing to run from until a file is chosen
    frame = applicants(400, np.random.default_rng(7))
    buffer = io.BytesIO()
    if suffix == "csv":
        frame.to_csv(buffer, index=False)
    else:
        frame.to_parquet(buffer)
    at.get("file_uploader")[0].upload(f"scored-4.4.{suffix}", buffer.getvalue(),
                                      "application/octet-stream").run()
    at.button(key="run_scored_file").click().run()
    assert not at.exception
    assert "(latest)" in at.selectbox(key=f"run_{NAME}_2").options[0]
    with session_scope(make_engine(demo_copy.database_url)) as session:
        stored = session.scalars(select(Evidence).where(
            Evidence.model_name == NAME, Evidence.model_version == "2")).all()
    assert {e.kind for e in stored} >= {"evaluation", "fairness", "reference_profile"}
    assert {e.data_sha256 for e in stored} == {hashlib.sha256(buffer.getvalue()).hexdigest()}
