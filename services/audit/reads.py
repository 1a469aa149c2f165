"""Reads and exports that leave a trace: who opened or took away personal data or the trail.

A case file holds one person's inputs, score and letter; an audit export holds who did what;
a model card or evidence pack may travel outside the organisation. Each read or export is one
audit event naming who, what (decision, model and version, filters) and in which format. A
file's SHA-256 is recorded with its export, so a copy found later can be matched to the event.

Each function commits its event on its own and raises PermissionDenied for a principal whose
roles may not read the thing (the event is then not written), SourceUnavailable when the store
cannot be reached. Callers record before they show or hand over the data: no trace, no read.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

from sqlalchemy import Engine

from services.audit.actions import AuditAction
from services.audit.chain import AuditRecord, append
from services.audit.trail import AuditFilter, export_events
from services.core.errors import InvalidInput
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.store.engine import session_scope

TRAIL_FORMATS = ("csv", "json")
CARD_FORMATS = ("pdf", "html", "markdown", "json")
PACK_FORMATS = ("pdf", "json")
# What the case-file PDF holds: all logged inputs, the explanation, the replay and the letter.
CASE_FILE_CONTENTS = ("inputs", "score", "explanation", "replay", "overrides", "letter")


def _digest(document: bytes | str) -> dict[str, object]:
    raw = document.encode() if isinstance(document, str) else document
    return {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}


def record_case_file_viewed(*, engine: Engine, actor: Principal, decision_id: str,
                            model_name: str, model_version: str) -> AuditRecord:
    """`case_file.viewed`: the actor opened one decision's case file."""
    require(actor, Action.VIEW_DECISIONS)
    with session_scope(engine) as session:
        return append(session=session, actor=actor, action=AuditAction.CASE_FILE_VIEWED,
                      subject_type="decision", subject_id=decision_id, model_name=model_name,
                      payload={"model_version": model_version})


def record_case_file_exported(*, engine: Engine, actor: Principal, decision_id: str,
                              model_name: str, model_version: str,
                              document: bytes) -> AuditRecord:
    """`case_file.exported`: the case file's PDF (inputs and letter) was produced for the actor."""
    require(actor, Action.VIEW_DECISIONS)
    with session_scope(engine) as session:
        return append(session=session, actor=actor, action=AuditAction.CASE_FILE_EXPORTED,
                      subject_type="decision", subject_id=decision_id, model_name=model_name,
                      payload={"model_version": model_version, "format": "pdf",
                               "contains": list(CASE_FILE_CONTENTS), **_digest(document)})


def record_model_card_exported(*, engine: Engine, actor: Principal, model_name: str,
                               version: str, fmt: str, document: bytes | str) -> AuditRecord:
    """`model_card.exported`: a version's card in one of CARD_FORMATS.

    Raises InvalidInput for another format.
    """
    if fmt not in CARD_FORMATS:
        raise InvalidInput(f"Unknown model card format {fmt!r}.",
                           hint=f"Use one of {', '.join(CARD_FORMATS)}.")
    with session_scope(engine) as session:
        return append(session=session, actor=actor, action=AuditAction.MODEL_CARD_EXPORTED,
                      subject_type="model_version", subject_id=f"{model_name}/{version}",
                      model_name=model_name,
                      payload={"version": version, "format": fmt, **_digest(document)})


def record_evidence_pack_downloaded(*, engine: Engine, actor: Principal, model_name: str,
                                    version: str, fmt: str, pack_sha256: str,
                                    document: bytes | str) -> AuditRecord:
    """`evidence_pack.downloaded`: one file of a built pack (building it is recorded as
    `evidence_pack.exported`). Raises InvalidInput for a format not in PACK_FORMATS."""
    require(actor, Action.VIEW_AUDIT)
    if fmt not in PACK_FORMATS:
        raise InvalidInput(f"Unknown evidence pack format {fmt!r}.",
                           hint=f"Use one of {', '.join(PACK_FORMATS)}.")
    with session_scope(engine) as session:
        return append(session=session, actor=actor, action=AuditAction.EVIDENCE_PACK_DOWNLOADED,
                      subject_type="model_version", subject_id=f"{model_name}/{version}",
                      model_name=model_name,
                      payload={"version": version, "format": fmt, "pack_sha256": pack_sha256,
                               **_digest(document)})


def export_trail(*, engine: Engine, actor: Principal, filters: AuditFilter,
                 fmt: str) -> bytes:
    """The matching events as CSV or JSON (see trail.export_events), recorded as
    `audit.exported` with the filters, the format and the file's SHA-256.

    The export and its event share one transaction: the file never holds its own event, and
    no file is produced without it. Raises PermissionDenied without the audit role,
    InvalidInput for a format not in TRAIL_FORMATS.
    """
    require(actor, Action.VIEW_AUDIT)
    if fmt not in TRAIL_FORMATS:
        raise InvalidInput(f"Unknown export format {fmt!r}.",
                           hint=f"Use one of {', '.join(TRAIL_FORMATS)}.")
    with session_scope(engine) as session:
        document = export_events(session=session, filters=filters, fmt=fmt)
        append(session=session, actor=actor, action=AuditAction.AUDIT_EXPORTED,
               subject_type="audit_trail", subject_id="export",
               model_name=filters.model_name,
               payload={"format": fmt, "filters": _filters(filters), **_digest(document)})
    return document


def _filters(filters: AuditFilter) -> dict[str, str | None]:
    return {name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in asdict(filters).items()}
