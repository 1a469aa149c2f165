"""Portfolio health: monitor stores a judgement per pillar, the portfolio reads those rows, and
what cannot be judged shows as unknown with its reason, never as healthy."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import Engine, func, select, update

from services.core.clock import utcnow
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT, Settings
from services.decisions.day_counts import window_days
from services.monitoring.monitor import backfill_health, monitor
from services.monitoring.portfolio import PILLARS, portfolio
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.models import Alert, Decision, ModelHealth
from tests.factories import behind_the_apps_back

VALIDATOR = Principal("val", "Val", frozenset({Role.VALIDATOR}))
POLICY = load_policy(PROJECT_ROOT / "policy.toml")


def _portfolio(engine: Engine, registry: Registry, now=None):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return portfolio(session=session, registry=registry, policy=POLICY, now=now or utcnow())


def test_a_model_never_judged_is_unknown_not_healthy(engine: Engine, registry_uri: str) -> None:
    view = _portfolio(engine, Registry(registry_uri))
    served = next(r for r in view.rows if r.name == "loan-approval")
    assert served.champion == "2" and view.last_judged is None
    assert all(served.pillars[p].status == "grey" for p in ("drift", "oversight"))
    assert "govern monitor" in served.pillars["drift"].reason
    # Evidence and gates are stored records: judged without waiting for a monitor run.
    assert served.pillars["evidence"].status == "red"
    assert "No evaluation evidence" in served.pillars["evidence"].reason
    # No evaluation evidence: never validated is a red revalidation pillar, not a pass.
    assert served.pillars["revalidation"].status == "red"
    assert served.status == "red" and "never validated" in " ".join(served.reasons)
    idle = next(r for r in view.rows if r.name == "bare-model")
    assert idle.champion is None and list(idle.pillars) == list(PILLARS)
    assert {h.label: h.value for h in view.headlines}["In production"] == 1


def test_monitor_stores_a_judgement_the_portfolio_reads(engine: Engine,
                                                         registry_uri: str) -> None:
    registry = Registry(registry_uri)
    report = monitor(engine=engine, registry=registry, policy=POLICY, actor=VALIDATOR)
    assert report.models == 1
    with session_scope(engine) as session:
        stored = session.scalars(select(ModelHealth)).one()
    assert stored.model_version == "2" and not stored.backfilled
    assert stored.pillars["evidence"]["status"] == "red"  # no evidence recorded at all
    view = _portfolio(engine, registry)
    row = next(r for r in view.rows if r.name == "loan-approval")
    assert row.judged_at == stored.as_of
    assert row.pillars["evidence"].status == "red"
    assert "No evaluation evidence" in row.pillars["evidence"].reason
    assert row.pillars["gates"].status == "red"
    # No reference profile: drift cannot be judged, and says how to make it judgeable.
    assert row.pillars["drift"].status == "grey"
    assert {h.label: h.value for h in view.headlines}["At risk"] == 1


def test_a_judgement_of_another_version_is_not_taken_for_the_champion(
        engine: Engine, registry_uri: str) -> None:
    monitor(engine=engine, registry=Registry(registry_uri), policy=POLICY, actor=VALIDATOR)
    with session_scope(engine) as session:
        session.execute(update(ModelHealth).values(model_version="1"))
    row = next(r for r in _portfolio(engine, Registry(registry_uri)).rows
               if r.name == "loan-approval")
    assert row.pillars["drift"].status == "grey"
    assert "judged v1; v2 serves now" in row.pillars["drift"].reason
    # The champion's own gates, from its stored records, not v1's judgement.
    assert "v2" in row.pillars["gates"].reason and "v1" not in row.pillars["gates"].reason


def test_open_alerts_colour_the_pillar_by_severity_and_age(engine: Engine,
                                                           registry_uri: str) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(Alert(model_name="loan-approval", model_version="2", kind="drift",
                          severity="medium", owner="alice", figure=0.6, bound=0.5,
                          message="drifted", opened_at=now - timedelta(days=2), status="open"))
    row = next(r for r in _portfolio(engine, Registry(registry_uri)).rows
               if r.name == "loan-approval")
    assert row.pillars["alerts"].status == "amber" and row.open_alerts == 1
    assert "oldest 2 days, owner alice" in row.pillars["alerts"].reason
    later = now + timedelta(days=8)  # nobody took it on for over a week
    row = next(r for r in _portfolio(engine, Registry(registry_uri), later).rows
               if r.name == "loan-approval")
    assert row.pillars["alerts"].status == "red"


def test_the_trend_counts_each_models_last_judgement_of_the_day(
        engine: Engine, registry_uri: str) -> None:
    registry = Registry(registry_uri)
    now = utcnow()
    written = backfill_health(engine=engine, registry=registry, policy=POLICY,
                              actor=VALIDATOR, days=3, now=now)
    assert written == 3
    # Backfilling again skips the days already judged.
    assert backfill_health(engine=engine, registry=registry, policy=POLICY, actor=VALIDATOR,
                           days=3, now=now) == 0
    monitor(engine=engine, registry=registry, policy=POLICY, actor=VALIDATOR, now=now)
    monitor(engine=engine, registry=registry, policy=POLICY, actor=VALIDATOR, now=now)
    view = _portfolio(engine, registry, now)
    evidence = [t for t in view.trends if t.pillar == "evidence"]
    assert [(t.red, t.amber) for t in evidence] == [(1, 0)]  # two runs today count once
    assert len({t.day for t in view.trends if t.pillar == "drift"}) == 4


def test_the_demo_portfolio_names_a_model_at_risk_and_counts_from_the_log(
        demo_env: Settings) -> None:
    engine = make_engine(demo_env.database_url)
    now = utcnow()
    view = _portfolio(engine, Registry(demo_env.mlflow_tracking_uri), now)
    fraud = next(r for r in view.rows if r.name == "fraud-screening")
    assert fraud.status == "red" and fraud.pillars["drift"].status == "red"
    assert "amount" in fraud.pillars["drift"].reason
    # The headline's decisions equal a direct count over the log for the snapshot's window
    # (whole days: the 29 before as_of's and that day up to as_of).
    with session_scope(engine) as session:
        judged = {h.model_name: h for h in session.scalars(select(ModelHealth).where(
            ModelHealth.backfilled.is_(False)))}
        direct = sum(session.scalar(select(func.count()).where(
            Decision.model_name == name, Decision.shadow.is_(False),
            Decision.decided_at >= datetime.combine(window_days(h.as_of, 30)[0], time.min),
            Decision.decided_at < h.as_of)) or 0 for name, h in judged.items())
    headline = {h.label: h.value for h in view.headlines}
    assert headline["Decisions (30 d)"] == direct > 0
    # The backfill shows when the drift began: not red at first, red by the end.
    drift = [t for t in view.trends if t.pillar == "drift"]
    assert drift[0].red == 0 and drift[-1].red >= 1


def test_a_newly_promoted_champion_shows_its_evidence_and_gates_at_once(
        demo_copy: Settings) -> None:
    from mlflow import MlflowClient

    engine = make_engine(demo_copy.database_url)
    registry = Registry(demo_copy.mlflow_tracking_uri, demo_copy.mlflow_registry_uri)
    MlflowClient(demo_copy.mlflow_tracking_uri,
                 demo_copy.mlflow_registry_uri).set_registered_model_alias(
        "credit-risk", "champion", "3")  # as a promotion moves it, before any monitor run
    row = next(r for r in _portfolio(engine, registry).rows if r.name == "credit-risk")
    assert row.champion == "3"
    assert row.pillars["evidence"].status == "green" and "v3" in row.pillars["evidence"].reason
    assert row.pillars["gates"].status == "red" and "v3 fails" in row.pillars["gates"].reason
    assert row.pillars["drift"].status == "grey"  # the log's pillars wait for the monitor


def test_the_portfolio_never_reads_the_decision_log(demo_env: Settings) -> None:
    """Its cost follows models and days of health, not the number of decisions."""
    from sqlalchemy import event

    engine = make_engine(demo_env.database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: statements.append(statement))
    view = _portfolio(engine, Registry(demo_env.mlflow_tracking_uri))
    assert view.rows and statements
    assert not [s for s in statements if "decisions" in s.lower()]


def test_a_champion_validated_longer_ago_than_the_policy_allows_is_overdue(
        engine: Engine, registry_uri: str) -> None:
    from services.evidence.records import add_evidence

    with session_scope(engine) as session:
        add_evidence(session=session, kind="evaluation", model_name="loan-approval",
                     model_version="2", data_sha256="a" * 64, payload={"metrics": {}},
                     policy_sha256=POLICY.sha256, code_version="abc", created_by="val")
    # Backdated as if recorded 400 days ago (evidence is append-only for the app itself).
    behind_the_apps_back(engine, "evidence", "UPDATE evidence SET created_at = :at",
                         at=utcnow() - timedelta(days=400))
    view = _portfolio(engine, Registry(registry_uri))
    row = next(r for r in view.rows if r.name == "loan-approval")
    assert row.pillars["revalidation"].status == "red"
    assert row.pillars["revalidation"].reason.startswith("Overdue since")
    assert {h.label: h.value for h in view.headlines}["Overdue reviews"] == 1
