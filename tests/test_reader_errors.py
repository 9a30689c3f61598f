"""Bad input: each broken or unsuitable file raises its own typed error, and the message names the file
(and, for subtitles, the line), so a researcher knows which of fifty imported files to fix."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from coding import read_transcript
from coding.errors import (
    BinaryFileError,
    CorruptDocumentError,
    EmptyFileError,
    EncryptedDocumentError,
    FileTooLargeError,
    InputError,
    NoTextError,
    SubtitleError,
    UnsupportedFormatError,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "transcripts"
BAD_TIME_LINE = 8  # the line of badtime.vtt holding `00:00:0x.000 --> ...` (see make_fixtures.py)


def raises(error_type, path: Path, **kwargs) -> InputError:
    with pytest.raises(error_type) as caught:
        read_transcript(path, **kwargs)
    error = caught.value
    assert isinstance(error, InputError)
    assert path.name in str(error), f"the message does not name the file: {error}"
    return error


@pytest.mark.parametrize("name,error_type", [
    ("empty.txt", EmptyFileError),
    ("binary.txt", BinaryFileError),
    ("corrupt.docx", CorruptDocumentError),
    ("encrypted.docx", EncryptedDocumentError),
    ("notes.pdf", UnsupportedFormatError),
    ("noheader.vtt", SubtitleError),
    ("badtime.vtt", SubtitleError),
])
def test_bad_file_raises_its_error_and_names_the_file(name, error_type):
    raises(error_type, FIXTURES / name)


def test_corrupt_docx_is_not_reported_as_encrypted():
    error = raises(CorruptDocumentError, FIXTURES / "corrupt.docx")
    assert not isinstance(error, EncryptedDocumentError)


def test_encrypted_fixture_is_an_ole2_container_with_encryption_streams():
    data = (FIXTURES / "encrypted.docx").read_bytes()
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    for stream in ("EncryptionInfo", "EncryptedPackage"):
        assert stream.encode("utf-16-le") in data  # directory entry names are UTF-16LE


def test_binary_renamed_to_txt_is_a_png():
    data = (FIXTURES / "binary.txt").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"\x00" in data


def test_vtt_without_header_names_line_1():
    error = raises(SubtitleError, FIXTURES / "noheader.vtt")
    assert error.line == 1
    assert "line 1" in str(error)


def test_vtt_with_broken_timing_names_the_line():
    path = FIXTURES / "badtime.vtt"
    assert "0x" in path.read_text(encoding="utf-8").splitlines()[BAD_TIME_LINE - 1]
    error = raises(SubtitleError, path)
    assert error.line == BAD_TIME_LINE
    assert f"line {BAD_TIME_LINE}" in str(error)


def test_srt_with_broken_timing_names_the_line(tmp_path):
    path = tmp_path / "kaputt.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:03,500\nInterviewerin: Guten Tag.\n\n"
        "2\n00:00:04,000 -> 00:00:06,000\nHerr Albers: Hallo.\n",
        encoding="utf-8",
    )
    error = raises(SubtitleError, path)
    assert error.line == 6


def test_zip_that_is_not_a_word_document(tmp_path):
    path = tmp_path / "fotos.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("bild1.txt", "kein Word-Dokument")
    raises(CorruptDocumentError, path)


def test_text_file_named_docx(tmp_path):
    path = tmp_path / "interview_03.docx"
    path.write_text("I: Das ist eigentlich eine Textdatei.\n", encoding="utf-8")
    raises(CorruptDocumentError, path)


@pytest.mark.parametrize("name", ["interview.odt", "interview.mp3", "interview"])
def test_unknown_extensions(tmp_path, name):
    path = tmp_path / name
    path.write_text("I: Hallo.\n", encoding="utf-8")
    raises(UnsupportedFormatError, path)


@pytest.mark.parametrize("name", ["f4_utf8.txt", "voice_tags.vtt", "speakers.srt"])
def test_size_limit_is_a_parameter(name):
    path = FIXTURES / name
    size = path.stat().st_size
    raises(FileTooLargeError, path, max_bytes=size - 1)
    assert read_transcript(path, max_bytes=size).text  # exactly at the limit is fine


def test_size_limit_applies_to_docx(tmp_path):
    import docx

    path = tmp_path / "gross.docx"
    document = docx.Document()
    document.add_paragraph("I: Wie lange leben Sie schon hier?")
    document.save(path)
    raises(FileTooLargeError, path, max_bytes=1000)


def test_default_size_limit_is_50_mb(tmp_path):
    path = tmp_path / "riesig.txt"
    line = b"B: Also, das war eigentlich ganz normal, wir haben uns jeden Donnerstag getroffen.\n"
    with path.open("wb") as handle:
        for _ in range(60_000_000 // (len(line) * 1000) + 1):
            handle.write(line * 1000)
    try:
        assert path.stat().st_size > 52_428_800  # over 50 MB however one counts a megabyte
        raises(FileTooLargeError, path)
    finally:
        path.unlink()


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "gibt_es_nicht.txt"
    with pytest.raises((InputError, FileNotFoundError)) as caught:
        read_transcript(path)
    assert path.name in str(caught.value)


def test_whitespace_only_file_has_no_text(tmp_path):
    path = tmp_path / "leer.txt"
    path.write_bytes("\ufeff \r\n\r\n\t\n".encode("utf-8"))
    raises((EmptyFileError, NoTextError), path)  # either says "nothing to read" to the user
