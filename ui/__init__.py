"""Streamlit glue: cached service calls, the acting principal, shared widgets and figures."""
