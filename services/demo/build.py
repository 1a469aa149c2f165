"""`govern demo`: build the demo workspace, once, with progress shown."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sqlalchemy import func, insert, select
from threadpoolctl import threadpool_limits

from services.audit.actions import AuditAction
from services.audit.chain import append
from services.core.clock import utcnow
from services.core.errors import InvalidInput
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import Settings
from services.decisions.daily_profiles import rebuild_daily_profiles
from services.decisions.day_counts import DayCounts
from services.demo import data
from services.demo.decisions import (
    DecisionLog,
    Tenure,
    credit_traffic,
    decision_times,
    fraud_traffic,
    generate,
)
from services.demo.findings import seed_findings
from services.demo.guard import SEED_ACTOR, foreign_records, refuse_foreign_workspace
from services.demo.models import (
    TrainedVersion,
    register_ungoverned_model,
    train_credit_models,
    train_fraud_models,
)
from services.demo.reviews import seed_reviews
from services.demo.vendor import seed_vendor_model
from services.evidence.run import run_evidence
from services.monitoring.monitor import backfill_health, monitor
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import AliasChange, Decision, IngestBatch, Outcome
from services.store.workspace import DEMO_KEY, WorkspaceState, set_setting, workspace_state

Progress = Callable[[str], None]
SEED_VALIDATOR = Principal(SEED_ACTOR, "Demo seed (validator)", frozenset({Role.VALIDATOR}))
_CHUNK = 20_000
_MLFLOW_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@dataclass(frozen=True)
class DemoSize:
    name: str
    days: int
    credit_decisions: int
    fraud_decisions: int
    fraud_training_rows: int


SIZES = {
    "small": DemoSize("small", 60, 1_500, 3_500, 6_000),
    "standard": DemoSize("standard", 90, 30_000, 90_000, 60_000),
    "large": DemoSize("large", 120, 200_000, 800_000, 120_000),
}


@dataclass(frozen=True)
class DemoReport:
    created: bool
    size: str
    models: int
    decisions: int
    outcomes: int
    seconds: float


def build_demo(settings: Settings, *, size: str = "standard", seed: int = 7,
               progress: Progress = print) -> DemoReport:
    """Create the demo workspace in settings.home unless it is already there."""
    if size not in SIZES:
        raise InvalidInput(f"Unknown demo size {size!r}.", hint=f"Use one of {', '.join(SIZES)}.")
    started = time.perf_counter()
    engine = make_engine(settings.database_url)
    progress(f"Governance store: {engine.url.render_as_string(hide_password=True)}")
    upgrade(engine)
    with session_scope(engine) as session:
        state = workspace_state(session=session)
    if state == WorkspaceState.DEMO:
        with session_scope(engine) as session:
            count = session.scalar(select(func.count()).select_from(Decision)) or 0
        progress(f"The demo workspace is already in {settings.home}; nothing to do.")
        return DemoReport(False, size, len(Registry(settings.mlflow_tracking_uri).list_models()),
                          count, 0, time.perf_counter() - started)
    # A half-built demo's registry holds the demo's own models; anybody else's are foreign.
    models = 0 if state == WorkspaceState.DEMO_BUILDING else \
        len(Registry(settings.mlflow_tracking_uri).list_models())
    with session_scope(engine) as session:
        refuse_foreign_workspace(foreign_records(session=session, registered_models=models),
                                 home=str(settings.home))
    if state == WorkspaceState.DEMO_BUILDING:
        engine = _start_again(settings, engine, progress)
    with session_scope(engine) as session:
        set_setting(session=session, key=DEMO_KEY, value="building")

    demo = SIZES[size]
    # One timeline for scoring and for the alias history, so the two always agree.
    now = utcnow().replace(second=0, microsecond=0)
    start = now - timedelta(days=demo.days)
    # One thread per native pool: the demo's fits and predictions are small, and OpenMP's
    # spinning workers cost 10-40 times the CPU of one thread on a busy two-core machine
    # (measured: fraud v2's fit 21.3 CPU s with the default pool, 0.8 s with one thread).
    with threadpool_limits(limits=1):
        versions = _train(settings, demo, seed, progress)
        log = _decision_log(settings, demo, versions, seed, start, now, progress)
        _write(engine, log, versions, demo, seed, start, progress)
        _run_evidence(settings, engine, versions, progress)
    _profile_traffic(engine, versions, progress)
    registry = Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri)
    progress("Findings: a closed one on the champion, an open one on the challenger")
    seed_findings(engine=engine, registry=registry)
    policy = load_policy(settings.policy_path)
    vendor_decisions = seed_vendor_model(
        engine=engine, registry=registry, policy=policy, artifact_root=settings.artifact_root,
        now=now, seed=seed, scale=demo.credit_decisions / SIZES["standard"].credit_decisions,
        progress=progress)
    progress("Judging the served models week by week over the log (the portfolio's trends)")
    backfill_health(engine=engine, registry=registry, policy=policy, actor=SEED_VALIDATOR,
                    days=demo.days, every=7, now=now, progress=progress)
    progress("Monitoring every served model against the policy (as `govern monitor` does)")
    monitor(engine=engine, registry=registry, policy=policy, actor=SEED_VALIDATOR)
    progress("Periodic reviews: credit-risk reviewed, fraud-screening's next one due soon")
    seed_reviews(engine=engine, registry=registry, policy=policy)
    with session_scope(engine) as session:
        set_setting(session=session, key=DEMO_KEY, value="ready")
        set_setting(session=session, key="demo_size", value=size)
    seconds = time.perf_counter() - started
    decisions = len(log.decisions) + vendor_decisions
    progress(f"Demo workspace ready in {seconds:.0f} s: {decisions:,} decisions, "
             f"{len(log.outcomes):,} outcomes of the generated log.")
    return DemoReport(True, size, 4, decisions, len(log.outcomes), seconds)


def _start_again(settings: Settings, engine: Any, progress: Progress) -> Any:
    """A build that stopped half-way is removed and begun again (embedded files only)."""
    embedded = settings.database_url == f"sqlite:///{settings.home / 'governance.db'}"
    if not embedded:
        raise InvalidInput(
            "An earlier demo build stopped half-way in a database this command did not create.",
            hint="Empty that database, then run `govern demo` again.",
        )
    progress("An earlier demo build stopped half-way; starting again.")
    engine.dispose()
    for name in ("governance.db", "governance.db-wal", "governance.db-shm", "mlflow.db"):
        (settings.home / name).unlink(missing_ok=True)
    shutil.rmtree(settings.artifact_root, ignore_errors=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


@contextmanager
def _mlflow_pointed_at(settings: Settings) -> Iterator[None]:
    """Point MLflow's process-wide URIs at the workspace, and put them back afterwards.

    mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI; left behind, it would steer
    every later Settings() in this process to the demo's registry.
    """
    saved = {name: os.environ.get(name) for name in _MLFLOW_URI_VARIABLES}
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_registry_uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _train(settings: Settings, demo: DemoSize, seed: int,
           progress: Progress) -> dict[str, list[TrainedVersion]]:
    with _mlflow_pointed_at(settings), warnings.catch_warnings():
        # The hint is about integer columns that might hold a missing value: here only the
        # labels are integers, and a label is never missing. Features are floats.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        return _train_and_register(settings, demo, seed, progress)


def _train_and_register(settings: Settings, demo: DemoSize, seed: int,
                        progress: Progress) -> dict[str, list[TrainedVersion]]:
    progress(f"MLflow registry: {settings.mlflow_registry_uri}")
    client = MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_registry_uri)
    settings.artifact_root.mkdir(parents=True, exist_ok=True)
    experiment = client.get_experiment_by_name("governance-demo")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(
        "governance-demo", artifact_location=settings.artifact_root.as_uri())
    progress("Training credit-risk v1-v3 on the German credit data (1,000 real applicants)...")
    credit = train_credit_models(client, experiment_id, seed)
    progress(f"Training fraud-screening v1-v2 on {demo.fraud_training_rows:,} transactions...")
    fraud = train_fraud_models(client, experiment_id, seed, demo.fraud_training_rows)
    progress("Registering marketing-propensity without governance records (to show gaps)...")
    register_ungoverned_model(client, experiment_id, seed)
    for name, champion, challenger in (("credit-risk", credit[1], credit[2]),
                                       ("fraud-screening", fraud[0], fraud[1])):
        client.set_registered_model_alias(name, "champion", champion.version)
        client.set_registered_model_alias(name, "challenger", challenger.version)
    return {"credit-risk": credit, "fraud-screening": fraud}


def _run_evidence(settings: Settings, engine: Any, versions: dict[str, list[TrainedVersion]],
                  progress: Progress) -> None:
    """Evaluation and fairness evidence for every governed version, as a validator would run."""
    registry = Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri)
    policy = load_policy(settings.policy_path)
    for trained in (v for group in versions.values() for v in group):
        progress(f"Evidence for {trained.model_name} v{trained.version}: evaluation and "
                 f"fairness with {policy.fairness.bootstrap_resamples} bootstrap resamples")
        run_evidence(engine=engine, registry=registry, policy=policy, actor=SEED_VALIDATOR,
                     model_name=trained.model_name, version=trained.version)


def _profile_traffic(engine: Any, versions: dict[str, list[TrainedVersion]],
                     progress: Progress) -> None:
    """Daily profiles of every version's traffic (the demo writes its log before evidence)."""
    for trained in (v for group in versions.values() for v in group):
        progress(f"Profiling the traffic of {trained.model_name} v{trained.version} by day")
        rebuild_daily_profiles(engine=engine, actor=SEED_VALIDATOR,
                               model_name=trained.model_name, version=trained.version)


def _tenures(versions: dict[str, list[TrainedVersion]],
             start: datetime, days: int) -> dict[str, tuple[list[Tenure], Tenure]]:
    credit, fraud = versions["credit-risk"], versions["fraud-screening"]

    def at(share: float) -> datetime:
        return start + timedelta(days=round(days * share))

    return {
        # credit-risk: the logistic baseline served first, boosting took over, v3 shadows.
        "credit-risk": ([Tenure(credit[0], start), Tenure(credit[1], at(0.3))],
                        Tenure(credit[2], at(0.75))),
        "fraud-screening": ([Tenure(fraud[0], start)], Tenure(fraud[1], at(0.6))),
    }


def _decision_log(settings: Settings, demo: DemoSize,
                  versions: dict[str, list[TrainedVersion]], seed: int, start: datetime,
                  now: datetime, progress: Progress) -> DecisionLog:
    policy = load_policy(settings.policy_path)
    rng = np.random.default_rng(seed)
    tenures = _tenures(versions, start, demo.days)

    progress(f"Scoring {demo.credit_decisions:,} credit applications over {demo.days} days...")
    times = decision_times(demo.credit_decisions, start, demo.days, rng)
    applicants = data.perturbed_applicants(data.german_credit(), demo.credit_decisions, rng)
    champion, challenger = tenures["credit-risk"]
    credit = generate(credit_traffic(champion, challenger, policy.for_tier("high")
                                     .confidence_margin), applicants, times, now, rng)

    progress(f"Scoring {demo.fraud_decisions:,} card transactions "
             f"(drift begins on day {demo.days // 2})...")
    times = decision_times(demo.fraud_decisions, start, demo.days, rng)
    transactions = _drifting_transactions(times, start, demo.days, rng)
    champion, challenger = tenures["fraud-screening"]
    fraud = generate(fraud_traffic(champion, challenger, policy.for_tier("medium")
                                   .confidence_margin), transactions, times, now, rng)
    return DecisionLog(credit.decisions + fraud.decisions, credit.outcomes + fraud.outcomes)


def drift_onset(start: datetime, days: int) -> datetime:
    """The day the generator begins to move the fraud population: mid-way through the log."""
    return start + timedelta(days=days // 2)


def _drifting_transactions(times: np.ndarray, start: datetime, days: int,
                           rng: np.random.Generator) -> pd.DataFrame:
    # Drift starts mid-way and ramps to full strength over ten days.
    elapsed = (times - np.datetime64(drift_onset(start, days))) / np.timedelta64(1, "D")
    level = np.round(np.clip(elapsed / 10.0, 0.0, 1.0) * 10) / 10
    level[elapsed < 0] = 0.0
    parts = []
    for value in np.unique(level):
        rows = np.flatnonzero(level == value)
        part = data.card_transactions(len(rows), rng, drift=float(value))
        part.index = rows
        parts.append(part)
    return pd.concat(parts).sort_index()


def _write(engine: Any, log: DecisionLog, versions: dict[str, list[TrainedVersion]],
           demo: DemoSize, seed: int, start: datetime, progress: Progress) -> None:
    with session_scope(engine) as session:
        batch = IngestBatch(
            kind="decisions", source=f"govern demo --size {demo.name}",
            content_sha256=hashlib.sha256(f"demo:{demo.name}:{seed}".encode()).hexdigest(),
            accepted=len(log.decisions), quarantined=0, ingested_by=SEED_ACTOR,
            ingested_at=utcnow())
        session.add(batch)
        session.flush()
        days = DayCounts()
        for first in range(0, len(log.decisions), _CHUNK):
            chunk = log.decisions[first:first + _CHUNK]
            session.execute(insert(Decision), [{**row, "batch_id": batch.id} for row in chunk])
            days.add(chunk)
            progress(f"Writing decisions {min(first + _CHUNK, len(log.decisions)):,}"
                     f"/{len(log.decisions):,}")
        days.write(session.connection())
        for first in range(0, len(log.outcomes), _CHUNK):
            chunk = log.outcomes[first:first + _CHUNK]
            session.execute(insert(Outcome), [{**row, "batch_id": batch.id} for row in chunk])
        progress(f"Writing {len(log.outcomes):,} outcomes and the alias history")
        for name, (champions, challenger) in _tenures(versions, start, demo.days).items():
            previous: str | None = None
            for tenure in champions:
                session.add(AliasChange(model_name=name, alias="champion",
                                        version=tenure.version.version, previous_version=previous,
                                        changed_at=tenure.since, changed_by=SEED_ACTOR,
                                        reason="Demo history"))
                previous = tenure.version.version
            session.add(AliasChange(model_name=name, alias="challenger",
                                    version=challenger.version.version, previous_version=None,
                                    changed_at=challenger.since, changed_by=SEED_ACTOR,
                                    reason="Demo history: shadow scoring begins"))
        # The seeded history is recorded as seeded, now: the trail never pretends to be older.
        append(session=session, actor=SEED_ACTOR, action=AuditAction.INGEST_DECISIONS,
               subject_type="ingest_batch", subject_id=batch.id,
               payload={"source": batch.source, "accepted": batch.accepted,
                        "outcomes": len(log.outcomes), "quarantined": 0})
        for name in _tenures(versions, start, demo.days):
            append(session=session, actor=SEED_ACTOR, action=AuditAction.ALIAS_HISTORY_SEEDED,
                   subject_type="model", subject_id=name, model_name=name,
                   payload={"note": "Demo alias history written by govern demo"})
