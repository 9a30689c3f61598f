"""The Export page as AppTest runs it: every role gets it, files are built on request and downloaded."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from coding import auth
from coding.embed import HashingEmbedder
from coding.store import Project
from coding.themes.from_project import start_run
from tests.conftest import open_app
from tests.test_export_tables import HOSTILE, PASSWORD, make_export_project
from ui.i18n import t

PAGE = "ui/pages/export.py"


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Path:
    return make_export_project(tmp_path_factory.mktemp("export"), roles=auth.ROLES)


@pytest.fixture
def downloads(monkeypatch) -> dict[str, tuple[str | None, bytes]]:
    """Every file a page hands to the browser, by its media id (AppTest keeps no file after a run)."""
    seen: dict[str, tuple[str | None, bytes]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        seen[file_id] = (filename, path_or_data)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return seen


def _run(path: Path, role: str, language: str = "de") -> AppTest:
    return open_app(path, role, PAGE, password=PASSWORD, language=language)


def _build(at: AppTest, key: str) -> AppTest:
    at.button(key=f"build_{key}").click()
    return at.run()


def _downloaded(at: AppTest, downloads, key: str) -> tuple[str, bytes]:
    (button,) = [b for b in at.get("download_button") if b.key == f"download_{key}"]
    return downloads[Path(button.proto.url).stem]


@pytest.mark.parametrize("role", auth.ROLES)
def test_every_role_gets_the_page_without_building_anything(team, role):
    at = _run(team, role)
    assert not at.exception, at.exception
    assert not at.error and not at.get("download_button")  # nothing is built before it is asked for
    headings = [h.value for h in at.subheader]
    assert {"Synthese (Word)", "Tabellen (Excel)", "REFI-QDA-Projekt (.qdpx)", "Codebuch (.qdc)"} <= set(headings)
    assert ("REFI-QDA importieren" in headings) == auth.can(role, "edit_codebook")


def test_a_coder_downloads_the_workbook_with_the_projects_quotes(team, downloads):
    at = _build(_run(team, "coder"), "xlsx")
    assert not at.exception and not at.error
    name, data = _downloaded(at, downloads, "xlsx")
    assert name.startswith("export_tabellen_") and name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    quotes = {c.value for row in book["Kodierte Segmente"].iter_rows() for c in row}
    with Project(team) as project:
        assert {c["quote"] for c in project.codings()} <= quotes
    assert HOSTILE in quotes


def test_the_csv_zip_follows_the_chosen_delimiter(team, downloads):
    at = _run(team, "coder")
    at.radio(key="export_delimiter").set_value(",")
    at = _build(at.run(), "csv")
    name, data = _downloaded(at, downloads, "csv")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["segmente.csv", "code_dokument.csv", "code_stakeholder.csv"]
        assert archive.read("segmente.csv").decode("utf-8-sig").startswith("Dokument,Stakeholdergruppe,Ebene,")
    at.radio(key="export_delimiter").set_value(";")
    at.run()  # other options: the file built for the comma is no longer offered
    assert not [b for b in at.get("download_button") if b.key == "download_csv"]


def test_without_a_theme_run_the_synthesis_is_a_hint_not_a_failure(team):
    at = _run(team, "lead")
    assert t("export_no_run", "de") in [i.value for i in at.info]
    assert not [b for b in at.button if b.key == "build_synthesis"]


def test_english_labels(team):
    at = _run(team, "coder", language="en")
    assert not at.exception
    assert {"Synthesis (Word)", "Tables (Excel)", "Code report (Word)"} <= {h.value for h in at.subheader}
    assert {b.label for b in at.button if (b.key or "").startswith("build_")} == {"Create file"}
    assert t("export_no_run", "en") in [i.value for i in at.info]


def test_the_synthesis_of_the_chosen_run_is_a_word_file(tmp_path, downloads):
    from tests.test_theme_store import make_theme_project

    path = make_theme_project(tmp_path, roles=("coder",))
    with Project(path) as project:
        run_id = start_run(project, HashingEmbedder(), "lead", name="Lauf für den Workshop", codes=["H1", "H2", "H3"],
                           n_themes=3, seed=1)
    at = _run(path, "coder")
    assert at.selectbox(key="export_run").value == run_id
    at = _build(at, "synthesis")
    assert not at.exception and not at.error
    name, data = _downloaded(at, downloads, "synthesis")
    assert name.endswith(".docx") and zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")


def test_a_lead_imports_a_qdpx_project_and_sees_the_summary(team, tmp_path):
    from coding.export.qdpx import export_qdpx

    buffer = io.BytesIO()
    with Project(team) as project:
        export_qdpx(project, buffer)
    target = tmp_path / "leer.db"
    with Project.create(target) as project:
        auth.create_account(project, "lead", "lead", PASSWORD, "setup")
    at = _run(target, "lead")
    at.file_uploader(key="qdpx_upload").upload("studie.qdpx", buffer.getvalue())
    at.run()
    at.button(key="do_import_qdpx").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (shown,) = [*at.success, *at.warning]
    assert "3 Dokument(e) importiert" in shown.value.replace("\\", "")
    with Project(target) as project:
        assert len(project.documents()) == 3 and {c["coder"] for c in project.codings()} >= {"ben", "cara"}
