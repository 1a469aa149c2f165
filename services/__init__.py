"""The governance domain. Never imports Streamlit; pages reach it through ui/."""
