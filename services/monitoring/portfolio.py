"""The portfolio: one row per registered model with a status per pillar, headline figures
against the previous period, and how many models were red or amber per pillar over time.

Every figure comes from stored aggregates (health snapshots, alerts, evidence dates, the alias
history, overrides): the cost grows with the number of models, never with the decision log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.errors import GovernanceError
from services.core.policy import Policy
from services.evidence.gates import GateReport, gates_for_version
from services.monitoring.alerts import AlertStatus
from services.monitoring.assessment import (
    ACTIVITY_DAYS,
    JUDGED,
    Pillar,
    PillarStatus,
    evidence_pillar,
    gates_pillar,
)
from services.monitoring.reviews import DUE_SOON_DAYS, ReviewState, ReviewStatus, review_statuses
from services.registry.adapter import ModelSummary, Registry
from services.registry.contract import tag_items
from services.store.models import Alert, AliasChange, ModelHealth, Override

PILLARS = (*JUDGED[:5], "alerts", "revalidation", "oversight")
TREND_DAYS = 90
ALERT_AGE_RED_DAYS = 7  # an alert nobody took on for a week makes the pillar red
_RANK: dict[PillarStatus, int] = {PillarStatus.RED: 3, PillarStatus.AMBER: 2, PillarStatus.GREY: 1,
                           PillarStatus.GREEN: 0}
STATUS_WORDS: dict[str, str] = {"green": "ok", "amber": "watch", "red": "at risk",
                                "grey": "unknown"}


@dataclass(frozen=True)
class PortfolioRow:
    name: str
    owner: str | None
    risk_tier: str | None
    champion: str | None
    champion_since: datetime | None
    judged_at: datetime | None  # the health snapshot the judged pillars come from
    pillars: dict[str, Pillar]
    decisions: int | None  # acted-on decisions in the last ACTIVITY_DAYS (as judged)
    escalation_rate: float | None
    override_rate: float | None
    open_alerts: int
    revalidation_due: date | None  # the next periodic review (services.monitoring.reviews)
    contract_gaps: int  # registered-model tags the governance contract requires, missing

    @property
    def status(self) -> PillarStatus:
        return max((p.status for p in self.pillars.values()), key=_RANK.__getitem__,
                   default=PillarStatus.GREY)

    @property
    def reasons(self) -> list[str]:
        """Why it is not green, worst first."""
        ranked = sorted(self.pillars.items(), key=lambda item: -_RANK[item[1].status])
        return [f"{name}: {p.reason}" for name, p in ranked if p.status in ("red", "amber")]


@dataclass(frozen=True)
class Headline:
    label: str
    value: int
    previous: int | None  # the same figure one period earlier
    help: str
    # A rise is bad news (True: drawn red), good news (False: green) or neither (None: grey).
    worse_when_up: bool | None = None
    short: str = ""  # the label where space is tight (six figures on one row at 900 px)


@dataclass(frozen=True)
class TrendPoint:
    day: date
    pillar: str
    red: int
    amber: int


@dataclass(frozen=True)
class Portfolio:
    as_of: datetime
    rows: list[PortfolioRow]
    headlines: list[Headline]
    trends: list[TrendPoint]

    @property
    def last_judged(self) -> datetime | None:
        return max((r.judged_at for r in self.rows if r.judged_at), default=None)


def portfolio(*, session: Session, registry: Registry, policy: Policy,
              now: datetime) -> Portfolio:
    models = registry.list_models()
    then = now - timedelta(days=ACTIVITY_DAYS)
    latest, earlier = _snapshots(session, now), _snapshots(session, then)
    alerts = _alerts(session, then - timedelta(days=ACTIVITY_DAYS))
    since = _champion_since(session)
    reviews = review_statuses(session=session, models=models, policy=policy, now=now)
    rows = [_row(m, m.aliases.get("champion"), policy, latest.get(m.name), reviews[m.name],
                 alerts, since, now,
                 _unjudged_gates(session, registry, policy, m, latest.get(m.name)))
            for m in models]
    # A period ago the champion was what the alias history says (the registry keeps no past).
    champions_then = {m.name: _holder(since[m.name], then) if since.get(m.name)
                      else m.aliases.get("champion") for m in models}
    reviews_then = review_statuses(session=session, models=models, policy=policy, now=then,
                                   champions=champions_then)
    earlier_rows = [_row(m, champion, policy, earlier.get(m.name), reviews_then[m.name], alerts,
                         since, then)
                    for m in models if (champion := champions_then[m.name])]
    overrides_now, overrides_then = (
        session.scalar(select(func.count()).select_from(Override)
                       .where(Override.created_at >= start, Override.created_at < end)) or 0
        for start, end in ((then, now), (then - timedelta(days=ACTIVITY_DAYS), then)))
    served = [r for r in rows if r.champion]
    judged = [latest[r.name] for r in served if r.name in latest]
    headlines = [
        Headline("In production", len(served), len(earlier_rows),
                 "Models whose champion alias points at a version.", None, "Serving"),
        Headline("At risk", sum(r.status == PillarStatus.RED for r in served),
                 sum(r.status == PillarStatus.RED for r in earlier_rows),
                 "Served models with at least one red pillar.", True),
        Headline("Overdue reviews", sum(_overdue(r, now.date()) for r in served),
                 sum(_overdue(r, then.date()) for r in earlier_rows),
                 "Champions whose periodic review date under the policy has passed.", True,
                 "Overdue"),
        Headline("Open alerts", sum(r.open_alerts for r in rows),
                 sum(_open_at(a, then) for found in alerts.values() for a in found),
                 "Alerts that nobody has acknowledged yet.", True, "Alerts"),
        Headline(f"Decisions ({ACTIVITY_DAYS} d)",
                 sum(int(h.activity.get("decisions", 0)) for h in judged),
                 sum(int(h.activity.get("previous_decisions", 0)) for h in judged),
                 "Acted-on decisions of the served models, as of their last monitor run.",
                 None, "Decisions"),
        Headline(f"Overrides ({ACTIVITY_DAYS} d)", int(overrides_now),
                 int(overrides_then), "Decisions a person changed, with a justification.",
                 True, "Overrides"),
    ]
    return Portfolio(now, rows, headlines, _trends(session, now))


def _unjudged_gates(session: Session, registry: Registry, policy: Policy, model: ModelSummary,
                    health: ModelHealth | None) -> GateReport | None:
    """The gates of a champion no monitor run has judged yet (newly promoted, or never run):
    evidence and gates are stored records, so they need not wait for the next run. None when
    the last run judged this champion, or the gates cannot be read (the pillars then say so)."""
    champion = model.aliases.get("champion")
    if champion is None or (health is not None and health.model_version == champion):
        return None
    try:
        return gates_for_version(session=session, registry=registry, policy=policy,
                                 model_name=model.name, version=champion, model=model)
    except GovernanceError:
        return None


def _row(model: ModelSummary, champion: str | None, policy: Policy, health: ModelHealth | None,
         review: ReviewStatus, alerts: dict[str, list[Alert]],
         since: dict[str, list[tuple[datetime, str | None]]], now: datetime,
         gates: GateReport | None = None) -> PortfolioRow:
    pillars: dict[str, Pillar] = {}
    activity: dict[str, Any] = {}
    due = review.due_on if champion else None
    if champion is None:
        pillars = {name: Pillar(PillarStatus.GREY, "No champion serves: nothing to judge.")
                   for name in PILLARS}
    else:
        judged = health.pillars if health and health.model_version == champion else {}
        if health is None:
            missing = "Not judged yet: run `govern monitor`."
        elif health.model_version != champion:
            missing = (f"The last monitor run judged v{health.model_version}; v{champion} "
                       "serves now: run `govern monitor`.")
        else:
            missing = "Not judged by this run (a backfill judges the log only)."
            activity = health.activity
        for name in JUDGED:
            pillars[name] = Pillar(**judged[name]) if name in judged \
                else Pillar(PillarStatus.GREY, missing)
        if gates is not None and gates.model_version == champion:
            pillars["evidence"], pillars["gates"] = evidence_pillar(gates), gates_pillar(gates)
        pillars["alerts"] = _alerts_pillar(alerts.get(model.name, []), now)
        pillars["revalidation"] = _review_pillar(champion, review)
    decisions = int(activity["decisions"]) if activity else None
    tenure = since.get(model.name, [])
    return PortfolioRow(
        name=model.name, owner=model.owner, risk_tier=model.risk_tier, champion=champion,
        champion_since=_since(tenure, now) if champion else None,
        judged_at=health.as_of if health else None,
        pillars={name: pillars[name] for name in PILLARS},
        decisions=decisions,
        escalation_rate=activity["escalated"] / decisions if decisions else None,
        override_rate=activity["overridden"] / decisions if decisions else None,
        open_alerts=sum(_open_at(a, now) for a in alerts.get(model.name, [])),
        revalidation_due=due,
        contract_gaps=sum(not item.satisfied for item in tag_items(model)))


def _overdue(row: PortfolioRow, day: date) -> bool:
    return row.revalidation_due is not None and row.revalidation_due < day


def _alerts_pillar(alerts: list[Alert], now: datetime) -> Pillar:
    waiting = [a for a in alerts if _open_at(a, now)]
    if not waiting:
        return Pillar(PillarStatus.GREEN, "No open alert.")
    oldest = min(a.opened_at for a in waiting)
    age = (now - oldest).days
    kinds = ", ".join(sorted({a.kind for a in waiting}))
    owners = ", ".join(sorted({a.owner for a in waiting}))
    status = PillarStatus.RED if age >= ALERT_AGE_RED_DAYS or any(
        a.severity == "high" for a in waiting) else PillarStatus.AMBER
    return Pillar(status, f"{len(waiting)} open ({kinds}), oldest {age} days, owner {owners}.",
                  float(len(waiting)), 0.0)


def _review_pillar(version: str, review: ReviewStatus) -> Pillar:
    """The periodic review cycle (policy review_cycle_days and review_triggers): red when
    overdue or never validated, amber when due, due soon or triggered, green otherwise."""
    due, last = review.due_on, review.last_review
    done = (f" Last reviewed {last.reviewed_at:%Y-%m-%d} ({last.conclusion})." if last
            else " Never reviewed.")
    if review.state is ReviewState.OVERDUE and due is not None:
        return Pillar(PillarStatus.RED, f"Overdue since {due:%Y-%m-%d}.{done}")
    if due is None or review.since is None:
        return Pillar(PillarStatus.RED, f"v{version} has no evaluation evidence: never validated.")
    if review.state is ReviewState.TRIGGERED:
        fired = "; ".join(e.detail for e in review.fired[:2])
        return Pillar(PillarStatus.AMBER, f"Review due now, triggered by {fired}.{done}")
    if review.state in (ReviewState.DUE, ReviewState.DUE_SOON):
        return Pillar(PillarStatus.AMBER,
                      f"Due {due:%Y-%m-%d}, within {DUE_SOON_DAYS} days.{done}")
    return Pillar(PillarStatus.GREEN, f"Next review due {due:%Y-%m-%d}.{done}")


def _open_at(alert: Alert, moment: datetime) -> bool:
    return alert.opened_at <= moment and (alert.acknowledged_at is None
                                          or alert.acknowledged_at > moment)


def _snapshots(session: Session, moment: datetime) -> dict[str, ModelHealth]:
    """Each model's newest health snapshot at or before a moment (a live run over a backfill
    of the same time, since it also judged evidence and gates)."""
    newest = (select(ModelHealth.model_name, func.max(ModelHealth.as_of).label("as_of"))
              .where(ModelHealth.as_of <= moment).group_by(ModelHealth.model_name).subquery())
    rows = session.scalars(select(ModelHealth).join(
        newest, (ModelHealth.model_name == newest.c.model_name)
        & (ModelHealth.as_of == newest.c.as_of)).order_by(ModelHealth.backfilled.desc(),
                                                           ModelHealth.id)).all()
    return {row.model_name: row for row in rows}


def _alerts(session: Session, horizon: datetime) -> dict[str, list[Alert]]:
    """Alerts open now or acknowledged since the horizon (for the previous period's count)."""
    found: dict[str, list[Alert]] = defaultdict(list)
    for alert in session.scalars(select(Alert).where(
            (Alert.status == AlertStatus.OPEN) | (Alert.acknowledged_at >= horizon))):
        found[alert.model_name].append(alert)
    return found


def _champion_since(session: Session) -> dict[str, list[tuple[datetime, str | None]]]:
    """Each model's champion alias changes, oldest first: (when, the version it moved to)."""
    changes: dict[str, list[tuple[datetime, str | None]]] = defaultdict(list)
    for name, at, version in session.execute(
            select(AliasChange.model_name, AliasChange.changed_at, AliasChange.version)
            .where(AliasChange.alias == "champion")
            .order_by(AliasChange.changed_at, AliasChange.id)):
        changes[name].append((at, version))
    return changes


def _holder(changes: list[tuple[datetime, str | None]], moment: datetime) -> str | None:
    held = [version for at, version in changes if at <= moment]
    return held[-1] if held else None


def _since(changes: list[tuple[datetime, str | None]], moment: datetime) -> datetime | None:
    held = [at for at, _ in changes if at <= moment]
    return held[-1] if held else None


def _trends(session: Session, now: datetime) -> list[TrendPoint]:
    """Per day and pillar, how many models were red and amber (each model's last snapshot of
    the day)."""
    day = func.date(ModelHealth.as_of)
    last_of_day = (select(func.max(ModelHealth.id))
                   .where(ModelHealth.as_of > now - timedelta(days=TREND_DAYS),
                          ModelHealth.as_of <= now)
                   .group_by(ModelHealth.model_name, day))
    counts: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for as_of, pillars in session.execute(select(ModelHealth.as_of, ModelHealth.pillars)
                                          .where(ModelHealth.id.in_(last_of_day))):
        for name, pillar in pillars.items():
            cell = counts[(as_of.date(), name)]
            cell[0] += pillar["status"] == PillarStatus.RED
            cell[1] += pillar["status"] == PillarStatus.AMBER
    return [TrendPoint(d, name, red, amber) for (d, name), (red, amber) in sorted(counts.items())]
