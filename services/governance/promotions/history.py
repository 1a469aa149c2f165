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
    request_id = session.scalar(select(AliasChange.request_id).where(
        AliasChange.model_name == model_name, AliasChange.alias == alias,
        AliasChange.version == tenure.version, AliasChange.changed_at == tenure.since))
    request = promotion_view(session=session, request_id=request_id) if request_id else None
    evidence = latest_evidence(session=session, model_name=model_name,
                               model_version=tenure.version, as_of=at)
    return ServedAt(model_name, alias, at, tenure, request, evidence)
