"""The model and version a page is about, kept in the URL so a link opens the same view."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.data import ModelView, inventory_rows, model_view
from ui.next_steps import NO_MODELS
from ui.widgets import plain, stop_on_error

# The model and version last chosen on any page: the sidebar's links carry no query, and a
# person who chose fraud-screening v1 on the card expects Drift to be about it too.
_CHOSEN_MODEL, _CHOSEN_VERSION = "chosen_model", "chosen_version"


def version_label(view: ModelView, version: str) -> str:
    aliases = [alias for alias, held in view.model.aliases.items() if held == version]
    return f"v{version}" + (f" ({', '.join(sorted(aliases))})" if aliases else "")


def pick_model(names: list[str], *, key: str, container: DeltaGenerator | None = None,
               among: str = "the registered models") -> str | None:
    """The model picker, starting at the URL's ?model= and writing it back; says so when the
    URL names a model that is not among `names` (`among` says which models those are)."""
    asked = st.query_params.get("model")
    if asked is not None and asked not in names and names:
        st.warning(f"The link names the model {plain(asked)}, which is not among {among}. "
                   f"Showing {plain(names[0])} instead.", icon=":material/link_off:")
    if asked is None:
        asked = st.session_state.get(_CHOSEN_MODEL)
    name = (container or st).selectbox("Model", names, key=key,
                                       index=names.index(asked) if asked in names else 0)
    if name is not None:
        st.query_params["model"] = name
        st.session_state[_CHOSEN_MODEL] = name
    return name


def pick_model_version(key: str) -> tuple[ModelView, str]:
    """Model and version pickers; the version defaults to the champion. Both start at the URL's
    ?model=&version= and are written back to it; a name or version the registry does not hold
    is said, never silently replaced."""
    with stop_on_error():
        names = [row.name for row in inventory_rows()]
    if not names:
        st.info(NO_MODELS)
        st.stop()
    previous = st.session_state.get(_CHOSEN_MODEL)  # before this page's picker records its own
    asked = st.query_params.get("model") or previous
    left, right = st.columns([3, 2])
    name = pick_model(names, key=f"{key}_model", container=left)
    assert name is not None  # names is not empty
    with stop_on_error():
        view = model_view(name)
    versions = [v.version for v in view.versions]
    if not versions:
        st.info(f"{plain(name)} has no versions yet.")
        st.stop()
    remembered = st.session_state.get(_CHOSEN_VERSION) if previous == name else None
    wanted = (st.query_params.get("version") or remembered) if asked == name else None
    default = wanted if wanted in versions else view.model.aliases.get("champion", versions[0])
    if wanted is not None and wanted not in versions:
        st.warning(f"The link names version {plain(wanted)} of {plain(name)}, which it does not "
                   f"have. Showing v{default} instead.", icon=":material/link_off:")
    version = right.selectbox("Version", versions, index=versions.index(default),
                              format_func=lambda v: version_label(view, v),
                              key=f"{key}_version_{name}")
    st.query_params.update({"model": name, "version": version})
    st.session_state[_CHOSEN_VERSION] = version
    return view, version
