"""Who is acting in this browser session. Per user: never cached globally."""

from __future__ import annotations

import streamlit as st

from services.principal import DEMO_PERSONAS, Principal, demo_persona

_PERSONA_KEY = "demo_persona"
_WIDGET_KEY = "demo_persona_picker"


def _remember_persona() -> None:
    st.session_state[_PERSONA_KEY] = st.session_state[_WIDGET_KEY]


def current_principal(*, demo: bool) -> Principal | None:
    """The acting principal: a chosen persona in the demo, otherwise nobody (yet)."""
    if not demo:
        return None
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
    chosen = st.session_state[_WIDGET_KEY]
    persona = demo_persona(chosen)
    roles = ", ".join(sorted(role.value for role in persona.principal.roles))
    st.sidebar.caption(f"Roles: {roles}")
    return persona.principal


def acting_principal() -> Principal:
    """The principal the router resolved for this run (pages run after the router)."""
    principal = st.session_state.get("principal")
    if not isinstance(principal, Principal):
        st.error("Nobody is signed in.")
        st.stop()
    return principal
