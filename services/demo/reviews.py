"""The demo's periodic reviews, recorded through the same service validators use, after the
monitor has judged the models (so what it found is part of the frozen state, not a trigger):
credit-risk reviewed by a second validator (continue, next due a cycle on), and fraud-screening
continued with conditions while its drift is dealt with, the next review brought forward to
three weeks from now: due soon on the calendar."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from services.core.clock import utcnow
from services.core.policy import Policy
from services.core.principal import demo_persona
from services.governance.reviews import record_review
from services.monitoring.reviews import Conclusion
from services.registry.adapter import Registry

FRAUD_NEXT_REVIEW_DAYS = 21  # within the calendar's 30 days: "due soon"


def seed_reviews(*, engine: Engine, registry: Registry, policy: Policy) -> None:
    """Record the demo's two reviews (needs evidence, findings and a monitor run first)."""
    kenji = demo_persona("validator").principal
    priya = demo_persona("risk_manager").principal
    record_review(
        engine=engine, registry=registry, policy=policy, actor=kenji, model_name="credit-risk",
        conclusion=Conclusion.CONTINUE,
        justification="v2 meets its metric floors and fairness bounds on current evidence; "
                      "its calibration finding is closed. The challenger's open fairness "
                      "finding concerns v3, not the version serving.")
    record_review(
        engine=engine, registry=registry, policy=policy, actor=priya,
        model_name="fraud-screening", conclusion=Conclusion.CONTINUE_WITH_CONDITIONS,
        justification="Discrimination still holds on labelled outcomes, but transaction mix "
                      "has drifted (crypto exchanges at night) beyond the tier's bounds.",
        conditions="Retrain on the last 60 days of transactions and rerun evidence; review "
                   "again within three weeks.",
        next_due_on=utcnow().date() + timedelta(days=FRAUD_NEXT_REVIEW_DAYS))
