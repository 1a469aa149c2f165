"""One decision record checked against the log's format and the version's input schema."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from services.core.outcomes import OUTCOMES, VERDICTS
from services.decisions.cells import TextCells, typed_inputs
from services.decisions.times import CLOCK_SKEW, parse_time

NUMERIC_TYPES = {"double", "float", "long", "integer"}
WHOLE_TYPES = {"long", "integer"}
_PLANS_KEPT = 256  # schemas whose checks are kept worked out (a process sees few versions)
# A failed-closed decision (a person decides it) is stored even when its inputs do not fit the
# signature: the bad input is often why it failed closed, and quarantined it would never reach
# the reviewer. The row then carries NOTE, read by ingest's answer, never stored as a column.
FOR_A_PERSON = frozenset({"escalated", "error"})
NOTE = "_note"
_INT64 = (-(2**63), 2**63 - 1)


class RowRejected(ValueError):
    """Why a row cannot be stored (becomes the quarantine reason)."""


Schema = Callable[[str, str], dict[str, str] | None]  # (model, version) -> inputs or None


def clean_decision(raw: Mapping[str, Any], schema_of: Schema, now: datetime) -> dict[str, Any]:
    """A row ready to insert, or RowRejected naming every problem found.

    A CSV row's inputs arrive as text (TextCells) and are read by the version's signature
    first: a boolean as TRUE or yes, a postcode "02134" as written."""
    features = raw.get("features")
    if type(features) is TextCells:
        model, version = raw.get("model_name"), raw.get("model_version")
        schema = schema_of(model, str(version)) if isinstance(model, str) and \
            isinstance(version, str | int) else None
        raw = {**raw, "features": typed_inputs(features, schema or {})}
    usual = _usual(raw, schema_of, now)
    if usual is not None:
        return usual
    return _checked(raw, schema_of, now)


_OUTCOME_SET = frozenset(OUTCOMES)


def _usual(raw: Mapping[str, Any], schema_of: Schema, now: datetime) -> dict[str, Any] | None:
    """The usual row (every field of its type, nothing to trim or convert) cleaned in one pass,
    as `_checked` would clean it; None sends it to `_checked`, which names its problems.

    Ingest's hot path: the full check costs a function call and a problem list per field.
    """
    if type(raw) is not dict:
        return None
    get = raw.get
    names = (get("decision_id"), get("model_name"), get("model_version"), get("subject_ref"))
    for name in names:
        if type(name) is not str or not 0 < len(name) <= 128 or name[0].isspace() or \
                name[-1].isspace():
            return None
    optional = (get("request_id"), get("escalation_reason"))
    for text in optional:
        if text is not None and (type(text) is not str or not 0 < len(text) <= 128):
            return None
    score, threshold, outcome, codes = get("score"), get("threshold"), get("outcome"), \
        get("reason_codes")
    if type(score) is not float or not 0.0 <= score <= 1.0 or outcome not in _OUTCOME_SET or \
            (threshold is not None and (type(threshold) is not float
                                        or not math.isfinite(threshold))) or \
            (codes is not None and (type(codes) is not list
                                    or not all(type(c) is str for c in codes))):
        return None
    decided_at = get("decided_at")
    if type(decided_at) is datetime:
        moment = decided_at
    elif type(decided_at) is str:
        try:
            moment = datetime.fromisoformat(decided_at.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    schema = schema_of(str(names[1]), str(names[2]))
    if moment > now + CLOCK_SKEW or not schema:
        return None
    problems: list[str] = []
    features = _features(get("features"), schema, problems)
    if problems:
        return None
    row = {"decision_id": names[0], "model_name": names[1], "model_version": names[2],
           "subject_ref": names[3], "decided_at": moment, "request_id": optional[0],
           "score": score, "threshold": threshold, "outcome": outcome,
           "escalation_reason": optional[1], "reason_codes": codes,
           "shadow": bool(get("shadow") or False), "features": features}
    if None in features.values() and outcome in VERDICTS:
        row[NOTE] = _missing_note(features, outcome)
    return row


def _checked(raw: Mapping[str, Any], schema_of: Schema, now: datetime) -> dict[str, Any]:
    """Every field checked, every problem named."""
    problems: list[str] = []
    model = _text(raw, "model_name", problems, exact=True)  # as registered: "scorecard "
    version = _text(raw, "model_version", problems, allow_int=True)
    row: dict[str, Any] = {
        "decision_id": _text(raw, "decision_id", problems),
        "model_name": model,
        "model_version": version,
        "subject_ref": _text(raw, "subject_ref", problems),
        "decided_at": parse_time(raw.get("decided_at"), now, problems),
        "request_id": _optional_text(raw, "request_id", problems),
        "score": _number(raw, "score", problems),
        "threshold": _number(raw, "threshold", problems),
        "outcome": raw.get("outcome"),
        "escalation_reason": _optional_text(raw, "escalation_reason", problems),
        "reason_codes": raw.get("reason_codes"),
        "shadow": bool(raw.get("shadow") or False),
    }
    if row["outcome"] not in OUTCOMES:
        problems.append(f"outcome {row['outcome']!r} is not one of {', '.join(OUTCOMES)}")
    if row["score"] is not None and not 0 <= row["score"] <= 1:
        problems.append(f"score {row['score']} is outside [0, 1]")
    if row["score"] is None and row["outcome"] in VERDICTS:
        problems.append("an automatic approval or decline needs a score")
    codes = row["reason_codes"]
    if codes is not None and not (isinstance(codes, list) and all(isinstance(c, str)
                                                                     for c in codes)):
        problems.append("reason_codes must be a list of strings")
    input_problems: list[str] = []
    if model and version:
        schema = schema_of(model, version)
        if schema is None:
            problems.append(f"model {model!r} has no version {version} in the registry")
        elif not schema:
            input_problems.append(f"version {version} of {model!r} has no input signature, so "
                                  "its inputs cannot be checked: log the model with signature= "
                                  "(or an input_example) and register it again")
        else:
            row["features"] = _features(raw.get("features"), schema, input_problems)
    if input_problems and row["outcome"] in FOR_A_PERSON and not problems:
        # Stored for the person who decides it, inputs as received and the mismatch said.
        row["features"] = as_received(raw.get("features"))
        row[NOTE] = (f"stored for a person to decide ({row['outcome']}) with its inputs as "
                     f"received: {'; '.join(input_problems)}")[:500]
    elif input_problems:
        problems += input_problems
    if problems:
        raise RowRejected("; ".join(problems))
    if row["outcome"] in VERDICTS and None in row["features"].values():
        row[NOTE] = _missing_note(row["features"], row["outcome"])
    return row


def _missing_note(features: Mapping[str, Any], outcome: str) -> str:
    missing = ", ".join(sorted(name for name, value in features.items() if value is None))
    return (f"{outcome} automatically with input(s) missing: {missing} (a fail-closed server "
            "escalates such a decision to a person)")[:500]


def as_received(features: Any) -> dict[str, Any]:
    """A failed-closed decision's inputs as sent, made storable: values JSON cannot hold (NaN,
    a Python object from the client) as JSON would write them; not an object at all: {}."""
    if not isinstance(features, Mapping):
        return {}
    kept: dict[str, Any] = {}
    for name, value in features.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif isinstance(value, int) and not isinstance(value, bool) and \
                not _INT64[0] <= value <= _INT64[1]:
            value = str(value)
        elif value is not None and not isinstance(value, bool | int | float | str):
            value = json.loads(json.dumps(value, default=str, allow_nan=False)
                               ) if _plain_json(value) else str(value)
        kept[str(name)] = value
    return kept


def _plain_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def mismatched_inputs(features: Mapping[str, Any], schema: Mapping[str, str]) -> dict[str, str]:
    """Each logged input that does not fit the version's signature, with what is wrong (empty
    when all fit): a failed-closed decision may have been stored with its inputs as received."""
    found: dict[str, str] = {}
    for name, value in features.items():
        kind = schema.get(name)
        if kind is None:
            found[name] = f"feature {name} is not in the version's schema"
            continue
        problems: list[str] = []
        _features_one_by_one({name: value}, {name: kind}, _plan({name: kind}), problems)
        if problems:
            found[name] = problems[0]
    for name in schema:
        if name not in features:
            found[name] = f"feature {name} is absent"
    return found


_NUMBER, _FLAG, _TEXT, _WHOLE = 0, 1, 2, 3
_PLAIN_TYPE = (float, bool, str, int)  # each kind's type when nothing needs converting


@dataclass(frozen=True)
class _Plan:
    """A schema's checks, worked out once."""

    checks: tuple[tuple[str, int], ...]  # (input, kind) in schema order
    pick: Callable[[dict[str, Any]], tuple[Any, ...]]  # the inputs' values, in schema order
    types: tuple[type, ...]  # each input's exact type when nothing needs converting
    pick_numbers: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # double inputs
    pick_wholes: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # integer inputs


# Keyed by the schema object the ingest caches (and kept with it, so an id is never reused),
# at most _PLANS_KEPT of them, oldest first out: a caller that reads schemas afresh per batch
# (each a new dict) would otherwise add an entry per call for as long as the process lives.
_PLANS: dict[int, tuple[dict[str, str], _Plan]] = {}


def _plan_of(schema: dict[str, str]) -> _Plan:
    held = _PLANS.get(id(schema))
    if held is None or held[0] is not schema:
        while len(_PLANS) >= _PLANS_KEPT:
            del _PLANS[next(iter(_PLANS))]
        held = _PLANS[id(schema)] = (schema, _plan(schema))
    return held[1]


def _plan(schema: dict[str, str]) -> _Plan:
    checks = tuple((name, _WHOLE if kind in WHOLE_TYPES else _NUMBER if kind in NUMERIC_TYPES
                    else _FLAG if kind == "boolean" else _TEXT) for name, kind in schema.items())
    numbers = [name for name, kind in checks if kind == _NUMBER]
    wholes = [name for name, kind in checks if kind == _WHOLE]
    return _Plan(checks, _picker([name for name, _ in checks]),
                 tuple(_PLAIN_TYPE[kind] for _, kind in checks),
                 _picker(numbers) if numbers else None, _picker(wholes) if wholes else None)


def _picker(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if not names:
        return lambda _d: ()
    # itemgetter of one name returns the value, not a 1-tuple.
    getter = itemgetter(*names)
    return getter if len(names) > 1 else lambda d: (getter(d),)


_ABSENT = object()


def _features(features: Any, schema: dict[str, str], problems: list[str]) -> dict[str, Any]:
    if type(features) is not dict:
        if not isinstance(features, Mapping):
            problems.append("features must be an object of input name to value")
            return {}
        features = dict(features)
    row: dict[str, Any] = features
    plan = _plan_of(schema)
    # Hot path of every ingest (rows x features): the usual row has every input, each of its
    # exact type and no NaN, and is kept as it is; checked in C (map, itemgetter), not per value.
    if len(features) == len(plan.types):
        try:
            values = plan.pick(row)
        except KeyError:
            values = ()
        if tuple(map(type, values)) == plan.types and (
                plan.pick_numbers is None or not any(map(math.isnan, plan.pick_numbers(row)))) \
                and (plan.pick_wholes is None or all(_INT64[0] <= v <= _INT64[1]
                                                     for v in plan.pick_wholes(row))):
            return row
    return _features_one_by_one(row, schema, plan, problems)


def _features_one_by_one(features: dict[str, Any], schema: dict[str, str], plan: _Plan,
                         problems: list[str]) -> dict[str, Any]:
    """Each input checked and converted, every problem named; the row's own dict kept when
    nothing in it needs converting."""
    clean: dict[str, Any] = features
    absent = 0
    for name, kind in plan.checks:
        value = features.get(name, _ABSENT)
        kind_of = type(value)
        if kind_of is float:
            if value != value:  # NaN is missing too
                clean = _converted(clean, features, name, None)
            elif kind == _WHOLE and not value.is_integer():
                problems.append(f"feature {name} should be a whole number (its signature type "
                                f"is {schema[name]}), not {value!r}"[:200])
            elif kind == _WHOLE:
                # An integer input stays an integer (41, not 41.0): a CSV cell and JSON's 41.0
                # arrive as floats.
                clean = _whole(clean, features, name, value, schema, problems)
            elif kind != _NUMBER:
                problems.append(_mistyped(name, kind, value))
        elif value is None:
            pass  # a missing input is allowed: such a decision is escalated
        elif value is _ABSENT:
            absent += 1
        elif kind == _WHOLE:
            if kind_of is int:
                clean = _whole(clean, features, name, value, schema, problems)
            else:
                problems.append(_mistyped(name, kind, value))
        elif kind == _NUMBER:
            if kind_of is int:
                try:
                    clean = _converted(clean, features, name, float(value))
                except OverflowError:
                    problems.append(f"feature {name} is too large for a number"[:200])
            else:
                problems.append(_mistyped(name, kind, value))
        elif kind_of is not (bool if kind == _FLAG else str):
            problems.append(_mistyped(name, kind, value))
    if absent or len(features) != len(schema):
        unknown = sorted(set(features) - set(schema))
        missing = sorted(set(schema) - set(features))
        if unknown:
            problems.append(f"features not in the version's schema: {', '.join(unknown)}")
        if missing:
            problems.append(f"features the version needs are absent: {', '.join(missing)}")
    return clean


def _whole(clean: dict[str, Any], original: dict[str, Any], name: str, value: float,
           schema: dict[str, str], problems: list[str]) -> dict[str, Any]:
    whole = int(value)
    if not _INT64[0] <= whole <= _INT64[1]:
        problems.append(f"feature {name} is outside the range of its signature type "
                        f"{schema[name]}"[:200])
        return clean
    return clean if type(value) is int else _converted(clean, original, name, whole)


def _converted(clean: dict[str, Any], original: dict[str, Any], name: str,
               value: Any) -> dict[str, Any]:
    # Copy on first change: the caller's row is never altered.
    if clean is original:
        clean = dict(original)
    clean[name] = value
    return clean


def _mistyped(name: str, kind: int, value: Any) -> str:
    wanted = "a number" if kind in (_NUMBER, _WHOLE) else "true or false" if kind == _FLAG \
        else "text"
    return f"feature {name} should be {wanted}, not {value!r}"[:200]


def _text(raw: Mapping[str, Any], field: str, problems: list[str], *,
          allow_int: bool = False, exact: bool = False) -> str:
    value = raw.get(field)
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{field} is missing or not text")
        return ""
    if len(value) > 128:
        problems.append(f"{field} is longer than 128 characters")
    return value if exact else value.strip()


def _optional_text(raw: Mapping[str, Any], field: str, problems: list[str]) -> str | None:
    value = raw.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 128:
        problems.append(f"{field} must be text of at most 128 characters")
        return None
    return value


def _number(raw: Mapping[str, Any], field: str, problems: list[str]) -> float | None:
    value = raw.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not math.isfinite(float(value)):
        problems.append(f"{field} must be a finite number, not {value!r}"[:200])
        return None
    return float(value)
