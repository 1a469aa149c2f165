"""The model and version a page is about, kept in the URL so a link opens the same view."""

from __future__ import annotations

import streamlit as st

from ui.data import ModelView, inventory_rows, model_view
from ui.next_steps import NO_MODELS
from ui.widgets import plain, stop_on_error


def version_label(view: ModelView, version: str) -> str:
    aliases = [alias for alias, held in view.model.aliases.items() if held == version]
    return f"v{version}" + (f" ({', '.join(sorted(aliases))})" if aliases else "")


def pick_model_version(key: str) -> tuple[ModelView, str]:
    """Model and version pickers; the version defaults to the champion."""
    with stop_on_error():
        names = [row.name for row in inventory_rows()]
    if not names:
        st.info(NO_MODELS)
        st.stop()
    asked = st.query_params.get("model")
    left, right = st.columns([3, 2])
    name = left.selectbox("Model", names, index=names.index(asked) if asked in names else 0,
                          key=f"{key}_model")
    with stop_on_error():
        view = model_view(name)
    versions = [v.version for v in view.versions]
    if not versions:
        st.info(f"{plain(name)} has no versions yet.")
        st.stop()
    wanted = st.query_params.get("version") if asked == name else None
    default = wanted if wanted in versions else view.model.aliases.get("champion", versions[0])
    version = right.selectbox("Version", versions, index=versions.index(default),
                              format_func=lambda v: version_label(view, v),
                              key=f"{key}_version_{name}")
    st.query_params.update({"model": name, "version": version})
    return view, version
