"""Opening the project for a browser session; the only place that caches."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from coding import auth
from coding.demo import ensure_demo_project
from coding.store import Project

DEFAULT_PROJECT = Path(os.environ.get("CODEWERK_PROJECT", "data/demo.db"))


@st.cache_resource(show_spinner="Projekt wird vorbereitet …")
def _first_start(path: str) -> bool:
    """Once per server process: create the demo project if it is missing, and the admin account if
    nobody can log in yet (its one-time password goes to the terminal, never to the browser)."""
    if Path(path) == DEFAULT_PROJECT:
        ensure_demo_project(path)
    if not Path(path).exists():
        return False
    with Project(path) as project:
        password = auth.ensure_admin(project)
        if password:
            auth.require_password_change(project, "admin")
            print(f"\nCodewerk: administrator account 'admin' created for {path}.\n"
                  f"One-time password: {password}\n(change it after the first login)\n", flush=True)
    return True


def language() -> str:
    return st.session_state.get("language", os.environ.get("CODEWERK_LANGUAGE", "de"))


def project_path() -> Path:
    return Path(st.session_state.get("project_path", str(DEFAULT_PROJECT)))


def open_project() -> Project:
    """This session's connection to the project (each browser session has its own)."""
    path = project_path()
    _first_start(str(path))
    current = st.session_state.get("_project")
    if current is None or current.path != path:
        st.session_state["_project"] = Project(path)
    return st.session_state["_project"]


def require(session: auth.Session | None, action: str) -> bool:
    """Whether the logged-in user may do `action` (the page shows read-only views otherwise)."""
    return session is not None and auth.can(session.role, action)
