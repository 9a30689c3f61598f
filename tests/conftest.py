"""Shared test helpers: the ../shared folder, fresh projects, small transcript files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same generated examples every time (a submission is judged on its own code, not on a
# new random draw); local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Unit and page tests use the hashing embedder; tests of real models ask for them by name.
os.environ.setdefault("CODEWERK_EMBEDDER", "hashing")


def shared_path(*parts: str) -> Path:
    """A file from ../shared, or skip the test with the reason (a user's fresh clone has no shared/)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: it comes from the shared folder beside the repository")
    return path


@pytest.fixture
def project(tmp_path):
    from coding.store import Project

    with Project.create(tmp_path / "project.db") as p:
        yield p


F4_INTERVIEW = """Interview T01 – Stadt Beispielhausen, Quartiersmanagerin
Datum: 02.02.2026
Ort: Quartiersbüro Beispielhausen
Interviewerin: Selin Aydin

I: Wie hat sich das Quartier verändert? #00:00:07-3#

B: Also (.) seit 2022 sind über 400 Menschen zugezogen, äh, vor allem aus Syrien und der Ukraine. Die Größe der Wohnungen passt oft nicht. #00:01:02-5#

Und die Vermieter verlangen eine Schufa-Auskunft, die hat ja keiner. #00:01:20-0#

I: Und was funktioniert gut? #00:01:25-1#

B: Das Quartiersbüro im Erdgeschoss, das ist wirklich eine Andockstelle geworden. #00:02:10-4#
"""


@pytest.fixture
def f4_file(tmp_path) -> Path:
    path = tmp_path / "T01.txt"
    path.write_text(F4_INTERVIEW, encoding="utf-8")
    return path


def open_app(path: Path, role: str | None, page: str | None = None, *, password: str, language: str = "de",
             timeout: float = 60):
    """The app as `role` sees it (logged in with `password`; None: logged out), on `page` if given."""
    from streamlit.testing.v1 import AppTest

    from coding import auth
    from coding.store import Project

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state["project_path"] = str(path)
    at.session_state["language"] = language
    if role:
        with Project(path) as project:
            at.session_state["session"] = auth.login(project, role, password)
    at.run()
    if page:
        at.switch_page(page).run()
    return at
