"""The hold-out set a version is judged on, read from its run and checked before any use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from services.core.errors import InvalidInput
from services.core.hashing import file_sha256
from services.registry.adapter import Lineage, ModelSummary, Registry


@dataclass(frozen=True, eq=False)
class HoldOut:
    """A checked hold-out set: its rows, what its columns mean, and the file's SHA-256."""

    frame: pd.DataFrame
    sha256: str
    artifact: str
    label: str
    positive_label: str
    sensitive: tuple[str, ...]

    @property
    def y_positive(self) -> np.ndarray:
        """1 where the label is the positive label, else 0."""
        return np.asarray(_as_text(self.frame[self.label]) == self.positive_label, dtype=int)


def _as_text(values: pd.Series) -> pd.Series:
    # Tags are text: compare labels as text, with 1.0 read as 1 (Parquet may widen ints).
    def show(v: object) -> str:
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)

    return values.map(show)


def required_tags(model: ModelSummary) -> tuple[str, str, tuple[str, ...]]:
    """label, positive_label and sensitive features from the model's tags, or InvalidInput."""
    missing = [t for t in ("label", "positive_label", "sensitive_features")
               if not model.tags.get(t, "").strip()]
    if missing:
        raise InvalidInput(
            f"{model.name!r} has no {', '.join(missing)} tag: evidence cannot be computed.",
            hint="The model owner sets these registered-model tags (see the README's "
                 "governance contract).",
        )
    sensitive = tuple(s.strip() for s in model.tags["sensitive_features"].split(",") if s.strip())
    return model.tags["label"].strip(), model.tags["positive_label"].strip(), sensitive


def load_holdout(registry: Registry, model: ModelSummary, lineage: Lineage) -> HoldOut:
    """Download, hash and check the version's hold-out set; InvalidInput says what is wrong."""
    required_tags(model)  # a missing tag is said before a missing file
    if not lineage.holdout_uri or not lineage.holdout_artifact:
        raise InvalidInput(
            f"Version {lineage.version} of {model.name!r} has no hold-out set.",
            hint="Log it as a Parquet artifact under holdout/ in the version's run.",
        )
    path = registry.download(lineage.holdout_uri)
    frame = _read_parquet(path, lineage.holdout_artifact)
    return checked_holdout(frame, file_sha256(path), lineage.holdout_artifact, model)


def checked_holdout(frame: pd.DataFrame, sha256: str, artifact: str,
                    model: ModelSummary) -> HoldOut:
    """A hold-out frame checked against the model's tags (label and sensitive columns present,
    rows, every row labelled); InvalidInput says what is wrong."""
    label, positive, sensitive = required_tags(model)
    absent = [c for c in (label, *sensitive) if c not in frame.columns]
    if absent:
        raise InvalidInput(
            f"The hold-out set {artifact} lacks the column(s) "
            f"{', '.join(absent)} that the model's tags name.",
            hint="Log a hold-out set with the label and every sensitive feature.",
        )
    if frame.empty:
        raise InvalidInput(f"The hold-out set {artifact} has no rows.")
    if frame[label].isna().any():
        raise InvalidInput(f"{int(frame[label].isna().sum())} hold-out rows have no label.",
                           hint="Remove or label them, then log the hold-out set again.")
    return HoldOut(frame, sha256, artifact, label, positive, sensitive)


def _read_parquet(path: Path, artifact: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InvalidInput(
            f"The hold-out artifact {artifact} is not a readable Parquet file: "
            f"{str(exc).splitlines()[0][:200]}",
            hint="Log the hold-out set again with DataFrame.to_parquet.",
        ) from exc
