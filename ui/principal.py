"""Who is acting in this browser session. Per user: never cached globally."""

from __future__ import annotations

import streamlit as st

from services.principal import DEMO_PERSONAS, Principal, demo_persona

_PERSONA_KEY = "demo_persona"


def current_principal(*, demo: bool) -> Principal | None:
    """The acting principal: a chosen persona in the demo, otherwise nobody (yet)."""
    if not demo:
        return None
    keys = [p.key for p in DEMO_PERSONAS]
    chosen = st.sidebar.selectbox(
        "Acting as (demo persona)",
        keys,
        format_func=lambda key: f"{demo_persona(key).title} · {demo_persona(key).principal.name}",
        key=_PERSONA_KEY,
        help="Demo only: outside the demo workspace people sign in with their own account.",
    )
    persona = demo_persona(chosen)
    roles = ", ".join(sorted(role.value for role in persona.principal.roles))
    st.sidebar.caption(f"Roles: {roles}")
    return persona.principal
