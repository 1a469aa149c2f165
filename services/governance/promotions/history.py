"""Point in time: which version served under an alias on a given moment, and on what grounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.evidence.records import EvidenceRecord, latest_evidence
from services.governance.promotions.views import PromotionView, promotion_view
from services.registry.aliases import AliasTenure, alias_tenures
from services.store.models import AliasChange


@dataclass(frozen=True)
class ServedAt:
    model_name: str
    alias: str
    at: datetime
    tenure: AliasTenure | None  # None: no version held the alias then
    request: PromotionView | None  # the approved request that moved it there, if the console did
    evidence: dict[str, EvidenceRecord]  # the newest of each kind that existed at that moment
    # For a rollback: the executed promotion under which the version had held the alias before
    # (its approvers are who approved it; the rollback only gave the alias back).
    approved_under: PromotionView | None = None

    @property
    def version(self) -> str | None:
        return self.tenure.version if self.tenure else None


def served_at(*, session: Session, model_name: str, at: datetime,
              alias: str = "champion") -> ServedAt:
    """The alias's holder at `at`, the request and sign-offs behind it, its evidence then."""
    tenure = next((t for t in alias_tenures(session=session, model_name=model_name)
                   if t.alias == alias and t.since <= at and (t.until is None or at < t.until)),
                  None)
    if tenure is None:
        return ServedAt(model_name, alias, at, None, None, {})
    change = session.scalars(select(AliasChange).where(
        AliasChange.model_name == model_name, AliasChange.alias == alias,
        AliasChange.version == tenure.version, AliasChange.changed_at == tenure.since)
        .order_by(AliasChange.id.desc()).limit(1)).first()
    request_id = change.request_id if change else None
    request = promotion_view(session=session, request_id=request_id) if request_id else None
    evidence = latest_evidence(session=session, model_name=model_name,
                               model_version=tenure.version, as_of=at)
    approved_under = None
    if request is not None and request.kind == "rollback" and change is not None:
        approved_under = _promoted_under(session, change)
    return ServedAt(model_name, alias, at, tenure, request, evidence, approved_under)


def _promoted_under(session: Session, rollback: AliasChange) -> PromotionView | None:
    """The executed promotion that had given the version the alias before the rollback did."""
    earlier = session.scalars(select(AliasChange.request_id).where(
        AliasChange.model_name == rollback.model_name, AliasChange.alias == rollback.alias,
        AliasChange.version == rollback.version, AliasChange.id < rollback.id,
        AliasChange.request_id.is_not(None)).order_by(AliasChange.id.desc())).all()
    for request_id in earlier:
        if request_id is not None and (view := promotion_view(
                session=session, request_id=request_id)).kind == "promotion":
            return view
    return None
