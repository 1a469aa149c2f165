"""`govern vendor` in a workspace of its own: the favourable label is said when it is taken by
default, settings change through `govern vendor settings`, a new release keeps the model's
settings, `list` gives the serving release and `documents` the version each is about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.main import main
from services.core.principal import Principal, Role
from services.core.settings import Settings
from services.governance.accounts import add_user
from services.store.engine import make_engine

REGISTER = ["vendor", "register", "fraud-score", "--vendor", "Acme Payments", "--purpose",
            "The vendor's probability that a payment is fraudulent.", "--owner", "olga",
            "--tier", "high", "--input", "amount=double", "--input", "region=string",
            "--label", "fraud", "--positive-label", "1", "--threshold", "0.7"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    settings = Settings()
    add_user(engine=make_engine(settings.database_url),
             actor=Principal("adam", "Adam", frozenset({Role.ADMIN})), username="olga",
             password="a long password 1", roles=frozenset({Role.MODEL_OWNER}))
    return settings


def test_a_vendor_model_through_the_command_line(workspace: Settings,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*REGISTER, "--vendor-version", "2.3", "--sensitive", "region"]) == 0
    said = capsys.readouterr().out
    assert "Favourable label: 1, the positive label" in said
    assert "govern vendor settings fraud-score --favourable-label" in said

    assert main(["vendor", "settings", "fraud-score", "--favourable-label", "0", "--note",
                 "Not being flagged as fraud is the favourable outcome."]) == 0
    assert "changed favourable_label: 1 -> 0" in capsys.readouterr().out

    assert main([*REGISTER, "--vendor-version", "2.4"]) == 0
    said = capsys.readouterr().out
    assert "Favourable label: 0." in said and "changed" not in said  # kept as it was

    assert main([*REGISTER, "--vendor-version", "2.4"]) == 2
    assert "registered already, as version 2" in capsys.readouterr().err
    assert main([*REGISTER, "--vendor-version", "2.5", "--threshold", "1.5"]) == 2
    assert "not a probability" in capsys.readouterr().err

    assert main(["vendor", "list"]) == 0
    assert "latest release 2.4" in capsys.readouterr().out

    document = workspace.home / "notice.txt"
    document.write_text("Release 2.4 recalibrates card-not-present payments.")
    assert main(["vendor", "document", "fraud-score", str(document), "--title",
                 "Change notice 2.4", "--version", "2"]) == 0
    capsys.readouterr()
    assert main(["vendor", "documents", "fraud-score"]) == 0
    listed = capsys.readouterr().out
    assert "Documents kept for fraud-score" in listed and " v2 " in listed


@pytest.mark.parametrize("rows", [1, 2])
def test_ingest_counts_in_words_and_explain_says_no_replay_once(
        workspace: Settings, capsys: pytest.CaptureFixture[str], rows: int) -> None:
    assert main([*REGISTER, "--vendor-version", "2.3"]) == 0
    log = workspace.home / "decisions.jsonl"
    log.write_text("".join(json.dumps({
        "decision_id": f"d-{i}", "model_name": "fraud-score", "model_version": "1",
        "decided_at": "2026-11-01T10:00:00Z", "subject_ref": f"P-{i}",
        "features": {"amount": 120.5 + i, "region": "north"}, "score": 0.2,
        "threshold": 0.7, "outcome": "approved"}) + "\n" for i in range(rows)))
    capsys.readouterr()
    assert main(["ingest", "decisions", str(log)]) == 0
    said = capsys.readouterr().out
    assert (f"{rows} decision stored" if rows == 1 else f"{rows} decisions stored") in said
    assert main(["explain", "d-0"]) == 1  # nothing was reproduced
    said = capsys.readouterr().out
    assert said.count("no artifact to replay or explain") == 1
    assert "Explanation: not possible, for the same reason." in said


def test_every_sensitive_input_given_is_kept_repeated_or_as_a_list(workspace: Settings) -> None:
    """Repeated like --input, only the last --sensitive was kept, and fairness went unjudged
    for the others."""
    from services.registry.adapter import Registry

    assert main([*REGISTER, "--input", "sex=string", "--input", "age=long", "--vendor-version",
                 "1.0", "--sensitive", "sex", "--sensitive", "age,region"]) == 0
    tags = Registry(workspace.mlflow_tracking_uri).get_model("fraud-score").tags
    assert tags["sensitive_features"] == "sex,age,region"
