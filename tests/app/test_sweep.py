"""Every page, as every persona reads it (issue #19): no "None", "nan", "NaN", "inf", literal
backtick or internal name in the visible text, on the demo workspace and on an empty real one.

One AppTest per persona walks every page the persona's roles may open, as a person clicking
through the navigation would; each page is rendered once. Failures are collected per page and
reported together, so one run names every defect.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe, Table

from services.core.glossary import internal_names
from services.core.permissions import allowed
from services.core.principal import DEMO_PERSONAS, Principal, Role
from services.core.settings import Settings
from tests.app.test_pages import APP, RUN_WITHIN
from ui.principal import RESTRICTED_PAGES

PAGES = {  # the file and its url_path in app.py (RESTRICTED_PAGES is keyed by url_path)
    "portfolio": "", "model": "model", "model_card": "card", "evidence": "evidence",
    "controls": "controls", "promotions": "promotions", "drift": "drift", "health": "health",
    "alerts": "alerts", "decisions": "decisions", "case_file": "case",
    "review_queue": "queue", "audit": "audit", "notifications": "notifications",
}
# Words that say a figure was never made. "None" stands alone (a sentence may begin "None of").
_UNDEFINED = re.compile(r"\bNone\b(?! of\b)|\bnan\b|\bNaN\b|(?<![\w.-])-?inf\b")
# An internal name stands alone: inside a dotted policy clause (tiers.high.metric_floors.roc_auc)
# it is a reference to policy.toml, which the reader is pointed to.
_INTERNAL = re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in internal_names())
                       + r")(?![\w.])")
_MARKDOWN_KINDS = ("title", "header", "subheader", "markdown", "caption", "error", "warning",
                   "info", "success")


def _visible(at: AppTest) -> list[tuple[str, str, bool]]:
    """(where, text, is Markdown source) for every text a person reads on the page."""
    texts: list[tuple[str, str, bool]] = []
    for kind in _MARKDOWN_KINDS:
        texts += [(kind, str(e.value), True) for e in getattr(at, kind)]
    for metric in at.metric:
        texts += [("metric label", str(metric.label), True),
                  (f"metric {metric.label!r}", str(metric.value), False)]
    for frame in [*at.dataframe, *at.table]:
        table = _drawn(frame)
        texts += [("table header", str(c), False) for c in table.columns]
        for column in table.columns:
            texts += [(f"cell of {column!r}", "None" if _missing(cell) else str(cell), False)
                      for cell in table[column].tolist()]
    return texts


def _drawn(frame: Dataframe | Table) -> pd.DataFrame:
    """The cells as drawn: a Styler's display values where the page styled the table."""
    arrow = frame.proto.arrow_data
    if arrow.HasField("styler") and arrow.styler.display_values:
        drawn = convert_arrow_bytes_to_pandas_df(arrow.styler.display_values)
        drawn.columns = frame.value.columns
        return drawn
    return frame.value


def _missing(cell: object) -> bool:
    # Streamlit draws a null cell as a grey "None"; a table says "—" instead.
    try:
        return bool(pd.isna(cell))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _defects(at: AppTest) -> list[str]:
    found = []
    for where, text, markdown in _visible(at):
        # In Markdown an escaped backtick is drawn literally; paired ones are code formatting.
        if ("\\`" in text) if markdown else ("`" in text):
            found.append(f"{where}: a literal backtick in {text[:120]!r}")
        shown = text.replace("\\", "")
        if match := _UNDEFINED.search(shown):
            found.append(f"{where}: {match.group(0)!r} in {shown[:160]!r}")
        # A logged parameter's or metric's value is the owner's text (loss="log_loss").
        if where != "cell of 'Value'" and (match := _INTERNAL.search(shown)):
            found.append(f"{where}: internal name {match.group(0)!r} in {shown[:160]!r}")
    return found


def _walk(at: AppTest, principal: Principal) -> list[str]:
    """Every page the principal may open, each rendered once; the defects found, by page."""
    defects = []
    for page, url_path in PAGES.items():
        needs = RESTRICTED_PAGES.get(url_path)
        if needs is not None and not allowed(principal, needs):
            continue
        if page != "portfolio":  # the first run already drew the portfolio
            at.switch_page(f"pages/{page}.py").run()
        if at.exception:
            defects.append(f"{page}: raised {at.exception[0].value}")
        defects += [f"{page}: {d}" for d in _defects(at)]
    return defects


@pytest.mark.parametrize("persona", [p.key for p in DEMO_PERSONAS])
def test_every_page_reads_right_to_every_demo_persona(demo_env: Settings, persona: str) -> None:
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = persona
    principal = next(p.principal for p in DEMO_PERSONAS if p.key == persona)
    defects = _walk(at.run(), principal)
    assert not defects, "\n".join(defects)


def test_every_page_reads_right_on_an_empty_real_workspace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.core.clock import utcnow
    from services.governance.accounts import add_user
    from services.store.engine import make_engine
    from services.store.migrate import upgrade

    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    engine = make_engine(f"sqlite:///{tmp_path / 'governance.db'}")
    upgrade(engine)
    root = Principal("root", "Root", frozenset({Role.ADMIN}))
    add_user(engine=engine, actor=root, username="ada", password="a long passphrase 42",
             roles=frozenset({Role.ADMIN}), display_name="Ada")
    ada = Principal("ada", "Ada", frozenset({Role.ADMIN}))
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["signed_in"] = (ada, utcnow())  # as her browser session holds it
    defects = _walk(at.run(), ada)
    assert not defects, "\n".join(defects)
