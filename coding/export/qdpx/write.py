"""A Codewerk project -> REFI-QDA project exchange file (.qdpx) for MAXQDA, ATLAS.ti, NVivo and QualCoder.

The archive holds project.qde (valid against the official Project.xsd) and one UTF-8 .txt per
document: exactly the stored text, without BOM, `\\n` line endings, so that selection offsets (code
points, end exclusive) fit it as written. Every selection also carries its quoted text in `@name`.
GUIDs are derived from stable ids (code ids, document hashes, coding ids), so exporting the same
project twice gives the same bytes and two exports diff cleanly.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from coding.codebook.model import CODE_NAMESPACE, COLOR, Code, Codebook, refi_guid, without_control_characters
from coding.codebook.refi import code_description
from coding.export.qdpx.archive import write_archive
from coding.store import Project
from coding.timefmt import stored_utc

NS = "urn:QDA-XML:project:1.0"
MEMO_ATTRIBUTE = "Memo"  # a document's memo: Codewerk documents have attributes, REFI sources a Description
# Fixed for good, like the code namespace: a new one would make every re-export look like new data.
EXPORT_NAMESPACE = uuid.uuid5(CODE_NAMESPACE, "qdpx")
# XML 1.0 cannot carry these at all; the text files keep them, only the XML copies are mended.


def stable_guid(kind: str, key: object) -> str:
    """The GUID of an exported thing, derived from what identifies it in the project."""
    return str(uuid.uuid5(EXPORT_NAMESPACE, f"{kind}:{key}"))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _safe(text: str) -> str:
    return without_control_characters(text, "\ufffd")


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    element = etree.SubElement(parent, _q(tag), {k: _safe(v) for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = _safe(text)
    return element


def xml_time(stamp: str | None) -> str | None:
    """A stored time stamp as xsd:dateTime in UTC to the second (what NVivo and MAXQDA read)."""
    moment = stored_utc(stamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def export_qdpx(project: Project, out: str | Path | BinaryIO, *, origin: str = "Codewerk") -> None:
    """Write the whole project (users, codebook, attributes, documents, codings, memos) as a .qdpx."""
    qde, sources = build_project(project, origin=origin)
    write_archive(out, qde, sources)


def build_project(project: Project, *, origin: str = "Codewerk") -> tuple[bytes, dict[str, bytes]]:
    """The project.qde bytes and the source files (name in sources/ -> bytes) of an export."""
    return _Exporter(project, origin).build()


class _Exporter:
    """Builds project.qde in the schema's element order; containers appear only when they hold something."""

    def __init__(self, project: Project, origin: str) -> None:
        self.project = project
        self.root = etree.Element(_q("Project"), nsmap={None: NS}, name=_safe(project.path.stem), origin=origin)
        self.codebook: Codebook = project.codebook()
        self.code_guids = {code.id: refi_guid(code) for code in self.codebook.codes}
        self.documents = project.documents()
        self.rows = {d["id"]: project.document(d["id"]) for d in self.documents}  # with text and hash
        self.codings = [c for c in project.codings() if c["code_id"] in self.code_guids]
        self.notes: list[tuple[str, str, str, dict[str, Any]]] = []  # guid, name, text, attributes

    def user_guid(self, name: str | None) -> str | None:
        return stable_guid("user", name) if name else None

    def build(self) -> tuple[bytes, dict[str, bytes]]:
        self.users()
        self.codes()
        keys = list(dict.fromkeys(key for d in self.documents for key in d["attributes"]))
        variables = {key: stable_guid("variable", key) for key in keys}
        self.variables(variables)
        self.cases(variables)
        sources = self.sources(variables)
        self.note_elements()
        self.sets()
        qde = etree.tostring(self.root.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return qde, sources

    def users(self) -> None:
        # Only the people the export names (coders, importers): accounts stay in the project.
        names = sorted({c["coder"] for c in self.codings} | {d["imported_by"] for d in self.documents
                                                             if d["imported_by"]})
        if names:
            users = _add(self.root, "Users")
            for name in names:
                _add(users, "User", guid=self.user_guid(name), name=name)

    def codes(self) -> None:
        if not self.codebook.codes:
            return
        codes = _add(_add(self.root, "CodeBook"), "Codes")
        children: dict[str | None, list[Code]] = {}
        for code in self.codebook.codes:
            children.setdefault(code.parent, []).append(code)

        def add(parent: etree._Element, code: Code) -> None:
            element = _add(parent, "Code", guid=self.code_guids[code.id], name=code.name,
                           isCodable="true" if code.codable else "false",
                           color=code.color if code.color and COLOR.fullmatch(code.color) else None)
            _add(element, "Description", code_description(code))
            if code.memo:
                guid = stable_guid("memo", f"code:{code.id}")
                self.notes.append((guid, f"Memo: {code.name}", code.memo, {}))
                _add(element, "NoteRef", targetGUID=guid)
            for child in children.get(code.id, []):
                add(element, child)

        for code in children.get(None, []):
            add(codes, code)

    def variables(self, variables: dict[str, str]) -> None:
        if variables:
            element = _add(self.root, "Variables")
            for key, guid in variables.items():
                _add(element, "Variable", guid=guid, name=key, typeOfVariable="Text")

    def values(self, parent: etree._Element, attributes: dict[str, str], variables: dict[str, str]) -> None:
        for key, value in attributes.items():
            element = _add(parent, "VariableValue")
            _add(element, "VariableRef", targetGUID=variables[key])
            _add(element, "TextValue", value or "")

    def cases(self, variables: dict[str, str]) -> None:
        # One case per document: MAXQDA and NVivo keep document variables on cases.
        if not self.documents:
            return
        cases = _add(self.root, "Cases")
        for document in self.documents:
            case = _add(cases, "Case", guid=stable_guid("case", self.source_key(document)), name=document["name"])
            self.values(case, document["attributes"], variables)
            _add(case, "SourceRef", targetGUID=self.source_guid(document))

    def source_key(self, document: dict[str, Any]) -> str:
        # The hash of the original file identifies a document even after it was renamed.
        return self.rows[document["id"]]["sha256"] or str(document["id"])

    def source_guid(self, document: dict[str, Any]) -> str:
        return stable_guid("document", self.source_key(document))

    def sources(self, variables: dict[str, str]) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        if not self.documents:
            return files
        by_document: dict[int, list[dict[str, Any]]] = {}
        for coding in self.codings:
            by_document.setdefault(coding["document_id"], []).append(coding)
        sources = _add(self.root, "Sources")
        for document in self.documents:
            guid = self.source_guid(document)
            text = self.rows[document["id"]]["text"]
            files[f"{guid}.txt"] = text.encode("utf-8")
            source = _add(sources, "TextSource", guid=guid, name=document["name"],
                          plainTextPath=f"internal://{guid}.txt", creatingUser=self.user_guid(document["imported_by"]),
                          creationDateTime=xml_time(document["imported_at"]))
            if document["attributes"].get(MEMO_ATTRIBUTE):
                _add(source, "Description", document["attributes"][MEMO_ATTRIBUTE])
            for coding in by_document.get(document["id"], []):
                self.selection(source, coding, document["name"])
            # QualCoder drops the case links on import, so every source carries its variables itself too.
            self.values(source, document["attributes"], variables)
        return files

    def selection(self, source: etree._Element, coding: dict[str, Any], document: str) -> None:
        user, when = self.user_guid(coding["coder"]), xml_time(coding["created_at"])
        selection = _add(source, "PlainTextSelection", guid=stable_guid("selection", coding["id"]),
                         name=coding["quote"], startPosition=str(coding["start"]), endPosition=str(coding["end"]),
                         creatingUser=user, creationDateTime=when)
        if coding["memo"]:
            _add(selection, "Description", coding["memo"])
        element = _add(selection, "Coding", guid=stable_guid("coding", coding["id"]), creatingUser=user,
                       creationDateTime=when)
        _add(element, "CodeRef", targetGUID=self.code_guids[coding["code_id"]])
        if coding["memo"]:
            guid = stable_guid("memo", f"coding:{coding['id']}")
            self.notes.append((guid, f"Memo: {document} {coding['start']}-{coding['end']}", coding["memo"],
                               {"creatingUser": user, "creationDateTime": when}))
            _add(element, "NoteRef", targetGUID=guid)

    def note_elements(self) -> None:
        if self.notes:
            notes = _add(self.root, "Notes")
            for guid, name, text, attributes in self.notes:
                note = _add(notes, "Note", guid=guid, name=name, **attributes)
                _add(note, "PlainTextContent", text)

    def sets(self) -> None:
        if self.codebook.sets:
            sets = _add(self.root, "Sets")
            for code_set in self.codebook.sets:
                element = _add(sets, "Set", guid=refi_guid(code_set), name=code_set.name)
                if code_set.description:
                    _add(element, "Description", code_set.description)
                for code_id in code_set.codes:
                    if code_id in self.code_guids:
                        _add(element, "MemberCode", targetGUID=self.code_guids[code_id])
