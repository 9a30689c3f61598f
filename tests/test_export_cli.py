"""`codewerk export docx|xlsx|csv|qdpx|qdc` and `codewerk import-qdpx`: files written, never overwritten
by accident, errors as one line."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from coding.cli import main
from coding.codebook import load_codebook
from coding.embed import HashingEmbedder
from coding.store import Project
from coding.themes.from_project import start_run
from tests.test_export_tables import CODINGS, HOSTILE, make_export_project

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path) -> Path:
    return make_export_project(tmp_path)


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("word/document.xml").decode("utf-8")


def test_xlsx_export_writes_the_workbook_and_refuses_to_overwrite_without_force(capsys, db, tmp_path):
    out = tmp_path / "out" / "tabellen.xlsx"
    code, stdout, _ = run(capsys, "-p", db, "export", "xlsx", "-o", out)
    assert code == 0 and str(out) in stdout and "no theme run" in stdout
    book = openpyxl.load_workbook(out)
    quotes = [c.value for row in book["Kodierte Segmente"].iter_rows() for c in row]
    assert HOSTILE in quotes
    before = out.read_bytes()
    code, _, err = run(capsys, "-p", db, "export", "xlsx", "--attribute", "Ebene", "-o", out)
    assert code == 1 and str(out) in err and "--force" in err and out.read_bytes() == before
    code, _, _ = run(capsys, "-p", db, "export", "xlsx", "--attribute", "Ebene", "--language", "en", "-o", out,
                     "--force")
    assert code == 0 and openpyxl.load_workbook(out).sheetnames[:3] == [
        "Coded segments", "Code x document", "Code x Ebene"]
    assert not list(out.parent.glob(".*.part"))


def test_csv_export_writes_one_file_per_table_with_the_chosen_delimiter(capsys, db, tmp_path):
    folder = tmp_path / "csv"
    code, stdout, _ = run(capsys, "-p", db, "export", "csv", "-o", folder)
    assert code == 0 and sorted(p.name for p in folder.iterdir()) == [
        "code_dokument.csv", "code_stakeholder.csv", "segmente.csv"]
    code, _, err = run(capsys, "-p", db, "export", "csv", "-o", folder)
    assert code == 1 and "segmente.csv" in err and "--force" in err
    (folder / "themen.csv").write_text("alt", encoding="utf-8")
    code, stdout, _ = run(capsys, "-p", db, "export", "csv", "--delimiter", ",", "-o", folder, "--force")
    assert code == 0 and "themen.csv is from an earlier export" in stdout
    raw = (folder / "segmente.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=","))
    assert raw.startswith(b"\xef\xbb\xbf") and len(rows) == len(CODINGS) + 1
    assert HOSTILE in rows[1 + [r[0] for r in rows[1:]].index("K01")]
    code, _, err = run(capsys, "-p", db, "export", "csv", "--delimiter", "xy", "-o", tmp_path / "other")
    assert code == 1 and "--delimiter" in err and not (tmp_path / "other").exists()


def test_qdc_export_is_the_projects_codebook(capsys, db, tmp_path):
    out = tmp_path / "codebuch.qdc"
    assert run(capsys, "-p", db, "export", "qdc", "-o", out)[0] == 0
    with Project(db) as project:
        assert [c.id for c in load_codebook(out).codes] == [c["id"] for c in project.codes()]


def test_the_synthesis_needs_a_theme_run_and_says_what_to_do(capsys, db, tmp_path):
    out = tmp_path / "synthese.docx"
    code, _, err = run(capsys, "-p", db, "export", "docx", "-o", out)
    assert code == 1 and "no theme run" in err and "--report" in err and not out.exists()
    code, _, err = run(capsys, "-p", db, "export", "docx", "--run", "3", "-o", out)
    assert code == 1 and "no theme run 3" in err and "Traceback" not in err


def test_the_code_report_is_a_word_file_with_the_codes(capsys, db, tmp_path):
    out = tmp_path / "bericht.docx"
    code, stdout, _ = run(capsys, "-p", db, "export", "docx", "--report", "--codes", "H8", "-o", out)
    assert code == 0 and str(out) in stdout
    assert "Andockstellen" in _docx_text(out)
    code, _, err = run(capsys, "-p", db, "export", "docx", "--report", "--run", "1", "-o", out, "--force")
    assert code == 1 and "--run" in err


def test_the_synthesis_of_the_default_run_and_the_themes_table_of_a_chosen_run(capsys, tmp_path):
    from tests.test_theme_store import make_theme_project

    path = make_theme_project(tmp_path)
    with Project(path) as project:
        first = start_run(project, HashingEmbedder(), "lead", name="Erster Lauf", codes=["H1", "H2", "H3"],
                          n_themes=3, seed=1)
        second = start_run(project, HashingEmbedder(), "lead", name="Zweiter Lauf", codes=["H1", "H2"],
                           n_themes=2, seed=1)
        label = project.theme_revision(second)["state"]["themes"][0]["label"]
    out = tmp_path / "synthese.docx"
    code, stdout, _ = run(capsys, "-p", path, "export", "docx", "--run", second, "-o", out)
    assert code == 0 and f"theme run {second}" in stdout and out.stat().st_size > 0
    assert label.rstrip("…").strip()[:30] in _docx_text(out)
    book = tmp_path / "t.xlsx"
    assert run(capsys, "-p", path, "export", "xlsx", "--run", first, "-o", book)[0] == 0
    themes = list(openpyxl.load_workbook(book)["Themen"].iter_rows(values_only=True))
    with Project(path) as project:
        assert len(themes) - 1 == len(project.theme_revision(first)["state"]["themes"])
    assert run(capsys, "-p", path, "export", "xlsx", "-o", tmp_path / "default.xlsx")[0] == 0
    assert "Themen" in openpyxl.load_workbook(tmp_path / "default.xlsx").sheetnames


def test_a_qdpx_export_imports_into_an_empty_project(capsys, db, tmp_path):
    out = tmp_path / "projekt.qdpx"
    code, stdout, _ = run(capsys, "-p", db, "export", "qdpx", "-o", out)
    assert code == 0 and zipfile.is_zipfile(out)
    target = tmp_path / "ziel.db"
    run(capsys, "-p", target, "init")
    code, stdout, err = run(capsys, "-p", target, "import-qdpx", out, "--user", "dora")
    assert code == 0, err
    assert "3 document(s) imported" in stdout and f"{len(CODINGS)} coding(s) imported" in stdout
    with Project(db) as source, Project(target) as imported:
        assert sorted(d["name"] for d in imported.documents()) == sorted(d["name"] for d in source.documents())
        assert sorted(c["quote"] for c in imported.codings()) == sorted(c["quote"] for c in source.codings())
        assert any(e["user"] == "dora" for e in imported.events())
    code, _, err = run(capsys, "-p", target, "import-qdpx", tmp_path / "fehlt.qdpx")
    assert code == 1 and "fehlt.qdpx" in err


def test_every_export_format_is_documented_in_the_readme():
    from coding.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    export = next(a for a in build_parser()._actions if a.dest == "command").choices["export"]
    formats = next(a for a in export._actions if a.dest == "format").choices
    assert set(formats) == {"docx", "xlsx", "csv", "qdpx", "qdc"}
    for name in formats:
        assert f"codewerk export {name}" in readme, name
    assert "codewerk import-qdpx" in readme
