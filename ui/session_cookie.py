"""The browser cookie that keeps a local account signed in across a reload or a new tab.

Streamlit reads cookies (st.context.cookies, from the request that opened the page's
connection) but has no call to write one outside st.login's own routes, so the cookie is
written by a script in the page (st.html). It holds services.governance.sessions' signed token:
the account and its expiry, nothing else. It is SameSite=Strict (no other site's page sends it),
Secure under https, and lives no longer than the token inside it.
"""

from __future__ import annotations

import json
import logging

import streamlit as st

from services.core.clock import utcnow
from services.governance.sessions import SessionClaim, issue_token, read_token, session_secret
from ui import context

_LOG = logging.getLogger(__name__)
COOKIE = "governance_session"
_TOKEN = "session_cookie"  # (token, expiry) this browser session holds, written each run
_SIGNED_OUT = "session_cookie_cleared"  # signed out here: never restore, clear the cookie


def _secret() -> bytes:
    return session_secret(context.settings().home)


def remembered_claim() -> SessionClaim | None:
    """The account the browser's cookie names, if its token is valid now and this browser
    session has not signed out. Raises OSError when the workspace's secret cannot be read."""
    token = st.context.cookies.get(COOKIE)
    if not token or st.session_state.get(_SIGNED_OUT):
        return None
    return read_token(secret=_secret(), token=token, now=utcnow(),
                      hours=context.settings().session_hours)


def remember(account: str) -> None:
    """Issue a token for a fresh sign-in, written as the cookie from the next run on. Without a
    readable workspace secret the session still works, for this tab only."""
    st.session_state.pop(_SIGNED_OUT, None)
    try:
        secret = _secret()
    except OSError:
        _LOG.warning("no session secret in the workspace: a reload will ask for a sign-in",
                     exc_info=True)
        return
    st.session_state[_TOKEN] = issue_token(secret=secret, account=account, now=utcnow(),
                                           hours=context.settings().session_hours)


def forget() -> None:
    """Signed out (a widget callback may call it): the next run clears the cookie."""
    st.session_state.pop(_TOKEN, None)
    st.session_state[_SIGNED_OUT] = True


def write_cookie() -> None:
    """Draw the script that sets (after a sign-in) or clears (after a sign-out) the cookie."""
    held = st.session_state.get(_TOKEN)
    if held is not None:
        token, expires = held
        seconds = max(0, int((expires - utcnow()).total_seconds()))
        _set(f"{COOKIE}={token}; Max-Age={seconds}")
    elif st.session_state.get(_SIGNED_OUT) and st.context.cookies.get(COOKIE):
        _set(f"{COOKIE}=; Max-Age=0")


def _set(cookie: str) -> None:
    url = st.context.url or ""
    secure = "; Secure" if url.startswith("https://") else ""
    # json.dumps quotes the value for JavaScript; the token is URL-safe base64 and dots.
    attributes = json.dumps(f"{cookie}; Path=/; SameSite=Strict{secure}")
    st.sidebar.html(f"<script>document.cookie = {attributes};</script>",
                    unsafe_allow_javascript=True)
