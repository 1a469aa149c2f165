"""Daily profiles: each day's decisions of a version, counted in its reference's bins.

Updated inside the ingest's own transaction (so a batch adds its counts once: re-ingesting is
a no-op), and rebuilt from the raw log on request for versions profiled after their traffic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail
from services.core.outcomes import VERDICTS, DecisionOutcome
from services.core.principal import Principal
from services.evidence.calibration import CalibrationMap
from services.evidence.groups import MISSING_GROUP, band_labels, group_key
from services.evidence.payloads import ReferenceProfilePayload
from services.evidence.profile import SCORE, FeatureReference, bin_numbers, bin_values
from services.store.engine import session_scope
from services.store.models import Decision, Evidence, Profile

Cell = tuple[str, str, date, str]  # model, version, day, feature


SELECTION = "__selection__:"  # + a sensitive input: automatic decisions and approvals per group
FAVOURABLE, AUTOMATIC = DecisionOutcome.APPROVED, VERDICTS


@dataclass(frozen=True)
class SensitiveInput:
    name: str
    edges: tuple[float, ...] | None  # policy bands for a continuous input, else categories

    def group(self, value: Any) -> str:
        """The group key of a logged value: its band, or groups.group_key of a category."""
        if self.edges is None:
            return group_key(value)
        if value is None or value != value or not isinstance(value, int | float):
            return MISSING_GROUP  # text in a banded input (a failed-closed row's, as received)
        labels = band_labels(self.edges)
        return labels[int(np.searchsorted(self.edges, float(value), side="right"))]


@dataclass(frozen=True)
class ReferenceProfile:
    evidence_id: int
    created_at: datetime
    data_sha256: str
    features: dict[str, FeatureReference]  # the model's inputs, and SCORE when it scores
    sensitive: tuple[SensitiveInput, ...] = ()  # sensitive inputs the log carries
    calibration: CalibrationMap | None = None  # the score's; None before maps were stored

    @property
    def inputs(self) -> list[FeatureReference]:
        return [f for name, f in self.features.items() if name != SCORE]


def reference_profile(connection: Connection, model_name: str,
                      version: str) -> ReferenceProfile | None:
    """The newest reference profile of a version, or None when none was made."""
    row = connection.execute(
        select(Evidence.id, Evidence.created_at, Evidence.data_sha256, Evidence.payload)
        .where(Evidence.model_name == model_name, Evidence.model_version == version,
               Evidence.kind == "reference_profile")
        .order_by(Evidence.created_at.desc(), Evidence.id.desc()).limit(1)).first()
    if row is None:
        return None
    stored = ReferenceProfilePayload.from_stored(row.payload,
                                                 what=f"Reference profile #{row.id}")
    features = {f.name: f.reference() for f in stored.features}
    sensitive = tuple(SensitiveInput(s.name, s.edges or None) for s in stored.sensitive)
    calibration = stored.calibration.calibration_map() if stored.calibration else None
    return ReferenceProfile(row.id, row.created_at, row.data_sha256, features, sensitive,
                            calibration)


def sensitive_labels(connection: Connection, model_name: str) -> dict[str, dict[str, str]]:
    """Per sensitive input of the model, each group key's label as the hold-out of its newest
    reference profile writes it ({} for bands and for profiles made before labels were kept)."""
    row = connection.execute(
        select(Evidence.id, Evidence.payload)
        .where(Evidence.model_name == model_name, Evidence.kind == "reference_profile")
        .order_by(Evidence.created_at.desc(), Evidence.id.desc()).limit(1)).first()
    if row is None:
        return {}
    stored = ReferenceProfilePayload.from_stored(row.payload,
                                                 what=f"Reference profile #{row.id}")
    return {s.name: dict(s.labels) for s in stored.sensitive}


class DailyProfiler:
    """Counts decisions into (version, day, feature) cells; writes them once, at the end."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._references: dict[tuple[str, str], ReferenceProfile | None] = {}
        self._cells: dict[Cell, list[Any]] = {}  # [coarse, fine, missing, rows]
        self._selection: dict[Cell, dict[str, list[int]]] = {}  # group -> [decided, approved]

    def add(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        groups: dict[tuple[str, str, date], list[Mapping[str, Any]]] = defaultdict(list)
        for d in decisions:
            groups[(d["model_name"], d["model_version"], d["decided_at"].date())].append(d)
        for (model, version, day), rows in groups.items():
            key = (model, version)
            if key not in self._references:
                self._references[key] = reference_profile(self._connection, model, version)
            reference = self._references[key]
            if reference is None:
                continue  # nothing to count against: the drift screen says how to make one
            counted = self._count_numeric_inputs(model, version, day, reference, rows)
            for name, feature in reference.features.items():
                if name in counted:
                    continue
                values = [r.get("score") for r in rows] if name == SCORE else \
                    [r["features"].get(name) for r in rows]
                self._count((model, version, day, name), bin_values(feature, values))
            acted = [r for r in rows if not r.get("shadow") and r.get("outcome") in AUTOMATIC]
            for sensitive in reference.sensitive:
                by_group = self._selection.setdefault(
                    (model, version, day, SELECTION + sensitive.name), {})
                for r in acted:
                    tally = by_group.setdefault(sensitive.group(r["features"].get(sensitive.name)),
                                              [0, 0])
                    tally[0] += 1
                    tally[1] += r["outcome"] == FAVOURABLE

    def _count_numeric_inputs(self, model: str, version: str, day: date,
                              reference: ReferenceProfile,
                              rows: list[Mapping[str, Any]]) -> set[str]:
        """All numeric inputs of a day's rows in one array: one pass over the rows, not one
        per input (ingest's hot path). The names counted; empty when a row lacks one."""
        numeric = [f for f in reference.inputs if f.kind == "numeric"]
        if not numeric:
            return set()
        pick = itemgetter(*(f.name for f in numeric))
        try:
            matrix = np.array([pick(r["features"]) for r in rows], dtype=float)
        except (KeyError, TypeError, ValueError):
            return set()  # the slower, forgiving path counts them
        matrix = matrix.reshape(len(rows), len(numeric))
        for column, feature in enumerate(numeric):
            self._count((model, version, day, feature.name),
                        bin_numbers(feature, matrix[:, column]))
        return {f.name for f in numeric}

    def _count(self, cell: Cell, counts: Any) -> None:
        held = self._cells.get(cell)
        if held is None:
            self._cells[cell] = [counts.coarse, counts.fine, counts.missing, counts.rows]
        else:
            held[0] = held[0] + counts.coarse
            held[1] = held[1] + counts.fine
            held[2] += counts.missing
            held[3] += counts.rows

    def write(self) -> int:
        """Add the counted cells to the stored ones; the number of cells written."""
        for cell, groups in self._selection.items():  # stored in the same cells' shape
            decided = sum(t[0] for t in groups.values())
            self._cells[cell] = [groups, np.zeros(0, dtype=int), 0, decided]
        self._selection = {}
        if not self._cells:
            return 0
        by_version: dict[tuple[str, str], list[Cell]] = defaultdict(list)
        for cell in self._cells:
            by_version[(cell[0], cell[1])].append(cell)
        for (model, version), cells in by_version.items():
            days = sorted({c[2] for c in cells})
            stored = {(r.day, r.feature): r for r in self._connection.execute(
                select(Profile.id, Profile.day, Profile.feature, Profile.counts, Profile.rows,
                       Profile.missing)
                .where(Profile.model_name == model, Profile.model_version == version,
                       Profile.day.in_(days)))}
            fresh, changed = [], []
            for cell in cells:
                coarse, fine, missing, rows = self._cells[cell]
                old = stored.get((cell[2], cell[3]))
                counts = _merged(old.counts if old else None, coarse, fine)
                if old is None:
                    fresh.append({"model_name": model, "model_version": version,
                                  "day": cell[2], "feature": cell[3], "counts": counts,
                                  "rows": rows, "missing": missing})
                    continue
                changed.append({"cell": old.id, "counts": counts, "rows": old.rows + rows,
                                "missing": old.missing + missing})
            if changed:  # one executemany: a round trip per cell costs more than the counting
                self._connection.execute(
                    update(Profile).where(Profile.id == bindparam("cell"))
                    .values(counts=bindparam("counts"), rows=bindparam("rows"),
                            missing=bindparam("missing")), changed)
            if fresh:
                self._connection.execute(insert(Profile), fresh)
        written = len(self._cells)
        self._cells = {}
        return written


def _merged(old: dict[str, Any] | None, coarse: Any, fine: Any) -> dict[str, Any]:
    if isinstance(coarse, dict):  # selection by group: {group: [decided, approved]}
        groups = {g: list(t) for g, t in (old or {}).get("groups", {}).items()}
        for group, (decided, approved) in coarse.items():
            held = groups.setdefault(group, [0, 0])
            held[0], held[1] = held[0] + decided, held[1] + approved
        return {"groups": groups}
    if old is None:
        return {"coarse": coarse.tolist(), "fine": fine.tolist()}
    return {"coarse": (np.asarray(old["coarse"]) + coarse).tolist(),
            "fine": (np.asarray(old["fine"], dtype=int) + fine).tolist()}


def rebuild_daily_profiles(*, engine: Engine, actor: Principal, model_name: str, version: str,
                           progress: Callable[[str], None] | None = None) -> int:
    """Count a version's whole logged traffic again against its newest reference profile."""
    say = progress or (lambda _line: None)
    with session_scope(engine) as session:
        lock_trail(session=session)
        connection = session.connection()
        profiler = DailyProfiler(connection)
        connection.execute(delete(Profile).where(Profile.model_name == model_name,
                                                 Profile.model_version == version,
                                                 Profile.day.is_not(None)))
        after, seen = 0, 0
        while True:
            rows = connection.execute(
                select(Decision.id, Decision.model_name, Decision.model_version,
                       Decision.decided_at, Decision.features, Decision.score,
                       Decision.outcome, Decision.shadow)
                .where(Decision.model_name == model_name, Decision.model_version == version,
                       Decision.id > after)
                .order_by(Decision.id).limit(20_000)).all()
            if not rows:
                break
            profiler.add(dict(r._mapping) for r in rows)
            after, seen = rows[-1].id, seen + len(rows)
            say(f"Profiled {seen:,} decisions of {model_name} v{version}")
        cells = profiler.write()
        append(session=session, actor=actor, action=AuditAction.PROFILES_REBUILT,
               subject_type="model",
               subject_id=f"{model_name}/{version}", model_name=model_name,
               payload={"version": version, "decisions": seen, "cells": cells})
    return seen
