"""Codewerk's Streamlit entry point: opens the project, checks the login, routes to the pages."""
import streamlit as st

from coding.auth import can, password_change_required
from coding.errors import CodewerkError
from ui.i18n import languages, t
from ui.session import current_session, keep_cookie, log_out
from ui.state import language, open_project

st.set_page_config(page_title="Codewerk", page_icon="🗂️", layout="wide")
lang = language()
try:
    project = open_project()
except CodewerkError as e:
    st.error(str(e))
    st.stop()

session = current_session(project)
keep_cookie(session)
with st.sidebar:
    st.selectbox(t("language", lang), languages(), key="language",
                 format_func=lambda code: t("language_name", code))
if session is None:
    pages = [st.Page("ui/pages/login.py", title=t("login", lang), icon=":material/login:", default=True)]
elif password_change_required(project, session.user):
    st.warning(t("must_change_password", lang))
    pages = [st.Page("ui/pages/account.py", title=t("account", lang), icon=":material/person:", default=True)]
else:
    pages = [
        st.Page("ui/pages/code.py", title=t("code", lang), icon=":material/format_ink_highlighter:", default=True),
        st.Page("ui/pages/documents.py", title=t("documents", lang), icon=":material/description:"),
        st.Page("ui/pages/codebook.py", title=t("codebook", lang), icon=":material/account_tree:"),
        st.Page("ui/pages/retrieve.py", title=t("retrieve", lang), icon=":material/manage_search:"),
        *([st.Page("ui/pages/review.py", title=t("review", lang), icon=":material/fact_check:")]
          if can(session.role, "code") else []),
        *([st.Page("ui/pages/themes.py", title=t("themes", lang), icon=":material/bubble_chart:")]
          if can(session.role, "edit_codebook") else []),
        st.Page("ui/pages/export.py", title=t("export", lang), icon=":material/download:"),
        st.Page("ui/pages/account.py", title=t("users" if can(session.role, "manage_users") else "account", lang),
                icon=":material/person:"),
    ]
if session is not None:
    with st.sidebar:
        st.caption(t("logged_in_as", lang, name=session.display_name, role=t(f"role_{session.role}", lang)))
        if st.button(t("logout", lang), key="logout"):
            log_out(project)
            st.rerun()
st.navigation(pages).run()
