"""One reader per format; `read_transcript` picks it by the file's extension."""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from coding.errors import (CorruptDocumentError, EmptyFileError, EncryptedDocumentError, FileTooLargeError,
                           InputError, NoTextError, UnsupportedFormatError)
from coding.transcripts.conventions import SourceLine, parse_lines
from coding.transcripts.decoding import decode_text, normalise
from coding.transcripts.model import Transcript
from coding.transcripts.subtitles import parse_srt, parse_vtt

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DOCX_MAX_UNPACKED = 20  # times the size limit: more unpacked data than that is a zip bomb


def max_bytes_from_env() -> int:
    """The size limit: CODEWERK_MAX_FILE_MB if set, else 50 MB."""
    value = os.environ.get("CODEWERK_MAX_FILE_MB")
    return int(float(value) * 1024 * 1024) if value else DEFAULT_MAX_BYTES


def read_transcript(path: str | Path, *, max_bytes: int | None = None) -> Transcript:
    """Read one transcript file (.txt, .docx, .vtt, .srt) into a normalised Transcript.

    Raises an InputError subclass that names the file for anything it cannot read.
    """
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise UnsupportedFormatError(path, f"Codewerk cannot read '{path.suffix or 'files without extension'}' files",
                                     f"it reads {known}")
    limit = max_bytes if max_bytes is not None else max_bytes_from_env()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(path, "the file does not exist") from None
    if size > limit:
        raise FileTooLargeError(path, f"the file has {size / 1e6:.1f} MB, more than the limit of {limit / 1e6:.1f} MB",
                                "split it, or raise CODEWERK_MAX_FILE_MB")
    data = path.read_bytes()
    if not data.strip():
        raise EmptyFileError(path, "the file is empty")
    transcript = reader(data, path, limit)
    if not transcript.turns:
        raise NoTextError(path, "the file holds no transcript text")
    transcript.sha256 = hashlib.sha256(data).hexdigest()
    transcript.source = path.name
    return transcript


def _read_text(data: bytes, path: Path, limit: int) -> Transcript:
    text, encoding = decode_text(data, path)
    full, turns, metadata = parse_lines([SourceLine(line) for line in text.split("\n")])
    return Transcript(full, turns, metadata, format="txt", encoding=encoding)


def _read_vtt(data: bytes, path: Path, limit: int) -> Transcript:
    text, encoding = decode_text(data, path)
    full, turns = parse_vtt(text, path)
    return Transcript(full, turns, {}, format="vtt", encoding=encoding)


def _read_srt(data: bytes, path: Path, limit: int) -> Transcript:
    text, encoding = decode_text(data, path)
    full, turns = parse_srt(text, path)
    return Transcript(full, turns, {}, format="srt", encoding=encoding)


def _read_docx(data: bytes, path: Path, limit: int) -> Transcript:
    lines = _docx_lines(data, path, limit)
    full, turns, metadata = parse_lines(lines)
    return Transcript(full, turns, metadata, format="docx")


def _docx_lines(data: bytes, path: Path, limit: int) -> list[SourceLine]:
    """Paragraphs and table rows of a Word file, in document order."""
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptedPackage" in data:
            raise EncryptedDocumentError(path, "the Word file is protected with a password",
                                         "remove the password in Word (File > Info > Protect Document) and save again")
        raise CorruptDocumentError(path, "this is an old Word .doc file, not .docx", "save it as .docx in Word")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
            if unpacked > _DOCX_MAX_UNPACKED * limit:
                raise CorruptDocumentError(path, f"the Word file unpacks to {unpacked / 1e6:.0f} MB",
                                           "that is far too large for a transcript")
            if "word/document.xml" not in archive.namelist():
                raise CorruptDocumentError(path, "the zip archive is not a Word document (no word/document.xml)")
        import docx  # python-docx; imported here so that text-only imports start fast

        document = docx.Document(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise CorruptDocumentError(path, "the Word file is damaged (not a valid zip archive)",
                                   "open it in Word and save it again") from None
    except (KeyError, ValueError) as e:
        raise CorruptDocumentError(path, f"the Word file is damaged ({e})", "open it in Word and save it again") from None
    except Exception as e:  # lxml's XMLSyntaxError and python-docx's own errors
        if isinstance(e, InputError):
            raise
        raise CorruptDocumentError(path, f"the Word file cannot be read ({type(e).__name__}: {e})",
                                   "open it in Word and save it again") from None
    lines: list[SourceLine] = []
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            lines.extend(_table_lines(block))
        else:
            lines.extend(_paragraph_lines(block))
    return lines


def _paragraph_lines(paragraph) -> list[SourceLine]:
    text = normalise(paragraph.text)
    bold = _bold_prefix(paragraph, text)
    parts = text.split("\n")  # a manual line break (Shift+Enter) starts a new line
    return [SourceLine(parts[0], bold)] + [SourceLine(part) for part in parts[1:]]


def _bold_prefix(paragraph, text: str) -> int:
    """Length of a bold run at the start of a paragraph that is not bold throughout (a speaker label)."""
    prefix = ""
    for run in paragraph.runs:
        if _is_bold(run):
            prefix += run.text
        elif run.text.strip():
            break
        else:
            prefix += run.text
    prefix = normalise(prefix).rstrip()
    if not prefix.strip() or len(prefix.strip()) >= len(text.strip()) or not text.startswith(prefix):
        return 0
    return len(prefix)


def _is_bold(run) -> bool:
    """Bold set on the run, or by its character style (e.g. Word's "Strong")."""
    if run.bold is not None:
        return run.bold
    # Only a run with its own character style can be bold without saying so; resolving the style
    # of every plain run is what makes python-docx slow, so look only when there is one.
    return run._r.style is not None and bool(run.style.font.bold)


def _table_lines(table) -> list[SourceLine]:
    """Each row a line, its cells joined by tabs; merged cells are counted once."""
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(normalise(p.text).replace("\n", " ").strip() for p in cell.paragraphs).strip())
        line = "\t".join(cells).strip("\t")
        lines.append(SourceLine(line))
    return lines


Reader = Callable[[bytes, Path, int], Transcript]
READERS: dict[str, Reader] = {
    ".txt": _read_text,
    ".text": _read_text,
    ".docx": _read_docx,
    ".vtt": _read_vtt,
    ".srt": _read_srt,
}
