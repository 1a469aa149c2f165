"""A vendor model's settings on SQLite and PostgreSQL against a real MLflow registry: the
favourable label is said when it is taken by default and can be changed inside the audit trail,
a new release keeps the model's settings unless they are given, and registration refuses what
could never work (a threshold that is no probability, an owner who is no account, a sensitive
feature that is not an input, the same release twice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.core.errors import InvalidInput, PermissionDenied
from services.core.principal import Principal, Role
from services.evidence.run import run_evidence
from services.governance.accounts import add_user
from services.governance.vendor_settings import change_vendor_settings
from services.governance.vendors import DEFAULT_LIMITATIONS, register_vendor_model
from services.registry.adapter import Registry
from services.registry.vendor import set_vendor_model_tags
from services.store.engine import session_scope
from services.store.models import AuditEvent
from tests.test_vendor_models import POLICY, scored_frame

MODEL = "fraud-score"
ADMIN = Principal("adam", "Adam", frozenset({Role.ADMIN}))
OWNER = Principal("olga", "Olga", frozenset({Role.MODEL_OWNER}))
INPUTS = {"income": "double", "debt": "double", "region": "string", "group": "string"}
WHY = "The score is the probability of fraud: not being flagged is favourable."


@pytest.fixture
def vendor_store(engine: Engine, tmp_path: Path) -> tuple[Engine, Registry, Path]:
    """A store with accounts (a model owner, an analyst, an admin) and an empty registry of
    its own."""
    for name, roles in (("olga", {Role.MODEL_OWNER}), ("ana", {Role.ANALYST}),
                        ("root", {Role.ADMIN})):
        add_user(engine=engine, actor=ADMIN, username=name, password="a long password 1",
                 roles=frozenset(roles))
    return engine, Registry(f"sqlite:///{tmp_path / 'mlflow.db'}"), tmp_path / "artifacts"


def _register(store: tuple[Engine, Registry, Path], **changes: Any) -> Any:
    engine, registry, root = store
    fields: dict[str, Any] = {
        "name": MODEL, "vendor": "Acme Payments", "vendor_version": "2.3",
        "purpose": "The vendor's probability that a payment is fraudulent.", "owner": "olga",
        "risk_tier": "high", "inputs": INPUTS, "label": "y", "positive_label": "1",
        "decision_threshold": 0.5, "artifact_root": root}
    return register_vendor_model(engine=engine, registry=registry, actor=OWNER,
                                 **{**fields, **changes})


def _actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [a for a in session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
                if a.startswith("vendor_model")]


def test_the_favourable_label_taken_by_default_is_said(vendor_store: Any) -> None:
    registered = _register(vendor_store)
    assert (registered.favourable_label, registered.favourable_defaulted) == ("1", True)
    assert vendor_store[1].get_model(MODEL).tags["favourable_label"] == "1"


@pytest.mark.parametrize(("favourable", "prediction"), [("0", 0), ("1", 1)])
def test_a_favourable_label_given_decides_the_fairness_rate(vendor_store: Any, tmp_path: Path,
                                                            favourable: str,
                                                            prediction: int) -> None:
    registered = _register(vendor_store, favourable_label=favourable,
                           sensitive_features="group")
    assert not registered.favourable_defaulted
    scored = tmp_path / "scored.parquet"
    scored_frame(3, 400).to_parquet(scored)
    engine, registry, _ = vendor_store
    run = run_evidence(engine=engine, registry=registry, policy=POLICY, actor=ADMIN,
                       model_name=MODEL, version="1", scored_file=scored)
    assert run.fairness is not None
    assert run.fairness.fairness().favourable_prediction == prediction


def test_settings_are_changed_inside_the_audit_trail(vendor_store: Any) -> None:
    engine, registry, _ = vendor_store
    _register(vendor_store, sensitive_features="group")
    change = change_vendor_settings(engine=engine, registry=registry, actor=OWNER, name=MODEL,
                                    note=WHY, favourable_label="0",
                                    sensitive_features="group, region")
    assert change.changed == {"favourable_label": ("1", "0"),
                              "sensitive_features": ("group", "group,region")}
    tags = registry.get_model(MODEL).tags
    assert (tags["favourable_label"], tags["sensitive_features"]) == ("0", "group,region")
    with pytest.raises(InvalidInput, match="nothing changed"):
        change_vendor_settings(engine=engine, registry=registry, actor=OWNER, name=MODEL,
                               note=WHY, favourable_label="0")
    with pytest.raises(InvalidInput, match="gender"):
        change_vendor_settings(engine=engine, registry=registry, actor=OWNER, name=MODEL,
                               note=WHY, sensitive_features="gender")
    with pytest.raises(PermissionDenied):
        change_vendor_settings(engine=engine, registry=registry,
                               actor=Principal("ana", "Ana", frozenset({Role.ANALYST})),
                               name=MODEL, note=WHY, favourable_label="1")
    assert registry.get_model(MODEL).tags["favourable_label"] == "0"
    assert _actions(engine) == ["vendor_model.registered", "vendor_model.settings_changed",
                                "vendor_model.settings.refused",
                                "vendor_model.settings.refused",
                                "vendor_model.settings.refused"]


def test_a_new_release_keeps_the_models_settings_unless_given(vendor_store: Any) -> None:
    registry = vendor_store[1]
    _register(vendor_store, sensitive_features="group", favourable_label="0",
              limitations="Not for card-present payments.")
    kept = _register(vendor_store, vendor_version="2.4")
    assert kept.version == "2" and kept.changed == {}
    assert (kept.favourable_label, kept.favourable_defaulted) == ("0", False)
    tags = registry.get_model(MODEL).tags
    assert (tags["sensitive_features"], tags["limitations"], tags["favourable_label"]) == \
        ("group", "Not for card-present payments.", "0")
    assert [v.tags["vendor_version"] for v in registry.list_versions(MODEL)] == ["2.4", "2.3"]
    # Given explicitly, even as empty, a setting changes and the answer says so.
    changed = _register(vendor_store, vendor_version="2.5", sensitive_features="",
                        risk_tier="medium")
    assert changed.changed == {"sensitive_features": ("group", ""),
                               "risk_tier": ("high", "medium")}


def test_a_new_model_without_limitations_gets_the_vendor_sentence(vendor_store: Any) -> None:
    _register(vendor_store)
    assert vendor_store[1].get_model(MODEL).tags["limitations"] == DEFAULT_LIMITATIONS


@pytest.mark.parametrize("threshold", [-0.01, 1.5, 55.0, float("nan")])
def test_a_threshold_that_is_no_probability_is_refused(vendor_store: Any,
                                                       threshold: float) -> None:
    with pytest.raises(InvalidInput, match="not a probability"):
        _register(vendor_store, decision_threshold=threshold)


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_a_threshold_at_either_end_is_a_probability(vendor_store: Any,
                                                    threshold: float) -> None:
    assert _register(vendor_store, decision_threshold=threshold).version == "1"


@pytest.mark.parametrize(("owner", "said"), [("nobody", "no account 'nobody'"),
                                             ("ana", "not a model owner or admin"),
                                             ("bad name!", "not an account name")])
def test_an_owner_who_cannot_answer_for_the_model_is_refused(vendor_store: Any, owner: str,
                                                             said: str) -> None:
    with pytest.raises(InvalidInput, match=said):
        _register(vendor_store, owner=owner)
    assert _actions(vendor_store[0]) == ["vendor_model.register.refused"]


def test_an_admin_account_or_the_present_owner_may_own_it(vendor_store: Any) -> None:
    registry = vendor_store[1]
    _register(vendor_store, owner="root")
    # The present owner tag is kept even without an account (an OIDC identity).
    set_vendor_model_tags(registry, name=MODEL, tags={"owner": "oidc.person@example.org"})
    assert _register(vendor_store, owner="oidc.person@example.org",
                     vendor_version="2.4").version == "2"


@pytest.mark.parametrize("sensitive", ["gender", "group,gender", "Group"])
def test_a_sensitive_feature_that_is_not_an_input_is_refused(vendor_store: Any,
                                                             sensitive: str) -> None:
    with pytest.raises(InvalidInput, match="not among the declared inputs"):
        _register(vendor_store, sensitive_features=sensitive)


def test_a_new_release_without_the_kept_sensitive_input_is_refused(vendor_store: Any) -> None:
    _register(vendor_store, sensitive_features="group")
    without_group = {k: v for k, v in INPUTS.items() if k != "group"}
    with pytest.raises(InvalidInput, match="group"):
        _register(vendor_store, vendor_version="2.4", inputs=without_group)


def test_the_same_release_twice_is_refused_naming_its_version(vendor_store: Any) -> None:
    _register(vendor_store)
    _register(vendor_store, vendor_version="2.4")
    with pytest.raises(InvalidInput, match=r"Release 2.3 .* registered already, as version 1"):
        _register(vendor_store, vendor_version=" 2.3 ")
    assert len(vendor_store[1].list_versions(MODEL)) == 2


@pytest.mark.parametrize("release_tag", [True, False])
def test_govern_models_and_the_model_page_agree_on_a_vendor_versions_contract(
        vendor_store: Any, release_tag: bool) -> None:
    from mlflow import MlflowClient

    from services.registry.contract import check_contract
    from services.registry.inventory import inventory

    registry = vendor_store[1]
    _register(vendor_store, favourable_label="0", sensitive_features="group")
    if not release_tag:
        # Both URIs named: a client given only the tracking URI takes the registry from the
        # process (another test's mlflow.set_registry_uri under xdist), not this one.
        MlflowClient(tracking_uri=registry.tracking_uri,
                     registry_uri=registry.registry_uri).delete_model_version_tag(
            MODEL, "1", "vendor_version")
    row = next(r for r in inventory(registry=registry, check_versions=True) if r.name == MODEL)
    page = check_contract(registry.get_model(MODEL), registry.lineage(MODEL, "1"))
    assert row.contract_gaps + len(row.version_gaps) == len(page.gaps)
    assert not any("flavor" in gap for gap in row.version_gaps)
    assert [g.split(": ")[1] for g in row.version_gaps] == [g.requirement for g in page.gaps]
    assert page.complete is release_tag
