"""The app: the Documents page shows a project's documents, attributes and speaker turns; the server starts."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding import auth
from coding.importing import import_paths
from coding.store import Project

ROOT = Path(__file__).resolve().parents[1]


def _app(project_path: Path, language: str = "de", user: str | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["project_path"] = str(project_path)
    at.session_state["language"] = language
    if user:
        with Project(project_path) as project:
            auth.create_account(project, user, "coder", "ein-langes-passwort", "test")
            at.session_state["session"] = auth.login(project, user, "ein-langes-passwort")
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def test_documents_page_lists_documents_with_their_attributes(tmp_path, f4_file):
    path = tmp_path / "p.db"
    with Project.create(path) as p:
        import_paths(p, [f4_file], user="alice", attributes={"Stakeholdergruppe": "Kommune"})
    at = _app(path, user="bea", page="ui/pages/documents.py")
    assert not at.exception
    assert at.title[0].value == "Dokumente"
    (table,) = [frame.value for frame in at.dataframe if "Stakeholdergruppe" in frame.value.columns]
    assert list(table["Name"]) == ["T01"] and list(table["Stakeholdergruppe"]) == ["Kommune"]


def test_the_code_page_shows_the_speaker_turns(tmp_path, f4_file):
    from ui.components.transcript import transcript_data

    path = tmp_path / "p.db"
    with Project.create(path) as p:
        import_paths(p, [f4_file], user="alice")
        document = p.document("T01")
        data = transcript_data(document["text"], p.turns(document["id"]), [], [])
    at = _app(path, user="bea")
    assert not at.exception
    shown = str(data)
    assert "Also (.) seit 2022" in shown and "00:01:02" in shown


def test_a_missing_project_is_a_clear_message_not_a_crash(tmp_path):
    at = _app(tmp_path / "none.db")
    assert not at.exception
    assert "no Codewerk project" in at.error[0].value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_run_command_creates_the_demo_project_and_the_server_answers_health(tmp_path):
    """What `make run` does: create the demo project on first start, then serve the app headless."""
    port = _free_port()
    project = tmp_path / "demo.db"
    env = {**os.environ, "CODEWERK_PROJECT": str(project)}
    created = subprocess.run([sys.executable, "-m", "coding", "--project", str(project), "demo"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert created.returncode == 0 and "created the demo project" in created.stdout
    with Project(project) as p:
        assert len(p.documents()) == 30 and len(p.codings()) > 300
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, answer = time.time() + 60, None
        while time.time() < deadline and answer is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    answer = r.read().decode()
            except OSError:
                time.sleep(0.5)
        assert answer == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200 and b"<title>Streamlit</title>" in r.read()
    finally:
        server.terminate()
        server.wait(timeout=20)
    again = subprocess.run([sys.executable, "-m", "coding", "--project", str(project), "demo"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "using the existing project" in again.stdout

