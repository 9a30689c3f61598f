"""Import a REFI-QDA project (.qdpx, or a bare .qde) into a Codewerk project, all of it or nothing.

Everything is read, checked and placed first, without touching the project; then codes, users,
documents, attributes and codings are stored in one transaction. A file that is unsafe or broken
raises a typed error naming it and leaves the project as it was; what cannot be taken over (missing
or empty sources, selections that do not fit the text, media, sets) becomes a counted warning.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coding.export.qdpx.archive import QdpxArchive, open_archive, source_limit
from coding.export.qdpx.codes import CodePlan, join_memos, plan_codes
from coding.export.qdpx.read import RefiProject, RefiSource, parse_project
from coding.export.qdpx.result import QdpxImportResult
from coding.export.qdpx.sources import PlacedSource, SourceReader
from coding.export.qdpx.write import MEMO_ATTRIBUTE
from coding.store import Project, write_transaction

# Named as REFI-QDA names them, so the message reads the same in German and English and matches the
# other program's own terms.
_KINDS = {"PictureSource": "Picture", "PDFSource": "PDF", "AudioSource": "Audio", "VideoSource": "Video"}
_LEFT_OUT = {"Set": "Sets", "Link": "Links", "Graph": "Graphs"}


@dataclass
class _Plan:
    """Everything the transaction will store, worked out beforehand."""

    codes: CodePlan
    sources: list[PlacedSource]
    users: list[str] = field(default_factory=list)
    codings: dict[str, list[dict]] = field(default_factory=dict)  # coder -> coding rows (document by key)
    attributes: dict[int, dict[str, str]] = field(default_factory=dict)  # source index -> attributes


def import_qdpx(project: Project, path: str | Path, *, user: str) -> QdpxImportResult:
    """Import a REFI-QDA project exported by MAXQDA, ATLAS.ti, NVivo, QualCoder or Codewerk.

    Returns the counts and the warnings; raises an InputError (or CodebookError) naming the file when
    the archive is unsafe or broken, and then nothing is stored.
    """
    result = QdpxImportResult()
    archive = open_archive(path)
    try:
        plan = _plan(project, archive, result, user)
    finally:
        archive.close()
    _store(project, plan, result, user)
    return result


class _Notes:
    """Note texts by GUID key, read on demand; remembers which notes were used and which were missing."""

    def __init__(self, refi: RefiProject, archive: QdpxArchive) -> None:
        self.refi, self.archive = refi, archive
        self.used: set[str] = set()
        self.missing = 0

    def text(self, key: str) -> str:
        self.used.add(key)
        note = self.refi.notes.get(key)
        text = note.text if note is not None else None
        if note is not None and text is None and note.path:
            member = self.archive.member(note.path)
            text = self.archive.read(member, source_limit()).decode("utf-8", "replace").lstrip("\ufeff") \
                if member else None
        if note is not None and not (text or "").strip():
            text = note.description
        if not (text or "").strip():
            self.missing += 1
            return ""
        return text


def _plan(project: Project, archive: QdpxArchive, result: QdpxImportResult, user: str) -> _Plan:
    refi = parse_project(archive.qde, archive.where)
    notes = _Notes(refi, archive)
    all_ids = {code["id"] for code in project.codes(include_deleted=True)}
    codes = plan_codes(refi.codes, project.codebook(), all_ids, notes.text, result, archive.where)
    result.codes, result.matched_codes, result.memos = len(refi.codes), codes.matched, codes.memos
    reader = SourceReader(archive, result, project)
    plan = _Plan(codes, reader.read_all(refi.sources))
    _plan_codings(project, refi, plan, notes, result, user)
    _plan_attributes(project, refi, plan, notes, result)
    _report_left_out(refi, plan, notes, result)
    known = {row["name"] for row in project.users()}
    plan.users = sorted({coder for coder in plan.codings if coder not in known and coder != user})
    result.users = len(plan.users)
    return plan


def _document_key(plan: _Plan, index: int) -> tuple[str, int]:
    """Which document a placed source stores into: an existing one, or a new one by its position."""
    placed = plan.sources[index]
    if placed.existing_id is not None:
        return ("existing", placed.existing_id)
    if placed.same_as is not None:
        return _document_key(plan, placed.same_as)
    return ("new", index)


def _plan_codings(project: Project, refi: RefiProject, plan: _Plan, notes: _Notes, result: QdpxImportResult,
                  user: str) -> None:
    already: set[tuple] = set()  # codings the project has: an import does not add them again
    for placed in plan.sources:
        if placed.existing_id is not None:
            already |= {(("existing", placed.existing_id), c["start"], c["end"], c["code_id"], c["coder"])
                        for c in project.codings(placed.existing_id)}
    seen: set[tuple] = set()
    present = duplicates = unknown = uncoded = 0
    for index, placed in enumerate(plan.sources):
        document = _document_key(plan, index)
        for number, selection in enumerate(placed.refi.selections):
            if not selection.codings:
                uncoded += 1
                continue
            if number not in placed.spans:
                continue  # counted as unplaced by the source reader
            start, end = placed.spans[number]
            shared = [selection.description] + [notes.text(key) for key in selection.notes]
            for coding in selection.codings:
                code_id = plan.codes.ids.get(coding.code)
                if code_id is None:
                    unknown += 1
                    continue
                coder = refi.users.get(coding.user or "") or refi.users.get(selection.user or "") or user
                key = (document, start, end, code_id, coder)
                if key in already:
                    present += 1
                    continue
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                memo = join_memos(shared + [notes.text(note) for note in coding.notes])
                result.memos += bool(memo)
                plan.codings.setdefault(coder, []).append(
                    {"document": document, "start": start, "end": end, "code_id": code_id, "memo": memo,
                     "origin": "imported"})
    for key, count in (("already_coded", present), ("duplicate", duplicates), ("unknown_code", unknown),
                       ("uncoded_selection", uncoded)):
        if count:
            result.warn(key, count=count)


def _source_attributes(refi: RefiProject, source: RefiSource, result: QdpxImportResult,
                       name: str) -> dict[str, str]:
    """Variables of a source: its own values first, then those of the cases that link it."""
    values: dict[str, str] = {}
    sets = [source.values] + [case.values for case in refi.cases if source.guid in case.sources]
    for given in sets:
        for variable, value in given.items():
            label = refi.variables.get(variable, "").strip()
            if not label:
                continue
            if label in values and values[label] != value:
                result.warn("variable_conflict", name=name, variable=label, kept=values[label], dropped=value)
                continue
            values[label] = value
    return values


def _plan_attributes(project: Project, refi: RefiProject, plan: _Plan, notes: _Notes,
                     result: QdpxImportResult) -> None:
    for index, placed in enumerate(plan.sources):
        if placed.same_as is not None:
            continue
        values = _source_attributes(refi, placed.refi, result, placed.name)
        memo = join_memos([values.pop(MEMO_ATTRIBUTE, ""), placed.refi.description]
                          + [notes.text(key) for key in placed.refi.notes])
        if placed.existing_id is not None:
            # An existing document keeps what the team gave it; the file only fills gaps.
            current = project.attributes(placed.existing_id)
            values = {k: v for k, v in values.items() if k not in current}
            if memo and MEMO_ATTRIBUTE not in current:
                values[MEMO_ATTRIBUTE] = memo
                result.memos += 1
        elif memo:
            values[MEMO_ATTRIBUTE] = memo
            result.memos += 1
        result.variables += len([k for k in values if k != MEMO_ATTRIBUTE])
        plan.attributes[index] = values
        if placed.document is not None:
            placed.document.attributes = values


def _report_left_out(refi: RefiProject, plan: _Plan, notes: _Notes, result: QdpxImportResult) -> None:
    other = {kind: refi.left_out[kind] for kind in _KINDS if refi.left_out[kind]}
    if other:
        result.warn("other_sources", count=sum(other.values()), codings=refi.left_out["media codings"],
                    kinds=", ".join(_KINDS[kind] for kind in other))
    whole = sum(placed.refi.whole_codings for placed in plan.sources)
    if whole:
        result.warn("whole_source", count=whole)
    for item, what in _LEFT_OUT.items():
        if refi.left_out[item]:
            result.warn("left_out", count=refi.left_out[item], what=what)
    # Notes of skipped sources were never asked for; they are lost with their source, not unattached.
    referenced = {key for source in refi.sources for key in source.notes} | \
                 {key for source in refi.sources for s in source.selections for key in s.notes} | \
                 {key for source in refi.sources for s in source.selections for c in s.codings for key in c.notes} | \
                 {key for code in refi.codes for key in code.notes}
    unattached = len(set(refi.notes) - referenced - notes.used)
    if unattached:
        result.warn("notes_unattached", count=unattached)
    if notes.missing:
        result.warn("note_missing", count=notes.missing)


def _store(project: Project, plan: _Plan, result: QdpxImportResult, user: str) -> None:
    """One transaction: an error anywhere rolls everything back."""
    new_sources = [(i, placed) for i, placed in enumerate(plan.sources) if placed.document is not None]
    with write_transaction(project.db):
        project.ensure_user(user)
        for name in plan.users:
            project.ensure_user(name, role="coder")
        if plan.codes.new:
            project.save_codebook(plan.codes.codebook(project.codebook()), user)
        ids = project.add_documents([placed.document for _, placed in new_sources], user) if new_sources else []
        document_ids = {("new", i): doc_id for (i, _), doc_id in zip(new_sources, ids)}
        for index, placed in enumerate(plan.sources):
            if placed.existing_id is not None:
                document_ids[("existing", placed.existing_id)] = placed.existing_id
                for key, value in plan.attributes.get(index, {}).items():
                    project.set_attribute(placed.existing_id, key, value, user)
        for coder, rows in plan.codings.items():
            project.add_codings([{**{k: v for k, v in row.items() if k != "document"},
                                  "document_id": document_ids[row["document"]]} for row in rows], coder)
    result.documents = len(new_sources)
    result.codings = sum(len(rows) for rows in plan.codings.values())
