"""Text from outside the console (ingest, registry, sign-in) is drawn as text on every page
that shows it: no image fetched, no link, no colour, no reversed line."""

from __future__ import annotations

import io
import re
from datetime import datetime

from streamlit.testing.v1 import AppTest

from services.core.settings import Settings
from services.store.engine import make_engine, session_scope
from services.store.models import Decision
from tests.app.test_pages import APP, RUN_WITHIN

HOSTILE_ID = "![t](http://track.example/p.png)"
HOSTILE_SUBJECT = "[click](http://evil.example) :red[urgent] \u202eevil\u202c"
HOSTILE_REASON = "**bold** _x_ <img src=x>"
# Markup that would render: an unescaped "](", a colour directive, an HTML tag, bidi controls.
_LIVE = re.compile(r"(?<!\\)\]\(|(?<!\\):red(?<!\\)\[|(?<!\\)<img|[\u202a-\u202e\u2066-\u2069]")


def _markdown_of(at: AppTest) -> list[str]:
    kinds = ("title", "header", "subheader", "caption", "markdown", "error", "warning", "info",
             "success")
    return [str(e.value) for kind in kinds for e in getattr(at, kind)]


def test_an_ingested_decision_with_markup_is_shown_as_text_in_its_case_file(
        demo_copy: Settings) -> None:
    with session_scope(make_engine(demo_copy.database_url)) as session:
        source = session.query(Decision).filter(Decision.model_name == "credit-risk",
                                                Decision.shadow.is_(False)).first()
        assert source is not None
        session.add(Decision(decision_id=HOSTILE_ID, model_name="credit-risk",
                             model_version=source.model_version,
                             decided_at=datetime(2026, 11, 1, 9), subject_ref=HOSTILE_SUBJECT,
                             features=dict(source.features), score=source.score,
                             threshold=source.threshold, outcome="escalated",
                             escalation_reason=HOSTILE_REASON[:32], shadow=False))
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "analyst"
    at.run()
    at.switch_page("pages/case_file.py")
    at.query_params["decision"] = HOSTILE_ID
    at.run()
    assert not at.exception
    shown = _markdown_of(at)
    # The id and the subject are there, as text.
    assert any("track.example" in text.replace("\\", "") for text in shown)
    assert any("evil.example" in text.replace("\\", "") for text in shown)
    assert not [text for text in shown if _LIVE.search(text)]


HOSTILE_TAG = "![x](http://track.example/i.png) [link](http://evil.example) \u202eelbat\u202c"


def test_registry_tags_with_markup_are_shown_as_text_on_the_card_and_in_its_pdf(
        demo_copy: Settings) -> None:
    from mlflow import MlflowClient
    from pypdf import PdfReader

    client = MlflowClient(demo_copy.mlflow_tracking_uri, demo_copy.mlflow_tracking_uri)
    for tag in ("intended_use", "limitations"):
        client.set_registered_model_tag("credit-risk", tag, HOSTILE_TAG)
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "risk_manager"
    at.run()
    at.switch_page("pages/model_card.py")
    at.query_params["model"] = "credit-risk"
    at.run()
    assert not at.exception
    shown = _markdown_of(at)
    assert any("track.example" in text.replace("\\", "") for text in shown)
    assert not [text for text in shown if _LIVE.search(text)]

    from services.core.policy import load_policy
    from services.governance.model_card import build_model_card
    from services.registry.adapter import Registry
    from services.reports.card import card_html, card_markdown, card_pdf

    with session_scope(make_engine(demo_copy.database_url)) as session:
        card = build_model_card(session=session, registry=Registry(demo_copy.mlflow_tracking_uri),
                                policy=load_policy(demo_copy.policy_path),
                                model_name="credit-risk", version="2")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(card_pdf(card))).pages)
    assert "track.example" in text
    for export in (text, card_html(card), card_markdown(card)):
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", export)
    assert "<img" not in card_html(card) and not _LIVE.search(card_markdown(card))
