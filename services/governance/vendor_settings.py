"""Changing a vendor model's settings after it is registered, inside the audit trail.

A vendor model's favourable label, sensitive features and limitations are model-level tags:
they govern every version, the serving one included. A fraud score registered without its
favourable label (the positive label, fraud, taken as favourable) is corrected here rather
than by writing an MLflow tag by hand, which no audit event would record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail, refusals_recorded
from services.core.errors import InvalidInput
from services.core.justification import justified
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.core.visible import visible
from services.governance.vendors import declared_sensitive
from services.registry.adapter import Registry
from services.registry.vendor import set_vendor_model_tags
from services.store.engine import session_scope


@dataclass(frozen=True)
class VendorSettingsChange:
    model_name: str
    changed: dict[str, tuple[str, str]]  # tag -> (before, after)
    note: str


def change_vendor_settings(*, engine: Engine, registry: Registry, actor: Principal, name: str,
                           note: str, favourable_label: str | None = None,
                           sensitive_features: str | None = None,
                           limitations: str | None = None) -> VendorSettingsChange:
    """Change a vendor model's favourable label, sensitive features (comma list) or
    limitations, saying why; None leaves a setting as it is. Evidence already stored keeps the
    settings of its day: run evidence again for the new ones to count.

    Raises:
        PermissionDenied: the actor is neither a model owner nor an admin.
        NotFound: no such model in the registry.
        InvalidInput: the model is not a vendor model, nothing would change, the favourable
            label or limitations are empty, a sensitive feature is not an input the serving
            (else latest) version declares, or the note is too short.
        SourceUnavailable: the registry cannot be reached.
    """
    with refusals_recorded(engine, actor, AuditAction.VENDOR_MODEL_SETTINGS_REFUSED, "model",
                           name, name):
        require(actor, Action.GOVERN_VENDOR_MODEL)
        text = justified(note)
        model = registry.get_model(name)
        if not model.is_vendor:
            raise InvalidInput(f"{name!r} is not a vendor model: its settings are the tags its "
                               "owner logs with it in MLflow.")
        wanted: dict[str, str] = {}
        if favourable_label is not None:
            if not visible(favourable_label).strip():
                raise InvalidInput("The favourable label cannot be empty.",
                                   hint="Give the label value that is good for the person "
                                        "(for a fraud score, the label of 'not fraud').")
            wanted["favourable_label"] = visible(favourable_label).strip()
        if sensitive_features is not None:
            sensitive = ",".join(f.strip() for f in visible(sensitive_features).split(",")
                                 if f.strip())
            version = model.aliases.get("champion") or model.latest_version
            if version is not None:
                declared_sensitive(sensitive, registry.input_schema(name, version))
            wanted["sensitive_features"] = sensitive
        if limitations is not None:
            if not visible(limitations).strip():
                raise InvalidInput("The limitations cannot be empty: say where the model "
                                   "must not be relied on.")
            wanted["limitations"] = visible(limitations).strip()
        changed = {k: (model.tags.get(k, ""), v) for k, v in wanted.items()
                   if model.tags.get(k, "") != v}
        if not changed:
            raise InvalidInput(f"{name!r} already reads so: nothing changed.",
                               hint="Give --favourable-label, --sensitive or --limitations "
                                    "with a new value.")
        set_vendor_model_tags(registry, name=name, tags={k: v for k, (_, v) in changed.items()})
        with session_scope(engine) as session:
            lock_trail(session=session)
            append(session=session, actor=actor,
                   action=AuditAction.VENDOR_MODEL_SETTINGS_CHANGED, subject_type="model",
                   subject_id=name, model_name=name, payload={
                       "changed": {k: {"from": a, "to": b} for k, (a, b) in changed.items()},
                       "note": text})
        return VendorSettingsChange(name, changed, text)
