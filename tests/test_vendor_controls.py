"""A vendor model under the control frameworks, on the demo's northwind-bureau-score: judged by
what the vendor delivered (release, documents with their SHA-256), never credited with what the
console cannot do for it (explaining its decisions), and each vendor-only control of SR 26-2,
ISO/IEC 42001 and the NIST AI RMF judged for it and not applicable to an own model."""

from __future__ import annotations

from services.core.policy import load_policy
from services.core.settings import PROJECT_ROOT, Settings
from services.governance.controls import ControlMatrix, control_matrix
from services.governance.frameworks import chosen, load_frameworks
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope

POLICY = load_policy(PROJECT_ROOT / "policy.toml")
VENDOR = "northwind-bureau-score"
FRAMEWORKS = ["sr-26-2", "eu-ai-act", "iso-iec-42001", "nist-ai-rmf"]


def _matrix(settings: Settings, model: str, version: str) -> ControlMatrix:
    frameworks = chosen(load_frameworks(None), FRAMEWORKS)
    with session_scope(make_engine(settings.database_url)) as session:
        return control_matrix(session=session, registry=Registry(settings.mlflow_tracking_uri),
                              policy=POLICY, model_name=model, version=version,
                              frameworks=frameworks)


def test_a_vendor_model_is_judged_by_what_its_vendor_delivered(demo_env: Settings) -> None:
    judged = _matrix(demo_env, VENDOR, "1").controls
    controls = {(c.framework_id, c.ref): c for c in judged}
    [development] = [c for c in judged if c.title == "Model development and documentation"]
    assert "Supplied by Northwind Credit Bureau, release 4.2" in development.evidence
    assert "Training run" not in development.evidence
    for vendor_only in (("sr-26-2", "§ VII"), ("iso-iec-42001", "A.10.3"),
                        ("nist-ai-rmf", "GOVERN 6.1")):
        assert controls[vendor_only].status != "not applicable"
        assert "document(s) received" in controls[vendor_only].evidence
    # Art. 86: no artifact, no explanation; a gap the deployer must fill, never "met".
    explanation = controls[("eu-ai-act", "Art. 86")]
    assert explanation.status == "gap" and "vendor model" in explanation.evidence


def test_the_vendor_only_controls_do_not_apply_to_an_own_model(demo_env: Settings) -> None:
    controls = {(c.framework_id, c.ref): c
                for c in _matrix(demo_env, "credit-risk", "2").controls}
    for vendor_only in (("sr-26-2", "§ VII"), ("iso-iec-42001", "A.10.3"),
                        ("nist-ai-rmf", "GOVERN 6.1")):
        assert controls[vendor_only].status == "not applicable"
    assert controls[("eu-ai-act", "Art. 86")].status == "met"


def test_a_vendor_models_evidence_pack_names_its_vendor_and_documents_not_a_training_run(
        demo_copy: Settings) -> None:
    import io

    from pypdf import PdfReader

    from services.core.principal import Principal, Role
    from services.reports.pack import build_evidence_pack
    from services.reports.pack_pdf import pack_pdf

    pack = build_evidence_pack(engine=make_engine(demo_copy.database_url),
                               registry=Registry(demo_copy.mlflow_tracking_uri), policy=POLICY,
                               actor=Principal("audrey", "Audrey", frozenset({Role.AUDITOR})),
                               model_name=VENDOR)
    words = " ".join(" ".join(page.extract_text() for page in
                              PdfReader(io.BytesIO(pack_pdf(pack))).pages).split())
    assert "Northwind Credit Bureau / 4.2" in words
    assert "Document received" in words and "SHA-256" in words
    assert "Code version" not in words and "Training run" not in words
