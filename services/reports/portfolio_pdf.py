"""The portfolio on paper: the executive view, with each model's reasons spelled out."""

from __future__ import annotations

from services.monitoring.portfolio import PILLARS, STATUS_WORDS, Portfolio, TrendPoint
from services.reports.pack_pdf import STATUS_FILLS
from services.reports.pdf import Colour, Document, latin

SHORT = {"evidence": "Evid.", "gates": "Gates", "drift": "Drift", "performance": "Perf.",
         "fairness": "Fair.", "alerts": "Alerts", "revalidation": "Reval.",
         "oversight": "Overs."}


def portfolio_pdf(view: Portfolio) -> bytes:
    doc = Document("Model portfolio",
                   footer=f"Model portfolio as of {view.as_of:%Y-%m-%d %H:%M} UTC")
    judged = view.last_judged
    doc.paragraph(f"As of {view.as_of:%Y-%m-%d %H:%M} UTC. "
                  + (f"Pillars judged by govern monitor at {judged:%Y-%m-%d %H:%M} UTC; "
                     "alerts and revalidation dates read live." if judged else
                     "No model has been judged yet: run govern monitor."))
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
    if view.trends:
        doc.heading("Models at risk over time")
        doc.paragraph("Per pillar, each day's judged models that were red (dark) and amber "
                      "(light), from the daily health snapshots.", size=8)
        _trend_strips(doc, view.trends)
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


RED_BAR: Colour = (198, 40, 40)
AMBER_BAR: Colour = (245, 166, 35)
STRIP_MM, LABEL_MM = 11.0, 28.0


def _trend_strips(doc: Document, trends: list[TrendPoint]) -> None:
    """Small multiples, one strip per pillar: a stacked bar per day (red under amber), all
    strips on one scale so pillars compare at a glance, as on the screen."""
    pdf = doc.pdf
    days = sorted({t.day for t in trends})
    pillars = [p for p in PILLARS if any(t.pillar == p for t in trends)]
    if pdf.will_page_break(STRIP_MM * (len(pillars) + 1)):
        pdf.add_page()
    top = max((t.red + t.amber for t in trends), default=0) or 1
    left = pdf.l_margin + LABEL_MM
    width = pdf.w - pdf.r_margin - left
    step = width / len(days)
    index = {day: i for i, day in enumerate(days)}
    pdf.set_font("Helvetica", "", 7)
    for pillar in pillars:
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y + STRIP_MM / 2 - 2)
        pdf.cell(LABEL_MM, 4, latin(pillar.capitalize()))
        pdf.set_draw_color(200, 200, 200)
        pdf.line(left, y + STRIP_MM - 1, left + width, y + STRIP_MM - 1)
        for point in (t for t in trends if t.pillar == pillar):
            x, base = left + index[point.day] * step, y + STRIP_MM - 1
            for count, colour in ((point.red, RED_BAR), (point.amber, AMBER_BAR)):
                if count:
                    height = (STRIP_MM - 2) * count / top
                    pdf.set_fill_color(*colour)
                    pdf.rect(x, base - height, max(step * 0.8, 0.3), height, style="F")
                    base -= height
        pdf.set_y(y + STRIP_MM)
    pdf.set_xy(left, pdf.get_y())
    pdf.cell(width / 2, 4, latin(f"{days[0]:%Y-%m-%d}"))
    pdf.cell(width / 2, 4, latin(f"{days[-1]:%Y-%m-%d}  (scale: {top} model(s))"), align="R")
    pdf.set_xy(pdf.l_margin, pdf.get_y() + 6)
