"""Search, case files, explanations, replay, overrides, the review queue and the control
check, over the demo workspace's real decision log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.core.errors import InvalidInput, PermissionDenied
from services.core.principal import Principal, Role
from services.core.settings import Settings
from services.decisions.case_file import case_file
from services.decisions.explain import DecisionExplainer, sentences
from services.decisions.overrides import override_decision
from services.decisions.review_queue import control_violations, review_queue
from services.decisions.search import DecisionFilter, search_decisions
from services.decisions.why import prepare_explainer
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.models import Decision

ANALYST = Principal("ana", "Ana Lyst", frozenset({Role.ANALYST}))
EXECUTIVE = Principal("exe", "Exe Cutive", frozenset({Role.VIEWER}))
WHY = "The applicant sent proof of income the model never saw; affordability is fine."


@pytest.fixture
def store(demo_env: Settings) -> Engine:
    """The shared demo's store, for a test that only reads it."""
    return make_engine(demo_env.database_url)


@pytest.fixture
def own_store(demo_copy: Settings) -> Engine:
    """A copy of the demo's store, for a test that overrides or is refused (both recorded)."""
    return make_engine(demo_copy.database_url)


@pytest.fixture
def session(store: Engine) -> Iterator[Session]:
    with session_scope(store) as open_session:
        yield open_session


def _explainer(settings: Settings, version: str = "2") -> DecisionExplainer:
    return prepare_explainer(registry=Registry(settings.mlflow_tracking_uri),
                             model_name="credit-risk", version=version)


def _declined(session: Session, version: str = "2") -> str:
    return str(session.scalar(select(Decision.decision_id).where(
        Decision.model_name == "credit-risk", Decision.model_version == version,
        Decision.outcome == "declined", Decision.shadow.is_(False)).limit(1)))


def test_search_filters_pages_and_counts_in_sql(session: Session) -> None:
    filters = DecisionFilter(model_name="credit-risk", outcomes=("declined",))
    first = search_decisions(session=session, filters=filters, page=1, page_size=10)
    second = search_decisions(session=session, filters=filters, page=2, page_size=10)
    assert first.total == first.counts_by_outcome["declined"] > 10
    assert all(r.outcome == "declined" and r.model_name == "credit-risk" for r in first.rows)
    assert first.rows[0].decided_at >= first.rows[-1].decided_at >= second.rows[0].decided_at
    assert not {r.decision_id for r in first.rows} & {r.decision_id for r in second.rows}


def test_a_hostile_subject_filter_is_just_a_value(session: Session) -> None:
    page = search_decisions(session=session, filters=DecisionFilter(
        subject_ref="' OR 1=1; DROP TABLE decisions; --"))
    assert page.total == 0


def test_the_case_file_knows_which_alias_the_version_held_then(session: Session) -> None:
    early = session.scalar(select(Decision.decision_id).where(
        Decision.model_name == "credit-risk", Decision.model_version == "1").limit(1))
    assert case_file(session=session, decision_id=str(early)).aliases_then == ("champion",)


def test_challenger_shadow_scores_sit_in_the_case_file(session: Session) -> None:
    shadowed = session.scalar(select(Decision.decision_id).where(
        Decision.shadow.is_(True), Decision.model_name == "credit-risk").limit(1))
    acted = case_file(session=session,
                      decision_id=str(shadowed).removesuffix("-shadow"))
    assert [t.model_version for t in acted.shadow_twins] == ["3"]


def test_the_explanation_adds_up_to_the_logged_score_and_replays(
        demo_env: Settings, session: Session) -> None:
    file = case_file(session=session, decision_id=_declined(session))
    explainer = _explainer(demo_env)
    explanation = explainer.explain(file.features)
    assert explanation.adds_up
    assert explanation.explained_score == pytest.approx(file.row.score, abs=1e-6)
    assert [c.feature for c in explanation.contributions] != []
    assert {c.feature for c in explanation.contributions} == set(file.features)
    assert explainer.replay(file.features, file.row.score).matches
    assert " most (" in sentences(explanation, outcome_word="repayment")[0]


def test_a_score_that_the_version_does_not_give_fails_the_replay(
        demo_env: Settings, session: Session) -> None:
    file = case_file(session=session, decision_id=_declined(session))
    explainer = _explainer(demo_env)
    assert not explainer.replay(file.features,
                                file.row.score + 0.05).matches  # type: ignore[operator]


def test_an_analyst_overrides_and_the_logged_decision_stays(own_store: Engine) -> None:
    with session_scope(own_store) as session:
        decision_id = _declined(session)
    override_decision(engine=own_store, actor=ANALYST, decision_id=decision_id,
                      new_outcome="approved", reason_category="complaint upheld",
                      justification=WHY)
    with session_scope(own_store) as session:
        file = case_file(session=session, decision_id=decision_id)
    assert file.row.outcome == "declined" and file.current_outcome == "approved"
    assert file.overrides[-1].justification == WHY and file.overrides[-1].reviewer == "ana"


@pytest.mark.parametrize(("actor", "justification", "error"), [
    (EXECUTIVE, WHY, PermissionDenied),
    (ANALYST, "because", InvalidInput),
])
def test_an_override_needs_the_role_and_a_reason(own_store: Engine, actor: Principal,
                                                 justification: str, error: type) -> None:
    with session_scope(own_store) as session:
        decision_id = _declined(session)
    with pytest.raises(error):
        override_decision(engine=own_store, actor=actor, decision_id=decision_id,
                          new_outcome="approved", reason_category="complaint upheld",
                          justification=justification)


def test_a_resolved_escalation_leaves_the_queue(own_store: Engine) -> None:
    with session_scope(own_store) as session:
        before = review_queue(session=session, model_name="credit-risk")
        oldest = before.rows[0]
        assert oldest.outcome in ("escalated", "error") and before.oldest == oldest.decided_at
    override_decision(engine=own_store, actor=ANALYST, decision_id=oldest.decision_id,
                      new_outcome="declined", reason_category="decided by a person on review",
                      justification="Checked by hand: the debt ratio is far too high.")
    with session_scope(own_store) as session:
        after = review_queue(session=session, model_name="credit-risk")
    assert after.total == before.total - 1
    assert oldest.decision_id not in {r.decision_id for r in after.rows}


def test_the_control_check_finds_decisions_that_skipped_a_person(session: Session) -> None:
    found = control_violations(session=session, margins={"credit-risk": 0.08})
    assert found.total > 0
    assert all(r.outcome in ("approved", "declined") and
               abs(r.score - r.threshold) < 0.08 for r in found.rows)  # type: ignore[operator]


def test_the_case_file_pdf_is_written_for_the_person_and_the_file(
        demo_env: Settings, session: Session) -> None:
    from services.reports.letter import case_pdf

    file = case_file(session=session, decision_id=_declined(session))
    explainer = _explainer(demo_env)
    pdf = case_pdf(file, explanation=explainer.explain(file.features),
                   replayed=explainer.replay(file.features, file.row.score),
                   outcome_word="repayment")
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page\n") + pdf.count(
        b"/Type /Page ") + pdf.count(b"/Type/Page") >= 1


def test_challengers_are_compared_with_the_champion_on_the_same_requests(
        session: Session) -> None:
    from services.decisions.shadow import shadow_comparisons

    [comparison] = shadow_comparisons(session=session, model_name="credit-risk")
    assert comparison.challenger_version == "3" and comparison.pairs > 0
    assert 0 < comparison.agreement < 1
    assert comparison.mean_absolute_difference >= abs(comparison.mean_score_difference)


def test_counts_stop_at_the_cap_and_say_more_than(session: Session,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from services.decisions import search

    monkeypatch.setattr(search, "COUNT_CAP", 5)
    page = search_decisions(session=session, filters=DecisionFilter(model_name="credit-risk"))
    assert page.capped and page.total == 6 and page.counts_by_outcome == {}
    assert len(page.rows) == 50  # paging is unaffected


def test_the_hint_names_a_single_change_that_flips_and_never_a_sensitive_one(
        demo_env: Settings, session: Session) -> None:
    from services.decisions.counterfactual import smallest_flip

    file = case_file(session=session, decision_id=_declined(session))
    explainer = _explainer(demo_env)
    flip = smallest_flip(explainer, file.features, threshold=0.5,
                         never_change=frozenset({"sex", "age"}))
    assert flip is not None and flip.feature not in {"sex", "age"}
    changed = {**file.features, flip.feature: flip.changed_to}
    assert explainer.score(changed) >= 0.5  # now approved
    everything_sensitive = frozenset(file.features)
    assert smallest_flip(explainer, file.features, threshold=0.5,
                         never_change=everything_sensitive) is None
