"""The evidence pack on paper: drawn from the pack's JSON alone, so the two always agree."""

from __future__ import annotations

from services.governance.controls import ControlStatus
from services.reports.card_document import CardVendor, ModelCardDocument
from services.reports.pack_document import (
    DriftUnavailable,
    EvidencePack,
    PackAudit,
    PackControl,
    PackEvidence,
    PackGates,
    PackMonitoring,
    PackPromotion,
    PackTenure,
)
from services.reports.pdf import Colour, Document

STATUS_FILLS: dict[str, Colour] = {
    "met": (200, 230, 201), "pass": (200, 230, 201), "green": (200, 230, 201),
    "partial": (255, 236, 179), "amber": (255, 236, 179), "insufficient_data": (255, 236, 179),
    "gap": (255, 205, 210), "fail": (255, 205, 210), "red": (255, 205, 210),
    "missing_evidence": (255, 205, 210), "grey": (225, 228, 232),
    "not applicable": (225, 228, 232)}
PDF_AUDIT_EVENTS = 150  # the JSON holds the whole excerpt; paper shows the newest


def pack_pdf(pack: EvidencePack) -> bytes:
    name, version = pack.model, pack.version
    doc = Document(f"Evidence pack: {name} v{version}",
                   footer=f"Evidence pack {name} v{version} - SHA-256 {pack.pack_sha256[:16]}")
    aliases = ", ".join(pack.aliases) or "no alias"
    doc.paragraph(f"Generated {pack.generated_at[:19]} UTC by {pack.generated_by}. "
                  f"Version {version} holds: {aliases}.")
    doc.paragraph(f"Pack SHA-256 {pack.pack_sha256} (over the JSON without this field, "
                  "sorted keys, no spaces; recorded in the audit trail at export).", size=8)
    _summary(doc, pack)
    _controls(doc, pack.controls)
    _card(doc, pack.model_card)
    _evidence(doc, pack.evidence)
    _gates(doc, pack.gates)
    _monitoring(doc, pack.monitoring)
    _promotions(doc, pack.promotions, pack.alias_history)
    _audit(doc, pack.audit)
    return doc.bytes()


def _summary(doc: Document, pack: EvidencePack) -> None:
    controls = pack.controls
    met = sum(c.status == ControlStatus.MET for c in controls)
    judged = [c for c in controls if c.status != ControlStatus.NOT_APPLICABLE]
    gates = pack.gates.now
    verdict = pack.audit.verification
    intact = all(e.intact for e in pack.evidence)
    doc.heading("Summary")
    rows = [["Question", "Answer"],
            ["Do the policy's gates pass now?",
             f"{'Yes' if gates.passed else 'No'} (policy {gates.policy_version}, "
             f"{sum(g.passed for g in gates.results)} of {len(gates.results)} pass)"],
            ["Controls met", f"{met} of {len(judged)}; gaps: "
             + (", ".join(f"{c.framework} {c.ref} ({c.title})" for c in judged
                          if c.status == ControlStatus.GAP) or "none")
             + "; partly met: "
             + (", ".join(f"{c.framework} {c.ref} ({c.title})" for c in judged
                          if c.status == ControlStatus.PARTIAL) or "none")],
            ["Evidence records intact", f"{'Yes' if intact else 'NO'}: "
             f"{len(pack.evidence)} record(s), each payload re-hashed"],
            ["Audit chain", f"{'Intact' if verdict.intact else 'BROKEN'}: "
             f"{verdict.events_checked:,} events checked at {verdict.checked_at[:19]}, "
             f"head {verdict.head_hash[:16]}..." + (f" {verdict.problem}"
                                                   if verdict.problem else "")]]
    doc.table(rows, (1.2, 3), fills=[{}, {1: STATUS_FILLS["pass" if gates.passed else "fail"]},
                                     {}, {1: STATUS_FILLS["pass" if intact else "fail"]},
                                     {1: STATUS_FILLS["pass" if verdict.intact else "fail"]}])


def _controls(doc: Document, controls: tuple[PackControl, ...]) -> None:
    frameworks = ", ".join(dict.fromkeys(c.framework for c in controls)) or "no framework"
    doc.heading(f"Control matrix: {frameworks}")
    rows = [["Control", "Status", "Evidence in the console", "Dated"]] + [
        [f"{c.framework} {c.ref}: {c.title}", c.status, c.evidence, (c.dated or "-")[:10]]
        for c in controls]
    doc.table(rows, (1.6, 0.6, 3.6, 0.8), size=8,
              fills=[{1: STATUS_FILLS[c.status]} for c in controls])


def _vendor_rows(vendor: CardVendor) -> list[list[str]]:
    """A vendor model's provenance instead of a training run it never had here."""
    return [["Vendor / release", f"{vendor.vendor or '(missing)'} / "
                                 f"{vendor.vendor_version or '(missing)'}"],
            ["Artifact", vendor.no_artifact],
            *([[f"Document received {d.received_on}", f"{d.title} ({d.file_name}, "
                f"{d.size_bytes:,} bytes, SHA-256 {d.sha256})"] for d in vendor.documents]
              or [["Documents received", "none kept: a gap"]])]


def _card(doc: Document, card: ModelCardDocument) -> None:
    details, params = card.model_details, card.model_parameters
    doc.new_page()
    doc.heading("Model card and lineage")
    doc.paragraph(details.overview or "(no description)")
    considerations = card.considerations
    doc.table([["Item", "Value"],
               ["Owner / risk tier", f"{details.owners[0].name or '(missing)'} / "
                                     f"{details.risk_tier or '(missing)'}"],
               ["Intended use", considerations.use_cases[0] or "(missing: a gap)"],
               ["Limitations", considerations.limitations[0] or "(missing: a gap)"],
               ["Sensitive features", considerations.sensitive_features or "(missing)"],
               *(_vendor_rows(card.vendor) if card.vendor else [
                   ["Estimator", params.model_architecture or "-"],
                   ["Training run", str(params.training_run)],
                   ["Code version", params.code_version or "(missing)"],
                   ["Data", "; ".join(f"{d.name} ({d.context}, digest {d.mlflow_digest})"
                                      for d in params.data) or "(none logged)"]]),
               ["Registered", str(details.version.date)[:19]]], (1.2, 4))
    metrics = card.quantitative_analysis.performance_metrics
    if metrics:
        doc.paragraph("Evaluation on the hold-out set", bold=True)
        doc.table([["Metric", "Value"]] + [[m.type, _fmt(m.value)] for m in metrics], (2, 1))
    fairness = card.quantitative_analysis.fairness
    if fairness:
        doc.paragraph("Fairness by sensitive feature", bold=True)
        doc.table([["Feature", "Four-fifths ratio", "Least / most favoured"]] + [
            [f.feature, _fmt(f.four_fifths_ratio),
             f"{f.least_favoured_group} / {f.most_favoured_group}"] for f in fairness])
    findings = card.governance.findings
    doc.paragraph("Validation findings", bold=True)
    if findings:
        doc.table([["#", "Finding", "Severity", "Status", "Owner", "Due"]] + [
            [str(f.id), f"{f.title} ({f.category})", f.severity, f.status, f.owner, f.due_on]
            for f in findings], (0.4, 2.4, 0.8, 1.3, 1.0, 0.9))
    else:
        doc.paragraph("No finding has been raised against this version.")
    if considerations.known_limitations:
        doc.paragraph("Known limitations (findings accepted as limitations)", bold=True)
        for line in considerations.known_limitations:
            doc.paragraph(line)


def _evidence(doc: Document, records: tuple[PackEvidence, ...]) -> None:
    doc.heading("Evidence records and their hashes")
    if not records:
        doc.paragraph("No evidence recorded for this version: every control that needs it is "
                      "a gap.")
        return
    doc.table([["Record", "Created", "Hold-out SHA-256", "Payload SHA-256 (stored)",
                "Re-hashed now", "Intact"]] + [
        [f"{r.kind} #{r.id}", f"{r.created_at[:16]} by {r.created_by}", r.data_sha256,
         r.payload_sha256, r.payload_sha256_recomputed, "yes" if r.intact else "NO"]
        for r in records],
        (1, 1.1, 1.6, 1.6, 1.6, 0.5), size=7,
        fills=[{5: STATUS_FILLS["pass" if r.intact else "fail"]} for r in records])


def _gates(doc: Document, gates: PackGates) -> None:
    now = gates.now
    doc.heading(f"Gates under policy {now.policy_version} (now)")
    doc.paragraph(f"Policy SHA-256 {now.policy_sha256}; evaluated {now.evaluated_at[:19]}.",
                  size=8)
    doc.table([["Gate", "Status", "Figure", "Bound", "Detail"]] + [
        [g.gate, g.status.replace("_", " "), _fmt(g.figure), _fmt(g.bound), g.detail]
        for g in now.results], (2.4, 1, 0.7, 0.7, 2.6), size=8,
        fills=[{1: STATUS_FILLS[g.status]} for g in now.results])
    for frozen in gates.at_requests:
        failing = frozen.failing
        doc.paragraph(f"At promotion request #{frozen.request} ({frozen.requested_at[:10]}, "
                      f"policy SHA-256 {frozen.policy_sha256[:16]}...): "
                      + (f"failing {', '.join(failing)}." if failing else "every gate passed."))


def _monitoring(doc: Document, monitoring: PackMonitoring) -> None:
    doc.heading("Drift, last 30 days")
    drift = monitoring.drift_last_30_days
    if isinstance(drift, DriftUnavailable):
        doc.paragraph(drift.unavailable)
    elif not drift.judged:
        doc.paragraph(f"Only {drift.decisions:,} decisions: too few to judge drift.")
    else:
        share = drift.drifted_share or 0.0
        doc.paragraph(f"{drift.decisions:,} decisions from {drift.start} to {drift.end}: "
                      f"{share:.0%} of inputs drifted"
                      + (" - dataset drift." if drift.dataset_drift else "."))
        features = drift.features
        doc.table([["Input", "PSI", "KS D", "JS distance", "Wasserstein (sd)", "Chi-square",
                    "Drifted"]] + [
            [f.feature, _fmt(f.psi), _fmt(f.ks), _fmt(f.js), _fmt(f.wasserstein),
             _fmt(f.chi_square), _drifted_word(f.drifted)] for f in features], size=8,
            fills=[{6: STATUS_FILLS["grey" if f.drifted is None else
                                    "fail" if f.drifted else "pass"]} for f in features])
    doc.heading("Health as govern monitor judged it")
    snapshots = monitoring.health
    if not snapshots:
        doc.paragraph("Never judged: run govern monitor.")
        return
    latest = snapshots[-1]
    doc.paragraph(f"Latest judgement {latest.as_of[:16]} UTC"
                  + (" (backfilled from the log)" if latest.backfilled else "") + ".")
    pillars = latest.pillars
    doc.table([["Pillar", "Status", "Reason"]] + [
        [name, p.status, p.reason] for name, p in pillars.items()], (1, 0.7, 4.5),
        size=8, fills=[{1: STATUS_FILLS[p.status]} for p in pillars.values()])
    weekly = snapshots[::max(len(snapshots) // 12, 1)]
    names = list(pillars)
    doc.paragraph("Over time (each judged day's status per pillar)", bold=True)
    doc.table([["As of", *names]] + [
        [s.as_of[:10], *[s.pillars[n].status if n in s.pillars else "-" for n in names]]
        for s in weekly], size=7,
        fills=[{i + 1: STATUS_FILLS[s.pillars[n].status]
                for i, n in enumerate(names) if n in s.pillars} for s in weekly])


def _promotions(doc: Document, promotions: tuple[PackPromotion, ...],
                tenures: tuple[PackTenure, ...]) -> None:
    doc.heading("Promotion history, sign-offs and justifications")
    if not promotions:
        doc.paragraph("No promotion or rollback was requested in the console for this model.")
    for p in promotions:
        doc.paragraph(f"#{p.id} {p.kind} of v{p.version} to {p.alias} - "
                      f"{p.status.replace('_', ' ')}", bold=True)
        doc.paragraph(f"Requested {p.requested_at[:16]} by {p.requested_by}: "
                      f"\"{p.justification}\"")
        for s in p.sign_offs:
            doc.paragraph(f"  {s.verdict} by {s.validator} at {s.signed_at[:16]}: "
                          f"\"{s.justification}\"")
        for e in p.exceptions:
            doc.paragraph(f"  exception for {', '.join(e.gates)} by {e.granted_by}, "
                          f"until {e.expires_on}: \"{e.justification}\"")
        if p.executed_at:
            doc.paragraph(f"  alias moved {p.executed_at[:16]} by {p.executed_by}.")
    doc.heading("Alias history")
    doc.table([["Alias", "Version", "From", "Until", "Moved by", "Reason"]] + [
        [t.alias, f"v{t.version}", (t.since or "-")[:16], (t.until or "now")[:16],
         t.moved_by, t.reason] for t in tenures], (0.8, 0.6, 1.1, 1.1, 1, 2.4), size=8)


def _audit(doc: Document, audit: PackAudit) -> None:
    doc.new_page()
    doc.heading("Audit trail excerpt")
    verdict = audit.verification
    doc.paragraph(f"Whole chain {'intact' if verdict.intact else 'BROKEN'}: "
                  f"{verdict.events_checked:,} events checked at {verdict.checked_at[:19]}"
                  f"; head hash {verdict.head_hash}." + (f" {verdict.problem}"
                                                         if verdict.problem else ""))
    doc.paragraph(audit.how_to_check, size=8)
    events = audit.events
    shown = events[-PDF_AUDIT_EVENTS:]
    if len(shown) < len(events) or audit.truncated:
        doc.paragraph(f"The newest {len(shown)} of this model's events are printed; the JSON "
                      "holds " + ("the newest 5,000." if audit.truncated else
                                  f"all {len(events)}."), size=8)
    doc.table([["#", "At (UTC)", "Actor", "Action", "Subject", "Hash", "Prev hash", "OK"]] + [
        [str(e.id), e.at[:19], e.actor, e.action, f"{e.subject_type} {e.subject_id}"[:40],
         e.hash[:16], e.prev_hash[:16], "yes" if e.hash_matches else "NO"] for e in shown],
        (0.4, 1.2, 1, 1.3, 1.4, 1.1, 1.1, 0.4), size=7,
        fills=[{7: STATUS_FILLS["pass" if e.hash_matches else "fail"]} for e in shown])


def _fmt(value: float | str | None) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _drifted_word(drifted: bool | None) -> str:
    return "cannot be judged" if drifted is None else "yes" if drifted else "no"
