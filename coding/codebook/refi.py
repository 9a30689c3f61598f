"""REFI-QDA codebook exchange (.qdc) with MAXQDA, ATLAS.ti, NVivo and QualCoder: export and safe import.

REFI gives a code only a `Description`, so Codewerk writes its fields into it as readable sections:

    Definition:
    <definition>

    Ankerbeispiele:
    - <anchor 1>
      <anchor 1, second line>
    - <anchor 2>

    Kodierregel – einschließen:
    <include>

    Kodierregel – ausschließen:
    <exclude>

    Memo:
    <memo>

    Codewerk-ID: <code id>

A section appears only when its field is not empty; the ID line is always last. Inside a text section a
line that reads like a heading (or starts with a backslash) gets one more leading backslash, which
import removes. A set's description is its text, a blank line, and the same ID line. The codebook's
name and description travel in a `<?codewerk {json}?>` processing instruction, which the schema allows.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from lxml import etree

from coding.codebook.model import (Code, Codebook, CodeSet, LineMap, checked_codebook, guid_key,
                                   normalise_text, refi_guid, validate)
from coding.codebook.yaml_io import read_codebook_bytes
from coding.errors import CodebookError, InputError, Problem

NS = "urn:QDA-XML:codebook:1.0"
SECTIONS = {"definition": "Definition:", "anchors": "Ankerbeispiele:",
            "include": "Kodierregel – einschließen:", "exclude": "Kodierregel – ausschließen:",
            "memo": "Memo:"}
_FIELD_OF_HEADING = {heading: name for name, heading in SECTIONS.items()}
ID_PREFIX = "Codewerk-ID:"
_ENTITY_DECLARATION = re.compile(r"<!DOCTYPE[^\[>]*\[[^\]]*<!ENTITY", re.S)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _escape(text: str) -> str:
    return "\n".join("\\" + line if line.rstrip() in _FIELD_OF_HEADING or line.startswith("\\") else line
                     for line in text.split("\n"))


def _anchor_lines(anchor: str) -> str:
    # "- " starts an anchor and two spaces continue it, so anchors may hold any line at all.
    first, *rest = anchor.split("\n")
    return "\n".join([f"- {first}"] + [f"  {line}" for line in rest])


def _with_id(body: str, item_id: str) -> str:
    return f"{body}\n\n{ID_PREFIX} {item_id}" if body else f"{ID_PREFIX} {item_id}"


def code_description(code: Code) -> str:
    """The REFI Description of a code: its fields as sections, then its Codewerk id."""
    sections = []
    for name, heading in SECTIONS.items():
        if name == "anchors":
            body = "\n".join(_anchor_lines(anchor) for anchor in code.anchors)
        else:
            body = _escape(getattr(code, name))
        if body or (name == "anchors" and code.anchors):
            sections.append(f"{heading}\n{body}")
    return _with_id("\n\n".join(sections), code.id)


def split_id(description: str) -> tuple[str, str | None]:
    """A Description without its trailing `Codewerk-ID:` line, and that id (None when absent)."""
    lines = normalise_text(description).split("\n")
    if not lines[-1].startswith(ID_PREFIX) or not lines[-1][len(ID_PREFIX):].strip():
        return normalise_text(description), None
    body = lines[:-1]
    if body and body[-1] == "":
        body.pop()
    return "\n".join(body), lines[-1][len(ID_PREFIX):].strip()


def _parse_anchors(lines: list[str]) -> list[str]:
    anchors: list[list[str]] = []
    for line in lines:
        if line.startswith("- ") or line == "-":
            anchors.append([line[2:]])
        elif anchors:
            # Two spaces continue an anchor; a tool that trimmed them still leaves the line here.
            anchors[-1].append(line[2:] if line.startswith("  ") else line)
        else:
            anchors.append([line])
    return ["\n".join(anchor) for anchor in anchors]


def parse_code_description(description: str) -> tuple[dict, str | None]:
    """Code fields and Codewerk id from a Description; a foreign text becomes the definition."""
    body, code_id = split_id(description)
    if code_id is None:
        return ({"definition": body} if body else {}), None
    parts: dict[str, list[list[str]]] = {}
    current = parts.setdefault("definition", [[]])  # text before any heading counts as definition
    for line in body.split("\n") if body else []:
        # Trailing blanks are forgiven (some programs add them); leading ones mark anchor lines.
        name = _FIELD_OF_HEADING.get(line.rstrip())
        if name:
            current = parts.setdefault(name, [])
            current.append([])
        else:
            current[-1].append(line)
    result: dict = {}
    for name, blocks in parts.items():
        for block in blocks:
            if block and block[-1] == "":
                block.pop()  # the blank line that separates sections
        if name == "anchors":
            result[name] = [anchor for block in blocks for anchor in _parse_anchors(block)]
        else:
            texts = ["\n".join(line[1:] if line.startswith("\\") else line for line in block) for block in blocks]
            result[name] = "\n\n".join(text for text in texts if text)
    return result, code_id


def export_qdc(codebook: Codebook, origin: str = "Codewerk") -> bytes:
    """The codebook as a REFI-QDA codebook file (.qdc, UTF-8) that validates against Codebook.xsd."""
    problems = validate(codebook)
    if not codebook.codes:
        problems.append(Problem("REFI-QDA needs at least one code; the codebook has none"))
    if problems:
        raise CodebookError(codebook.name or "<codebook>", problems)
    root = etree.Element(_q("CodeBook"), nsmap={None: NS}, origin=origin)
    # json escapes line breaks; '>' is escaped too so that no text can close the instruction early.
    meta = json.dumps({"name": codebook.name, "description": codebook.description}, ensure_ascii=False)
    root.append(etree.ProcessingInstruction("codewerk", meta.replace(">", "\\u003e")))
    codes_element = etree.SubElement(root, _q("Codes"))
    children: dict[str | None, list[Code]] = {}
    for code in codebook.codes:
        children.setdefault(code.parent, []).append(code)

    def add(parent: etree._Element, code: Code) -> None:
        element = etree.SubElement(parent, _q("Code"), guid=refi_guid(code), name=code.name,
                                   isCodable="true" if code.codable else "false")
        if code.color:
            element.set("color", code.color)
        etree.SubElement(element, _q("Description")).text = code_description(code)
        for child in children.get(code.id, []):
            add(element, child)

    for code in children.get(None, []):
        add(codes_element, code)
    if codebook.sets:
        sets_element = etree.SubElement(root, _q("Sets"))
        for code_set in codebook.sets:
            element = etree.SubElement(sets_element, _q("Set"), guid=refi_guid(code_set), name=code_set.name)
            etree.SubElement(element, _q("Description")).text = _with_id(code_set.description, code_set.id)
            for code_id in code_set.codes:
                etree.SubElement(element, _q("MemberCode"), guid=refi_guid(codebook.code(code_id)))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _refuse_entities(path: Path) -> InputError:
    return InputError(path, "declares XML entities in a DOCTYPE, which can expand into gigabytes "
                      "(a 'billion laughs' file); Codewerk does not read such files",
                      "export the codebook again from the QDA program it came from")


def parse_xml(data: bytes, path: str | Path, root_name: str) -> etree._Element:
    """The root element of an untrusted REFI file: no DTD, no entities, no network."""
    path = Path(path)
    head = data.decode("utf-16", "replace") if data.startswith((b"\xff\xfe", b"\xfe\xff")) \
        else data.decode("latin-1")
    if _ENTITY_DECLARATION.search(head):
        raise _refuse_entities(path)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        # Entity declarations were refused above; an error about an entity here is a plain syntax
        # error (an unescaped "&", an undefined reference) and is reported as such.
        raise InputError(path, f"is not well-formed XML (line {error.lineno}: {error.msg})",
                         "the file is damaged or not a REFI-QDA export") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and list(dtd.entities()):
        raise _refuse_entities(path)
    if etree.QName(root).localname != root_name:
        found = etree.QName(root).localname
        hint = "this is a REFI-QDA project; export the codebook (.qdc) instead" if found == "Project" else \
            "export the codebook from your QDA program as REFI-QDA (.qdc)"
        raise InputError(path, f"is not a REFI-QDA codebook: its root element is <{found}>, not <{root_name}>", hint)
    return root


def _elements(parent: etree._Element, name: str) -> list[etree._Element]:
    # Compared by local name: some producers get the namespace wrong, and comments are skipped.
    return [child for child in parent if isinstance(child.tag, str) and etree.QName(child).localname == name]


def _description(element: etree._Element) -> str:
    found = _elements(element, "Description")
    return (found[0].text or "") if found else ""


_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def slug(name: str, fallback: str, used: set[str]) -> str:
    """A readable id from a name ("Wohnen & Arbeit" -> "wohnen-arbeit"), not yet in `used`; adds it."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE)).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-") or fallback
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    used.add(candidate)
    return candidate


def import_qdc(path: str | Path) -> Codebook:
    """Read a REFI-QDA codebook (.qdc) from any QDA program; CodebookError lists every problem."""
    path = Path(path)
    root = parse_xml(read_codebook_bytes(path), path, "CodeBook")
    return _Importer(path).codebook(root)


class _Importer:
    """Turns a parsed .qdc into model objects, keeping lines for the problems."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: LineMap = {}
        self.problems: list[Problem] = []

    def codebook(self, root: etree._Element) -> Codebook:
        name, description = self.meta(root)
        entries: list[dict] = []
        codes_elements = _elements(root, "Codes")
        if not codes_elements:
            self.problems.append(Problem("the file has no <Codes> element", root.sourceline))
        for codes_element in codes_elements:
            self.collect(codes_element, None, entries)
        codes = self.codes(entries)
        guids = {guid_key(refi_guid(code)): code.id for code in codes}
        set_elements = [element for sets_element in _elements(root, "Sets")
                        for element in _elements(sets_element, "Set")]
        # As for codes: Codewerk ids first, derived ones must not take them.
        set_ids = {split_id(_description(element))[1] for element in set_elements} - {None}
        sets = [self.code_set(i, element, guids, set_ids) for i, element in enumerate(set_elements)]
        return checked_codebook(self.path, name, description, codes, sets, self.lines, self.problems)

    def meta(self, root: etree._Element) -> tuple[str, str]:
        for child in root:
            if isinstance(child, etree._ProcessingInstruction) and child.target == "codewerk":
                try:
                    meta = json.loads(child.text or "")
                    return str(meta.get("name", "")), str(meta.get("description", ""))
                except (ValueError, AttributeError):
                    self.problems.append(Problem("the <?codewerk ...?> instruction is damaged; "
                                                 "its codebook name was not read", child.sourceline))
        return self.path.stem, ""  # another program's codebook: its file name is the best name there is

    def collect(self, parent: etree._Element, parent_position: int | None, entries: list[dict]) -> None:
        for element in _elements(parent, "Code"):
            fields, code_id = parse_code_description(_description(element))
            codable = (element.get("isCodable") or "true").strip().lower()
            if codable not in ("true", "false", "1", "0"):
                self.problems.append(Problem(f"isCodable is {codable!r}, not true or false", element.sourceline))
            fields.update(name=element.get("name") or "", color=element.get("color"),
                          codable=codable not in ("false", "0"), guid=element.get("guid"))
            entries.append({"fields": fields, "id": code_id, "parent": parent_position,
                            "line": element.sourceline})
            self.collect(element, len(entries) - 1, entries)

    def codes(self, entries: list[dict]) -> list[Code]:
        # Codewerk ids first, so a derived id never takes one that a Codewerk code already has.
        used = {entry["id"] for entry in entries if entry["id"]}
        for entry in entries:
            entry["id"] = entry["id"] or slug(normalise_text(entry["fields"]["name"]), "code", used)
        codes = []
        for i, entry in enumerate(entries):
            self.lines[("codes", i)] = entry["line"]
            parent = entries[entry["parent"]]["id"] if entry["parent"] is not None else None
            codes.append(Code(id=entry["id"], parent=parent, **entry["fields"]))
        return codes

    def code_set(self, i: int, element: etree._Element, guids: dict[str, str], used: set[str]) -> CodeSet:
        description, set_id = split_id(_description(element))
        self.lines[("sets", i)] = element.sourceline
        members = []
        for j, member in enumerate(_elements(element, "MemberCode")):
            self.lines[("sets", i, "codes", j)] = member.sourceline
            # An unknown GUID is kept as written, so validation names it as a missing code.
            members.append(guids.get(guid_key(member.get("guid") or ""), member.get("guid") or ""))
        return CodeSet(id=set_id or slug(normalise_text(element.get("name") or ""), "set", used),
                       name=element.get("name") or "", description=description, codes=members,
                       guid=element.get("guid"))
