"""What the controls are judged on: a version's facts, read once (the model card, the health
the last monitor run stored, the promotion record, traffic, alerts and the review cycle), and
the verdict a check gives (services.governance.evidence_checks judges them kind by kind)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.core.policy import Policy
from services.evidence.profile import SCORE
from services.governance.model_card import ModelCard, build_model_card
from services.governance.promotions.views import PromotionView, list_promotions
from services.monitoring.alerts import AlertStatus
from services.monitoring.assessment import Pillar
from services.monitoring.chain_watch import NO_MODEL
from services.monitoring.reviews import ReviewStatus, review_statuses
from services.registry.adapter import Registry
from services.store.models import Alert, ModelHealth, Profile


class ControlStatus(StrEnum):
    MET = "met"
    PARTIAL = "partial"  # some of what the control asks holds; the detail says which
    GAP = "gap"
    NOT_APPLICABLE = "not applicable"  # e.g. a vendor control for a model trained in-house


@dataclass(frozen=True)
class Finding:
    status: ControlStatus
    evidence: str  # what in the console meets it, or what is missing
    dated: datetime | None
    link: str  # a console address that shows the evidence


@dataclass(frozen=True)
class Facts:
    """What the controls are judged on, read once."""

    card: ModelCard
    policy: Policy
    health: dict[str, Pillar]  # the last monitor run's pillars, when it judged this version
    judged_at: datetime | None
    promotions: list[PromotionView]
    traffic_days: int  # days with profiled decisions of this version
    open_alerts: list[Alert]
    approvers: int  # sign-offs the tier requires
    review: ReviewStatus | None = None  # the model's periodic review cycle (SR 26-2)

    @property
    def vendor(self) -> bool:
        """A third-party model: registered as one (`model_kind = vendor`), or with a `vendor`
        tag naming who built it."""
        return self.card.model.is_vendor or bool(self.card.model.tags.get("vendor"))


def read_facts(*, session: Session, registry: Registry, policy: Policy, model_name: str,
               version: str) -> Facts:
    card = build_model_card(session=session, registry=registry, policy=policy,
                            model_name=model_name, version=version)
    health = session.scalars(select(ModelHealth).where(
        ModelHealth.model_name == model_name, ModelHealth.model_version == version,
        ModelHealth.backfilled.is_(False)).order_by(ModelHealth.as_of.desc()).limit(1)).first()
    return Facts(
        card=card, policy=policy,
        health={k: Pillar(**v) for k, v in health.pillars.items()} if health else {},
        judged_at=health.as_of if health else None,
        promotions=[p for p in list_promotions(session=session, model_name=model_name)
                    if p.model_version == version],
        traffic_days=session.scalar(select(func.count()).select_from(Profile).where(
            Profile.model_name == model_name, Profile.model_version == version,
            Profile.day.is_not(None), Profile.feature == SCORE)) or 0,
        open_alerts=list(session.scalars(select(Alert).where(
            Alert.model_name.in_((model_name, NO_MODEL)), Alert.status == AlertStatus.OPEN))),
        approvers=policy.for_tier(card.model.risk_tier).approvers,
        review=review_statuses(session=session, models=[card.model], policy=policy,
                               now=utcnow())[card.model.name],
    )


def link(page: str, **params: str) -> str:
    return f"/{page}?{urlencode(params)}" if params else f"/{page}"
