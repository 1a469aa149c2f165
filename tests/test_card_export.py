"""Model card exports: every format carries the card, and tag text never becomes markup."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from services.core.policy import load_policy
from services.core.settings import Settings
from services.governance.model_card import ModelCard, build_model_card
from services.registry.adapter import Registry
from services.reports.card import card_html, card_json, card_markdown, card_pdf
from services.store.engine import make_engine, session_scope

HOSTILE = "<script>alert(1)</script> [click me](http://evil.example) | **bold**"


@pytest.fixture
def challenger_card(demo_env: Settings) -> ModelCard:
    with session_scope(make_engine(demo_env.database_url)) as session:
        return build_model_card(session=session, registry=Registry(demo_env.mlflow_tracking_uri),
                                policy=load_policy(demo_env.policy_path),
                                model_name="credit-risk", version="3")


def test_the_json_card_carries_details_analysis_and_governance(
        challenger_card: ModelCard) -> None:
    card = json.loads(card_json(challenger_card))
    assert card["model_details"]["name"] == "credit-risk"
    assert card["model_details"]["version"]["name"] == "3"
    assert {m["type"] for m in card["quantitative_analysis"]["performance_metrics"]} >= {
        "roc_auc", "accuracy"}
    assert card["governance"]["gates_passed"] is False
    assert all(len(e["payload_sha256"]) == 64 and e["intact"]
               for e in card["governance"]["evidence"])


def test_the_pdf_is_a_pdf_with_every_section(challenger_card: ModelCard) -> None:
    pdf = card_pdf(challenger_card)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 2000


def test_tag_text_stays_text_in_html_and_markdown(demo_copy: Settings) -> None:
    client = MlflowClient(demo_copy.mlflow_tracking_uri, demo_copy.mlflow_registry_uri)
    client.set_registered_model_tag("credit-risk", "limitations", HOSTILE)
    with session_scope(make_engine(demo_copy.database_url)) as session:
        card = build_model_card(session=session, registry=Registry(demo_copy.mlflow_tracking_uri),
                                policy=load_policy(demo_copy.policy_path),
                                model_name="credit-risk", version="3")
    page = card_html(card)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    markdown = card_markdown(card)
    assert "[click me](http" not in markdown and "\\[click me\\]" in markdown
    assert "<script>" not in markdown
