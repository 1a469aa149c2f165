"""`streamlit run`, with the console's router in charge from the very first request.

Streamlit treats an app with a pages/ folder as a legacy multipage app until st.navigation has
run once in the process, and in that window serves a deep link's page script directly, without
app.py. Pages guard themselves (ui.principal.page_guard); this closes the window as well.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import threading

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

import ui


def _import_the_console() -> None:
    """Import what every page needs (MLflow, pandas, plotly, the services) while the server
    starts, so the first person to open a page does not wait for it. Python's import lock
    makes a page that arrives meanwhile wait for the same imports, never repeat them."""
    for module in pkgutil.iter_modules(ui.__path__):
        importlib.import_module(f"ui.{module.name}")
    # MLflow keeps one store per URI for the process: opening it here (engine, schema check)
    # spares the first page that second as well.
    from services.core.settings import load_settings
    from services.registry.adapter import Registry

    try:
        settings = load_settings()
        Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri)
    except Exception:  # noqa: BLE001 - only a warm-up: the pages report what is wrong
        pass


if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    threading.Thread(target=_import_the_console, name="warm-imports", daemon=True).start()
    sys.exit(cli.main(prog_name="streamlit"))
