"""Codewerk's Streamlit entry point: a router, nothing else."""
import streamlit as st

from ui.i18n import t
from ui.state import language

st.set_page_config(page_title="Codewerk", page_icon="🗂️", layout="wide")
pages = [st.Page("ui/documents.py", title=t("documents", language()), icon="📄", default=True)]
st.navigation(pages).run()
