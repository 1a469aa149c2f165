"""The portfolio on paper: the executive view, with each model's reasons spelled out."""

from __future__ import annotations

from services.pdf import Document
from services.portfolio.view import PILLARS, STATUS_WORDS, Portfolio
from services.reports.pack_pdf import STATUS_FILLS

SHORT = {"evidence": "Evid.", "gates": "Gates", "drift": "Drift", "performance": "Perf.",
         "fairness": "Fair.", "alerts": "Alerts", "revalidation": "Reval.",
         "oversight": "Overs."}


def portfolio_pdf(view: Portfolio) -> bytes:
    doc = Document("Model portfolio",
                   footer=f"Model portfolio as of {view.as_of:%Y-%m-%d %H:%M} UTC")
    judged = view.last_judged
    doc.paragraph(f"As of {view.as_of:%Y-%m-%d %H:%M} UTC. "
                  + (f"Pillars judged by `govern monitor` at {judged:%Y-%m-%d %H:%M} UTC; "
                     "alerts and revalidation dates read live." if judged else
                     "No model has been judged yet: run `govern monitor`."))
    doc.heading("Headlines")
    doc.table([["Figure", "Now", "Previous 30 days", "Change"]] + [
        [h.label, f"{h.value:,}", "-" if h.previous is None else f"{h.previous:,}",
         "-" if h.previous is None else f"{h.value - h.previous:+,}"]
        for h in view.headlines], (2.2, 1, 1.2, 1))
    served = [r for r in view.rows if r.champion]
    doc.heading("Status by pillar")
    doc.table([["Model", "Champion", *[SHORT[p] for p in PILLARS]]] + [
        [r.name, f"v{r.champion}", *[STATUS_WORDS[r.pillars[p].status] for p in PILLARS]]
        for r in served], (2.2, 1, *[0.8] * len(PILLARS)), size=8,
        fills=[{i + 2: STATUS_FILLS[r.pillars[p].status] for i, p in enumerate(PILLARS)}
               for r in served])
    idle = [r.name for r in view.rows if not r.champion]
    if idle:
        doc.paragraph(f"Registered but not serving: {', '.join(idle)}.", size=8)
    doc.heading("Why, model by model")
    for r in served:
        since = f", champion since {r.champion_since:%Y-%m-%d}" if r.champion_since else ""
        due = f"; revalidation due {r.revalidation_due:%Y-%m-%d}" if r.revalidation_due else ""
        doc.paragraph(f"{r.name} v{r.champion} - {STATUS_WORDS[r.status]}", bold=True)
        doc.paragraph(f"Owner {r.owner or '(missing)'}, {r.risk_tier or 'unset'} risk{since}"
                      f"{due}; {r.open_alerts} open alert(s)"
                      + (f"; {r.decisions:,} decisions in 30 days" if r.decisions is not None
                         else "") + ".")
        for reason in r.reasons or ["Every pillar is green."]:
            doc.paragraph(f"  - {reason}", size=8)
    return doc.bytes()
