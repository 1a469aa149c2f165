"""Evidence for a vendor model: the scores come from a file, not from running the model.

The console holds no artifact of a vendor model, so it cannot score a hold-out set itself. A
validator runs evidence on a hold-out set the vendor (or the organisation, through the vendor's
service) scored: the inputs, the vendor's score in the column `score` (the probability of the
positive label), the label and the sensitive columns, as Parquet or CSV. Evaluation, fairness,
the reference profile (the drift bins) and the calibration map are then computed from those
scores exactly as from an own model's, so drift, estimated performance and fairness over time
work unchanged on the vendor's ingested decisions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from services.core.errors import InvalidInput
from services.core.hashing import file_sha256
from services.evidence.evaluation import Scored
from services.evidence.holdout import HoldOut, _as_text, checked_holdout, load_holdout
from services.registry.adapter import Lineage, ModelSummary, Registry
from services.registry.loaded import typed_column
from services.registry.vendor import SCORE_COLUMN


def vendor_scored(*, registry: Registry, model: ModelSummary, lineage: Lineage,
                  scored_file: Path | None,
                  threshold: float) -> tuple[HoldOut, Scored, pd.DataFrame]:
    """The scored hold-out set (without its score column), the vendor's scores as a Scored,
    and the model's inputs typed as its signature says (the reference profile's columns).

    scored_file: a Parquet or CSV file; None reads the version's own hold-out artifact, which
    must then carry the score column.

    Raises InvalidInput when the file cannot be read, lacks the score, a signature input, the
    label or a sensitive column, or its scores are not probabilities.
    """
    if scored_file is None:
        if not lineage.holdout_uri:
            raise InvalidInput(
                f"Version {lineage.version} of {model.name!r} is a vendor model with no scored "
                "hold-out set logged.",
                hint="Run evidence from a file the vendor scored: govern evaluate MODEL "
                     "VERSION --scored-file PATH (columns: the inputs, score, the label).")
        holdout = load_holdout(registry, model, lineage)
    else:
        holdout = checked_holdout(_read(scored_file), file_sha256(scored_file),
                                  f"scored file {scored_file.name}", model)
    frame = holdout.frame
    if SCORE_COLUMN not in frame.columns:
        raise InvalidInput(f"The hold-out set {holdout.artifact} has no {SCORE_COLUMN!r} "
                           "column: the vendor's score is what a vendor model is judged on.",
                           hint=f"Add the vendor's score as a column named {SCORE_COLUMN!r}.")
    scores = pd.to_numeric(frame[SCORE_COLUMN], errors="coerce").to_numpy(float)
    bad = int(np.sum(~np.isfinite(scores) | (scores < 0) | (scores > 1)))
    if bad:
        raise InvalidInput(f"{bad} row(s) of {holdout.artifact} have a score that is not a "
                           "probability between 0 and 1.",
                           hint="The score is the vendor's probability of the positive label.")
    labels = _as_text(frame[holdout.label])
    if labels.nunique() != 2:
        raise InvalidInput(f"The label {holdout.label!r} has {labels.nunique()} value(s) in "
                           f"{holdout.artifact}; evidence needs examples of both outcomes.")
    fmt = lineage.model_format
    names = [i.name for i in fmt.inputs] if fmt and fmt.inputs else \
        [str(c) for c in frame.columns if c not in (SCORE_COLUMN, holdout.label)]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InvalidInput(f"{holdout.artifact} lacks the input(s) {', '.join(missing)} that "
                           "the vendor model's signature declares.",
                           hint="Give every input the vendor's service was sent.")
    types = {i.name: i.type for i in fmt.inputs} if fmt else {}
    inputs = pd.DataFrame({n: typed_column(frame[n].tolist(), types.get(n)) for n in names},
                          index=frame.index)
    without_score = HoldOut(frame.drop(columns=[SCORE_COLUMN]), holdout.sha256,
                            holdout.artifact, holdout.label, holdout.positive_label,
                            holdout.sensitive)
    scored = Scored("classification", scores, without_score.y_positive,
                    (scores >= threshold).astype(int), threshold)
    return without_score, scored, inputs


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InvalidInput(f"There is no file {path}.")
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except Exception as exc:  # pandas and pyarrow raise several types for a damaged file
        raise InvalidInput(f"{path.name} cannot be read as "
                           f"{'CSV' if path.suffix.lower() == '.csv' else 'Parquet'}: "
                           f"{(str(exc).splitlines() or [''])[0][:200]}",
                           hint="Give a Parquet file, or a CSV with a header row.") from exc
