"""Text sources of a REFI-QDA project -> Codewerk documents, and their selections -> stored-text spans.

A source's text is read with Codewerk's own transcript readers (so it is normalised, split into turns
and segments like any imported file); the producer's offsets are applied to the text as the producer
saw it (BOM stripped, CRs kept) in the reading that fits best, then carried over to the stored text.
"""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from coding.errors import EmptyFileError, InputError, NoTextError
from coding.export.qdpx.archive import QdpxArchive, source_limit
from coding.export.qdpx.positions import Alignment, Offsets, Reading, detect_reading, place
from coding.export.qdpx.read import RefiSource
from coding.export.qdpx.result import QdpxImportResult
from coding.store import NewDocument, Project
from coding.transcripts import READERS, read_transcript
from coding.transcripts.segments import split_segments

_EXTERNAL = ("relative://", "absolute://", "http://", "https://", "file://")


@dataclass
class PlacedSource:
    """A source ready to store: a new document (or an existing one it equals) and its placed selections."""

    refi: RefiSource
    name: str
    text: str
    document: NewDocument | None = None
    existing_id: int | None = None
    same_as: int | None = None  # index of an earlier source of this import with the same bytes
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # selection index -> stored span
    unplaced: int = 0


def _decoded_source(data: bytes) -> str | None:
    """The text as the producer counted it: BOM stripped, line endings untouched."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            data = data[len(bom):]
            break
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        return None  # not what REFI prescribes; the reader's decoding will have to do


def _has_text(data: bytes) -> bool:
    # NVivo writes a lone line break for a source it has no text for; a BOM alone is no text either.
    return bool(data.replace(b"\xef\xbb\xbf", b"").strip())


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _base_name(source: RefiSource) -> str:
    """A readable document name: the source's name without a reader's extension (else its file's)."""
    name = source.name
    if PurePosixPath(name).suffix.lower() in READERS:
        name = PurePosixPath(name).stem
    if not name.strip():
        path = source.plain_path or source.rich_path or ""
        name = PurePosixPath(path.split("://", 1)[-1]).stem or f"Quelle-{source.guid[:8]}"
    return " ".join(name.split())


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    taken.add(candidate)
    return candidate


class SourceReader:
    """Reads every text source of one import, checking against the project, writing nothing."""

    def __init__(self, archive: QdpxArchive, result: QdpxImportResult, project: Project) -> None:
        self.archive = archive
        self.result = result
        self.project = project
        documents = project.documents()
        self.taken = {d["name"] for d in documents}
        self.existing_ids = {d["name"]: d["id"] for d in documents}
        self._by_text: dict[str, str] | None = None
        self.hashes: dict[str, int] = {}
        self.placed: list[PlacedSource] = []

    def read_all(self, sources: list[RefiSource]) -> list[PlacedSource]:
        with tempfile.TemporaryDirectory(prefix="codewerk-qdpx-") as folder:
            for source in sources:
                found = self._located(source)
                if found is not None:
                    self._read(source, *found, Path(folder))
        return self.placed

    def _existing(self, sha256: str, text: str) -> str | None:
        """The project's document with the same file, or with the same text (a Codewerk export coming
        back from another program carries the stored text, not the original Word file)."""
        name = self.project.find_document_by_hash(sha256)
        if name is None:
            if self._by_text is None:  # read once per import, only when a file is new to the project
                self._by_text = {_text_key(self.project.document(doc_id)["text"]): doc_name
                                 for doc_name, doc_id in self.existing_ids.items()}
            name = self._by_text.get(_text_key(text))
        return name

    def _located(self, source: RefiSource) -> tuple[bytes, str] | None:
        """The source's bytes and file extension, or None after a warning saying why not.

        The plain text comes first (selections count in it); a Word file stands in when the plain
        text is missing or empty, inline content when there is no file at all.
        """
        label, selections = source.name or source.guid, len(source.selections)
        candidates = [(p, ".txt") for p in [source.plain_path] if p] + \
                     [(p, ".docx") for p in [source.rich_path] if p and p.lower().endswith(".docx")]
        found = False
        for reference, extension in candidates:
            member = None if reference.lower().startswith(_EXTERNAL) else self.archive.member(reference)
            if member is not None:
                found = True
                data = self.archive.read(member, source_limit())
                if _has_text(data):
                    return data, extension
        if source.content is not None and _has_text(source.content.encode("utf-8")):
            return source.content.encode("utf-8"), ".txt"
        if found or not candidates:
            self.result.warn("source_empty", name=label, selections=selections)
        elif all(ref.lower().startswith(_EXTERNAL) for ref, _ in candidates):
            self.result.warn("source_external", name=label, path=candidates[0][0], selections=selections)
        else:
            self.result.warn("source_missing", name=label, path=candidates[0][0], selections=selections)
        return None

    def _read(self, source: RefiSource, data: bytes, extension: str, folder: Path) -> None:
        label = source.name or source.guid
        selections = len(source.selections)
        path = folder / f"source-{len(self.placed)}-{id(source)}{extension}"
        path.write_bytes(data)
        try:
            transcript = read_transcript(path, max_bytes=source_limit())
        except (EmptyFileError, NoTextError):
            self.result.warn("source_empty", name=label, selections=selections)
            return
        except InputError as error:
            self.result.warn("source_unreadable", name=label, problem=error.problem, selections=selections)
            return
        base = _base_name(source)
        name = _unique(base, self.taken)
        placed = PlacedSource(source, name, transcript.text)
        existing = self._existing(transcript.sha256, transcript.text)
        if existing is not None:
            placed.existing_id, placed.name = self.existing_ids[existing], existing
            # Selections go onto the text as the project stores it (a newer reader might read the file apart).
            placed.text = self.project.document(placed.existing_id)["text"]
            self.taken.discard(name)
            self.result.warn("source_reused", name=label, document=existing)
        elif transcript.sha256 in self.hashes:
            placed.same_as = self.hashes[transcript.sha256]
            placed.name = self.placed[placed.same_as].name
            self.taken.discard(name)
            self.result.warn("source_reused", name=label, document=placed.name)
        else:
            if name != base:
                self.result.warn("source_renamed", name=label, document=name)
            transcript.source = f"{name}{extension}"
            self.hashes[transcript.sha256] = len(self.placed)
            placed.document = NewDocument(name=name, filename=f"{name}{extension}", transcript=transcript,
                                          segments=split_segments(transcript), size_bytes=len(data))
        raw = _decoded_source(data) if extension == ".txt" else None
        self._place(placed, raw if raw is not None else transcript.text)
        self.placed.append(placed)

    def _place(self, placed: PlacedSource, source_text: str) -> None:
        """Work out how the producer counted, then carry every selection over to the stored text."""
        selections = placed.refi.selections
        usable = [(s.start, s.end, s.name) for s in selections if s.start is not None and s.end is not None]
        reading = detect_reading(source_text, usable) if usable else Reading()
        self.result.position_units[placed.name] = reading.describe()
        offsets = Offsets(source_text, reading)
        alignment = Alignment(source_text, placed.text)
        for i, selection in enumerate(selections):
            if not selection.codings:
                continue  # reported as uncoded by the caller; nothing to place
            a = offsets.index(selection.start) if selection.start is not None else None
            b = offsets.index(selection.end) if selection.end is not None else None
            span = place(alignment, a, b) if a is not None and b is not None and a < b else None
            if span is None:
                placed.unplaced += 1
            else:
                placed.spans[i] = span
        if placed.unplaced:
            self.result.warn("unplaced", name=placed.name, count=placed.unplaced)
