"""What a page shows right after an act: nothing offered that would only be refused."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.core.policy import load_policy
from services.core.principal import demo_persona
from services.core.settings import Settings
from services.governance.promotions.requests import (
    grant_exception,
    request_promotion,
    sign_off,
)
from services.registry.adapter import Registry
from services.store.engine import make_engine

APP = str(Path(__file__).resolve().parents[2] / "app.py")
WHY = "Version one as challenger again, to compare on live traffic for the review."


def test_the_sign_off_form_is_not_offered_to_who_already_signed(demo_copy: Settings) -> None:
    engine = make_engine(demo_copy.database_url)
    registry = Registry(demo_copy.mlflow_tracking_uri, demo_copy.mlflow_registry_uri)
    policy = load_policy(demo_copy.policy_path)
    asked = request_promotion(engine=engine, registry=registry, policy=policy,
                              actor=demo_persona("model_owner").principal,
                              model_name="credit-risk", version="1", alias="challenger",
                              justification=WHY)
    for admin in ("admin", "second_admin"):  # v1's fairness gates fail: the tier needs two
        grant_exception(engine=engine, actor=demo_persona(admin).principal, request_id=asked.id,
                        justification=WHY, expires_on=date.today() + timedelta(days=30))
    sign_off(engine=engine, registry=registry, policy=policy,
             actor=demo_persona("risk_manager").principal, request_id=asked.id,
             verdict="approve", justification=WHY)

    def promotions(persona: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=300)
        at.session_state["demo_persona"] = persona
        at.run()
        return at.switch_page("pages/promotions.py").run()

    signed = promotions("risk_manager")
    assert not signed.exception
    assert any("You approved this request on" in str(i.value) for i in signed.info)
    assert not [r for r in signed.radio if r.key == f"verdict_{asked.id}"]  # no sign-off form
    other = promotions("validator")  # the second validator still gets the form
    assert [r for r in other.radio if r.key == f"verdict_{asked.id}"]
