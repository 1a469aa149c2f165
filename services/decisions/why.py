"""A case file's replay, explanation and counterfactual, each either done or said in words:
one part failing never takes the others (or the case file's actions) with it. Shared by the
Case file page and `govern explain`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from services.core.errors import GovernanceError, InvalidInput
from services.decisions.case_file import CaseFile
from services.decisions.counterfactual import Counterfactual, smallest_flip
from services.decisions.explain import DecisionExplainer, Explanation, Replay, show_value
from services.decisions.validate import mismatched_inputs
from services.registry.adapter import Registry

Done = TypeVar("Done")


@dataclass(frozen=True)
class CaseExplanation:
    explanation: Explanation | None  # check .adds_up before showing it as the reasons
    explanation_problem: str | None  # why there is none, and what to do
    replay: Replay | None
    replay_problem: str | None
    flip: Counterfactual | None
    flip_note: str | None  # why there is no hint, when there is none
    shown_inputs: dict[str, str]  # each logged input as a person reads it


def prepare_explainer(*, registry: Registry, model_name: str, version: str) -> DecisionExplainer:
    """The version loaded by its flavor with its hold-out set as background.

    Raises InvalidInput when the version cannot be loaded (flavor, damage) or its hold-out
    cannot be read; NotFound, SourceUnavailable as the registry answers."""
    model = registry.get_model(model_name)
    loaded = registry.load_version(model_name, version, model.tags.get("positive_label"))
    lineage = registry.lineage(model_name, version)
    holdout = None
    if lineage.holdout_uri:
        try:
            holdout = pd.read_parquet(registry.download(lineage.holdout_uri))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"The hold-out set of version {version} cannot be read: "
                               f"{str(exc).splitlines()[0][:160]}",
                               hint="Log a readable Parquet hold-out set under holdout/.") from exc
    return DecisionExplainer(loaded, holdout)


def explain_case(file: CaseFile, explainer: DecisionExplainer | None, *,
                 load_problem: str | None = None,
                 sensitive: frozenset[str] = frozenset()) -> CaseExplanation:
    """Replay, explanation and counterfactual of one decision; never raises for a model that
    cannot do one of them: the reason is in words in the result.

    explainer: the version prepared by prepare_explainer, or None with load_problem saying
    why it could not be."""
    features = file.features
    types = explainer.input_types() if explainer is not None else {}
    shown = {name: show_value(value, types.get(name)) for name, value in features.items()}
    if explainer is None:
        problem = load_problem or "The version could not be loaded."
        return CaseExplanation(None, problem, None, problem, None, None, shown)
    mismatched = mismatched_inputs(features, types) if types else {}
    if mismatched:
        # A failed-closed decision stored with its inputs as received: "no" for a boolean
        # must not read as the boolean no, and the model cannot be replayed on it.
        for name, value in features.items():
            if name in mismatched:
                shown[name] = f"{value!r} (as received; does not fit the signature)"
        said = ("The inputs were stored as the serving system sent them and do not fit the "
                f"version's signature ({'; '.join(mismatched.values())}), so the decision "
                "cannot be replayed or explained; a person decides this case.")[:600]
        return CaseExplanation(None, said, None, said, None, None, shown)
    row = file.row
    if row.score is None:
        missing = [name for name, value in features.items() if value is None]
        why = (f"an input was missing ({', '.join(missing)})" if missing
               else f"the decision was {row.outcome}")
        said = (f"No score was logged because {why}, so there is no score to reproduce or "
                "explain; a person decides this case.")
        return CaseExplanation(None, said, None, said, None, None, shown)
    replayed, replay_problem = _attempt(lambda: explainer.replay(features, row.score),
                                        "The replay")
    explanation, explanation_problem = _attempt(lambda: explainer.explain(features),
                                                "The explanation")
    flip, flip_note = None, None
    if row.threshold is None:
        flip_note = "No threshold was logged, so no change can be said to flip the decision."
    else:
        threshold = row.threshold
        flip, flip_note = _attempt(lambda: smallest_flip(
            explainer, features, threshold=threshold, never_change=sensitive), "The hint")
        if flip is None and flip_note is None:
            flip_note = ("No change of a single input (other than sensitive ones) within the "
                         "hold-out set's values flips this decision.")
    return CaseExplanation(explanation, explanation_problem, replayed, replay_problem, flip,
                           flip_note, shown)


def _attempt(work: Callable[[], Done], part: str) -> tuple[Done | None, str | None]:
    try:
        return work(), None
    except GovernanceError as exc:
        return None, f"{exc.message} {exc.hint}".strip()
    except Exception as exc:  # a model failing in its own library: words, not a crash
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return None, (f"{part} failed inside the model ({type(exc).__name__}: {first}). "
                      "The rest of the case file is unaffected; tell the model's owner, with "
                      "this decision's id.")
