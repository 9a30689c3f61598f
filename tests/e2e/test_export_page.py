"""The Export page in a real browser: a lead builds and downloads the synthesis, the workbook and the
REFI-QDA project and imports that project back; a coder gets the exports but not the import.

Screenshots go to tests/artifacts/export_*.png.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from coding import auth
from coding.embed import HashingEmbedder
from coding.store import Project
from coding.themes.from_project import start_run
from tests.test_theme_store import PASSWORD, make_theme_project

pytestmark = pytest.mark.e2e

TIMEOUT = 30_000  # ms
VIEWPORT = {"width": 1400, "height": 3000}  # tall: Streamlit scrolls inside its own container
SECTIONS = ["Synthese (Word)", "Code-Bericht (Word)", "Tabellen (Excel)", "CSV-Dateien (ZIP)",
            "REFI-QDA-Projekt (.qdpx)", "Codebuch (.qdc)"]


@pytest.fixture(scope="module")
def exporting(tmp_path_factory, serve):
    """(url, database path, run id): four coded interviews, a theme run of three themes (one accepted
    into the codebook, one discarded), a lead and a coder."""
    path = make_theme_project(tmp_path_factory.mktemp("export"), ("lead",))
    with Project(path) as project:
        auth.create_account(project, "cora", "coder", PASSWORD, "setup")
        run_id = start_run(project, HashingEmbedder(), "lead", name="Lauf für den Workshop", codes=["H1", "H2", "H3"],
                           n_themes=3, seed=1)
        first, _, last = project.theme_revision(run_id)["state"]["themes"]
        project.accept_theme(run_id, 1, first["id"], "lead")
        project.discard_theme(run_id, 2, last["id"], "lead")
    url = serve("app.py", {"CODEWERK_PROJECT": str(path), "CODEWERK_ADMIN_PASSWORD": "admin-passwort-lang",
                           "CODEWERK_EMBEDDER": "hashing"})
    return url, path, run_id


@contextlib.contextmanager
def export_page(browser, log_in, url: str, user: str):
    """A fresh browser context, logged in as `user`, on the Export page."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        log_in(page, url, user, PASSWORD)
        page.get_by_test_id("stSidebar").get_by_role("link", name="Export").click()
        expect(page.get_by_role("heading", name="Export", exact=True)).to_be_visible()
        yield page
    finally:
        context.close()


def build_and_download(page, key: str, extension: str, folder: Path) -> Path:
    """Click the "Datei erstellen" button of one format, then its download button; returns the saved file."""
    from playwright.sync_api import expect

    page.locator(f".st-key-build_{key}").get_by_role("button", name="Datei erstellen").click()
    download_button = page.locator(f".st-key-download_{key}").get_by_role(
        "button", name=re.compile(rf"^Herunterladen: themes_\w+_\d{{4}}-\d\d-\d\d\.{extension}$"))
    expect(download_button).to_be_visible()
    with page.expect_download() as event:
        download_button.click()
    download = event.value
    assert download.suggested_filename.endswith(f".{extension}")
    saved = folder / download.suggested_filename
    download.save_as(saved)
    return saved


def live_codings(path: Path) -> list[tuple]:
    with Project(path) as project:
        return sorted((c["document_id"], c["start"], c["end"], c["code_id"], c["coder"]) for c in project.codings())


def test_a_lead_downloads_the_synthesis_with_every_theme_not_discarded(exporting, browser, log_in, artifacts,
                                                                         tmp_path):
    import docx

    url, path, run_id = exporting
    with export_page(browser, log_in, url, "lead") as page:
        saved = build_and_download(page, "synthesis", "docx", tmp_path)
        page.screenshot(path=str(artifacts / "export_synthesis.png"), full_page=True)
    with Project(path) as project:
        themes = project.theme_revision(run_id)["state"]["themes"]
    shown = {t["label"] for t in themes if t["status"] != "discarded"}
    (discarded,) = {t["label"] for t in themes if t["status"] == "discarded"}
    assert len(shown) == 2 and any(t["status"] == "accepted" for t in themes)
    headings = {p.text for p in docx.Document(str(saved)).paragraphs if p.style.name == "Heading 1"}
    assert shown <= headings and discarded not in headings


def test_a_lead_downloads_the_workbook_with_the_projects_quotes(exporting, browser, log_in, artifacts, tmp_path):
    import openpyxl

    url, path, _ = exporting
    with export_page(browser, log_in, url, "lead") as page:
        saved = build_and_download(page, "xlsx", "xlsx", tmp_path)
        page.screenshot(path=str(artifacts / "export_workbook.png"), full_page=True)
    book = openpyxl.load_workbook(saved, read_only=True)
    cells = {cell for row in book["Kodierte Segmente"].iter_rows(values_only=True) for cell in row}
    with Project(path) as project:
        quotes = {c["quote"] for c in project.codings()}
    assert quotes and quotes <= cells


def test_a_lead_imports_the_projects_own_qdpx_and_nothing_is_added(exporting, browser, log_in, artifacts, tmp_path):
    import zipfile

    from playwright.sync_api import expect

    url, path, _ = exporting
    before = live_codings(path)
    with export_page(browser, log_in, url, "lead") as page:
        saved = build_and_download(page, "qdpx", "qdpx", tmp_path)
        assert "project.qde" in zipfile.ZipFile(saved).namelist()
        section = page.locator(".st-key-qdpx_upload")
        expect(page.get_by_role("heading", name="REFI-QDA importieren")).to_be_visible()
        section.locator("input[type=file]").set_input_files(saved)
        do_import = page.get_by_role("button", name="Importieren", exact=True)  # offered once a file is there
        expect(do_import).to_be_visible()
        do_import.click()
        summary = page.get_by_test_id("stAlert").filter(has_text="Kodierung(en) importiert")
        expect(summary).to_be_visible()
        expect(summary).to_contain_text(re.compile(r"(?<!\d)0 Dokument\(e\) importiert"))
        expect(summary).to_contain_text(re.compile(r"(?<!\d)0 Kodierung\(en\) importiert"))
        expect(summary).to_contain_text("schon als Dokument „K01“ im Projekt")
        page.wait_for_timeout(500)  # let the alert finish its entry before the picture
        page.screenshot(path=str(artifacts / "export_imported.png"), full_page=True)
        expect(page.get_by_test_id("stException")).to_have_count(0)
    assert live_codings(path) == before


def test_a_coder_sees_the_exports_but_no_import(exporting, browser, log_in, artifacts):
    from playwright.sync_api import expect

    url, _, _ = exporting
    with export_page(browser, log_in, url, "cora") as page:
        for name in SECTIONS:
            expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Datei erstellen")).to_have_count(len(SECTIONS))
        expect(page.get_by_role("heading", name="REFI-QDA importieren")).to_have_count(0)
        expect(page.locator("input[type=file]")).to_have_count(0)
        page.screenshot(path=str(artifacts / "export_coder.png"), full_page=True)
