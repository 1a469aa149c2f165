"""Frameworks as data: every shipped file loads and every control names evidence the console
produces; SR 26-2 / OCC 2026-13 is current and SR 11-7 superseded; an organisation's own file
renders on the screen, in the CLI and in the evidence pack; a bad file is refused in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.cli.main import main
from services.core.errors import InvalidInput
from services.core.policy import load_policy
from services.core.settings import PROJECT_ROOT, Settings
from services.governance.controls import control_matrix
from services.governance.evidence_checks import CHECKS
from services.governance.frameworks import (
    EVIDENCE_KINDS,
    chosen,
    load_frameworks,
    read_frameworks,
)
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from tests.app.test_pages import APP, RUN_WITHIN

POLICY = load_policy(PROJECT_ROOT / "policy.toml")
INTERNAL = """
id = "bank-mrm"
name = "Bank MRM policy"
title = "Internal model risk policy MRM-01, version 4 (2026)"
status = "current"
shown_by_default = true
source = "https://intranet.bank.example/mrm-01"

[[controls]]
ref = "MRM-01 5.3"
title = "Second-line validation before use"
asks = "Evidence on the hold-out passes every gate of the tier before production."
evidence = ["validation"]
"""


def test_every_shipped_framework_loads_and_names_evidence_the_console_produces() -> None:
    frameworks = {f.id: f for f in load_frameworks()}
    assert {"sr-26-2", "eu-ai-act", "iso-iec-42001", "nist-ai-rmf", "sr-11-7"} <= set(frameworks)
    for framework in frameworks.values():
        assert framework.controls and framework.source.startswith("https://")
        for control in framework.controls:
            assert control.evidence and set(control.evidence) <= set(EVIDENCE_KINDS)
    assert set(CHECKS) == set(EVIDENCE_KINDS)  # every kind is judged by a check of its own
    assert frameworks["sr-11-7"].status == "superseded"
    assert not frameworks["sr-11-7"].shown_by_default
    assert [f.id for f in chosen(list(frameworks.values()))] == ["eu-ai-act", "sr-26-2"]


@pytest.mark.parametrize(("text", "problem"), [
    (INTERNAL.replace('["validation"]', '["vibes"]'), "does not produce: vibes"),
    (INTERNAL.replace('["validation"]', "[]"), "names no evidence"),
    (INTERNAL.replace('status = "current"', 'status = "draft"'), "current or superseded"),
    (INTERNAL.replace('id = "bank-mrm"', 'id = "sr-26-2"'), "is in both"),
    (INTERNAL.replace("[[controls]]", "[[controls"), "not valid TOML"),
    (INTERNAL.replace('title = "Internal', 'tytle = "Internal'), "lacks or mistypes"),
])
def test_a_bad_framework_file_is_refused_naming_what_is_wrong(tmp_path: Path, text: str,
                                                             problem: str) -> None:
    (tmp_path / "bank.toml").write_text(text)
    with pytest.raises(InvalidInput, match=problem):
        load_frameworks(tmp_path)


def test_the_demo_champion_is_judged_under_sr_26_2_and_never_passes_without_a_record(
        demo_env: Settings, tmp_path: Path) -> None:
    (tmp_path / "bank.toml").write_text(INTERNAL)
    frameworks = chosen(load_frameworks(tmp_path), ["sr-26-2", "bank-mrm", "nist-ai-rmf"])
    registry = Registry(demo_env.mlflow_tracking_uri)
    with session_scope(make_engine(demo_env.database_url)) as session:
        champion = control_matrix(session=session, registry=registry, policy=POLICY,
                                  model_name="credit-risk", version="2", frameworks=frameworks)
        challenger = control_matrix(session=session, registry=registry, policy=POLICY,
                                    model_name="credit-risk", version="3",
                                    frameworks=frameworks)
    by_framework = {f.id: champion.of(f) for f in champion.frameworks}
    assert {c.framework for c in by_framework["sr-26-2"]} == {"SR 26-2 / OCC 2026-13"}
    vendor = [c for c in by_framework["sr-26-2"] if c.ref == "§ VII"]
    assert [c.status for c in vendor] == ["not applicable"]  # built in-house: no vendor tag
    [internal] = by_framework["bank-mrm"]
    assert internal.status == "met" and "gates pass" in internal.evidence
    review = {c.title: c for c in by_framework["sr-26-2"]}["Risk-based periodic review"]
    assert review.status != "gap" and "next review is due" in review.evidence
    # The challenger fails a fairness gate: the same control is a gap.
    [internal] = [c for c in challenger.controls if c.framework_id == "bank-mrm"]
    assert internal.status == "gap"


def test_govern_controls_lists_frameworks_and_judges_a_version(
        demo_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bank.toml").write_text(INTERNAL)
    monkeypatch.setenv("GOVERNANCE_FRAMEWORKS_DIR", str(tmp_path))
    assert main(["controls", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "sr-26-2" in listed and "superseded" in listed and "bank-mrm" in listed
    assert main(["controls", "credit-risk", "3", "--framework", "bank-mrm", "--json"]) == 1
    matrix = json.loads(capsys.readouterr().out)
    assert matrix["frameworks"] == ["bank-mrm"] and matrix["controls"][0]["status"] == "gap"
    assert main(["controls", "credit-risk", "--framework", "nope"]) == 2
    assert "Frameworks are:" in capsys.readouterr().err


def test_the_controls_screen_shows_sr_26_2_and_an_organisations_own_file(
        demo_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bank.toml").write_text(INTERNAL)
    monkeypatch.setenv("GOVERNANCE_FRAMEWORKS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "auditor"
    at.run()
    at.switch_page("pages/controls.py").run()
    assert not at.exception
    headings = [h.value for h in at.subheader]
    assert headings[:3] == ["Bank MRM policy", "EU AI Act", "SR 26-2 / OCC 2026-13"]
    assert "SR 11-7 (superseded)" not in headings
    at.multiselect[0].set_value(["sr-11-7", "iso-iec-42001"]).run()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["SR 11-7 (superseded)", "ISO/IEC 42001"] or \
        [h.value for h in at.subheader] == ["ISO/IEC 42001", "SR 11-7 (superseded)"]
    assert any("Superseded" in w.value for w in at.warning)


BROKEN = INTERNAL.replace('id = "bank-mrm"', 'id = "vendor-policy"').replace(
    '["validation"]', '["vendor_questionnaire"]') + """
[[controls]]
ref = "MRM-01 7.1"
title = "Vendor documents on file"
asks = "The vendor's documents are received and hashed."
evidence = []

[[controls]]
ref = "MRM-01 7.2"
title = "Reviewed yearly"
asks = "A periodic review on record."
evidence = ["periodic_review"]
applies_to = "everyone"
"""


@pytest.mark.parametrize("broken", [
    BROKEN,
    INTERNAL.replace("[[controls]]", "[[controls"),  # not TOML at all
    INTERNAL.replace('id = "bank-mrm"', 'id = "sr-26-2"'),  # an id already taken
    INTERNAL.replace('status = "current"', 'status = 3').replace('["validation"]', '"x"'),
])
def test_a_broken_file_is_refused_on_its_own_and_every_good_framework_loads(
        tmp_path: Path, broken: str) -> None:
    (tmp_path / "bank.toml").write_text(INTERNAL)
    (tmp_path / "vendor.toml").write_text(broken)
    library = read_frameworks(tmp_path)
    assert {"bank-mrm", "sr-26-2", "eu-ai-act", "iso-iec-42001"} <= {
        f.id for f in library.frameworks}
    [refused] = library.refused
    assert refused.path == tmp_path / "vendor.toml" and refused.problems
    with pytest.raises(InvalidInput, match="vendor.toml"):  # the strict reading still refuses
        load_frameworks(tmp_path)


def test_every_problem_of_a_refused_file_is_named_not_only_the_first(tmp_path: Path) -> None:
    (tmp_path / "vendor.toml").write_text(BROKEN)
    [refused] = read_frameworks(tmp_path).refused
    assert refused.framework_id == "vendor-policy"
    assert len(refused.problems) == 3
    assert "MRM-01 5.3 names evidence the console does not produce: vendor_questionnaire" \
        in refused.problems[0]
    assert "MRM-01 7.1 names no evidence" in refused.problems[1]
    assert "MRM-01 7.2 applies_to is 'everyone'" in refused.problems[2]
    assert "The kinds of evidence are: inventory" in refused.message


def test_asking_for_a_framework_whose_file_is_refused_says_the_file(tmp_path: Path) -> None:
    (tmp_path / "vendor.toml").write_text(BROKEN)
    library = read_frameworks(tmp_path)
    assert [f.id for f in library.chosen()] == ["eu-ai-act", "sr-26-2"]
    with pytest.raises(InvalidInput, match="(?s)'vendor-policy' cannot be judged.*7.1"):
        library.chosen(["sr-26-2", "vendor-policy"])


def test_a_frameworks_dir_that_is_not_a_folder_leaves_the_shipped_frameworks(
        tmp_path: Path) -> None:
    library = read_frameworks(tmp_path / "missing")
    assert "sr-26-2" in {f.id for f in library.frameworks}
    assert "not a folder" in library.refused[0].problems[0]


def test_govern_works_beside_a_broken_file_and_names_it_with_all_its_problems(
        demo_copy: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    frameworks_dir = tmp_path / "frameworks"
    frameworks_dir.mkdir()
    (frameworks_dir / "bank.toml").write_text(INTERNAL)
    (frameworks_dir / "vendor.toml").write_text(BROKEN)
    monkeypatch.setenv("GOVERNANCE_FRAMEWORKS_DIR", str(frameworks_dir))

    assert main(["controls", "--list"]) == 1  # a listing that checks the organisation's files
    out, err = capsys.readouterr()
    assert "sr-26-2" in out and "eu-ai-act" in out and "bank-mrm" in out
    assert err.count("vendor.toml is refused (3 problems)") == 1
    assert "MRM-01 7.1" in err and "vendor_questionnaire" in err and "everyone" in err

    assert main(["controls", "credit-risk", "2", "--json"]) in (0, 1)  # the matrix's verdict
    out, err = capsys.readouterr()
    assert json.loads(out)["frameworks"] == ["bank-mrm", "eu-ai-act", "sr-26-2"]
    assert "vendor.toml is refused" in err

    assert main(["controls", "credit-risk", "2", "--framework", "vendor-policy"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "'vendor-policy' cannot be judged" in err

    assert main(["report", "credit-risk", "2", "--out", str(tmp_path / "out")]) == 0
    out, err = capsys.readouterr()
    assert "Wrote" in out and "vendor.toml is refused" in err
    [document] = (tmp_path / "out").glob("*.json")
    judged = {c["framework"] for c in json.loads(document.read_text())["controls"]}
    assert {"Bank MRM policy", "SR 26-2 / OCC 2026-13", "EU AI Act"} <= judged


def test_the_controls_screen_shows_a_good_org_file_beside_a_broken_one_named_once(
        demo_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bank.toml").write_text(INTERNAL)
    (tmp_path / "vendor.toml").write_text(BROKEN)
    monkeypatch.setenv("GOVERNANCE_FRAMEWORKS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "auditor"
    at.run()
    at.switch_page("pages/controls.py").run()
    assert not at.exception
    assert [h.value for h in at.subheader][:3] == ["Bank MRM policy", "EU AI Act",
                                                   "SR 26-2 / OCC 2026-13"]
    refusals = [text for e in at.error if "vendor.toml" in (text := e.value.replace("\\", ""))]
    assert len(refusals) == 1
    assert all(ref in refusals[0] for ref in ("MRM-01 5.3", "MRM-01 7.1", "MRM-01 7.2"))


def test_a_bad_file_of_the_organisation_is_said_and_the_shipped_frameworks_still_show(
        demo_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bank.toml").write_text(INTERNAL.replace('["validation"]', '["vibes"]'))
    monkeypatch.setenv("GOVERNANCE_FRAMEWORKS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "auditor"
    at.run()
    at.switch_page("pages/controls.py").run()
    assert not at.exception
    assert any("does not produce: vibes" in e.value.replace("\\", "") for e in at.error)
    assert [h.value for h in at.subheader] == ["EU AI Act", "SR 26-2 / OCC 2026-13"]


def test_the_chosen_frameworks_are_kept_in_the_url_so_a_view_can_be_shared(
        demo_env: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "auditor"
    at.run()
    at.query_params["framework"] = ["iso-iec-42001", "nope", "sr-26-2"]
    at.switch_page("pages/controls.py").run()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["ISO/IEC 42001", "SR 26-2 / OCC 2026-13"]
    assert any("nope" in w.value for w in at.warning)
    at.multiselect[0].set_value(["nist-ai-rmf", "sr-11-7"]).run()
    assert list(at.query_params["framework"]) == ["nist-ai-rmf", "sr-11-7"]
