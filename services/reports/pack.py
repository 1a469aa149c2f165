"""The evidence pack of one model version, as one JSON document an auditor can check.

It holds the model card and lineage, every evidence record with its stored and recomputed
hashes, the gates now and as frozen at each promotion request (with the policy hash of their
day), the control matrix, drift and health as the last monitor run judged them, the promotion
and alias history with sign-offs and justifications, and the model's audit events with their
chain hashes and the verification of the whole chain. The pack's own SHA-256 is recorded in
the audit trail when it is exported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, as_record, recomputed_hash, refusals_recorded
from services.audit.trail import verify_chain
from services.core.clock import utcnow
from services.core.errors import NotFound
from services.core.permissions import Action, require
from services.core.policy import Policy
from services.core.principal import Principal
from services.evidence.records import EvidenceRecord, evidence_history, payload_hash
from services.governance.controls import control_matrix
from services.governance.frameworks import Framework, read_frameworks
from services.governance.model_card import build_model_card
from services.governance.promotions.views import PromotionView, list_promotions
from services.monitoring.drift import drift_window
from services.registry.adapter import Registry
from services.registry.aliases import alias_tenures
from services.reports.card import card_dict
from services.reports.pack_document import (
    ChainCheck,
    DriftUnavailable,
    EvidencePack,
    GatesAtRequest,
    GatesNow,
    HealthSnapshot,
    PackAudit,
    PackControl,
    PackDrift,
    PackEvent,
    PackEvidence,
    PackException,
    PackFeatureDrift,
    PackGates,
    PackMonitoring,
    PackPromotion,
    PackSignOff,
    PackTenure,
    canonical_pack,
)
from services.store.engine import session_scope
from services.store.models import AuditEvent, ModelHealth

AUDIT_EXCERPT_LIMIT = 5000  # events of the model, newest kept; the pack says when it is cut
DRIFT_DAYS = 30


def build_evidence_pack(*, engine: Engine, registry: Registry, policy: Policy,
                        actor: Principal, model_name: str, version: str | None = None,
                        frameworks: list[Framework] | None = None,
                        progress: Callable[[str], None] = lambda _: None) -> EvidencePack:
    """The pack for a version (the champion when none is named), recorded as exported."""
    with refusals_recorded(engine, actor, AuditAction.EVIDENCE_PACK_EXPORT_REFUSED, "model",
                           model_name):
        # The pack carries the model's audit events: it is for those who may read the trail.
        require(actor, Action.VIEW_AUDIT)
        progress("Reading the model card and its lineage from the registry")
        model = registry.get_model(model_name)
        version = str(version or model.aliases.get("champion") or "")
        if not version:
            raise NotFound(f"{model_name} has no champion: name the version to report on.")
        now = utcnow()
        with session_scope(engine) as session:
            card = build_model_card(session=session, registry=registry, policy=policy,
                                    model_name=model_name, version=version)
            progress("Checking every evidence record's hash")
            evidence = tuple(_record(r) for r in evidence_history(
                session=session, model_name=model_name, model_version=version))
            judged = frameworks if frameworks is not None else read_frameworks().chosen()
            progress(f"Judging the controls of {', '.join(f.name for f in judged)}")
            controls = control_matrix(session=session, registry=registry, policy=policy,
                                      model_name=model_name, version=version,
                                      frameworks=judged)
            progress("Reading drift, health and the promotion history")
            monitoring = _monitoring(session, model_name, version, policy, model.risk_tier, now)
            promotions = tuple(_promotion(p) for p in list_promotions(session=session,
                                                                       model_name=model_name))
            tenures = alias_tenures(session=session, model_name=model_name)
            progress("Walking the audit chain")
            verdict = verify_chain(session=session)
            events = session.scalars(select(AuditEvent).where(AuditEvent.model_name == model_name)
                                     .order_by(AuditEvent.id.desc())
                                     .limit(AUDIT_EXCERPT_LIMIT + 1)).all()
        body = EvidencePack(
            generated_at=now.isoformat(),
            generated_by=actor.id,
            model=model_name,
            version=version,
            aliases=card.version.aliases,
            model_card=card_dict(card),
            evidence=evidence,
            gates=PackGates(
                now=GatesNow(policy_version=card.gates.policy_version,
                             policy_sha256=card.gates.policy_sha256,
                             evaluated_at=card.gates.evaluated_at.isoformat(),
                             passed=card.gates.passed, results=card.gates.results),
                at_requests=tuple(GatesAtRequest(request=p.id, requested_at=p.requested_at,
                                                 policy_sha256=p.policy_sha256, results=p.gates)
                                  for p in promotions if p.version == version)),
            controls=tuple(PackControl(framework=c.framework, ref=c.ref, title=c.title,
                                       asks=c.asks, status=c.status, evidence=c.evidence,
                                       dated=_iso(c.dated), link=c.link)
                           for c in controls.controls),
            monitoring=monitoring,
            promotions=promotions,
            alias_history=tuple(PackTenure(alias=t.alias, version=t.version,
                                           since=_iso(t.since), until=_iso(t.until),
                                           moved_by=t.changed_by, reason=t.reason)
                                for t in tenures),
            audit=PackAudit(
                verification=ChainCheck(intact=verdict.intact, events_checked=verdict.events,
                                        head_hash=verdict.head_hash,
                                        checked_at=verdict.checked_at.isoformat(),
                                        broken_at=verdict.broken_at, problem=verdict.problem),
                how_to_check="Each event's hash is sha256(prev_hash + canonical JSON of at, "
                             "actor, action, subject_type, subject_id, model_name, payload; "
                             "sorted keys, no spaces). The excerpt holds this model's "
                             "events only, so links to other models' events are not in "
                             "it: govern audit verify checks the whole chain.",
                truncated=len(events) > AUDIT_EXCERPT_LIMIT,
                events=tuple(_event(e) for e in reversed(events[:AUDIT_EXCERPT_LIMIT]))),
        )
        # The hash is over what the JSON file holds, so anyone can recompute it from the file.
        pack = body.model_copy(update={
            "pack_sha256": hashlib.sha256(canonical_pack(body).encode()).hexdigest()})
        with session_scope(engine) as session:
            append(session=session, actor=actor, action=AuditAction.EVIDENCE_PACK_EXPORTED,
                   subject_type="model_version", subject_id=f"{model_name}/{version}",
                   model_name=model_name, payload={"pack_sha256": pack.pack_sha256,
                                                   "audit_head": verdict.head_hash})
        progress("Evidence pack ready")
        return pack


def pack_json(pack: EvidencePack) -> str:
    """The pack's JSON file."""
    return json.dumps(pack.as_json(), indent=2, ensure_ascii=False, allow_nan=False)


def _record(record: EvidenceRecord) -> PackEvidence:
    return PackEvidence(kind=record.kind, id=record.id, created_at=record.created_at.isoformat(),
                        created_by=record.created_by, data_sha256=record.data_sha256,
                        payload_sha256=record.payload_sha256,
                        payload_sha256_recomputed=payload_hash(record.payload),
                        intact=record.intact, policy_sha256=record.policy_sha256,
                        code_version=record.code_version, payload=record.payload)


def _monitoring(session: Session, model_name: str, version: str, policy: Policy,
                risk_tier: str | None, now: datetime) -> PackMonitoring:
    snapshots = session.scalars(select(ModelHealth).where(
        ModelHealth.model_name == model_name, ModelHealth.model_version == version,
        ModelHealth.as_of >= now - timedelta(days=90)).order_by(ModelHealth.as_of)).all()
    drift: PackDrift | DriftUnavailable
    try:
        window = drift_window(connection=session.connection(),
                              thresholds=policy.for_tier(risk_tier).drift,
                              model_name=model_name, version=version,
                              start=(now - timedelta(days=DRIFT_DAYS)).date(),
                              end=now.date() + timedelta(days=1))
        drift = PackDrift(
            start=window.start.isoformat(), end=window.end.isoformat(), decisions=window.rows,
            judged=window.judged, drifted_share=window.drifted_share,
            dataset_drift=window.dataset_drift,
            features=tuple(PackFeatureDrift(
                feature=f.feature, kind=f.kind, rows=f.rows, missing=f.missing, psi=f.psi,
                js=f.js, ks=f.ks, wasserstein=f.wasserstein, chi_square=f.chi_square,
                drifted=f.drifted) for f in window.features))
    except NotFound as exc:
        drift = DriftUnavailable(unavailable=exc.message)
    return PackMonitoring(drift_last_30_days=drift, health=tuple(
        HealthSnapshot(as_of=h.as_of.isoformat(), backfilled=h.backfilled,
                       pillars=h.pillars, activity=h.activity) for h in snapshots))


def _promotion(p: PromotionView) -> PackPromotion:
    return PackPromotion(
        id=p.id, kind=p.kind, version=p.model_version, alias=p.alias,
        requested_by=p.requested_by, requested_at=p.requested_at.isoformat(),
        justification=p.justification, status=p.status, previous_version=p.previous_version,
        executed_at=_iso(p.executed_at), executed_by=p.executed_by,
        execution_error=p.execution_error, policy_sha256=p.policy_sha256, gates=p.gate_results,
        sign_offs=tuple(PackSignOff(validator=s.validator, verdict=s.verdict,
                                    justification=s.justification,
                                    signed_at=s.signed_at.isoformat()) for s in p.sign_offs),
        exceptions=tuple(PackException(gates=e.gates, justification=e.justification,
                                       expires_on=e.expires_on.isoformat(),
                                       granted_by=e.granted_by,
                                       granted_at=e.granted_at.isoformat())
                         for e in p.exceptions))


def _event(event: AuditEvent) -> PackEvent:
    record = as_record(event)
    recomputed = recomputed_hash(record.prev_hash, record)
    return PackEvent(id=record.id, at=record.at.isoformat(timespec="microseconds"),
                     actor=record.actor, action=record.action,
                     subject_type=record.subject_type, subject_id=record.subject_id,
                     model_name=record.model_name, payload=record.payload,
                     prev_hash=record.prev_hash, hash=record.hash,
                     hash_matches=recomputed == record.hash)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
