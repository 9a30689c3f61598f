"""A REFI-QDA project file (.qde) -> plain records, without touching any Codewerk project.

Elements are found by local name (some producers get the namespace wrong) and GUIDs are compared in
one spelling (lower case, no braces), so files from MAXQDA, ATLAS.ti, NVivo and QualCoder read alike.
Everything Codewerk cannot hold (pictures, PDFs, media, sets, links, graphs) is counted, so the import
can say what it left out.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from coding.codebook.model import guid_key
from coding.codebook.refi import parse_xml
from coding.errors import InputError

_VALUE_ELEMENTS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")
_OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


@dataclass
class RefiCode:
    """One code as the file writes it; `parent` is the parent's GUID key."""

    guid: str
    name: str
    codable: bool
    color: str | None
    description: str
    notes: list[str]
    parent: str | None
    line: int | None


@dataclass
class RefiCoding:
    """A code applied to a selection, by a user (GUID key), with its own notes."""

    code: str
    user: str | None
    created: str | None
    notes: list[str]


@dataclass
class RefiSelection:
    """A span of a text source as the producer counted it, with its codings and memo."""

    guid: str
    name: str
    start: int | None
    end: int | None
    user: str | None
    description: str
    notes: list[str]
    codings: list[RefiCoding]


@dataclass
class RefiSource:
    """A text source: where its text is (file in the archive, or inline), its selections and variables."""

    guid: str
    name: str
    plain_path: str | None
    rich_path: str | None
    content: str | None
    description: str
    notes: list[str]
    selections: list[RefiSelection]
    whole_codings: int
    values: dict[str, str]
    line: int | None


@dataclass
class RefiNote:
    """A note (memo): its text inline, or in a file of the archive."""

    name: str
    text: str | None
    path: str | None
    description: str


@dataclass
class RefiCase:
    """A case: variable values (by variable GUID key) for the sources it links."""

    name: str
    values: dict[str, str]
    sources: list[str]


@dataclass
class RefiProject:
    """Everything of a .qde that Codewerk can use, plus counts of what it cannot."""

    name: str
    origin: str
    users: dict[str, str] = field(default_factory=dict)
    codes: list[RefiCode] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    cases: list[RefiCase] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: dict[str, RefiNote] = field(default_factory=dict)
    project_notes: list[str] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str) and etree.QName(child).localname == name]


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    found = _children(parent, name)
    return found[0] if found else None


def _text(parent: etree._Element, name: str) -> str:
    found = _child(parent, name)
    return (found.text or "") if found is not None else ""


def _key(value: str | None) -> str | None:
    return guid_key(value) if value and value.strip() else None


def _notes(element: etree._Element) -> list[str]:
    return [key for ref in _children(element, "NoteRef") if (key := _key(ref.get("targetGUID")))]


def _integer(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def parse_project(data: bytes, where: str) -> RefiProject:
    """Read a .qde's bytes; InputError (naming `where`) for XML that is unsafe, broken or not a project."""
    try:
        root = parse_xml(data, where, "Project")
    except InputError as error:
        if "root element" in error.problem:
            found = error.problem.split("its root element is ", 1)[1].split(",", 1)[0]
            raise InputError(where, f"is not a REFI-QDA project: its root element is {found}, not <Project>",
                             "a codebook (.qdc) is imported on the codebook page; here choose a project "
                             "(.qdpx)") from None
        # The codebook reader's hints speak of codebooks; a project is exported again as a project.
        raise InputError(where, error.problem, "export the project again from the QDA program it came from") \
            from None
    project = RefiProject(name=root.get("name") or "", origin=root.get("origin") or "")
    for users in _children(root, "Users"):
        for user in _children(users, "User"):
            if key := _key(user.get("guid")):
                name = (user.get("name") or "").strip() or (user.get("id") or "").strip()
                project.users[key] = name or f"refi-{key[:8]}"
    for codebook in _children(root, "CodeBook"):
        for codes in _children(codebook, "Codes"):
            _collect_codes(codes, None, project.codes)
    for variables in _children(root, "Variables"):
        for variable in _children(variables, "Variable"):
            if key := _key(variable.get("guid")):
                project.variables[key] = (variable.get("name") or "").strip()
    for cases in _children(root, "Cases"):
        for case in _children(cases, "Case"):
            linked = [key for ref in _children(case, "SourceRef") if (key := _key(ref.get("targetGUID")))]
            project.cases.append(RefiCase(case.get("name") or "", _values(case), linked))
    for sources in _children(root, "Sources"):
        for element in sources:
            if not isinstance(element.tag, str):
                continue
            kind = etree.QName(element).localname
            if kind == "TextSource":
                project.sources.append(_source(element))
            elif kind in _OTHER_SOURCES:
                project.left_out[kind] += 1
                project.left_out["media codings"] += sum(1 for _ in element.iter("{*}Coding"))
    for notes in _children(root, "Notes"):
        for note in _children(notes, "Note"):
            if key := _key(note.get("guid")):
                content = _child(note, "PlainTextContent")
                text = (content.text or "") if content is not None else None
                project.notes[key] = RefiNote(note.get("name") or "", text, note.get("plainTextPath"),
                                              _text(note, "Description"))
    project.project_notes = _notes(root)
    for container, item in (("Sets", "Set"), ("Links", "Link"), ("Graphs", "Graph")):
        project.left_out[item] += sum(len(_children(c, item)) for c in _children(root, container))
    return project


def _collect_codes(parent: etree._Element, parent_key: str | None, into: list[RefiCode]) -> None:
    for element in _children(parent, "Code"):
        key = _key(element.get("guid")) or f"missing-guid-{len(into)}"
        codable = (element.get("isCodable") or "true").strip().lower() not in ("false", "0")
        into.append(RefiCode(guid=element.get("guid") or "", name=(element.get("name") or "").strip(),
                             codable=codable, color=(element.get("color") or "").strip() or None,
                             description=_text(element, "Description"), notes=_notes(element),
                             parent=parent_key, line=element.sourceline))
        _collect_codes(element, key, into)


def _values(element: etree._Element) -> dict[str, str]:
    """Variable values of a case or source, by variable GUID key, as text."""
    values: dict[str, str] = {}
    for value in _children(element, "VariableValue"):
        ref = _child(value, "VariableRef")
        key = _key(ref.get("targetGUID")) if ref is not None else None
        typed = next((v for v in value if isinstance(v.tag, str) and etree.QName(v).localname in _VALUE_ELEMENTS), None)
        if key and typed is not None and (typed.text or "").strip():
            values[key] = typed.text.strip()
    return values


def _code_ref(coding: etree._Element) -> str:
    ref = _child(coding, "CodeRef")
    return (_key(ref.get("targetGUID")) if ref is not None else None) or ""


def _source(element: etree._Element) -> RefiSource:
    selections = []
    for selection in _children(element, "PlainTextSelection"):
        codings = [RefiCoding(code=_code_ref(coding), user=_key(coding.get("creatingUser")),
                              created=coding.get("creationDateTime"), notes=_notes(coding))
                   for coding in _children(selection, "Coding")]
        selections.append(RefiSelection(
            guid=_key(selection.get("guid")) or "", name=selection.get("name") or "",
            start=_integer(selection.get("startPosition")), end=_integer(selection.get("endPosition")),
            user=_key(selection.get("creatingUser")), description=_text(selection, "Description"),
            notes=_notes(selection), codings=codings))
    content = _child(element, "PlainTextContent")
    return RefiSource(
        guid=_key(element.get("guid")) or "", name=(element.get("name") or "").strip(),
        plain_path=element.get("plainTextPath"), rich_path=element.get("richTextPath"),
        content=(content.text or "") if content is not None else None, description=_text(element, "Description"),
        notes=_notes(element), selections=selections, whole_codings=len(_children(element, "Coding")),
        values=_values(element), line=element.sourceline)
