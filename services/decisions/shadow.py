"""Champion against challenger on live traffic: the same requests, scored by both."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from services.core.outcomes import VERDICTS, DecisionOutcome
from services.store.models import Decision


@dataclass(frozen=True)
class ShadowComparison:
    challenger_version: str
    pairs: int
    agreement: float  # share of requests both would have decided the same way
    mean_score_difference: float  # challenger minus acted-on score
    mean_absolute_difference: float
    challenger_more_favourable: int  # requests the challenger alone would have approved


def shadow_comparisons(*, session: Session, model_name: str) -> list[ShadowComparison]:
    """Per challenger version, how it compares with the decisions acted on (in SQL)."""
    acted, shadow = aliased(Decision), aliased(Decision)
    same = case((acted.outcome == shadow.outcome, 1), else_=0)
    only_challenger = case((and_(shadow.outcome == DecisionOutcome.APPROVED,
                                   acted.outcome == DecisionOutcome.DECLINED), 1),
                           else_=0)
    rows = session.execute(
        select(shadow.model_version, func.count(), func.avg(same),
               func.avg(shadow.score - acted.score),
               func.avg(func.abs(shadow.score - acted.score)), func.sum(only_challenger))
        .join(acted, and_(acted.request_id == shadow.request_id, acted.shadow.is_(False)))
        .where(shadow.model_name == model_name, shadow.shadow.is_(True),
               acted.outcome.in_(VERDICTS), acted.score.is_not(None))
        .group_by(shadow.model_version)
    ).all()
    return [ShadowComparison(str(v), int(n), float(agree or 0), float(diff or 0),
                             float(absolute or 0), int(favourable or 0))
            for v, n, agree, diff, absolute, favourable in rows]
