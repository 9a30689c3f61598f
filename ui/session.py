"""Who is logged in: the session token lives in a cookie, so a page reload keeps the user logged in."""
from __future__ import annotations

import streamlit as st

from coding import auth
from coding.store import Project

COOKIE = "codewerk_session"

# A tiny component whose only job is to write or delete the session cookie in the browser.
_COOKIE_JS = """
export default function(component) {
  const { data } = component;
  if (!data || !data.name) return;
  const base = `${data.name}=`;
  const attributes = "; path=/; SameSite=Strict";
  if (data.token) {
    if (!document.cookie.split("; ").includes(base + data.token)) {
      document.cookie = base + data.token + "; max-age=" + data.max_age + attributes;
    }
  } else if (data.clear) {
    document.cookie = base + "; max-age=0" + attributes;
  }
}
"""
_cookie = st.components.v2.component("codewerk_session_cookie", js=_COOKIE_JS)


def current_session(project: Project) -> auth.Session | None:
    """The logged-in session, checked against the project on every run (logout elsewhere ends it)."""
    session = st.session_state.get("session")
    token = session.token if session is not None else None
    if token is None and not st.session_state.get("logged_out"):
        token = st.context.cookies.get(COOKIE)
    session = auth.session_from_token(project, token) if token else None
    st.session_state["session"] = session
    return session


def keep_cookie(session: auth.Session | None) -> None:
    """Write the session cookie after a login, delete it after a logout."""
    if session is not None:
        seconds = max(60, int((session.expires_at_datetime - auth.utcnow()).total_seconds()))
        _cookie(data={"name": COOKIE, "token": session.token, "max_age": seconds}, key="session_cookie", height=0)
    elif st.session_state.get("logged_out"):
        _cookie(data={"name": COOKIE, "clear": True}, key="session_cookie", height=0)


def log_in(project: Project, name: str, password: str) -> auth.Session:
    session = auth.login(project, name, password)
    st.session_state["session"] = session
    st.session_state.pop("logged_out", None)
    return session


def log_out(project: Project) -> None:
    session = st.session_state.get("session")
    if session is not None:
        auth.logout(project, session.token)
    st.session_state["session"] = None
    st.session_state["logged_out"] = True
