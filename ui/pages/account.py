"""Account page: change your password; administrators add users, change roles and deactivate them."""
import streamlit as st

from coding import auth
from coding.errors import CodewerkError
from ui.i18n import t
from ui.session import current_session
from ui.state import language, open_project, require

lang = language()
project = open_project()
session = current_session(project)
st.title(t("account", lang))

with st.form("change_password"):
    st.subheader(t("change_password", lang))
    old = st.text_input(t("current_password", lang), type="password")
    new = st.text_input(t("new_password", lang), type="password", help=t("password_rules", lang))
    again = st.text_input(t("repeat_password", lang), type="password")
    change = st.form_submit_button(t("change_password", lang), type="primary")
if change:
    if new != again:
        st.error(t("passwords_differ", lang))
    else:
        try:
            auth.change_password(project, session.user, old, new)
        except CodewerkError as e:
            st.error(str(e))
        else:
            st.success(t("password_changed", lang))

if require(session, "manage_users"):
    st.subheader(t("users", lang))
    users = project.users()
    st.dataframe([{t("user_name", lang): u["name"], t("display_name", lang): u["display_name"],
                   t("role", lang): t(f"role_{u['role']}", lang),
                   t("active", lang): bool(u.get("active", 1)), t("can_log_in", lang): bool(u.get("password_hash"))}
                  for u in users], hide_index=True, width="stretch")

    with st.form("add_user"):
        st.caption(t("add_user", lang))
        name = st.text_input(t("user_name", lang))
        display = st.text_input(t("display_name", lang))
        role = st.selectbox(t("role", lang), list(auth.ROLES), index=list(auth.ROLES).index("coder"),
                            format_func=lambda r: t(f"role_{r}", lang))
        password = st.text_input(t("initial_password", lang), type="password", help=t("password_rules", lang))
        add = st.form_submit_button(t("add_user", lang), type="primary")
    if add:
        try:
            auth.create_account(project, name.strip(), role, password, session.user, display_name=display.strip() or None)
            auth.require_password_change(project, name.strip())
        except CodewerkError as e:
            st.error(str(e))
        else:
            st.success(t("user_added", lang, name=name.strip()))
            st.rerun()

    names = [u["name"] for u in users if u["name"] != session.user]
    if names:
        with st.container(border=True):
            st.caption(t("change_user", lang))
            who = st.selectbox(t("user_name", lang), names, key="manage_user")
            user = next(u for u in users if u["name"] == who)
            new_role = st.selectbox(t("role", lang), list(auth.ROLES), index=list(auth.ROLES).index(user["role"]),
                                    format_func=lambda r: t(f"role_{r}", lang), key=f"role_of_{who}")
            active = st.checkbox(t("active", lang), bool(user.get("active", 1)), key=f"active_of_{who}")
            reset = st.text_input(t("reset_password", lang), type="password", key=f"reset_of_{who}",
                                  help=t("password_rules", lang))
            if st.button(t("save", lang), key="save_user"):
                try:
                    if new_role != user["role"]:
                        project.set_role(who, new_role, session.user)
                    if active != bool(user.get("active", 1)):
                        project.set_active(who, active, session.user)
                    if reset:
                        auth.set_password(project, who, reset, session.user)
                except CodewerkError as e:
                    st.error(str(e))
                else:
                    st.success(t("saved", lang))
                    st.rerun()
