"""Who is acting in this browser session. Per user: never cached globally.

Three ways in, decided by the workspace: demo personas (the demo workspace only), OIDC through
st.login (when `[auth]` is in .streamlit/secrets.toml), or local accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import streamlit as st

from services.core.clock import utcnow
from services.core.errors import GovernanceError
from services.core.permissions import Action, allowed
from services.core.principal import DEMO_PERSONAS, Principal, demo_persona
from services.governance.accounts import account_principal, principal_from_claims, record_sign_in
from services.governance.sign_in import sign_in
from services.store.engine import session_scope
from ui import context, session_cookie
from ui.navigation import RESTRICTED_PAGES
from ui.widgets import plain, show_error

_PERSONA_KEY = "demo_persona"
_WIDGET_KEY = "demo_persona_picker"
_SIGNED_IN = "signed_in"  # (principal, when) of a local or OIDC sign-in


def _remember_persona() -> None:
    st.session_state[_PERSONA_KEY] = st.session_state[_WIDGET_KEY]


def current_principal(*, demo: bool) -> Principal | None:
    """The acting principal, or None after drawing whatever sign-in the workspace uses."""
    if demo:
        return _demo_principal()
    if _oidc_configured():
        return _oidc_principal()
    return _local_principal()


def _demo_principal() -> Principal:
    keys = [p.key for p in DEMO_PERSONAS]
    # The saved choice is the truth; the widget mirrors it. Streamlit forgets a widget's own
    # state on runs that do not draw it, and the persona must survive every page switch.
    saved = st.session_state.setdefault(_PERSONA_KEY, keys[0])
    st.session_state[_WIDGET_KEY] = saved if saved in keys else keys[0]
    st.sidebar.selectbox(
        "Acting as (demo persona)",
        keys,
        format_func=lambda key: f"{demo_persona(key).title} · {demo_persona(key).principal.name}",
        key=_WIDGET_KEY,
        on_change=_remember_persona,
        help="Demo only: outside the demo workspace people sign in with their own account.",
    )
    persona = demo_persona(st.session_state[_WIDGET_KEY])
    # In full under the picker, whose box cuts a long name at the sidebar's width.
    st.sidebar.caption(f"{plain(persona.principal.name)}, {plain(persona.title)}. "
                       f"Roles: {_roles(persona.principal)}")
    return persona.principal


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # Streamlit raises its own error when there is no secrets file at all
        return False


def _oidc_principal() -> Principal | None:
    if not st.user.is_logged_in:
        st.title("Model Governance Console")
        st.write("Sign in with your organisation's account to continue.")
        st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")
        return None
    email, name, groups = st.user.get("email"), st.user.get("name"), st.user.get("groups")
    principal = principal_from_claims(
        email=email if isinstance(email, str) else None,
        name=name if isinstance(name, str) else None,
        groups=[str(g) for g in groups] if isinstance(groups, list) else [],
        role_map=context.settings().oidc_role_map)
    if principal is None:
        st.error(f"You are signed in as {plain(str(st.user.get('email')))}, but no role is "
                 "mapped to you.\n\n**What to do:** ask an administrator to add your e-mail or "
                 "group to GOVERNANCE_OIDC_ROLES.")
        st.button("Sign out", on_click=st.logout)
        return None
    return _keep_session(principal, method="oidc", sign_out=st.logout)


def _local_principal() -> Principal | None:
    held = st.session_state.get(_SIGNED_IN)
    if held is None:  # a reload or a new tab: the browser's cookie may still name the account
        held = _restored()
    if held is not None:
        try:
            with session_scope(context.engine()) as session:
                now = account_principal(session=session, username=held[0].id)
        except GovernanceError as exc:  # fail closed: no store, no acting
            show_error(exc)
            return None
        if now is None:
            st.session_state.pop(_SIGNED_IN, None)
            session_cookie.forget()
            st.warning("Your account was disabled. Ask an administrator if this is a mistake.",
                       icon=":material/person_off:")
        else:
            if now != held[0]:  # roles changed since sign-in: the session keeps its age
                held = st.session_state[_SIGNED_IN] = (now, held[1])
            principal = _keep_session(now, method=None, sign_out=_sign_out)
            if principal is not None:
                session_cookie.write_cookie()
                return principal
            session_cookie.forget()  # expired
    session_cookie.write_cookie()  # clears the cookie of a session that ended here
    st.title("Sign in")
    st.caption("Accounts are created by an administrator with `govern users add`.")
    with st.form("sign_in", enter_to_submit=True):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            # The address as this server saw it: behind a proxy, the proxy's (README, Security).
            principal = sign_in(engine=context.engine(), username=username, password=password,
                                address=st.context.ip_address)
        except GovernanceError as exc:
            show_error(exc)
            return None
        st.session_state[_SIGNED_IN] = (principal, utcnow())
        session_cookie.remember(principal.id)
        st.rerun()
    return None


def _restored() -> tuple[Principal, datetime] | None:
    """(principal, when the session began) from the browser's cookie, or None."""
    try:
        claim = session_cookie.remembered_claim()
        if claim is None:
            return None
        with session_scope(context.engine()) as session:
            principal = account_principal(session=session, username=claim.account)
    except (GovernanceError, OSError):  # fail closed: the sign-in form says what it can
        return None
    if principal is None:
        session_cookie.forget()  # disabled or gone since: the cookie goes
        return None
    began = claim.expires - timedelta(hours=context.settings().session_hours)
    held = st.session_state[_SIGNED_IN] = (principal, began)
    return held


def _keep_session(principal: Principal, *, method: str | None,
                  sign_out: Callable[[], None]) -> Principal | None:
    """The principal while the session is young enough; signed out once it has expired."""
    held = st.session_state.get(_SIGNED_IN)
    if held is None or held[0] != principal:
        if method is not None:  # an identity provider's sign-in: record it once per session
            record_sign_in(engine=context.engine(), principal=principal, method=method)
        held = st.session_state[_SIGNED_IN] = (principal, utcnow())
    started: datetime = held[1]
    if utcnow() - started > timedelta(hours=context.settings().session_hours):
        st.session_state.pop(_SIGNED_IN, None)
        st.info("Your session has expired. Sign in again.", icon=":material/timer_off:")
        if method == "oidc":
            st.button("Sign in again", on_click=st.logout)
        return None
    st.sidebar.caption(f"Signed in as **{plain(principal.name)}** · {_roles(principal)}")
    st.sidebar.button("Sign out", on_click=sign_out, icon=":material/logout:")
    return principal


def _sign_out() -> None:
    st.session_state.pop(_SIGNED_IN, None)
    session_cookie.forget()


def _roles(principal: Principal) -> str:
    return ", ".join(sorted(role.value.replace("_", " ") for role in principal.roles))


def may_open(principal: Principal, link: str) -> bool:
    """Whether the console page a link (`/path?query`) points at opens for them (a link is
    offered only to those roles; for anyone else its address says who may open it)."""
    needs = RESTRICTED_PAGES.get(link.lstrip("/").split("?", 1)[0])
    return needs is None or allowed(principal, needs)


def page_guard(needs: Action | None = None) -> Principal:
    """The first line of every page: the router's principal, and the role the page needs.

    Streamlit runs a pages/ script directly, without the router, for a deep link that arrives
    before the router has run once in the server process. Each page stops here then, so no
    page is ever drawn for somebody the router has not signed in.
    """
    principal = st.session_state.get("principal")
    if not isinstance(principal, Principal):
        st.warning("This page opens from the console's start page, where you sign in.",
                   icon=":material/login:")
        st.markdown("[Open the console](/)")
        st.stop()
    if needs is not None and not allowed(principal, needs):
        st.error(f"{plain(principal.name)} may not {needs.value}.", icon=":material/block:")
        st.stop()
    return principal
