"""Opening the project for a browser session; the only place that caches."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from coding.demo import ensure_demo_project
from coding.store import Project

DEFAULT_PROJECT = Path(os.environ.get("CODEWERK_PROJECT", "data/demo.db"))


@st.cache_resource(show_spinner="Demo-Projekt wird angelegt …")
def _first_start(path: str) -> bool:
    """Create the demo project once per server process when its file is missing."""
    return ensure_demo_project(path)


def language() -> str:
    return st.session_state.get("language", os.environ.get("CODEWERK_LANGUAGE", "de"))


def project_path() -> Path:
    return Path(st.session_state.get("project_path", str(DEFAULT_PROJECT)))


def open_project() -> Project:
    """This session's connection to the chosen project (each browser session has its own)."""
    path = project_path()
    if path == DEFAULT_PROJECT:
        _first_start(str(path))
    current = st.session_state.get("_project")
    if current is None or current.path != path:
        st.session_state["_project"] = Project(path)
    return st.session_state["_project"]
