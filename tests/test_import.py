"""Importing files and folders: attributes from a metadata CSV, and bad input that leaves no trace."""
from __future__ import annotations

import pytest

from coding.errors import (BinaryFileError, CorruptDocumentError, EmptyFileError, FileTooLargeError, ImportFailed,
                           MetadataError, SubtitleError, UnsupportedFormatError)
from coding.importing import import_paths
from tests.conftest import F4_INTERVIEW

VTT = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Sprecher 1>Wie lange warten Familien auf einen Kitaplatz?\n"


def _folder(tmp_path, csv: str | None = None):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "K01.txt").write_text(F4_INTERVIEW, encoding="utf-8")
    (folder / "K02.txt").write_bytes(F4_INTERVIEW.replace("Beispielhausen", "Großdorf").encode("cp1252"))
    (folder / "N01.vtt").write_text(VTT, encoding="utf-8")
    (folder / "README.md").write_text("Korpus", encoding="utf-8")
    if csv is not None:
        (folder / "metadata.csv").write_text(csv, encoding="utf-8")
    return folder


def test_folder_import_uses_its_metadata_csv_and_passes_over_other_files(project, tmp_path):
    folder = _folder(tmp_path, "file;Stakeholdergruppe;Ebene\nK01.txt;Kommune;kommunal\n"
                               "K02.txt;Kommune;kommunal\nN01.vtt;Bundesministerium;national\n")
    result = import_paths(project, [folder], user="alice", attributes={"Studie": "Ankunftsquartiere"})
    assert result.names == ["K01", "K02", "N01"] and [p.name for p in result.skipped] == ["README.md"]
    attrs = {d["name"]: d["attributes"] for d in project.documents()}
    assert attrs["N01"] == {"Ebene": "national", "Stakeholdergruppe": "Bundesministerium", "Studie": "Ankunftsquartiere"}
    assert "Großdorf" in project.document("K02")["text"]  # read from cp1252


BAD_FILES = {
    "empty.txt": (b"", EmptyFileError),
    "binary.txt": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, BinaryFileError),
    "broken.docx": (b"PK\x03\x04" + b"\x00" * 40, CorruptDocumentError),
    "notes.pdf": (b"%PDF-1.4 ...", UnsupportedFormatError),
    "noheader.vtt": (VTT.replace("WEBVTT\n\n", "").encode(), SubtitleError),
    "badtime.vtt": (VTT.replace("00:00:04.000", "00:00:0x.000").encode(), SubtitleError),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_gives_a_typed_error_naming_it_and_the_project_is_unchanged(project, tmp_path, f4_file, name):
    import_paths(project, [f4_file], user="alice")
    data, error = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_bytes(data)
    before = project.dump()
    with pytest.raises(error, match=name):
        import_paths(project, [bad], user="alice")
    assert project.dump() == before


def test_a_file_over_the_size_limit_is_refused(project, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(F4_INTERVIEW * 50, encoding="utf-8")
    before = project.dump()
    with pytest.raises(FileTooLargeError, match="big.txt.*limit of 0.0"):
        import_paths(project, [big], user="alice", max_bytes=1000)
    assert project.dump() == before


def test_one_bad_file_in_a_folder_stores_nothing_and_all_problems_are_listed(project, tmp_path):
    folder = _folder(tmp_path)
    (folder / "leer.txt").write_bytes(b"")
    (folder / "kaputt.docx").write_bytes(b"PK\x03\x04broken")
    before = project.dump()
    with pytest.raises(ImportFailed) as failure:
        import_paths(project, [folder], user="alice")
    message = str(failure.value)
    assert "leer.txt" in message and "kaputt.docx" in message and "nothing was stored" in message
    assert project.dump() == before


def test_a_metadata_csv_naming_missing_files_is_refused_with_its_lines(project, tmp_path):
    folder = _folder(tmp_path, "Datei,Stakeholdergruppe\nK01.txt,Kommune\nK99.docx,Verband\nN07.txt,MSO\n")
    before = project.dump()
    with pytest.raises(MetadataError, match=r"metadata.csv.*line 3 names 'K99.docx'.*line 4 names 'N07.txt'"):
        import_paths(project, [folder], user="alice")
    assert project.dump() == before


def test_a_metadata_csv_without_a_file_column_says_which_columns_it_needs(project, tmp_path):
    folder = _folder(tmp_path, "Interview,Gruppe\nK01,Kommune\n")
    with pytest.raises(MetadataError, match="no column naming the files.*file, filename, datei"):
        import_paths(project, [folder], user="alice")
