"""Running evidence from the Evidence page, said per kind of model: an own model is loaded and
scores its logged hold-out set; a vendor model is never run, so its evidence reads the
hold-out set the vendor scored, logged with the version or uploaded here (CSV or Parquet
with a `score` column, as `govern evaluate --scored-file`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from services.core.errors import GovernanceError
from services.core.principal import Principal
from services.registry.adapter import ModelSummary
from services.registry.vendor import SCORE_COLUMN
from ui.data import run_evidence_now, version_view
from ui.widgets import plain, show_error

_OWN_HELP = ("Loads this exact version and its hold-out set from MLflow, scores the hold-out "
             "set with it and stores new evaluation and fairness records; earlier records stay "
             "as they are.")
_VENDOR_HELP = ("A vendor model is never run: reads the hold-out set the vendor scored, logged "
                f"with this version in MLflow (its {SCORE_COLUMN!r} column), and stores new "
                "evaluation and fairness records from those scores; earlier records stay as "
                "they are.")
_UPLOAD_HELP = (f"A CSV or Parquet file with the inputs, the vendor's score in a column named "
                f"{SCORE_COLUMN!r} (the probability of the positive label), the label and the "
                "sensitive columns: as govern evaluate MODEL VERSION --scored-file PATH. Its "
                "SHA-256 is stored with the evidence.")


def evidence_run_controls(model: ModelSummary, version: str, principal: Principal) -> None:
    """The run button for the version, with a tooltip for its kind; for a vendor version
    with no scored hold-out set logged, says so first and offers an upload instead."""
    name = model.name
    if not model.is_vendor:
        if st.button(f"Run evidence for v{version}", icon=":material/play_arrow:",
                     help=_OWN_HELP):
            _run(name, version, principal, None)
        return
    try:
        logged = bool(version_view(name, version).lineage.holdout_uri)
    except GovernanceError as exc:
        show_error(exc)
        return
    if logged:
        if st.button(f"Run evidence for v{version}", icon=":material/play_arrow:",
                     help=_VENDOR_HELP):
            _run(name, version, principal, None)
        return
    st.info(f"v{version} of {plain(name)} is a vendor model registered without a scored "
            "hold-out set, so there is nothing logged to run evidence from: upload a file the "
            "vendor scored.", icon=":material/storefront:")
    upload = st.file_uploader("Scored hold-out set (CSV or Parquet)", type=["csv", "parquet"],
                              help=_UPLOAD_HELP, key=f"scored_file_{name}_{version}")
    if st.button(f"Run evidence for v{version} from this file", icon=":material/play_arrow:",
                 disabled=upload is None, help=_UPLOAD_HELP, key="run_scored_file"):
        assert upload is not None  # the button is disabled without a file
        with tempfile.TemporaryDirectory() as folder:
            # The service reads a path; the file's own name (CSV or Parquet by its suffix)
            # is the one stored with the evidence.
            scored = Path(folder) / (Path(upload.name).name or "scored.csv")
            scored.write_bytes(upload.getvalue())
            _run(name, version, principal, scored)


def _run(name: str, version: str, principal: Principal, scored_file: Path | None) -> None:
    with st.status(f"Running evidence for {plain(name)} v{version}…", expanded=True) as status:
        bar = st.progress(0.0)

        def report(fraction: float, message: str) -> None:
            bar.progress(fraction, message)

        try:
            run = run_evidence_now(name, version, principal, report, scored_file=scored_file)
            # The run picker below would keep the run chosen before: show the new one.
            st.session_state.pop(f"run_{name}_{version}", None)
            status.update(label=f"Stored evaluation #{run.evaluation.id} and fairness "
                          f"#{run.fairness.id if run.fairness else '—'} in "
                          f"{run.seconds:.1f} s", state="complete", expanded=False)
        except GovernanceError as exc:
            status.update(label="Evidence run refused; nothing was stored", state="error")
            show_error(exc)
