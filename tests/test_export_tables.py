"""The spreadsheet exports: what each table holds, and that xlsx and CSV keep interview text exact and inert."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from coding import auth
from coding.codebook import Code, Codebook
from coding.embed import HashingEmbedder
from coding.errors import InputError, StoreError
from coding.export.spreadsheets import csv_bytes, csv_zip, write_csv, write_xlsx
from coding.export.tables import (
    CODE_DOCUMENT,
    CODE_GROUP,
    SEGMENTS,
    THEMES,
    export_tables,
    segments_table,
    themes_table,
)
from coding.importing import import_paths
from coding.store import Project
from coding.themes.from_project import start_run
from tests.test_theme_store import make_theme_project

PASSWORD = "ein-langes-passwort"
HOSTILE = '=HYPERLINK("http://example.org";"Klick") steht so im Protokoll.'
INTERVIEW = """Interview {name} – {place}
Datum: 02.02.2026

I: Was sagen Sie zur Lage? #00:00:07-3#

B: {first} #00:01:02-5#

-5 Grad, +49 30 123 und @alle im Verteiler. #00:01:20-0#

I: Und was funktioniert gut? #00:01:25-1#

B: Das Quartiersbüro in {place} ist eine Andockstelle geworden. #00:02:10-4#
"""
DOCUMENTS = {  # name: (first answer, attributes)
    "K01": (HOSTILE, {"Stakeholdergruppe": "Kommune", "Ebene": "kommunal"}),
    "N01": ("Die Vermieter verlangen eine Schufa-Auskunft.", {"Stakeholdergruppe": "Verband", "Ebene": "national"}),
    "M01": ("Wir beraten in fünf Sprachen.", {"Ebene": "kommunal"}),
}
CODES = [Code(id="H", name="Handlungsfelder", codable=False), Code(id="H1", name="Wohnen", parent="H"),
         Code(id="H1a", name="Schufa", parent="H1"), Code(id="H8", name="Andockstellen"),
         Code(id="A1", name="Herausforderung")]
# (document, the coded words, code, coder, memo)
CODINGS = [("K01", HOSTILE, "H1a", "ben", "=1+1 steht im Memo"),
           ("K01", "-5 Grad, +49 30 123 und @alle im Verteiler.", "A1", "ben", ""),
           ("K01", "Das Quartiersbüro in Beispielhausen", "H8", "cara", ""),
           ("N01", "Die Vermieter verlangen eine Schufa-Auskunft.", "H1", "cara", ""),
           ("N01", "Das Quartiersbüro in Musterstadt", "H8", "ben", ""),
           ("M01", "Wir beraten in fünf Sprachen.", "H8", "ben", "")]
PLACES = {"K01": "Beispielhausen", "N01": "Musterstadt", "M01": "Kleinstadt"}


def make_export_project(folder: Path, roles: tuple[str, ...] = ()) -> Path:
    """Three interviews (one without a stakeholder group), a three-level code tree, six live codings
    (one quoting formula-like text, with a formula-like memo) and one removed coding."""
    path = folder / "export.db"
    with Project.create(path) as project:
        for name, (first, attributes) in DOCUMENTS.items():
            source = folder / f"{name}.txt"
            source.write_text(INTERVIEW.format(name=name, place=PLACES[name], first=first), encoding="utf-8")
            import_paths(project, [source], user="setup", attributes=attributes)
        project.save_codebook(Codebook(codes=CODES), "setup")
        for name, words, code, coder, memo in CODINGS:
            document = project.document(name)
            start = document["text"].index(words)
            project.add_coding(document["id"], start, start + len(words), code, coder, memo=memo)
        document = project.document("K01")
        removed = project.add_coding(document["id"], 0, 9, "H1", "cara")
        project.remove_coding(removed, "cara")
        for role in roles:
            auth.create_account(project, role, role, PASSWORD, "setup")
    return path


@pytest.fixture
def exported(tmp_path):
    with Project(make_export_project(tmp_path)) as project:
        yield project


def _column(table, name):
    i = table.header.index(name)
    return [row[i] for row in table.rows]


def test_segments_hold_every_live_coding_with_attributes_place_and_code_path(exported):
    table = segments_table(exported)
    live = exported.codings()
    assert len(table.rows) == len(live) == len(CODINGS)  # the removed coding is not there
    assert table.header[:3] == ["Dokument", "Stakeholdergruppe", "Ebene"]  # attributes in the project's order
    assert table.header.count("Ebene 1") == 1 and "Ebene 3" in table.header and "Ebene 4" not in table.header
    row = dict(zip(table.header, next(r for r in table.rows if r[table.header.index("Code-ID")] == "H1a")))
    text = exported.document("K01")["text"]
    assert row["Zitat"] == HOSTILE and text[row["Start"]:row["Ende"]] == HOSTILE
    assert row["Zeile"] == text.splitlines().index(f"B: {HOSTILE}") + 1
    assert (row["Ebene 1"], row["Ebene 2"], row["Ebene 3"]) == ("Handlungsfelder", "Wohnen", "Schufa")
    assert (row["Sprecher*in"], row["Rolle"], row["Zeitmarke"]) == ("B", "Befragte*r", "00:01:02")
    assert (row["Kodierer*in"], row["Memo"], row["Stakeholdergruppe"]) == ("ben", "=1+1 steht im Memo", "Kommune")
    m01 = dict(zip(table.header, next(r for r in table.rows if r[0] == "M01")))
    assert m01["Stakeholdergruppe"] is None and m01["Ebene"] == "kommunal"
    assert (m01["Ebene 1"], m01["Ebene 2"]) == ("Andockstellen", None)


def test_the_matrices_count_live_codings_with_totals_and_follow_removals(exported):
    tables = export_tables(exported)
    matrix = tables.table(CODE_DOCUMENT)
    assert matrix.header[2:] == ["K01", "N01", "M01", "Gesamt"]
    rows = {row[0]: row[2:] for row in matrix.rows}
    for code in ("H1", "H1a", "H8", "A1"):
        expected = [sum(1 for d, _, c, _, _ in CODINGS if d == doc and c == code) for doc in ("K01", "N01", "M01")]
        assert rows[code] == [*expected, sum(expected)], code
    assert rows["Gesamt"] == [3, 2, 1, len(CODINGS)] and matrix.totals
    groups = tables.table(CODE_GROUP)
    assert groups.title == "Code x Stakeholdergruppe"
    h8 = dict(zip(groups.header, next(r for r in groups.rows if r[0] == "H8")))
    assert (h8["Kommune: Kodierungen"], h8["Verband: Kodierungen"], h8["–: Kodierungen"]) == (1, 1, 1)
    assert h8["Kommune: Interviews (von 1)"] == 1 and h8["Interviews gesamt"] == 3
    totals = dict(zip(groups.header, groups.rows[-1]))
    assert totals["Kodierungen gesamt"] == len(CODINGS) and totals["Interviews gesamt"] == 3

    exported.remove_coding(exported.codings(exported.document("M01")["id"])[0]["id"], "ben")
    again = {row[0]: row[2:] for row in export_tables(exported).table(CODE_DOCUMENT).rows}
    assert again["H8"][2] == 0 and again["Gesamt"][-1] == len(CODINGS) - 1


def test_the_group_matrix_takes_any_attribute_and_names_the_known_ones_for_a_typo(exported):
    table = export_tables(exported, attribute="Ebene").table(CODE_GROUP)
    assert table.title == "Code x Ebene"
    h8 = dict(zip(table.header, next(r for r in table.rows if r[0] == "H8")))
    assert (h8["kommunal: Kodierungen"], h8["national: Kodierungen"]) == (2, 1)
    assert h8["kommunal: Interviews (von 2)"] == 2
    with pytest.raises(StoreError, match="Stakeholdergrupe.*Stakeholdergruppe, Ebene"):
        export_tables(exported, attribute="Stakeholdergrupe")


def test_without_a_theme_run_the_themes_table_is_left_out_with_a_note(exported):
    tables = export_tables(exported)
    assert [t.name for t in tables.tables] == [SEGMENTS, CODE_DOCUMENT, CODE_GROUP]
    assert tables.theme_run is None and "Themenlauf" in tables.notes[0]
    with pytest.raises(StoreError, match="no theme run 7"):
        export_tables(exported, run_id=7)


@pytest.fixture
def themed(tmp_path):
    with Project(make_theme_project(tmp_path)) as project:
        run_id = start_run(project, HashingEmbedder(), "lead", name="Herausforderungen", codes=["H1", "H2", "H3"],
                           n_themes=3, seed=1)
        yield project, run_id


def test_the_themes_table_shows_the_reviewed_themes_of_a_run(themed):
    project, run_id = themed
    table = export_tables(project, run_id=run_id).table(THEMES)
    state = project.theme_revision(run_id)["state"]
    assert _column(table, "Themen-ID") == [t["id"] for t in state["themes"]]
    assert sum(_column(table, "Passagen")) == len(project.theme_run(run_id)["segments"])
    assert set(_column(table, "Status")) == {"offen"}
    groups = [h for h in table.header if h.endswith(": Interviews")]
    assert groups == ["Kommune: Interviews", "MSO: Interviews", "Wohlfahrt: Interviews"]
    for row in table.rows:
        record = dict(zip(table.header, row))
        assert record["Interviews"] == sum(record[g] for g in groups) <= 4
        assert 0 <= record["Übergreifend (0-1)"] <= 1 and record["Beteiligte Codes"].startswith("H")
    first, second, third = (t["id"] for t in state["themes"])
    base = project.theme_revision(run_id)["number"]
    base = project.describe_theme(run_id, base, first, "Wohnungsmarkt und Schufa", "lead")
    base = project.accept_theme(run_id, base, first, "lead")
    project.discard_theme(run_id, base, second, "lead")
    after = themes_table(project, run_id, language="en")
    rows = {row[0]: dict(zip(after.header, row)) for row in after.rows}
    assert set(rows) == {first, third}  # a discarded theme is no result
    assert (rows[first]["Status"], rows[first]["Description"]) == ("accepted", "Wohnungsmarkt und Schufa")
    assert rows[third]["Status"] == "open"


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("xl/worksheets/"))


def test_xlsx_keeps_formula_like_text_exact_and_never_a_formula(exported):
    out = io.BytesIO()
    write_xlsx(export_tables(exported), out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Kodierte Segmente", "Code x Dokument", "Code x Stakeholdergruppe", "Info"]
    sheet = book["Kodierte Segmente"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert {c.value for c in cells} >= {HOSTILE, "=1+1 steht im Memo", "-5 Grad, +49 30 123 und @alle im Verteiler."}
    assert all(c.data_type == "s" for c in cells)
    assert "<f>" not in _sheet_xml(out.getvalue())  # no formula anywhere in the file
    header = sheet[1]
    assert all(c.font.bold for c in header) and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{header[-1].column_letter}{len(exported.codings()) + 1}"
    quote = [c.column_letter for c in header if c.value == "Zitat"][0]
    assert sheet[f"{quote}2"].alignment.wrap_text and sheet.column_dimensions[quote].width >= 50
    info = dict(book["Info"].iter_rows(values_only=True))
    assert info["Projekt"] == "export" and "Themenlauf" in info["Hinweis"]


def test_xlsx_replaces_only_the_control_characters_a_workbook_cannot_hold(exported):
    tables = export_tables(exported)
    segments = tables.table(SEGMENTS)
    quote = segments.header.index("Zitat")
    segments.rows[0][quote] = "Zeile\x0bumbruch\nund Tab\t"
    out = io.BytesIO()
    write_xlsx(tables, out)
    cell = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Kodierte Segmente"].cell(2, quote + 1)
    assert cell.value == "Zeile\ufffdumbruch\nund Tab\t"


def test_the_themes_sheet_comes_with_a_run(themed):
    project, run_id = themed
    out = io.BytesIO()
    write_xlsx(export_tables(project, run_id=run_id), out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames[3] == "Themen"
    themes = list(book["Themen"].iter_rows(values_only=True))
    assert len(themes) == len(project.theme_revision(run_id)["state"]["themes"]) + 1
    assert "Herausforderungen" in dict(book["Info"].iter_rows(values_only=True))["Themenlauf"]


def _read_csv(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


@pytest.mark.parametrize("delimiter", [";", ","])
def test_csv_is_utf8_with_bom_and_reads_back_exactly(exported, delimiter):
    table = export_tables(exported).table(SEGMENTS)
    rows = _read_csv(csv_bytes(table, delimiter), delimiter)
    assert rows[0] == table.header
    expected = [["" if v is None else str(v) for v in row] for row in table.rows]
    assert rows[1:] == expected
    assert HOSTILE in [r[table.header.index("Zitat")] for r in rows]  # exact, no prefix added


def test_csv_decimals_follow_the_delimiter_and_files_are_written_per_table(themed, tmp_path):
    project, run_id = themed
    tables = export_tables(project, run_id=run_id)
    themes = tables.table(THEMES)
    score = themes.header.index("Übergreifend (0-1)")
    german = _read_csv(csv_bytes(themes, ";"), ";")[1][score]
    english = _read_csv(csv_bytes(themes, ","), ",")[1][score]
    assert german == english.replace(".", ",") and "." not in german
    written = write_csv(tables, tmp_path / "csv", delimiter=";")
    assert [p.name for p in written] == ["segmente.csv", "code_dokument.csv", "code_stakeholder.csv", "themen.csv"]
    with zipfile.ZipFile(io.BytesIO(csv_zip(tables, "\t"))) as archive:
        assert archive.namelist() == [p.name for p in written]
        assert archive.read("themen.csv").decode("utf-8-sig").splitlines()[0].startswith("Themen-ID\tTitel")
    with pytest.raises(InputError, match="cannot separate"):
        csv_bytes(themes, "ab")
