"""A realistic decision log, made by really scoring the demo models on generated traffic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from services.core.outcomes import DecisionOutcome
from services.demo import data
from services.demo.models import TrainedVersion

ESCALATED, APPROVED, DECLINED, ERROR = (DecisionOutcome.ESCALATED, DecisionOutcome.APPROVED,
                                       DecisionOutcome.DECLINED, DecisionOutcome.ERROR)


@dataclass(frozen=True)
class Tenure:
    """A version held an alias from `since` until the next tenure began."""

    version: TrainedVersion
    since: datetime


@dataclass(frozen=True)
class Traffic:
    """What one model's stream of decisions looks like."""

    prefix: str
    subject_prefix: str
    features: list[str]
    label: str
    champion: list[Tenure]  # in time order
    challenger: Tenure | None  # scores the same requests in shadow from `since`
    approve_above: bool  # credit approves high scores; fraud holds them
    margin: float  # the policy's fail-closed confidence margin
    outcome_delay_days: tuple[int, int]
    outcome_known_for: Callable[[np.ndarray], np.ndarray]  # which outcomes ever arrive


@dataclass
class DecisionLog:
    decisions: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]


def decision_times(n: int, start: datetime, days: int, rng: np.random.Generator) -> np.ndarray:
    """n times over the window, busier on weekdays and in business hours, in order."""
    day_weights = np.array([1.0 if (start + timedelta(d)).weekday() < 5 else 0.55
                            for d in range(days)])
    day = rng.choice(days, n, p=day_weights / day_weights.sum())
    seconds = rng.normal(13.5 * 3600, 3.5 * 3600, n).clip(0, 86_399)
    offsets = day * 86_400 + seconds
    offsets.sort()
    return np.asarray(np.datetime64(start) + (offsets * 1e6).astype("timedelta64[us]"))


def generate(traffic: Traffic, frame: pd.DataFrame, times: np.ndarray, now: datetime,
             rng: np.random.Generator) -> DecisionLog:
    """Score every request with the version serving at its time, decide, and add outcomes."""
    n = len(frame)
    inputs = frame[traffic.features].astype(object).where(frame[traffic.features].notna(), None)
    missing = rng.random(n) < 0.012
    missing_column = rng.choice(traffic.features, n)
    errored = ~missing & (rng.random(n) < 0.003)
    served = np.searchsorted([np.datetime64(t.since) for t in traffic.champion], times,
                             side="right") - 1
    scores = np.full(n, np.nan)
    for index, tenure in enumerate(traffic.champion):
        chosen = served == index
        if chosen.any():
            scores[chosen] = tenure.version.pipeline.predict_proba(
                frame.loc[chosen, traffic.features])[:, 1]
    # A request with a missing input or a model error has no score: it never reached a verdict.
    scores[missing | errored] = np.nan
    thresholds = np.array([traffic.champion[i].version.threshold for i in served])
    outcomes, reasons = _decide(scores, thresholds, traffic, missing, errored, rng)
    records = inputs.to_dict("records")
    for row, column in zip(np.flatnonzero(missing), missing_column[missing], strict=True):
        records[row][column] = None
    times_py = pd.to_datetime(times).to_pydatetime()
    subjects = rng.integers(100_000, 999_999, n)
    decisions = [
        {
            "decision_id": f"{traffic.prefix}-{i:07d}",
            "model_name": traffic.champion[served[i]].version.model_name,
            "model_version": traffic.champion[served[i]].version.version,
            "decided_at": times_py[i],
            "subject_ref": f"{traffic.subject_prefix}-{subjects[i]}",
            "request_id": f"{traffic.prefix}-req-{i:07d}",
            "features": records[i],
            "score": None if np.isnan(scores[i]) else round(float(scores[i]), 6),
            "threshold": float(thresholds[i]),
            "outcome": outcomes[i],
            "escalation_reason": reasons[i],
            "reason_codes": None,
            "shadow": False,
        }
        for i in range(n)
    ]
    decisions += _shadow(traffic, frame, times, times_py, decisions)
    return DecisionLog(decisions, _outcomes(traffic, frame, decisions[:n], times_py, now, rng))


def _decide(scores: np.ndarray, thresholds: np.ndarray, traffic: Traffic, missing: np.ndarray,
            errored: np.ndarray, rng: np.random.Generator) -> tuple[list[str], list[str | None]]:
    above = scores >= thresholds
    automatic = np.where(above == traffic.approve_above, APPROVED, DECLINED)
    low_confidence = np.abs(scores - thresholds) < traffic.margin
    # A serving bug lets a few low-confidence cases through unreviewed: the control check
    # exists to catch exactly this.
    slipped = low_confidence & (rng.random(len(scores)) < 0.03)
    outcomes: list[str] = []
    reasons: list[str | None] = []
    for i in range(len(scores)):
        if missing[i]:
            outcomes.append(ESCALATED)
            reasons.append("missing_input")
        elif errored[i]:
            outcomes.append(ERROR)
            reasons.append("model_error")
        elif low_confidence[i] and not slipped[i]:
            outcomes.append(ESCALATED)
            reasons.append("low_confidence")
        else:
            outcomes.append(str(automatic[i]))
            reasons.append(None)
    return outcomes, reasons


def _shadow(traffic: Traffic, frame: pd.DataFrame, times: np.ndarray,
            times_py: np.ndarray, acted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The challenger scores the same requests without acting on them."""
    if traffic.challenger is None:
        return []
    version = traffic.challenger.version
    rows = np.flatnonzero(times >= np.datetime64(traffic.challenger.since))
    rows = np.array([i for i in rows if acted[i]["outcome"] != ERROR], dtype=int)
    if rows.size == 0:
        return []
    clean = frame.iloc[rows][traffic.features]
    scores = version.pipeline.predict_proba(clean)[:, 1]
    return [
        {
            **acted[i],
            "decision_id": f"{acted[i]['decision_id']}-shadow",
            "model_version": version.version,
            "decided_at": times_py[i],
            "score": round(float(score), 6),
            "threshold": version.threshold,
            "outcome": APPROVED if (score >= version.threshold) == traffic.approve_above
            else DECLINED,
            "escalation_reason": None,
            "shadow": True,
        }
        for i, score in zip(rows, scores, strict=True)
    ]


def _outcomes(traffic: Traffic, frame: pd.DataFrame, acted: list[dict[str, Any]],
              times_py: np.ndarray, now: datetime,
              rng: np.random.Generator) -> list[dict[str, Any]]:
    """Ground truth arrives days or weeks later, and only for decisions that reveal it."""
    low, high = traffic.outcome_delay_days
    delays = rng.uniform(low, high, len(acted))
    known = traffic.outcome_known_for(np.array([d["outcome"] for d in acted]))
    labels = frame[traffic.label].to_numpy()
    found = []
    for i, decision in enumerate(acted):
        observed = times_py[i] + timedelta(days=float(delays[i]))
        if known[i] and observed <= now:
            found.append({"decision_id": decision["decision_id"], "label": float(labels[i]),
                          "observed_at": observed, "model_name": decision["model_name"]})
    return found


def credit_traffic(champion: list[Tenure], challenger: Tenure | None,
                   margin: float) -> Traffic:
    # Repayment is only ever seen for loans that were made.
    return Traffic("cr", "APP", data.CREDIT_FEATURES, data.CREDIT_LABEL, champion, challenger,
                   approve_above=True, margin=margin, outcome_delay_days=(30, 60),
                   outcome_known_for=lambda outcome: outcome == APPROVED)


def fraud_traffic(champion: list[Tenure], challenger: Tenure | None,
                  margin: float) -> Traffic:
    # Chargebacks and investigations settle every transaction within two weeks.
    return Traffic("fr", "CARD", data.FRAUD_FEATURES, data.FRAUD_LABEL, champion, challenger,
                   approve_above=False, margin=margin, outcome_delay_days=(2, 14),
                   outcome_known_for=lambda outcome: outcome != ERROR)
