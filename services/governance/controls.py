"""The control matrix: for one model version, the controls of SR 11-7 and of the EU AI Act for
high-risk systems, each with the evidence in the console that meets it, its date and a link.

A control is met only by a record that exists; what is missing or failing is a gap, and
"partial" says which part holds. Nothing here computes new evidence: it reads the model card,
the health the last monitor run stored, the promotion record and the alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.policy import Policy
from services.evidence.profile import SCORE
from services.governance.model_card import ModelCard, build_model_card
from services.governance.promotions.status import PromotionStatus
from services.governance.promotions.views import PromotionView, list_promotions
from services.monitoring.alerts import AlertStatus
from services.monitoring.assessment import Pillar, PillarStatus
from services.registry.adapter import Registry
from services.store.models import Alert, ModelHealth, Profile


class ControlStatus(StrEnum):
    MET = "met"
    PARTIAL = "partial"  # some of what the control asks holds; the detail says which
    GAP = "gap"


@dataclass(frozen=True)
class Control:
    framework: str  # SR 11-7 | EU AI Act
    ref: str
    title: str
    asks: str  # what the control requires, in a line
    status: ControlStatus
    evidence: str  # what in the console meets it, or what is missing
    dated: datetime | None
    link: str  # a console address that shows the evidence


@dataclass(frozen=True)
class ControlMatrix:
    model_name: str
    version: str
    aliases: tuple[str, ...]
    controls: list[Control]

    @property
    def gaps(self) -> list[Control]:
        return [c for c in self.controls if c.status != ControlStatus.MET]


@dataclass(frozen=True)
class _Facts:
    """What the controls are judged on, read once."""

    card: ModelCard
    health: dict[str, Pillar]  # the last monitor run's pillars, when it judged this version
    judged_at: datetime | None
    promotions: list[PromotionView]
    traffic_days: int  # days with profiled decisions of this version
    open_alerts: list[Alert]
    approvers: int  # sign-offs the tier requires


def control_matrix(*, session: Session, registry: Registry, policy: Policy, model_name: str,
                   version: str) -> ControlMatrix:
    card = build_model_card(session=session, registry=registry, policy=policy,
                            model_name=model_name, version=version)
    health = session.scalars(select(ModelHealth).where(
        ModelHealth.model_name == model_name, ModelHealth.model_version == version,
        ModelHealth.backfilled.is_(False)).order_by(ModelHealth.as_of.desc()).limit(1)).first()
    facts = _Facts(
        card=card,
        health={k: Pillar(**v) for k, v in health.pillars.items()} if health else {},
        judged_at=health.as_of if health else None,
        promotions=[p for p in list_promotions(session=session, model_name=model_name)
                    if p.model_version == version],
        traffic_days=session.scalar(select(func.count()).select_from(Profile).where(
            Profile.model_name == model_name, Profile.model_version == version,
            Profile.day.is_not(None), Profile.feature == SCORE)) or 0,
        open_alerts=list(session.scalars(select(Alert).where(
            Alert.model_name == model_name, Alert.status == AlertStatus.OPEN))),
        approvers=policy.for_tier(card.model.risk_tier).approvers,
    )
    controls = [*_sr_11_7(facts), *_eu_ai_act(facts)]
    return ControlMatrix(model_name, version, card.version.aliases, controls)


def _link(page: str, **params: str) -> str:
    return f"/{page}?{urlencode(params)}" if params else f"/{page}"


def _failing(card: ModelCard, clause_part: str) -> list[str]:
    """Gates not passing whose policy clause names a part (metric_floors, fairness_bounds)."""
    return [g.gate for g in card.gates.failing if f".{clause_part}" in g.clause]


def _sr_11_7(f: _Facts) -> list[Control]:
    card, name, version = f.card, f.card.model.name, f.card.version.version
    tag_gaps = [i.requirement for i in card.contract.gaps if i.requirement.startswith("model tag")]
    run_gaps = [i.requirement for i in card.contract.gaps
                if not i.requirement.startswith("model tag")]
    failing = [g.gate for g in card.gates.failing]
    executed = [p for p in f.promotions
                if p.status == PromotionStatus.EXECUTED and p.kind == "promotion"]
    return [
        Control("SR 11-7", "Inventory", "Model inventory",
                "Every model is inventoried with its owner, use and risk tier.",
                ControlStatus.GAP if tag_gaps else ControlStatus.MET,
                f"Missing: {', '.join(tag_gaps)}." if tag_gaps else
                f"Registered in MLflow; owner {card.model.owner}, tier {card.model.risk_tier}.",
                card.model.last_updated, _link("model", model=name)),
        Control("SR 11-7", "Development", "Development documentation",
                "Design, data, code and limitations are documented and traceable.",
                ControlStatus.GAP if run_gaps else ControlStatus.MET,
                f"Missing: {', '.join(run_gaps)}." if run_gaps else
                f"Training run {card.lineage.run_id}, code {card.lineage.code_version}, data "
                + ", ".join(f"{d.name} ({d.digest})" for d in card.lineage.datasets) + ".",
                card.version.created_at, _link("card", model=name, version=version)),
        _evidence_control("SR 11-7", "Validation", "Independent validation",
                          "Performance and fairness are evaluated before use and pass the "
                          "policy's gates.", f, failing),
        _pillar_control(f, "SR 11-7", "Monitoring", "Ongoing monitoring",
                        "Inputs and outcomes are monitored against set bounds.",
                        ("drift", "oversight"), _link("drift", model=name)),
        _pillar_control(f, "SR 11-7", "Outcomes", "Outcomes analysis",
                        "Predictions are compared with actual outcomes as they arrive.",
                        ("performance",), _link("health", model=name)),
        Control("SR 11-7", "Governance", "Governance and effective challenge",
                "Use is approved by people independent of development, and recorded.",
                ControlStatus.MET if executed and len(executed[0].approvers) >= f.approvers
                else ControlStatus.GAP,
                (f"Promotion #{executed[0].id} to {executed[0].alias} signed off by "
                 f"{', '.join(executed[0].approvers)} (requested by {executed[0].requested_by})."
                 if executed else "No promotion of this version was signed off in the console"
                 + (" (its alias was set outside it)." if card.version.aliases else ".")),
                executed[0].executed_at if executed else None,
                _link("promotions", model=name)),
    ]


def _eu_ai_act(f: _Facts) -> list[Control]:
    card, name, version = f.card, f.card.model.name, f.card.version.version
    evaluation, fairness = card.evidence.get("evaluation"), card.evidence.get("fairness")
    data = card.evaluation.data if card.evaluation else None
    fairness_failing = _failing(card, "fairness_bounds")
    tags = card.model.tags
    high_alerts = [a for a in f.open_alerts if a.severity == "high"]
    return [
        Control("EU AI Act", "Art. 9", "Risk management system",
                "Risks are identified, evaluated against set bounds and followed up.",
                ControlStatus.GAP if not card.model.risk_tier
                else ControlStatus.PARTIAL if high_alerts else ControlStatus.MET,
                ("No risk tier." if not card.model.risk_tier else
                 f"Tier {card.model.risk_tier} under policy {card.gates.policy_version}; "
                 f"{len(f.open_alerts)} open alert(s)"
                 + (f", {len(high_alerts)} of high severity not yet taken on."
                    if high_alerts else ".")),
                card.gates.evaluated_at, _link("alerts")),
        Control("EU AI Act", "Art. 10", "Data and data governance",
                "Training and test data are documented, representative and examined for "
                "bias.",
                ControlStatus.GAP
                if not (evaluation and data) or fairness is None or fairness_failing
                else ControlStatus.MET,
                ("No evaluation of the hold-out data." if not (evaluation and data) else
                 "No fairness examination." if fairness is None else
                 f"Hold-out SHA-256 {evaluation.data_sha256[:16]}…, {data.rows} rows "
                 "profiled with representation by group"
                 + (f"; bias found: {', '.join(fairness_failing)}." if fairness_failing
                    else "; no gate on bias fails.")),
                fairness.created_at if fairness else None,
                _link("evidence", model=name, version=version)),
        Control("EU AI Act", "Art. 11, Annex IV", "Technical documentation",
                "A complete technical file: purpose, design, data, evaluation, changes.",
                ControlStatus.MET if card.contract.complete and evaluation else ControlStatus.GAP,
                "Model card complete; PDF and JSON exportable, evidence pack by "
                "`govern report`." if card.contract.complete and evaluation else
                f"{len(card.contract.gaps)} contract gap(s)"
                + ("" if evaluation else ", no evaluation evidence") + ".",
                evaluation.created_at if evaluation else None,
                _link("card", model=name, version=version)),
        Control("EU AI Act", "Art. 12", "Record-keeping",
                "Every use is logged automatically and traceably over the system's lifetime.",
                ControlStatus.MET if f.traffic_days else ControlStatus.GAP,
                f"Decisions of v{version} logged with inputs, score and outcome on "
                f"{f.traffic_days} day(s); every act in the hash-chained audit trail."
                if f.traffic_days else f"No logged decision of v{version}.",
                None, _link("decisions")),
        Control("EU AI Act", "Art. 13", "Transparency to deployers",
                "Instructions state the intended purpose, accuracy and known limitations.",
                ControlStatus.MET
                if tags.get("intended_use") and tags.get("limitations") and evaluation
                else ControlStatus.GAP,
                f"Intended use: {tags.get('intended_use') or '(missing)'}; limitations: "
                f"{tags.get('limitations') or '(missing)'}; accuracy on the card"
                + ("." if evaluation else " (missing)."),
                card.model.last_updated, _link("card", model=name, version=version)),
        _pillar_control(f, "EU AI Act", "Art. 14", "Human oversight",
                        "People can understand, override and stop the system; uncertain "
                        "cases go to a person.", ("oversight",), _link("queue")),
        _evidence_control("EU AI Act", "Art. 15", "Accuracy, robustness",
                          "Declared accuracy is met and kept in use.", f,
                          _failing(card, "metric_floors")),
        Control("EU AI Act", "Art. 86", "Right to explanation",
                "An affected person can get clear reasons for a decision.",
                ControlStatus.MET if f.traffic_days else ControlStatus.GAP,
                "Each decision's case file explains it in the original inputs (SHAP) and "
                "exports a letter to the person with the main reasons and how to contest."
                if f.traffic_days else "No logged decision to explain.",
                None, _link("decisions")),
    ]


def _evidence_control(framework: str, ref: str, title: str, asks: str, f: _Facts,
                      failing: list[str]) -> Control:
    card, name, version = f.card, f.card.model.name, f.card.version.version
    evaluation, fairness = card.evidence.get("evaluation"), card.evidence.get("fairness")
    if evaluation is None:
        return Control(framework, ref, title, asks, ControlStatus.GAP,
                       f"No evaluation evidence for v{version}.", None,
                       _link("evidence", model=name, version=version))
    records = f"evaluation #{evaluation.id}" + (f", fairness #{fairness.id}" if fairness else "")
    # Evidence that fails its gates is a gap: the control asks for passing, not for trying.
    return Control(framework, ref, title, asks, ControlStatus.GAP if failing else ControlStatus.MET,
                   f"{records} by {evaluation.created_by}; "
                   + (f"failing: {', '.join(failing)}." if failing else "gates pass."),
                   evaluation.created_at, _link("evidence", model=name, version=version))


def _pillar_control(f: _Facts, framework: str, ref: str, title: str, asks: str,
                    pillars: tuple[str, ...], link: str) -> Control:
    if not f.health:
        served = "champion" in f.card.version.aliases
        return Control(framework, ref, title, asks, ControlStatus.GAP,
                       "Not judged yet: run `govern monitor`." if served else
                       f"v{f.card.version.version} does not serve: nothing monitored in use.",
                       None, link)
    judged = [f.health[p] for p in pillars if p in f.health]
    worst = {p.status for p in judged}
    status = (ControlStatus.GAP if not judged or PillarStatus.GREY in worst and len(judged) == 1
              else ControlStatus.PARTIAL if worst - {PillarStatus.GREEN} else ControlStatus.MET)
    return Control(framework, ref, title, asks, status, " ".join(p.reason for p in judged),
                   f.judged_at, link)
