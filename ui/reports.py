"""Evidence packs and the portfolio report for pages."""

from __future__ import annotations

import streamlit as st

from services.core.errors import GovernanceError
from services.core.permissions import Action, allowed
from services.core.principal import Principal
from services.reports.pack import build_evidence_pack, pack_json
from services.reports.pack_pdf import pack_pdf
from ui import context
from ui.governance import framework_library, say_refused
from ui.traces import evidence_pack_download
from ui.widgets import show_error


def evidence_pack_panel(actor: Principal, model_name: str, version: str) -> None:
    """Build the pack on request (it is an audited export), then offer its PDF and JSON."""
    if not allowed(actor, Action.VIEW_AUDIT):
        st.caption("An evidence pack carries the model's audit events: auditors, validators "
                   "and admins can build it.")
        return
    key = f"pack:{model_name}:{version}"
    if st.button("Build the evidence pack", icon=":material/inventory_2:", key=f"{key}:build"):
        library = framework_library()
        say_refused(library)  # the pack is judged under the good frameworks
        with st.status("Building the evidence pack…", expanded=True) as status:
            try:
                pack = build_evidence_pack(
                    engine=context.engine(), registry=context.registry(),
                    policy=context.policy(), actor=actor, model_name=model_name,
                    version=version, frameworks=library.chosen(), progress=status.write)
            except GovernanceError as exc:
                status.update(label="The evidence pack could not be built", state="error")
                show_error(exc)
                return
            st.session_state[key] = (pack.pack_sha256, pack_pdf(pack), pack_json(pack))
            status.update(label="Evidence pack ready", state="complete", expanded=False)
    if key in st.session_state:
        digest, pdf, document = st.session_state[key]
        stem = f"evidence-pack-{model_name}-v{version}"
        left, right = st.columns(2)
        # Built above (recorded as `evidence_pack.exported`); each file handed over on a click
        # is recorded too, with its format.
        left.download_button("Evidence pack (PDF)", on_click="ignore", file_name=f"{stem}.pdf",
                             data=evidence_pack_download(actor, model_name, version, "pdf",
                                                         digest, pdf),
                             mime="application/pdf", icon=":material/picture_as_pdf:")
        right.download_button("Evidence pack (JSON)", on_click="ignore", file_name=f"{stem}.json",
                              data=evidence_pack_download(actor, model_name, version, "json",
                                                          digest, document),
                              mime="application/json", icon=":material/data_object:")
        st.caption(f"Pack SHA-256 `{digest}`, recorded in the audit trail.")
