"""Import transcripts into a project: read and check everything first, then store it in one transaction.

Either every file of an import is stored with its turns, segments and attributes, or nothing is: a
bad file anywhere in a folder leaves the project exactly as it was, and the error names the file.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coding.errors import DuplicateDocumentError, ImportFailed, InputError, MetadataError, UnsupportedFormatError
from coding.store import NewDocument, Project
from coding.transcripts import READERS, read_transcript
from coding.transcripts.decoding import decode_text
from coding.transcripts.segments import split_segments

METADATA_FILE_COLUMNS = ("file", "filename", "datei", "dateiname")


@dataclass
class ImportResult:
    """What an import stored, and which files in a folder it passed over (not transcripts)."""

    document_ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def import_paths(project: Project, paths: list[str | Path], *, user: str,
                 attributes: dict[str, str] | None = None, metadata: str | Path | None = None,
                 max_bytes: int | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> ImportResult:
    """Import files and folders (a folder's `metadata.csv` is used unless `metadata` is given).

    `attributes` apply to every document; a metadata CSV maps file names to per-document attributes
    (such as stakeholder group) and wins over them. Raises the file's InputError, or ImportFailed
    listing every bad file; in both cases nothing is stored. `progress(done, total, file name)` is
    called as each file has been read, so a UI can show a progress bar; storing is one short
    transaction at the end, so other users are not held up while files are read.
    """
    files, skipped, folder_csv = _collect(paths)
    metadata_path = Path(metadata) if metadata else folder_csv
    per_file = read_metadata_csv(metadata_path, files) if metadata_path else {}

    errors: list[InputError] = []
    prepared: list[NewDocument] = []
    seen_hashes: dict[str, Path] = {}
    seen_names: dict[str, Path] = {}
    for done, path in enumerate(files):
        if progress:
            progress(done, len(files), path.name)
        try:
            transcript = read_transcript(path, max_bytes=max_bytes)
            name = path.stem
            if transcript.sha256 in seen_hashes:
                raise DuplicateDocumentError(path, f"it has the same content as {seen_hashes[transcript.sha256]}")
            if name in seen_names:
                raise DuplicateDocumentError(path, f"{seen_names[name]} would get the same document name '{name}'",
                                             "rename one of the files")
            existing = project.find_document_by_hash(transcript.sha256)
            if existing:
                raise DuplicateDocumentError(path, f"this file is already in the project as '{existing}'")
            seen_hashes[transcript.sha256], seen_names[name] = path, path
            attrs = {**(attributes or {}), **per_file.get(path.resolve(), {})}
            prepared.append(NewDocument(name=name, filename=path.name, transcript=transcript,
                                        segments=split_segments(transcript), attributes=attrs,
                                        size_bytes=path.stat().st_size))
        except InputError as e:
            errors.append(e)
    if progress:
        progress(len(files), len(files), "")
    if len(errors) == 1 and len(files) == 1:
        raise errors[0]
    if errors:
        raise ImportFailed(errors)
    ids = project.add_documents(prepared, user)
    return ImportResult(ids, [d.name for d in prepared], skipped)


def _collect(paths: list[str | Path]) -> tuple[list[Path], list[Path], Path | None]:
    """Files named directly must be transcripts; in folders, other files are passed over."""
    files: list[Path] = []
    skipped: list[Path] = []
    folder_csv: Path | None = None
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if child.name.lower() == "metadata.csv" and child.parent == path:
                    folder_csv = child
                elif child.suffix.lower() in READERS:
                    files.append(child)
                else:
                    skipped.append(child)
        elif path.exists():
            if path.suffix.lower() not in READERS:
                known = ", ".join(sorted(READERS))
                raise UnsupportedFormatError(path, f"Codewerk cannot read '{path.suffix or 'extension-less'}' files",
                                             f"it reads {known}")
            files.append(path)
        else:
            raise InputError(path, "no such file or folder")
    if not files:
        raise InputError(", ".join(str(p) for p in paths), "no transcript files found",
                         f"Codewerk reads {', '.join(sorted(READERS))}")
    return files, skipped, folder_csv


def read_metadata_csv(path: Path, files: list[Path]) -> dict[Path, dict[str, str]]:
    """Per-file attributes from a CSV (comma or semicolon) whose file column names files of the import."""
    if not path.exists():
        raise MetadataError(path, "the metadata file does not exist")
    text, _ = decode_text(path.read_bytes(), path)
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise MetadataError(path, "the metadata file is empty")
    header = [h.strip() for h in rows[0]]
    lowered = [h.lower() for h in header]
    file_col = next((i for i, h in enumerate(lowered) if h in METADATA_FILE_COLUMNS), None)
    if file_col is None:
        raise MetadataError(path, f"no column naming the files (one of: {', '.join(METADATA_FILE_COLUMNS)})",
                            f"the header is: {', '.join(header)}")
    by_name = {}
    for f in files:
        by_name.setdefault(f.name, f)
        by_name.setdefault(f.stem, f)
    result: dict[Path, dict[str, str]] = {}
    problems = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"line {line_no} has {len(row)} fields, the header has {len(header)}")
            continue
        name = row[file_col].strip()
        target = by_name.get(name) or by_name.get(Path(name).name)
        if target is None:
            problems.append(f"line {line_no} names '{name}', which is not among the files imported")
            continue
        if target.resolve() in result:
            problems.append(f"line {line_no} names '{name}' a second time")
            continue
        result[target.resolve()] = {header[i]: cell.strip() for i, cell in enumerate(row)
                                    if i != file_col and header[i] and cell.strip()}
    if problems:
        raise MetadataError(path, "; ".join(problems))
    return result
