"""The codebook model: codes in a tree, code sets, stable REFI GUIDs, and validation."""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from coding.errors import CodebookError, Problem

# Fixed for good: a new namespace would give every exported code a new GUID, and MAXQDA or
# ATLAS.ti would then treat a re-exported codebook as entirely new codes.
CODE_NAMESPACE = uuid.UUID("0db9a3fe-5904-4161-a26f-06352e2ebae2")
# Sets get their own namespace so a set and a code with the same id never share a GUID.
SET_NAMESPACE = uuid.uuid5(CODE_NAMESPACE, "sets")

COLOR = re.compile(r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})")
GUID = re.compile(r"\{?[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}?")
# Characters XML 1.0 cannot hold at all; a codebook holding one could never be exported.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Keys into the `lines` map of validate(): ("codes", i), ("codes", i, field),
# ("codes", i, "anchors", j), ("sets", i), ("sets", i, field), ("sets", i, "codes", j);
# i is the position in Codebook.codes / Codebook.sets.
LineMap = dict[tuple, int]


def normalise_text(text: str) -> str:
    """Text as Codewerk stores it: NFC, `\\n` line endings, no surrounding white space."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def without_control_characters(text: str, replacement: str = "") -> str:
    """`text` without the characters XML 1.0 cannot carry (control characters, lone surrogates,
    non-characters), e.g. pasted from a PDF; each becomes `replacement`. Codebook files, REFI-QDA
    projects and Word documents are all XML."""
    return _NOT_XML.sub(replacement, text)


def _text(value):
    # Leaves wrong types alone so that validate() can name them instead of crashing here.
    return normalise_text(value) if isinstance(value, str) else value


def _optional(value):
    value = _text(value)
    return None if value == "" else value


def guid_key(guid: str) -> str:
    """A GUID in the one spelling used for comparing: lower case, no braces."""
    return guid.strip().strip("{}").lower()


def _own_guid(guid, namespace: uuid.UUID, item_id) -> str | None:
    # A stored GUID equal to the derived one says nothing more; dropping it keeps one spelling.
    guid = _optional(guid)
    if isinstance(guid, str) and isinstance(item_id, str) and guid_key(guid) == str(uuid.uuid5(namespace, item_id)):
        return None
    return guid


@dataclass
class Code:
    """One code of the codebook; `id` is stable across renames and exports."""

    id: str
    name: str
    parent: str | None = None
    color: str | None = None
    definition: str = ""
    anchors: list[str] = field(default_factory=list)
    include: str = ""
    exclude: str = ""
    memo: str = ""
    codable: bool = True
    guid: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "name", "definition", "include", "exclude", "memo"):
            setattr(self, name, _text(getattr(self, name)))
        self.parent, self.color = _optional(self.parent), _optional(self.color)
        if isinstance(self.anchors, (list, tuple)):
            self.anchors = [_text(anchor) for anchor in self.anchors]
        self.guid = _own_guid(self.guid, CODE_NAMESPACE, self.id)


@dataclass
class CodeSet:
    """A named group of codes (REFI Set, ATLAS.ti code group)."""

    id: str
    name: str
    description: str = ""
    codes: list[str] = field(default_factory=list)
    guid: str | None = None

    def __post_init__(self) -> None:
        self.id, self.name, self.description = _text(self.id), _text(self.name), _text(self.description)
        if isinstance(self.codes, (list, tuple)):
            self.codes = [_text(code_id) for code_id in self.codes]
        self.guid = _own_guid(self.guid, SET_NAMESPACE, self.id)


@dataclass
class Codebook:
    """The team's codebook; codes are kept in tree order (each code after its parent)."""

    name: str = ""
    description: str = ""
    codes: list[Code] = field(default_factory=list)
    sets: list[CodeSet] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name, self.description = _text(self.name), _text(self.description)
        # One canonical order makes YAML -> REFI (which nests codes) -> YAML give the same file.
        codes = list(self.codes)
        self.codes = [codes[i] for i in tree_order(codes)]
        self.sets = list(self.sets)

    def code(self, code_id: str) -> Code:
        """The code with this id; KeyError naming the id when there is none."""
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(f"no code with id {code_id!r} in the codebook {self.name!r}")

    def children(self, code_id: str) -> list[Code]:
        """The direct sub-codes of a code, in codebook order."""
        return [code for code in self.codes if code.parent == code_id]

    def roots(self) -> list[Code]:
        """The top-level codes, in codebook order."""
        return [code for code in self.codes if code.parent is None]

    def path(self, code_id: str) -> list[Code]:
        """The codes from the root down to this code (inclusive)."""
        path = [self.code(code_id)]
        # The id check stops at a cycle of parents instead of looping for ever.
        while path[0].parent is not None and path[0].parent not in {c.id for c in path}:
            path.insert(0, self.code(path[0].parent))
        return path

    def __len__(self) -> int:
        return len(self.codes)


def refi_guid(item: Code | CodeSet) -> str:
    """The GUID a code or set carries in REFI-QDA: its own, else derived from its id (stable)."""
    if item.guid:
        return item.guid
    namespace = SET_NAMESPACE if isinstance(item, CodeSet) else CODE_NAMESPACE
    return str(uuid.uuid5(namespace, item.id))


def tree_order(codes: list[Code]) -> list[int]:
    """Positions of `codes` in tree order: parents first, siblings as given, codes on a cycle last."""
    first: dict[str, int] = {}
    for i, code in enumerate(codes):
        if isinstance(code.id, str):
            first.setdefault(code.id, i)
    kids: dict[int, list[int]] = defaultdict(list)
    starts = []
    for i, code in enumerate(codes):
        if isinstance(code.parent, str) and code.parent in first:
            kids[first[code.parent]].append(i)
        else:
            starts.append(i)
    order: list[int] = []
    seen: set[int] = set()
    for start in starts:
        stack = [start]
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                order.append(i)
                stack.extend(reversed(kids[i]))
    return order + [i for i in range(len(codes)) if i not in seen]


def checked_codebook(source: str | Path, name: str, description: str, codes: list[Code],
                     sets: list[CodeSet], lines: LineMap, problems: list[Problem]) -> Codebook:
    """Build a codebook from a file's contents; CodebookError with every problem, in line order."""
    order = tree_order(codes)
    moved = {old: new for new, old in enumerate(order)}
    # Codebook() sorts codes into tree order; the line map must follow them.
    lines = {(key[:1] + (moved[key[1]],) + key[2:] if key[0] == "codes" else key): line
             for key, line in lines.items()}
    codebook = Codebook(name, description, [codes[i] for i in order], sets)
    problems = problems + validate(codebook, lines)
    if problems:
        problems.sort(key=lambda p: p.line if p.line is not None else float("inf"))
        raise CodebookError(source, problems)
    return codebook


def _line(lines: LineMap, key: tuple) -> int | None:
    # The most precise line known: the field's own, else its entry's.
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return None


def validate(codebook: Codebook, lines: LineMap | None = None) -> list[Problem]:
    """Every problem of a codebook (not just the first), with its line where `lines` knows it."""
    checker = _Checker(lines or {})
    checker.codes(codebook.codes)
    checker.sets(codebook.sets, codebook.codes)
    checker.guids(codebook)
    return checker.problems


class _Checker:
    """Collects problems; one method per part of the codebook."""

    def __init__(self, lines: LineMap) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def report(self, message: str, key: tuple, code_id: object = None) -> None:
        code_id = code_id if isinstance(code_id, str) and code_id else None
        if key[0] == "sets" and code_id:  # Problem has a slot for codes only; a set is named in the text
            message, code_id = f"set {code_id}: {message}", None
        self.problems.append(Problem(message, _line(self.lines, key), code_id))

    def text(self, value: object, label: str, key: tuple, code_id: object) -> bool:
        """Check one text field; False when it is not text at all."""
        if not isinstance(value, str):
            self.report(f"{label} must be text, not {type(value).__name__}", key, code_id)
            return False
        bad = _NOT_XML.search(value)
        if bad:
            self.report(f"{label} contains the control character U+{ord(bad.group()):04X}, which "
                        "codebook files cannot carry; remove it", key, code_id)
        return True

    def identity(self, kind: str, items: list, part: str) -> dict[str, int]:
        """Check ids and names of codes or sets; returns each id's first position."""
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            key = (part, i)
            if self.text(item.id, "the id", key + ("id",), None):
                if not item.id:
                    self.report(f"a {kind} has no id; give every {kind} a short stable id such as "
                                f"{'H1' if kind == 'code' else 'S1'}", key + ("id",))
                elif "\n" in item.id:
                    self.report("the id must stay on one line", key + ("id",), item.id)
                elif item.id in seen:
                    first = _line(self.lines, (part, seen[item.id]))
                    where = f" (first at line {first})" if first else ""
                    self.report(f"the id {item.id!r} is used by another {kind}{where}; ids must be unique",
                                key + ("id",), item.id)
                else:
                    seen[item.id] = i
            if self.text(item.name, "the name", key + ("name",), item.id) and not item.name:
                self.report(f"the {kind} has no name", key + ("name",), item.id)
            if item.guid is not None and not (isinstance(item.guid, str) and GUID.fullmatch(item.guid)):
                self.report(f"guid {item.guid!r} is not a GUID such as 1ff58b12-6f6f-4b0c-8be5-bbdc91f55294",
                            key + ("guid",), item.id)
        return seen

    def codes(self, codes: list[Code]) -> None:
        ids = self.identity("code", codes, "codes")
        for i, code in enumerate(codes):
            key = ("codes", i)
            for name in ("definition", "include", "exclude", "memo"):
                self.text(getattr(code, name), name, key + (name,), code.id)
            if code.parent is not None and self.text(code.parent, "parent", key + ("parent",), code.id) \
                    and code.parent not in ids:
                self.report(f"parent {code.parent!r} is not a code in this codebook",
                            key + ("parent",), code.id)
            if code.color is not None and not (isinstance(code.color, str) and COLOR.fullmatch(code.color)):
                self.report(f"colour {code.color!r} is not written #RRGGBB (e.g. #1F77B4) or #RGB",
                            key + ("color",), code.id)
            if not isinstance(code.codable, bool):
                self.report("codable must be true or false", key + ("codable",), code.id)
            if not isinstance(code.anchors, list):
                self.report("anchors must be a list of texts", key + ("anchors",), code.id)
            else:
                for j, anchor in enumerate(code.anchors):
                    self.text(anchor, f"anchor {j + 1}", key + ("anchors", j), code.id)
        self.cycles(codes, ids)

    def cycles(self, codes: list[Code], ids: dict[str, int]) -> None:
        parent = {code_id: codes[i].parent for code_id, i in ids.items()}
        done: set[str] = set()
        for code_id in ids:
            walk: list[str] = []
            current = code_id
            while isinstance(current, str) and current in parent and current not in done \
                    and current not in walk:
                walk.append(current)
                current = parent[current]
            if current in walk:
                cycle = walk[walk.index(current):]
                start = min(cycle, key=ids.__getitem__)
                ring = cycle[cycle.index(start):] + cycle[:cycle.index(start)] + [start]
                message = ("the code is its own parent" if len(cycle) == 1 else
                           f"the parents form a cycle: {' -> '.join(ring)}; one of them needs another parent")
                self.report(message, ("codes", ids[start], "parent"), start)
            done.update(walk)

    def sets(self, sets: list[CodeSet], codes: list[Code]) -> None:
        self.identity("set", sets, "sets")
        known = {code.id for code in codes}
        for i, code_set in enumerate(sets):
            key = ("sets", i)
            self.text(code_set.description, "the description", key + ("description",), code_set.id)
            if not isinstance(code_set.codes, list):
                self.report("codes must be a list of code ids", key + ("codes",), code_set.id)
                continue
            for j, code_id in enumerate(code_set.codes):
                if not isinstance(code_id, str):
                    self.report("code ids must be text", key + ("codes", j), code_set.id)
                elif code_id not in known:
                    self.report(f"names code {code_id!r}, which is not in the codebook",
                                key + ("codes", j), code_set.id)

    def guids(self, codebook: Codebook) -> None:
        # Only GUIDs taken over from other tools can collide: derived ones differ whenever ids do.
        # Derived ones are registered first, so a taken-over GUID is reported whatever the order.
        items = [(part, i, item) for part, group in (("codes", codebook.codes), ("sets", codebook.sets))
                 for i, item in enumerate(group)
                 if isinstance(item.id, str) and (item.guid is None or isinstance(item.guid, str))]
        owners: dict[str, str] = {}
        for part, i, item in sorted(items, key=lambda entry: entry[2].guid is not None):
            key = guid_key(refi_guid(item))
            if item.guid is not None and key in owners:
                self.report(f"guid {item.guid} is already the GUID of {owners[key]}",
                            (part, i, "guid"), item.id)
            owners.setdefault(key, f"{part[:-1]} {item.id}")
