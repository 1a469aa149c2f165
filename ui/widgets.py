"""Shared widgets: the demo marker, error messages, text that must never become markup."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from services.core.errors import GovernanceError, NotFound, PermissionDenied, SourceUnavailable
from services.core.justification import MAX_JUSTIFICATION, MIN_JUSTIFICATION
from services.core.visible import visible

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Text from outside the console (registry, ingest, sign-in, typed by people) as Streamlit
    must draw it: literally, never as markup (links, images, colours), and without invisible or
    direction-changing characters. The one rule for every such string, wherever it is drawn."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", visible(None if text is None else str(text)))


def justification_box(label: str = "Justification", *, key: str | None = None,
                      placeholder: str = "Why, in your own words; shown as written.") -> str:
    """A justification field that shows its limits before typing: the counter stops at the
    store's maximum, and the help says what counts towards the minimum."""
    return st.text_area(
        label, key=key, max_chars=MAX_JUSTIFICATION, placeholder=placeholder,
        help=f"At least {MIN_JUSTIFICATION} visible characters (spaces and invisible characters "
             f"do not count), at most {MAX_JUSTIFICATION:,}.")


def figure_row() -> DeltaGenerator:
    """A row of headline figures that wraps onto a second line on a narrow screen instead of
    cutting labels and values ("In p…", "de…"); give each metric a width."""
    return st.container(horizontal=True, wrap=True, gap="medium")


def demo_marker() -> None:
    st.warning(
        "**Demo workspace.** Models, applicants and decisions here are generated for "
        "demonstration; the people you can act as are demo personas.",
        icon=":material/science:",
    )


def show_error(exc: GovernanceError) -> None:
    """What happened and what to do, in words, never a traceback."""
    hint = f"\n\n**What to do:** {plain(exc.hint)}" if exc.hint else ""
    if isinstance(exc, SourceUnavailable):
        st.error(f"{plain(exc.message)}{hint}", icon=":material/cloud_off:")
    elif isinstance(exc, NotFound):
        st.warning(f"{plain(exc.message)}{hint}", icon=":material/search_off:")
    elif isinstance(exc, PermissionDenied):
        st.error(f"{plain(exc.message)}{hint}", icon=":material/block:")
    else:
        st.error(f"{plain(exc.message)}{hint}")


@contextmanager
def stop_on_error() -> Iterator[None]:
    """Show a service error and stop drawing the page (nothing below it would be right)."""
    try:
        yield
    except GovernanceError as exc:
        show_error(exc)
        st.stop()


Done = TypeVar("Done")


def submit(write: Callable[[], Done], notice: Callable[[Done], str], *, key: str) -> None:
    """Run a write from a form: its refusal in words where the person is looking, or a notice
    (kept under `key` for the page to show after the rerun that redraws what changed)."""
    try:
        done = write()
    except GovernanceError as exc:
        show_error(exc)
        return
    st.session_state[key] = notice(done)
    st.rerun()


BadgeColour = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey",
                      "primary"]  # what st.badge takes

_STATUS_COLOURS = {"pass": "#1e7b34", "fail": "#b3261e", "insufficient data": "#8a6d00",
                   "missing evidence": "#b3261e"}


def status_style(status: object) -> str:
    """Cell style for a gate status: colour and weight, no emoji (fonts may lack them)."""
    colour = _STATUS_COLOURS.get(str(status), "inherit")
    return f"color: {colour}; font-weight: 600"
