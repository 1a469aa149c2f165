"""What each kind of evidence record stores, as typed models: evaluation, fairness and the
reference profile.

The writers (evaluation.py, fairness.py, profile.py, run.py) build the stored dict, whose
SHA-256 is the record's; these models read it back. They keep every key as written
(`as_stored()` gives the same canonical JSON bytes, tested), allow keys they do not know (a
record is never refused for holding more), and give defaults only to parts that a record may
lack: the run's context, which records made outside an evidence run do not carry, the data
profile, the reference's sensitive inputs and its calibration map, added after the first
records were written.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from services.core.errors import InvalidInput
from services.evidence.calibration import CalibrationMap
from services.evidence.profile import FeatureReference

Interval = tuple[float | None, float | None]  # percentile bootstrap interval; None: no value


class StoredPayload(BaseModel):
    """A stored JSON document read as a typed, frozen object."""

    model_config = ConfigDict(frozen=True, extra="allow")

    @classmethod
    def from_stored(cls, stored: Any, *, what: str) -> Self:
        """The stored dict as this model; InvalidInput when it does not have this shape."""
        try:
            return cls.model_validate(stored)
        except ValidationError as exc:
            raise _unreadable(exc, what, cls.__name__) from exc

    def as_stored(self) -> dict[str, Any]:
        """The dict as it was stored: the keys it had, no defaults added."""
        return self.model_dump(mode="json", exclude_unset=True)


class RunContext(StoredPayload):
    """What an evidence run writes into each of its records."""

    model_name: str | None = None
    model_version: str | None = None
    holdout_artifact: str | None = None
    policy_version: str | None = None
    risk_tier: str | None = None


def _unreadable(exc: ValidationError, what: str, shape: str) -> InvalidInput:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the top"
    return InvalidInput(f"{what} cannot be read as {shape}: {exc.error_count()} problem(s), "
                        f"the first at {where} ({first['msg']}).",
                        hint="Run the evidence again: a new record is added, and this one "
                             "stays as it is.")


# Evaluation ------------------------------------------------------------------------------------

class Metrics(StoredPayload):
    def figures(self) -> dict[str, float | None]:
        """Every stored figure by name, in the order written."""
        return {name: value if isinstance(value, int | float) and not isinstance(value, bool)
                else None for name, value in self.as_stored().items()}

    def figure(self, name: str) -> float | None:
        """One figure by its policy name (metric_floors), None when the record lacks it."""
        return self.figures().get(name)


class ClassificationMetrics(Metrics):
    roc_auc: float | None = None
    pr_auc: float | None = None
    accuracy: float | None = None
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    log_loss: float | None = None
    brier: float | None = None


class RegressionMetrics(Metrics):
    rmse: float | None = None
    mae: float | None = None
    r2: float | None = None


class ConfusionMatrix(StoredPayload):
    tn: int
    fp: int
    fn: int
    tp: int


class RocCurve(StoredPayload):
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]


class PrCurve(StoredPayload):
    recall: tuple[float, ...]
    precision: tuple[float, ...]


class Calibration(StoredPayload):
    predicted: tuple[float, ...]
    observed: tuple[float, ...]
    bin_counts: tuple[int, ...]


class SegmentRow(StoredPayload):
    group: str
    rows: int
    roc_auc: float | None  # None: the segment holds one class only
    accuracy: float | None
    predicted_positive_rate: float | None


class ColumnProfile(StoredPayload):
    column: str
    dtype: str
    missing: int
    min: float | None = None  # numeric columns
    max: float | None = None
    mean: float | None = None
    distinct: int | None = None  # other columns
    top: tuple[str, ...] = ()


class RepresentationRow(StoredPayload):
    group: str
    holdout_rows: int
    holdout_share: float | None
    decided_rows: int
    decided_share: float | None  # None: nothing decided in the window


class DataProfile(StoredPayload):
    rows: int
    columns: tuple[ColumnProfile, ...] = ()
    representation: dict[str, tuple[RepresentationRow, ...]] = {}


class ClassificationEvaluation(RunContext):
    task: Literal["classification"]
    rows: int
    threshold: float
    positive_rate: float
    metrics: ClassificationMetrics
    confusion_matrix: ConfusionMatrix
    roc_curve: RocCurve
    pr_curve: PrCurve
    calibration: Calibration
    segments: dict[str, tuple[SegmentRow, ...]] = {}
    data: DataProfile | None = None


class Residuals(StoredPayload):
    quantiles: dict[str, float | None]  # p05, p25, p50, p75, p95


class RegressionEvaluation(RunContext):
    task: Literal["regression"]
    rows: int
    metrics: RegressionMetrics
    residuals: Residuals
    segments: dict[str, tuple[SegmentRow, ...]] = {}
    data: DataProfile | None = None


EvaluationPayload = ClassificationEvaluation | RegressionEvaluation
_EVALUATION: TypeAdapter[EvaluationPayload] = TypeAdapter(
    Annotated[EvaluationPayload, Field(discriminator="task")])


def read_evaluation(stored: Any, *, what: str) -> EvaluationPayload:
    """An evaluation record's payload as the model of its task (InvalidInput, as from_stored,
    when it has neither shape)."""
    try:
        return _EVALUATION.validate_python(stored)
    except ValidationError as exc:
        raise _unreadable(exc, what, "evaluation evidence") from exc


# Fairness --------------------------------------------------------------------------------------

class GroupIntervals(StoredPayload):
    favourable_rate: Interval
    true_positive_rate: Interval
    false_positive_rate: Interval
    precision: Interval


class GroupRates(StoredPayload):
    group: str
    count: int
    positives: int
    negatives: int
    judged: bool  # at least min_group_size people
    rates_judged: bool  # and at least min_class_count of each class
    favourable_rate: float | None
    # None: undefined (no positives, no negatives, no predicted positives). Records written
    # before undefined rates were kept as such hold fairlearn's 0 there.
    true_positive_rate: float | None
    false_positive_rate: float | None
    precision: float | None
    ci: GroupIntervals
    # Judged for each error rate on its own (at least min_class_count positives for TPR,
    # negatives for FPR); None in records written when rates_judged decided both.
    tpr_judged: bool | None = None
    fpr_judged: bool | None = None

    def judged_for(self, rate: Literal["tpr", "fpr"]) -> bool:
        """Whether this group's TPR (FPR) counted in the gaps of its record."""
        own = self.tpr_judged if rate == "tpr" else self.fpr_judged
        return self.rates_judged if own is None else own


class FairnessSummary(StoredPayload):
    """Gaps across the groups large enough to judge; None where fewer than two are."""

    judged_groups: int
    too_few_to_judge: tuple[str, ...]
    four_fifths_ratio: float | None
    most_favoured_group: str | None
    least_favoured_group: str | None
    demographic_parity_difference: float | None
    demographic_parity_ratio: float | None
    equalized_odds_difference: float | None
    equal_opportunity_difference: float | None  # the TPR gap over the groups judged for TPR
    # Added with TPR and FPR judged separately; records written before lack them.
    false_positive_rate_difference: float | None = None  # over the groups judged for FPR
    tpr_judged_groups: int | None = None
    fpr_judged_groups: int | None = None
    too_few_positives: tuple[str, ...] = ()  # enough people, too few positives for TPR
    too_few_negatives: tuple[str, ...] = ()  # enough people, too few negatives for FPR

    @property
    def rates_judged_separately(self) -> bool:
        """Whether TPR and FPR were judged over groups of their own (older records judged
        both over the groups with enough of each class)."""
        return "false_positive_rate_difference" in self.model_fields_set

    def left_out(self) -> str:
        """The groups left out of some comparison, each with why; "" when none were."""
        return "; ".join(
            [f"{g} (too few people)" for g in self.too_few_to_judge]
            + [f"{g} (too few positives for TPR)" for g in self.too_few_positives]
            + [f"{g} (too few negatives for FPR)" for g in self.too_few_negatives])

    def figure(self, name: str) -> float | None:
        """A gap by its name in the policy's fairness_bounds (without _min or _max)."""
        value = self.as_stored().get(name)
        return value if isinstance(value, int | float) and not isinstance(value, bool) \
            else None


class FairlearnFigures(StoredPayload):
    demographic_parity_difference: float | None
    equalized_odds_difference: float | None


class FeatureAssessment(StoredPayload):
    feature: str
    intersectional: bool
    groups: tuple[GroupRates, ...]
    summary: FairnessSummary
    fairlearn_all_groups: FairlearnFigures | None = None  # fairlearn's own, over every group


class FairnessPayload(RunContext):
    favourable_prediction: int
    min_group_size: int
    min_class_count: int
    bootstrap_resamples: int
    confidence_level: float
    features: dict[str, FeatureAssessment]


# Reference profile -----------------------------------------------------------------------------

class FeatureReferencePayload(StoredPayload):
    name: str
    kind: Literal["numeric", "categorical"]
    coarse_edges: tuple[float, ...]
    fine_edges: tuple[float, ...]
    fine_midpoints: tuple[float, ...]
    categories: tuple[str, ...]
    coarse: tuple[int, ...]
    fine: tuple[int, ...]
    missing: int
    rows: int
    spread: float | None

    def reference(self) -> FeatureReference:
        return FeatureReference(self.name, self.kind, self.coarse_edges, self.fine_edges,
                                self.fine_midpoints, self.categories, self.coarse, self.fine,
                                self.missing, self.rows, self.spread)


class SensitiveInputPayload(StoredPayload):
    name: str
    edges: tuple[float, ...] | None  # band edges of a continuous input; None: categories
    # group key -> the group as the hold-out writes it ("1" -> "True"); added later, so {}
    labels: dict[str, str] = {}


class CalibrationMapPayload(StoredPayload):
    """The score's calibration map (services.evidence.calibration), one figure per fine bin of
    the score's reference."""

    method: Literal["isotonic"]
    threshold: float
    rows: int
    positives: int
    probability: tuple[float, ...]
    above_threshold: tuple[float, ...]
    resampled: tuple[tuple[float, ...], ...]
    calibration_error: float  # out-of-fold ECE of the map on the hold-out
    calibration_error_bound: float
    raw_calibration_error: float
    # Added after the first maps were stored: those have none.
    positives_above_threshold: int | None = None

    def calibration_map(self) -> CalibrationMap:
        return CalibrationMap(self.threshold, self.rows, self.positives,
                              np.asarray(self.probability, dtype=float),
                              np.asarray(self.above_threshold, dtype=float),
                              np.asarray(self.resampled, dtype=float),
                              self.calibration_error, self.calibration_error_bound,
                              self.raw_calibration_error, self.positives_above_threshold)


class ReferenceProfilePayload(RunContext):
    rows: int
    coarse_bins: int
    fine_bins: int
    features: tuple[FeatureReferencePayload, ...]
    sensitive: tuple[SensitiveInputPayload, ...] = ()
    # Added with performance estimation: profiles made before it have none.
    calibration: CalibrationMapPayload | None = None
