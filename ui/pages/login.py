"""Login page: local accounts of the project."""
import streamlit as st

from coding.errors import CodewerkError
from ui.i18n import t
from ui.session import log_in
from ui.state import language, open_project

lang = language()
project = open_project()
st.title(t("app_title", lang))
st.caption(t("login_hint", lang))
with st.form("login"):
    name = st.text_input(t("user_name", lang), key="login_name")
    password = st.text_input(t("password", lang), type="password", key="login_password")
    submitted = st.form_submit_button(t("login", lang), type="primary")
if submitted:
    try:
        log_in(project, name.strip(), password)
    except CodewerkError as e:
        st.error(str(e))
    else:
        st.rerun()
