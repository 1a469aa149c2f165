"""The signed session token a browser keeps for a local account (services.governance.sessions)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

from services.governance.sessions import SECRET_FILE, issue_token, read_token, session_secret

NOW = datetime(2026, 11, 30, 9, 0, 0)


def test_a_token_names_its_account_until_it_expires(tmp_path: Path) -> None:
    secret = session_secret(tmp_path)
    token, expires = issue_token(secret=secret, account="vera", now=NOW, hours=8)
    assert expires == NOW + timedelta(hours=8)
    claim = read_token(secret=secret, token=token, now=NOW + timedelta(hours=7, minutes=59),
                       hours=8)
    assert claim is not None and claim.account == "vera" and claim.expires == expires
    assert read_token(secret=secret, token=token, now=expires, hours=8) is None


def test_lowering_the_session_hours_shortens_tokens_already_out(tmp_path: Path) -> None:
    secret = session_secret(tmp_path)
    token, _ = issue_token(secret=secret, account="vera", now=NOW, hours=8)
    assert read_token(secret=secret, token=token, now=NOW, hours=2) is None
    assert read_token(secret=secret, token=token, now=NOW + timedelta(hours=6, minutes=1),
                      hours=2) is not None


def test_a_forged_altered_or_foreign_token_is_refused(tmp_path: Path) -> None:
    secret = session_secret(tmp_path)
    token, _ = issue_token(secret=secret, account="vera", now=NOW, hours=8)
    (tmp_path / "other").mkdir()  # another workspace's secret
    forged, _ = issue_token(secret=session_secret(tmp_path / "other"), account="root", now=NOW,
                            hours=8)
    body, signature = token.rsplit(".", 1)
    for bad in (forged, f"{body}.{signature[::-1]}", token.replace("v", "w", 1), "", "x.y"):
        assert read_token(secret=secret, token=bad, now=NOW, hours=8) is None


def test_the_secret_is_made_once_private_and_shared_by_racing_processes(tmp_path: Path) -> None:
    seen: list[bytes] = []
    threads = [threading.Thread(target=lambda: seen.append(session_secret(tmp_path)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and len(seen[0]) == 64
    assert (tmp_path / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]  # no draft left behind
    assert session_secret(tmp_path) == seen[0]
