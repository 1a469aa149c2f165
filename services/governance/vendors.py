"""Vendor models: a governed record for a model the organisation uses but did not train.

Registered in the one MLflow registry (services.registry.vendor: tagged model_kind = vendor, a
version with the vendor's documented inputs and no artifact), with the documents received from
the vendor kept in the store with their SHA-256. Its decisions are ingested and monitored like
any other (drift, escalation, performance, fairness over time); they are never replayed or
explained, because there is no model to run. A new version the vendor ships is a new registry
version: a material change, promoted through the ordinary gates and sign-offs.

Every function here that writes checks permission (Action.GOVERN_VENDOR_MODEL: model owners and
admins), takes the audit trail's lock and appends its audit event in the same transaction; a
refusal leaves only its own audit event.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound
from services.core.permissions import Action, require
from services.core.policy import RISK_TIERS
from services.core.principal import Principal, Role
from services.core.visible import visible
from services.governance.accounts import account_roles
from services.registry.adapter import ModelSummary, Registry
from services.registry.vendor import VENDOR_TAG, VENDOR_VERSION_TAG, register_vendor_version
from services.store.engine import session_scope
from services.store.models import VendorDocument

MAX_DOCUMENT_BYTES = 25 * 1024 * 1024  # a model document, not a data set
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


@dataclass(frozen=True)
class VendorDocumentRecord:
    """A document received with a vendor model, as listed (its bytes are read separately)."""

    id: int
    model_name: str
    model_version: str | None  # None: about the model as a whole
    title: str
    file_name: str
    sha256: str  # of the bytes as received, hex
    size_bytes: int
    received_on: date
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class VendorRegistration:
    model_name: str
    version: str  # the registry's version number
    vendor: str
    vendor_version: str
    favourable_label: str  # the label value that is good for the person
    favourable_defaulted: bool  # nobody named it: the positive label was taken
    # A new release of a model already registered: the model-level settings it changed, as
    # tag -> (before, after); every other setting was kept as it was.
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)


DEFAULT_LIMITATIONS = ("Trained and scored by the vendor: the console cannot replay or explain "
                       "its decisions.")


def register_vendor_model(*, engine: Engine, registry: Registry, actor: Principal, name: str,
                          vendor: str, vendor_version: str, purpose: str, owner: str,
                          risk_tier: str, inputs: Mapping[str, str], label: str,
                          positive_label: str, sensitive_features: str | None = None,
                          limitations: str | None = None, favourable_label: str | None = None,
                          decision_threshold: float | None = None,
                          scored_holdout: Path | None = None,
                          artifact_root: Path | None = None) -> VendorRegistration:
    """Register a vendor model, or a new version of one (the vendor shipped a new release).

    inputs: input name -> MLflow type, from the vendor's documentation (the signature ingest
    checks decisions against). label, positive_label, sensitive_features, favourable_label: as
    the governance contract's tags, for evidence from a scored hold-out set and fairness over
    time. sensitive_features, limitations and favourable_label left None keep what the model
    already says (they govern the serving version too); for a new model they default to none,
    a sentence saying the console cannot replay it, and the positive label (said so in the
    answer: a fraud score's positive label is the unfavourable one). decision_threshold: a
    probability in [0, 1]. owner: an existing account that is a model owner or admin (a demo
    persona in the demo), or the model's present owner. scored_holdout: a Parquet file with
    the inputs, the vendor's score in column `score`, the label and the sensitive columns,
    logged as the version's hold-out set. artifact_root: where a local registry keeps files
    (Settings.artifact_root); None for a tracking server.

    Raises:
        PermissionDenied: the actor is neither a model owner nor an admin.
        InvalidInput: a field is empty or malformed, the tier is unknown, the threshold is not
            a probability, the owner is no account that may own a model, a sensitive feature is
            not a declared input, the release is registered already, or the name belongs to a
            model the organisation trained.
        SourceUnavailable: the registry cannot be reached.
    """
    with refusals_recorded(engine, actor, AuditAction.VENDOR_MODEL_REGISTER_REFUSED, "model",
                           name, name):
        require(actor, Action.GOVERN_VENDOR_MODEL)
        if not _NAME.match(name):
            raise InvalidInput(f"{name!r} is not a model name: letters, digits, '.', '_' and "
                               "'-', at most 128.")
        fields = {"vendor": vendor, "vendor version": vendor_version, "purpose": purpose,
                  "label": label, "positive label": positive_label}
        empty = [k for k, v in fields.items() if not visible(v).strip()]
        if empty:
            raise InvalidInput(f"A vendor model needs its {', '.join(empty)}.")
        if risk_tier not in RISK_TIERS:
            raise InvalidInput(f"{risk_tier!r} is not a risk tier: one of "
                               f"{', '.join(RISK_TIERS)}.")
        if decision_threshold is not None and not 0.0 <= float(decision_threshold) <= 1.0:
            raise InvalidInput(f"The threshold {decision_threshold:g} is not a probability.",
                               hint="Give the operating threshold on the vendor's score, "
                                    "between 0 and 1.")
        if scored_holdout is not None and scored_holdout.suffix.lower() != ".parquet":
            raise InvalidInput("The scored hold-out set logged with a version is a Parquet "
                               "file.", hint="Or run evidence from a CSV with --scored-file.")
        existing = _existing(registry, name)
        if existing is not None and not existing.is_vendor:
            raise InvalidInput(f"{name!r} is already registered as a model the organisation "
                               "trained, not a vendor model.",
                               hint="Choose another name for the vendor model.")
        before = dict(existing.tags) if existing is not None else {}
        release = vendor_version.strip()
        if existing is not None:
            _new_release(registry, name, release)
        with session_scope(engine) as session:
            _may_own(session, owner, before.get("owner"))
        sensitive = _given(sensitive_features, before.get("sensitive_features", ""))
        declared_sensitive(sensitive, inputs)
        favourable = _given(favourable_label, before.get("favourable_label", ""))
        defaulted = not favourable
        model_tags = {
            "owner": owner, "risk_tier": risk_tier, "intended_use": visible(purpose).strip(),
            "limitations": _given(limitations, before.get("limitations", ""))
            or DEFAULT_LIMITATIONS,
            VENDOR_TAG: visible(vendor).strip(), "label": label.strip(),
            "positive_label": positive_label.strip(), "sensitive_features": sensitive,
            "favourable_label": favourable or positive_label.strip()}
        changed = {k: (before.get(k, ""), v) for k, v in model_tags.items()
                   if existing is not None and before.get(k, "") != v}
        version_tags = {VENDOR_VERSION_TAG: release}
        if decision_threshold is not None:
            version_tags["decision_threshold"] = f"{float(decision_threshold):g}"
        version = register_vendor_version(
            registry, name=name, model_tags=model_tags, version_tags=version_tags,
            inputs=inputs, description=visible(purpose).strip(), scored_holdout=scored_holdout,
            artifact_root=artifact_root)
        with session_scope(engine) as session:
            lock_trail(session=session)
            append(session=session, actor=actor, action=AuditAction.VENDOR_MODEL_REGISTERED,
                   subject_type="model", subject_id=name,
                   model_name=name, payload={
                       "version": version, "vendor": model_tags[VENDOR_TAG],
                       "vendor_version": release, "owner": owner,
                       "risk_tier": risk_tier, "inputs": dict(inputs),
                       "favourable_label": model_tags["favourable_label"],
                       "sensitive_features": sensitive,
                       "changed": {k: {"from": a, "to": b} for k, (a, b) in changed.items()},
                       "scored_holdout": scored_holdout.name if scored_holdout else None})
        return VendorRegistration(name, version, model_tags[VENDOR_TAG], release,
                                  model_tags["favourable_label"], defaulted, changed)


def record_vendor_document(*, engine: Engine, registry: Registry, actor: Principal,
                           model_name: str, title: str, file_name: str, content: bytes,
                           received_on: date | None = None,
                           version: str | None = None) -> VendorDocumentRecord:
    """Keep a document received from the vendor with its SHA-256 (of these exact bytes).

    Raises:
        PermissionDenied: the actor is neither a model owner nor an admin.
        NotFound: no such model (or version) in the registry.
        InvalidInput: the model is not a vendor model, the title or file is empty, the file is
            over 25 MB, or the date received is in the future.
    """
    with refusals_recorded(engine, actor, AuditAction.VENDOR_DOCUMENT_RECORD_REFUSED, "model",
                           model_name, model_name):
        require(actor, Action.GOVERN_VENDOR_MODEL)
        model = registry.get_model(model_name)
        if not model.is_vendor:
            raise InvalidInput(f"{model_name!r} is not a vendor model: its documents are its "
                               "MLflow records.", hint="Documents are kept for vendor models.")
        if version is not None:
            registry.get_version(model_name, str(version))
        shown_title = visible(title).strip()
        shown_file = Path(visible(file_name).strip()).name
        if not shown_title or not shown_file:
            raise InvalidInput("A document needs a title and a file name.")
        if not content:
            raise InvalidInput(f"{shown_file} is empty.")
        if len(content) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"{shown_file} is {len(content) / 1e6:.1f} MB; documents are "
                               "kept up to 25 MB.", hint="Keep a larger file elsewhere and "
                               "record a note with its SHA-256.")
        today = utcnow().date()
        received = received_on or today
        if received > today + timedelta(days=1):
            raise InvalidInput(f"{received} is in the future: when was it received?")
        digest = hashlib.sha256(content).hexdigest()
        with session_scope(engine) as session:
            lock_trail(session=session)
            row = VendorDocument(
                model_name=model_name, model_version=None if version is None else str(version),
                title=shown_title[:200], file_name=shown_file[:256], sha256=digest,
                size_bytes=len(content), content=content, received_on=received,
                recorded_by=actor.id, recorded_at=utcnow())
            session.add(row)
            session.flush()
            append(session=session, actor=actor, action=AuditAction.VENDOR_DOCUMENT_RECORDED,
                   subject_type="vendor_document", subject_id=row.id, model_name=model_name,
                   payload={"title": row.title, "file_name": row.file_name, "sha256": digest,
                            "size_bytes": row.size_bytes, "version": row.model_version,
                            "received_on": received.isoformat()})
            return _record(row)


def vendor_documents(*, session: Session, model_name: str) -> list[VendorDocumentRecord]:
    """The documents received with a model, newest first (none for a model the organisation
    trained)."""
    rows = session.scalars(select(VendorDocument).where(VendorDocument.model_name == model_name)
                           .order_by(VendorDocument.recorded_at.desc(),
                                     VendorDocument.id.desc()))
    return [_record(r) for r in rows]


def document_content(*, session: Session, document_id: int) -> tuple[VendorDocumentRecord, bytes]:
    """A document and its bytes, checked against the SHA-256 recorded when it was received.

    Raises NotFound for an unknown id; InvalidInput when the bytes no longer hash to the
    recorded SHA-256 (the store was changed behind the console's back)."""
    row = session.get(VendorDocument, document_id)
    if row is None:
        raise NotFound(f"There is no vendor document #{document_id}.")
    content = bytes(row.content)
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise InvalidInput(f"Vendor document #{document_id} ({row.file_name}) no longer "
                           f"matches the SHA-256 recorded when it was received ({row.sha256}).",
                           hint="Tell an administrator: the store was changed outside the "
                                "console (govern audit verify).")
    return _record(row), content


def _record(row: VendorDocument) -> VendorDocumentRecord:
    return VendorDocumentRecord(row.id, row.model_name, row.model_version, row.title,
                                row.file_name, row.sha256, row.size_bytes, row.received_on,
                                row.recorded_by, row.recorded_at)


def _given(value: str | None, before: str) -> str:
    """A setting given explicitly (even as empty), else what the model says now."""
    return before.strip() if value is None else visible(value).strip()


def _existing(registry: Registry, name: str) -> ModelSummary | None:
    try:
        return registry.get_model(name)
    except NotFound:
        return None


def _new_release(registry: Registry, name: str, release: str) -> None:
    """Refuse a release the model has a version of already (the registry would hold two)."""
    for held in registry.list_versions(name):
        if held.tags.get(VENDOR_VERSION_TAG, "").strip() == release:
            raise InvalidInput(f"Release {release} of {name!r} is registered already, as "
                               f"version {held.version}.",
                               hint="A new release has a new vendor version; to change the "
                                    "model's settings use govern vendor settings.")


def declared_sensitive(sensitive: str, inputs: Mapping[str, str]) -> None:
    """Refuse a sensitive feature that is not a declared input: ingest would refuse it in
    decisions, so fairness over time could never see it."""
    wanted = [f.strip() for f in sensitive.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in inputs]
    if unknown:
        raise InvalidInput(f"The sensitive feature(s) {', '.join(unknown)} are not among the "
                           f"declared inputs ({', '.join(inputs) or 'none'}): fairness could "
                           "never see them.",
                           hint="Declare each with --input NAME=TYPE, or leave it out of "
                                "--sensitive.")



def _may_own(session: Session, owner: str, present_owner: str | None) -> None:
    """The owner answers for the model, so is an account that may own one (a model owner or
    admin; a demo persona by its roles while the demo is built or shown). A name that is no
    account is accepted only when it is the model's owner already (who may sign in through
    OIDC), as a finding's owner is (services.governance.findings)."""
    if not _ACCOUNT.match(owner):
        raise InvalidInput(f"{owner!r} is not an account name.",
                           hint="The owner is the account that answers for the model.")
    roles = account_roles(session=session, name=owner)
    if roles is None:
        if owner == present_owner:
            return
        raise InvalidInput(f"There is no account {owner!r} to own the model.",
                           hint="Name an existing account that is a model owner or admin "
                                "(govern users list; govern users add to create one).")
    if not roles & {Role.MODEL_OWNER, Role.ADMIN}:
        raise InvalidInput(f"{owner} is not a model owner or admin, so cannot answer for the "
                           "model.", hint="Name a model owner (govern users list).")
