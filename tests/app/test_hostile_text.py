"""Text from outside the console (ingest, registry, sign-in) is drawn as text on every page
that shows it: no image fetched, no link, no colour, no reversed line."""

from __future__ import annotations

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
