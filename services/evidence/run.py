"""An evidence run: the exact version on its exact hold-out set, stored all or nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from services.core.errors import InvalidInput
from services.core.permissions import Action, require
from services.core.policy import Policy
from services.core.principal import Principal
from services.evidence.evaluation import (
    classification_payload,
    model_inputs,
    regression_payload,
    score,
)
from services.evidence.fairness import fairness_payload
from services.evidence.groups import group_labels, is_continuous, sensitive_groups
from services.evidence.holdout import HoldOut, load_holdout
from services.evidence.profile import reference_payload
from services.evidence.records import EvidenceRecord, add_evidence
from services.evidence.representation import decided_population, representation
from services.evidence.scored import vendor_scored
from services.registry.adapter import Registry
from services.store.engine import session_scope

Progress = Callable[[float, str], None]
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class EvidenceRun:
    evaluation: EvidenceRecord
    fairness: EvidenceRecord | None  # None for regressors
    seconds: float


def run_evidence(*, engine: Engine, registry: Registry, policy: Policy, actor: Principal,
                 model_name: str, version: str, progress: Progress | None = None,
                 scored_file: Path | None = None) -> EvidenceRun:
    """Compute evaluation and fairness evidence for one version and store both records.

    Takes the engine rather than a session: the computation runs outside any transaction,
    and the two records are then written in one. A vendor model is not run: its scores come
    from scored_file (Parquet or CSV with a `score` column), else from its own scored hold-out
    set (services.evidence.scored); scored_file is refused for a model the console scores.
    """
    require(actor, Action.RUN_EVIDENCE)
    step = progress or (lambda _fraction, _message: None)
    started = time.perf_counter()
    step(0.05, "Reading the version's records from the registry")
    model = registry.get_model(model_name)
    lineage = registry.lineage(model_name, version)
    threshold = float(registry.get_version(model_name, version).tags.get(
        "decision_threshold", DEFAULT_THRESHOLD))
    if model.is_vendor:
        step(0.15, "Reading and hashing the hold-out set the vendor scored")
        holdout, scored, vendor_inputs = vendor_scored(
            registry=registry, model=model, lineage=lineage, scored_file=scored_file,
            threshold=threshold)
    elif scored_file is not None:
        raise InvalidInput(f"{model_name!r} is not a vendor model: the console scores its "
                           "hold-out set with the version itself.",
                           hint="Run evidence without --scored-file.")
    else:
        step(0.15, "Downloading and hashing the hold-out set")
        holdout = load_holdout(registry, model, lineage)
        step(0.25, f"Loading version {version} from the registry")
        loaded = registry.load_model(model_name, version)
        scored = score(loaded, holdout, threshold)
    tier = policy.for_tier(model.risk_tier)
    edges = policy.fairness.continuous_band_edges
    groups = sensitive_groups(holdout.frame, holdout.sensitive, edges)

    step(0.35, f"Evaluating on {len(holdout.frame):,} hold-out rows")
    evaluation = (classification_payload(scored, groups) if scored.task == "classification"
                  else regression_payload(scored, groups))
    with session_scope(engine) as session:
        populations = {c: decided_population(session=session, model_name=model_name, feature=c,
                                             continuous=is_continuous(holdout.frame[c]),
                                             edges=edges) for c in holdout.sensitive}
    evaluation["data"] = _data_profile(holdout, groups, populations)
    context = {"model_name": model_name, "model_version": version,
               "holdout_artifact": holdout.artifact, "policy_version": policy.version,
               "risk_tier": tier.tier}

    fairness = None
    if scored.task == "classification":
        step(0.5, f"Fairness by {', '.join(holdout.sensitive)} and their intersection, "
                  f"{policy.fairness.bootstrap_resamples} bootstrap resamples")
        fairness = fairness_payload(
            y_true=scored.y_true, y_pred=scored.y_pred,
            favourable_prediction=_favourable_prediction(model.tags, holdout),
            groups=groups, policy=policy.fairness, min_group_size=tier.min_group_size)
    step(0.9, "Profiling the hold-out set: the reference that drift is measured against")
    inputs = vendor_inputs if model.is_vendor else model_inputs(loaded, holdout)
    classifier = scored.task == "classification"
    reference = reference_payload(inputs, scored.scores if classifier else None,
                                  labels=scored.y_true if classifier else None,
                                  threshold=threshold if classifier else None)
    # Sensitive inputs travel with each logged decision: selection by group can be followed.
    reference["sensitive"] = [
        {"name": c, "edges": list(edges)} if is_continuous(holdout.frame[c]) else
        {"name": c, "edges": None, "labels": group_labels(holdout.frame[c])}
        for c in holdout.sensitive if c in inputs.columns]
    step(0.95, "Storing the evidence")
    with session_scope(engine) as session:
        common: dict[str, Any] = {
            "session": session, "model_name": model_name, "model_version": version,
            "data_sha256": holdout.sha256, "policy_sha256": policy.sha256,
            "code_version": lineage.code_version, "created_by": actor.id}
        stored_evaluation = add_evidence(kind="evaluation", payload={**context, **evaluation},
                                         **common)
        stored_fairness = add_evidence(kind="fairness", payload={**context, **fairness},
                                       **common) if fairness is not None else None
        add_evidence(kind="reference_profile", payload={**context, **reference}, **common)
    step(1.0, "Done")
    return EvidenceRun(stored_evaluation, stored_fairness, time.perf_counter() - started)


def _favourable_prediction(tags: dict[str, str], holdout: HoldOut) -> int:
    """1 when the positive label is the outcome a person wants (tag favourable_label)."""
    favourable = tags.get("favourable_label", holdout.positive_label).strip()
    return 1 if favourable == holdout.positive_label else 0


def _data_profile(holdout: HoldOut, groups: pd.DataFrame,
                  populations: dict[str, dict[str, int]]) -> dict[str, Any]:
    columns = []
    for name in holdout.frame.columns:
        values = holdout.frame[name]
        column: dict[str, Any] = {"column": str(name), "dtype": str(values.dtype),
                                  "missing": int(values.isna().sum())}
        if pd.api.types.is_numeric_dtype(values):
            column.update(min=float(values.min()), max=float(values.max()),
                          mean=float(values.mean()))
        else:
            column.update(distinct=int(values.nunique()),
                          top=[str(v) for v in values.value_counts().index[:5]])
        columns.append(column)
    return {
        "rows": len(holdout.frame),
        "columns": columns,
        "representation": {str(c): representation(groups[c], populations[str(c)])
                           for c in groups},
    }
