"""Reads and exports of personal data and of the trail leave an audit event naming who and
what, on SQLite and PostgreSQL; a reader without the role leaves none and gets nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from services.audit.actions import AuditAction
from services.audit.chain import append
from services.audit.reads import (
    export_trail,
    record_case_file_exported,
    record_case_file_viewed,
    record_evidence_pack_downloaded,
    record_model_card_exported,
)
from services.audit.trail import AuditFilter, verify_chain
from services.cli.main import main
from services.core.errors import InvalidInput, PermissionDenied
from services.core.principal import Principal, Role
from services.store.engine import session_scope
from services.store.models import AuditEvent

ANALYST = Principal("ana", "Ana", frozenset({Role.ANALYST}))
AUDITOR = Principal("aud", "Audrey", frozenset({Role.AUDITOR}))
EXECUTIVE = Principal("exec", "Ed", frozenset({Role.VIEWER}))


def _events(engine: Engine, action: AuditAction) -> list[AuditEvent]:
    with session_scope(engine) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()
        session.expunge_all()
        return list(rows)


def test_opening_a_case_file_records_who_and_which_decision(engine: Engine) -> None:
    record_case_file_viewed(engine=engine, actor=ANALYST, decision_id="cr-1",
                            model_name="credit-risk", model_version="2")
    [event] = _events(engine, AuditAction.CASE_FILE_VIEWED)
    assert (event.actor, event.subject_type, event.subject_id, event.model_name) == (
        "ana", "decision", "cr-1", "credit-risk")
    assert event.payload == {"model_version": "2"}


def test_the_case_file_pdf_is_recorded_with_what_it_holds_and_its_hash(engine: Engine) -> None:
    pdf = b"%PDF-1.4 inputs and letter"
    record_case_file_exported(engine=engine, actor=AUDITOR, decision_id="cr-1",
                              model_name="credit-risk", model_version="2", document=pdf)
    [event] = _events(engine, AuditAction.CASE_FILE_EXPORTED)
    assert event.actor == "aud" and event.subject_id == "cr-1"
    assert event.payload["format"] == "pdf"
    assert {"inputs", "letter"} <= set(event.payload["contains"])
    assert event.payload["sha256"] == hashlib.sha256(pdf).hexdigest()


def test_a_role_without_decisions_reads_no_case_file_and_leaves_no_event(
        engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        record_case_file_viewed(engine=engine, actor=EXECUTIVE, decision_id="cr-1",
                                model_name="credit-risk", model_version="2")
    assert _events(engine, AuditAction.CASE_FILE_VIEWED) == []


@pytest.mark.parametrize("fmt", ["pdf", "html", "markdown", "json"])
def test_each_model_card_format_is_recorded(engine: Engine, fmt: str) -> None:
    record_model_card_exported(engine=engine, actor=EXECUTIVE, model_name="credit-risk",
                               version="3", fmt=fmt, document="<card/>")
    [event] = _events(engine, AuditAction.MODEL_CARD_EXPORTED)
    assert (event.actor, event.subject_id) == ("exec", "credit-risk/3")
    assert event.payload["format"] == fmt and event.payload["version"] == "3"


def test_an_unknown_card_format_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="pdf, html, markdown, json"):
        record_model_card_exported(engine=engine, actor=EXECUTIVE, model_name="m",
                                   version="1", fmt="docx", document=b"")


def test_each_evidence_pack_file_handed_over_is_recorded(engine: Engine) -> None:
    record_evidence_pack_downloaded(engine=engine, actor=AUDITOR, model_name="credit-risk",
                                    version="2", fmt="json", pack_sha256="ab" * 32,
                                    document="{}")
    [event] = _events(engine, AuditAction.EVIDENCE_PACK_DOWNLOADED)
    assert event.payload["format"] == "json" and event.payload["pack_sha256"] == "ab" * 32
    with pytest.raises(PermissionDenied):
        record_evidence_pack_downloaded(engine=engine, actor=ANALYST, model_name="m",
                                        version="1", fmt="pdf", pack_sha256="", document=b"")


def _trail(engine: Engine) -> None:
    with session_scope(engine) as session:
        for n in range(3):
            append(session=session, actor="vera", action=AuditAction.EVIDENCE_RECORDED,
                   subject_type="evidence", subject_id=n, model_name="credit-risk" if n else "x")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_audit_export_records_its_filters_format_and_file(engine: Engine, fmt: str) -> None:
    _trail(engine)
    filters = AuditFilter(model_name="credit-risk", action="evidence.")
    document = export_trail(engine=engine, actor=AUDITOR, filters=filters, fmt=fmt)
    [event] = _events(engine, AuditAction.AUDIT_EXPORTED)
    assert event.actor == "aud" and event.model_name == "credit-risk"
    assert event.payload["format"] == fmt
    assert event.payload["filters"]["model_name"] == "credit-risk"
    assert event.payload["filters"]["action"] == "evidence."
    assert event.payload["sha256"] == hashlib.sha256(document).hexdigest()
    assert b"audit.exported" not in document  # the file is what was there before its export
    with session_scope(engine) as session:
        assert verify_chain(session=session).intact


def test_the_trail_is_not_exported_to_a_role_without_it(engine: Engine) -> None:
    _trail(engine)
    with pytest.raises(PermissionDenied):
        export_trail(engine=engine, actor=ANALYST, filters=AuditFilter(), fmt="csv")
    assert _events(engine, AuditAction.AUDIT_EXPORTED) == []


def test_govern_audit_export_writes_the_file_and_records_it(
        store_url: str, engine: Engine, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _trail(engine)
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", store_url)
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    out = tmp_path / "trail.json"
    assert main(["audit", "export", "--format", "json", "--model", "credit-risk",
                 "--out", str(out)]) == 0
    assert [row["subject_id"] for row in json.loads(out.read_text())] == ["1", "2"]
    [event] = _events(engine, AuditAction.AUDIT_EXPORTED)
    assert event.actor.startswith("cli:") and event.payload["filters"]["model_name"] == \
        "credit-risk"
    assert event.payload["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
