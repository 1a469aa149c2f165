"""`streamlit run`, with the console's router in charge from the very first request.

Streamlit treats an app with a pages/ folder as a legacy multipage app until st.navigation has
run once in the process, and in that window serves a deep link's page script directly, without
app.py. Pages guard themselves (ui.principal.page_guard); this closes the window as well.
"""

from __future__ import annotations

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    sys.exit(cli.main(prog_name="streamlit"))
