"""A model card as JSON (in the spirit of Google's Model Card Toolkit), Markdown, HTML, PDF."""

from __future__ import annotations

import html
import json
from typing import Any

from services.core.visible import visible
from services.evidence.findings import FindingRecord
from services.governance.model_card import ModelCard
from services.registry.vendor import no_artifact
from services.reports.card_document import (
    CardDataset,
    CardEvidence,
    CardFairness,
    CardFinding,
    CardGate,
    CardGovernance,
    CardOwner,
    CardReference,
    CardTenure,
    CardVendor,
    CardVendorDocument,
    CardVersion,
    Considerations,
    ContractGap,
    ModelCardDocument,
    ModelDetails,
    ModelParameters,
    PerformanceMetric,
    QuantitativeAnalysis,
)
from services.reports.pdf import Document

_METRIC_NAMES = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "accuracy": "Accuracy",
                 "precision": "Precision", "recall": "Recall", "f1": "F1",
                 "log_loss": "Log loss", "brier": "Brier score", "rmse": "RMSE", "mae": "MAE",
                 "r2": "R²"}


def card_dict(card: ModelCard) -> ModelCardDocument:
    """Machine-readable card: model details, parameters, analysis, considerations, governance."""
    tags = card.model.tags
    return ModelCardDocument(
        model_details=ModelDetails(
            name=card.model.name,
            version=CardVersion(name=card.version.version, date=_iso(card.version.created_at)),
            overview=card.model.description,
            owners=(CardOwner(name=tags.get("owner", "")),),
            risk_tier=tags.get("risk_tier"),
            aliases=card.version.aliases,
            references=(CardReference(reference=card.version.source),),
        ),
        model_parameters=ModelParameters(
            model_architecture=card.lineage.params.get("estimator"),
            parameters=card.lineage.params,
            data=tuple(CardDataset(name=d.name, context=d.context, mlflow_digest=d.digest)
                       for d in card.lineage.datasets),
            code_version=card.lineage.code_version,
            training_run=card.lineage.run_id,
        ),
        quantitative_analysis=QuantitativeAnalysis(
            performance_metrics=tuple(PerformanceMetric(type=k, value=v)
                                      for k, v in card.metrics.items()),
            fairness=tuple(CardFairness(feature=h.feature, **h.summary.as_stored())
                           for h in card.fairness_headlines()),
        ),
        considerations=Considerations(
            use_cases=(tags.get("intended_use", ""),),
            limitations=(tags.get("limitations", ""),),
            sensitive_features=tags.get("sensitive_features", ""),
            known_limitations=tuple(limitation_line(f) for f in card.limitations),
        ),
        governance=CardGovernance(
            policy_version=card.gates.policy_version,
            policy_sha256=card.gates.policy_sha256,
            gates_passed=card.gates.passed,
            gates=tuple(CardGate(gate=g.gate, status=g.status, figure=g.figure, bound=g.bound,
                                 clause=g.clause, detail=g.detail) for g in card.gates.results),
            evidence=tuple(CardEvidence(kind=r.kind, id=r.id, created_at=_iso(r.created_at),
                                        created_by=r.created_by, data_sha256=r.data_sha256,
                                        payload_sha256=r.payload_sha256, intact=r.intact)
                           for r in card.evidence.values()),
            contract_gaps=tuple(ContractGap(requirement=i.requirement, detail=i.detail)
                                for i in card.contract.gaps),
            alias_history=tuple(CardTenure(alias=t.alias, since=_iso(t.since),
                                           until=_iso(t.until), moved_by=t.changed_by,
                                           reason=t.reason) for t in card.tenures),
            findings=tuple(CardFinding(
                id=f.id, title=f.title, severity=f.severity, category=f.category,
                status=f.status, owner=f.owner, due_on=f.due_on.isoformat(),
                raised_by=f.raised_by, closed_by=f.closed_by,
                remediation_plan=f.remediation_plan) for f in card.findings),
        ),
        vendor=CardVendor(
            vendor=tags.get("vendor", ""), vendor_version=card.lineage.vendor_version,
            no_artifact=no_artifact(card.model.name, card.version.version),
            documents=tuple(CardVendorDocument(
                title=d.title, file_name=d.file_name, sha256=d.sha256,
                size_bytes=d.size_bytes, received_on=d.received_on.isoformat())
                for d in card.documents)) if card.model.is_vendor else None,
    )


def card_json(card: ModelCard) -> str:
    return json.dumps(card_dict(card).as_json(), indent=2, ensure_ascii=False)


def card_sections(card: ModelCard) -> list[tuple[str, list[str] | list[list[str]]]]:
    """The card as titled sections of paragraphs or table rows (first row: the header)."""
    tags = card.model.tags
    metric_rows = [["Metric", "Value"]] + [[_METRIC_NAMES.get(k, k), _fmt(v)]
                                           for k, v in card.metrics.items()]
    fairness_rows = [["Sensitive feature", "Four-fifths ratio", "Least / most favoured",
                      "Equal opportunity", "Equalized odds", "Left out"]] + [
        [h.feature, _fmt(h.summary.four_fifths_ratio),
         f"{h.summary.least_favoured_group} / {h.summary.most_favoured_group}",
         _fmt(h.summary.equal_opportunity_difference),
         _fmt(h.summary.equalized_odds_difference),
         h.summary.left_out() or "-"] for h in card.fairness_headlines()]
    gate_rows = [["Gate", "Status", "Figure", "Bound", "Detail"]] + [
        [g.gate, g.status.replace("_", " "), _fmt(g.figure), _fmt(g.bound), g.detail]
        for g in card.gates.results]
    evidence_rows = [["Kind", "Run", "By", "Hold-out SHA-256", "Payload SHA-256"]] + [
        [r.kind, f"{r.created_at:%Y-%m-%d %H:%M}", r.created_by, r.data_sha256[:16],
         r.payload_sha256[:16]] for r in card.evidence.values()]
    history = [f"{t.alias} from {t.since:%Y-%m-%d}"
               + (f" until {t.until:%Y-%m-%d}" if t.until else " (current)")
               + f", moved by {t.changed_by}" for t in card.tenures] or [
        "This version has held no alias."]
    lineage = card.lineage
    return [
        ("Purpose", [card.model.description or "(no description)",
                     f"Intended use: {tags.get('intended_use') or '(not stated: a gap)'}",
                     f"Limitations: {tags.get('limitations') or '(not stated: a gap)'}",
                     f"Owner: {tags.get('owner') or '(missing)'}; risk tier: "
                     f"{tags.get('risk_tier') or '(missing)'}; sensitive features: "
                     f"{tags.get('sensitive_features') or '(missing)'}"]),
        _vendor_section(card) if card.model.is_vendor else
        ("Lineage", [f"Training run: {lineage.run_name} ({lineage.run_id})",
                     f"Code version: {lineage.code_version or '(missing)'}",
                     "Data: " + ("; ".join(f"{d.name} ({d.context}, MLflow digest {d.digest})"
                                           for d in lineage.datasets) or "(none logged)"),
                     f"Hold-out set: {lineage.holdout_artifact or '(missing)'}"]),
        ("Evaluation", metric_rows if card.metrics else ["No evaluation evidence yet."]),
        ("Fairness", fairness_rows if len(fairness_rows) > 1 else
         ["No fairness evidence yet."]),
        (f"Gates under policy {card.gates.policy_version} "
         f"({'passed' if card.gates.passed else 'NOT passed'})", gate_rows),
        ("Evidence records", evidence_rows if len(evidence_rows) > 1 else
         ["No evidence records."]),
        ("Known gaps", [f"{i.requirement}: {i.detail}" for i in card.contract.gaps]
         or ["No gaps: every record of the governance contract is present."]),
        ("Findings", [["#", "Finding", "Severity", "Status", "Owner", "Due"]] + [
            [str(f.id), f"{f.title} ({f.category})", f.severity, f.status, f.owner,
             f"{f.due_on:%Y-%m-%d}"] for f in card.findings] if card.findings
         else ["No finding has been raised against this version."]),
        ("Known limitations", [limitation_line(f) for f in card.limitations]
         or ["No finding has been accepted as a limitation of this version."]),
        ("Approval history", history),
    ]


def vendor_statement(card: ModelCard) -> str:
    """Who supplies a vendor model, the release, and why nothing of it is replayed."""
    return (f"Supplied by {card.model.tags.get('vendor') or '(vendor missing)'}, release "
            f"{card.lineage.vendor_version or '(missing)'}. "
            f"{no_artifact(card.model.name, card.version.version)} Its evidence is computed "
            "from a hold-out set the vendor scored.")


def _vendor_section(card: ModelCard) -> tuple[str, list[str]]:
    """A vendor model's provenance: who supplies it, the release, why nothing is replayed, and
    each document received with the SHA-256 of its bytes."""
    return ("Vendor", [
        vendor_statement(card),
        f"Scored hold-out set: {card.lineage.holdout_artifact or '(none logged)'}",
        *([f"Document received {d.received_on:%Y-%m-%d}: {d.title} ({d.file_name}, "
           f"{d.size_bytes:,} bytes, SHA-256 {d.sha256})" for d in card.documents]
          or ["No document received from the vendor is kept."])])


def limitation_line(finding: FindingRecord) -> str:
    """A limitations-register line: the finding, and why it was accepted (the last note)."""
    why = finding.steps[-1].note if finding.steps else finding.description
    return f"{finding.title} (finding #{finding.id}, {finding.category}): {why}"


def card_markdown(card: ModelCard) -> str:
    lines = [f"# Model card: {card.model.name} v{card.version.version}", ""]
    for title, body in card_sections(card):
        lines += [f"## {title}", ""]
        if body and isinstance(body[0], list):
            header, *rows = body
            lines.append("| " + " | ".join(_md(c) for c in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
        else:
            lines += [_md(str(p)) + "\n" for p in body]
        lines.append("")
    return "\n".join(lines)


def card_html(card: ModelCard) -> str:
    """A standalone page; every value is escaped, so no text in a tag becomes markup."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Model card: "
             f"{_escape(card.model.name)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Model card: {_escape(card.model.name)} "
             f"v{_escape(card.version.version)}</h1>"]
    for title, body in card_sections(card):
        parts.append(f"<h2>{_escape(title)}</h2>")
        if body and isinstance(body[0], list):
            header, *rows = body
            parts.append("<table><tr>" + "".join(f"<th>{_escape(c)}</th>" for c in header)
                         + "</tr>" + "".join("<tr>" + "".join(f"<td>{_escape(c)}</td>"
                                                              for c in row) + "</tr>"
                                             for row in rows) + "</table>")
        else:
            parts += [f"<p>{_escape(str(p))}</p>" for p in body]
    parts.append("</body></html>")
    return "".join(parts)


def card_pdf(card: ModelCard) -> bytes:
    document = Document(f"Model card: {card.model.name} v{card.version.version}")
    for title, body in card_sections(card):
        document.heading(title)
        if body and isinstance(body[0], list):
            document.table(body, (3.2, 1.3, 1, 1, 3.2) if body[0][0] == "Gate" else None)
        else:
            for paragraph in body:
                document.paragraph(str(paragraph))
    return document.bytes()


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:left}th{background:#f3f5f8}h2{color:#1f4e79}")
def _escape(text: str) -> str:
    """HTML text without markup and without invisible or direction-changing characters."""
    return html.escape(visible(text))


def _md(text: str) -> str:
    # Text from tags stays text: no table breaks, links, emphasis or raw HTML, and no invisible
    # or direction-changing characters.
    text = visible(text)
    for special in "\\`*_[]|#":
        text = text.replace(special, "\\" + special)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
