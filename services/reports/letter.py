"""A case file as a PDF: first a letter to the person the decision is about, in plain words,
then the record for the file."""

from __future__ import annotations

from services.core.glossary import label, term
from services.core.numbers import figure
from services.core.outcomes import DecisionOutcome
from services.decisions.case_file import CaseFile
from services.decisions.explain import Explanation, Replay, contributing, sentences
from services.reports.pdf import Document

CONTEST_DAYS = 30


def case_pdf(file: CaseFile, *, explanation: Explanation | None, replayed: Replay | None,
             outcome_word: str, shown_inputs: dict[str, str] | None = None,
             sensitive: frozenset[str] = frozenset(),
             limitations: tuple[str, ...] = (), replay_problem: str | None = None) -> bytes:
    """The letter and the record as PDF bytes. The reasons come from the explanation only when
    it adds up to the replayed score; shown_inputs: each input as a person reads it (default:
    as stored); sensitive: the model's sensitive inputs (registered-model tag), never given as
    a reason and named plainly when they moved the score; limitations: the statements for
    applicants of the findings accepted as limitations of the version that decided (only
    those a validator wrote one for: a finding's own text is working text);
    replay_problem: why a logged score was not replayed (a vendor model has no artifact)."""
    row = file.row
    document = Document(f"About your application {row.subject_ref}")
    document.paragraph(f"Reference: {row.decision_id}", size=10)
    document.heading("What was decided")
    document.paragraph(_what_was_decided(file), size=11)
    document.heading("The main reasons")
    if explanation is not None and explanation.adds_up:
        document.paragraph("An automated model assessed the information in your application. "
                           "These facts weighed most in its assessment:", size=11)
        # A protected characteristic may not be a reason for a credit decision (ECOA and
        # Regulation B, 12 CFR 1002.6 and 1002.9: the notice states the specific principal
        # reasons, and a prohibited basis cannot be one), and the person is owed a clear and
        # meaningful explanation of the model's role (EU AI Act Art. 86). So a sensitive input
        # is left out of the reasons, and when it moved the score the letter says so plainly
        # rather than hiding it: that is a finding for the lender to review, not a reason.
        for line in sentences(explanation, outcome_word=outcome_word, leave_out=sensitive):
            document.paragraph(f"- {line}", size=11)
        if moved := contributing(explanation, sensitive):
            named = ", ".join(term(f).replace("_", " ") for f in moved)
            document.paragraph(
                f"The model also used your {named}, which the law protects. It contributed to "
                "the model's assessment, but it may not be a reason for this decision and is "
                "not given as one. We review decisions where this happens.", size=11)
    elif row.score is None:
        # Say why no score was made as the log records it: an error is not missing information.
        why = ("Part of the information the model needed was missing"
               if row.escalation_reason == "missing_input" or any(
                   v is None for v in file.features.values())
               else "The model could not score your application")
        document.paragraph(f"{why}, so a person reviewed it.", size=11)
    elif file.reason_codes:
        # No explanation of our own (a vendor model's, or one that did not add up): the codes
        # the scoring service gave are the reasons there are, and the person is owed them.
        codes = ", ".join(str(c) for c in file.reason_codes[:8])
        document.paragraph(f"The service that assessed your application gave these reason "
                           f"codes: {codes}. A member of staff will explain what each means "
                           "for your application, in writing, on request.", size=11)
    else:
        document.paragraph("The main reasons for this decision could not be produced and "
                           "checked automatically. A member of staff will explain them to you "
                           "in writing on request.", size=11)
    if limitations:
        # Only the deciding version's accepted limitations, in the words written for
        # applicants: what the lender knows the model does less well, which the person may
        # weigh when contesting.
        document.heading("How this model is limited")
        document.paragraph("We know the model that assessed your application is limited in "
                           "these ways:", size=11)
        for line in limitations[:5]:
            document.paragraph(f"- {line}", size=11)
    # Contesting is offered for an adverse decision only: an approval has nothing to contest,
    # and a decision waiting for a person has not been made yet.
    outcome_now = DecisionOutcome(file.current_outcome)
    if outcome_now is DecisionOutcome.DECLINED:
        document.heading("How to contest this decision")
        document.paragraph(
            "You may ask for the decision to be reviewed by a person, give your point of view "
            f"and contest it. Write to us within {CONTEST_DAYS} days quoting the reference "
            "above, with anything you think we should know (for example, information that has "
            "changed). A member of staff who was not involved will review it and reply in "
            "writing.", size=11)
    elif outcome_now in (DecisionOutcome.ESCALATED, DecisionOutcome.ERROR):
        document.heading("What happens next")
        document.paragraph("A member of staff will review your application and write to you "
                           "with the decision.", size=11)

    document.new_page()
    document.heading("Record for the file")
    document.table([
        ["Field", "Value"],
        ["Decision", row.decision_id],
        ["Model and version", f"{row.model_name} v{row.model_version}"
         + (f" ({', '.join(file.aliases_then)} at the time)" if file.aliases_then else "")],
        ["Decided at (UTC)", f"{row.decided_at:%Y-%m-%d %H:%M:%S}"],
        ["Score / threshold", f"{_number(row.score)} / {_number(row.threshold)}"],
        ["Logged outcome", row.outcome + (f" ({label(row.escalation_reason)})"
                                          if row.escalation_reason else "")],
        ["Outcome now", file.current_outcome],
        ["Replay check", _replay_line(replayed, row.score is not None, replay_problem)],
    ], (1, 2.5))
    document.heading("Inputs as logged")
    shown = shown_inputs or {k: "(missing)" if v is None else term(str(v))
                             for k, v in file.features.items()}
    document.table([["Input", "Value"]] + [[k, v] for k, v in shown.items()], (1, 2.5))
    if file.overrides:
        document.heading("Reviews by people")
        document.table([["When", "Reviewer", "Outcome", "Reason", "Justification"]] + [
            [f"{o.created_at:%Y-%m-%d %H:%M}", o.reviewer, o.new_outcome, o.reason_category,
             o.justification] for o in file.overrides], (1.2, 1, 0.9, 1.3, 3))
    return document.bytes()


def _what_was_decided(file: CaseFile) -> str:
    row = file.row
    said = f"On {row.decided_at:%d %B %Y}, your application was "
    said += {DecisionOutcome.APPROVED: "approved", DecisionOutcome.DECLINED: "declined",
             DecisionOutcome.ESCALATED: "passed to a person for review",
             DecisionOutcome.ERROR: "passed to a person because our system could not assess "
                                    "it"}[DecisionOutcome(row.outcome)]
    said += "."
    if file.overrides:
        last = file.overrides[-1]
        said += (f" On {last.created_at:%d %B %Y} a member of staff reviewed it, and the "
                 f"decision is now: {last.new_outcome} ({last.reason_category}).")
    return said


def _replay_line(replayed: Replay | None, scored: bool, problem: str | None) -> str:
    if replayed is None:
        if not scored:
            return "not possible (no score was logged)"
        return f"not possible: {problem}" if problem else \
            "not possible (the version could not be reloaded)"
    verdict = "reproduced" if replayed.matches else "NOT reproduced"
    return f"{verdict}: the version rescored the inputs {replayed.recomputed:.6f}"


def _number(value: float | None) -> str:
    return figure(value, decimals=4)
