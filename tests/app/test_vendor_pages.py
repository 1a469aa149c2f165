"""The demo's vendor model (bureau-score) through AppTest on a copy of the demo: the Model page
shows its vendor, release and documents with their SHA-256 and lets its owner keep another;
the case file of one of its decisions says why nothing is replayed or explained."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from services.core.settings import Settings
from services.demo.vendor import DOCUMENTS, NAME
from services.store.engine import make_engine, session_scope
from services.store.models import AuditEvent, Decision

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
    assert said.count("the console holds no artifact to replay or explain it") >= 3
    assert not at.get("plotly_chart")  # no waterfall
    inputs = next(d.value for d in at.dataframe if "Input" in d.value.columns)
    assert set(inputs["Input"]) == {"income", "debt_ratio", "accounts_open", "region", "age"}
    assert at.text_area  # a person may still override it
