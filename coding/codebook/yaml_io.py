"""The codebook's repository format, YAML: load with every problem and its line, dump readably."""
from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import MISSING, fields
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coding.codebook.model import Code, Codebook, CodeSet, LineMap, checked_codebook, validate
from coding.errors import (BinaryFileError, CodebookError, EmptyFileError, EncodingError,
                           FileTooLargeError, InputError, Problem)

# A codebook of a thousand richly documented codes is well under 5 MB; more is not a codebook.
MAX_BYTES = 5_000_000

# Keys in the order they are written, with what each must hold.
CODEBOOK_KEYS = {"name": "text", "description": "text", "codes": "codes", "sets": "sets"}
CODE_KEYS = {"id": "text", "name": "text", "parent": "text", "color": "text", "codable": "bool",
             "definition": "text", "anchors": "texts", "include": "text", "exclude": "text",
             "memo": "text", "guid": "text"}
# Fields that hold None rather than "" when empty.
OPTIONAL = ("parent", "color", "guid")
SET_KEYS = {"id": "text", "name": "text", "description": "text", "codes": "ids", "guid": "text"}


def read_codebook_bytes(path: str | Path) -> bytes:
    """The bytes of a codebook file, refusing what is missing, empty, huge or binary."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such codebook file" if not path.exists() else "is a folder, not a file",
                         "check the path")
    if path.stat().st_size > MAX_BYTES:
        raise FileTooLargeError(path, f"is {path.stat().st_size:,} bytes; a codebook is at most {MAX_BYTES:,}")
    data = path.read_bytes()
    if not data.strip():
        raise EmptyFileError(path, "the codebook file is empty", "a codebook needs at least `codes:` with one code")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BinaryFileError(path, "holds binary data, not a codebook")
    return data


def load_codebook(path: str | Path) -> Codebook:
    """Read a codebook: YAML (the repository format) or REFI-QDA `.qdc`."""
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        from coding.codebook.refi import import_qdc  # refi uses this module; importing late avoids a cycle
        return import_qdc(path)
    data = read_codebook_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EncodingError(path, f"is not UTF-8 text (byte {error.start})", "save it as UTF-8") from None
    return parse_codebook(text, path)


def parse_codebook(text: str, source: str | Path = "<codebook>") -> Codebook:
    """A codebook from YAML text; CodebookError lists every problem with its line."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            raise CodebookError(source, [_syntax_problem(error)]) from None
        except yaml.reader.ReaderError as error:
            line = text[:error.position].count("\n") + 1
            raise CodebookError(source, [Problem(f"the character U+{error.character:04X} is not allowed "
                                                 "in YAML; remove it", line)]) from None
        if root is None:
            raise EmptyFileError(source, "the codebook file holds only comments or white space",
                                 "a codebook needs at least `codes:` with one code")
        return _Reader(loader, text, source).codebook(root)
    finally:
        loader.dispose()


def _syntax_problem(error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    message = f"YAML syntax: {error.problem or error.context}"
    if error.problem and "mapping values are not allowed" in error.problem:
        message += "; a text containing ': ' must be put in quotes or written as a block (definition: >-)"
    return Problem(message, mark.line + 1 if mark else None)


def _describe(node: Node, value: object) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(value, str):
        return f"a text ({node.value})"
    if isinstance(value, bool):
        return f"true/false ({node.value})"
    return f"a number ({node.value})" if isinstance(value, (int, float)) else f"{type(value).__name__} ({node.value})"


def _empty(kind: str, name: str) -> object:
    # What a field holds when the file leaves it empty (`memo:`) or its value had to be refused.
    return True if kind == "bool" else (None if name in OPTIONAL else "")


class _Reader:
    """Turns the YAML node tree into model objects, recording lines and problems of types and keys."""

    def __init__(self, loader: yaml.SafeLoader, text: str, source: str | Path) -> None:
        self.loader, self.text_lines, self.source = loader, text.split("\n"), source
        self.lines: LineMap = {}
        self.problems: list[Problem] = []

    def report(self, message: str, node: Node, code_id: str | None = None) -> None:
        self.problems.append(Problem(message, node.start_mark.line + 1, code_id or None))

    def codebook(self, root: Node) -> Codebook:
        if not isinstance(root, MappingNode):
            raise CodebookError(self.source, [Problem(
                "a codebook is a mapping with the keys name, description, codes and sets, "
                f"not {_describe(root, root.value)}", root.start_mark.line + 1)])
        top = self.mapping(root, CODEBOOK_KEYS, "the codebook", None)
        name = self.value(top.get("name"), "text", "name", None)
        description = self.value(top.get("description"), "text", "description", None)
        codes = [Code(**entry) for entry in self.entries(top.get("codes"), "codes", CODE_KEYS)]
        sets = [CodeSet(**entry) for entry in self.entries(top.get("sets"), "sets", SET_KEYS)]
        return checked_codebook(self.source, name, description, codes, sets, self.lines, self.problems)

    def mapping(self, node: MappingNode, allowed: dict, what: str, code_id: str | None) -> dict[str, Node]:
        """The values of a mapping by key, reporting unknown and repeated keys."""
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key in found:
                self.report(f"the key {key!r} appears twice in {what}; keep one", key_node, code_id)
            elif key in allowed:
                found[key] = value_node
            else:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.report(f"unknown key {key!r} in {what}{hint}; allowed keys: {', '.join(allowed)}",
                            key_node, code_id)
        return found

    def entries(self, node: Node | None, part: str, keys: dict) -> list[dict]:
        """Keyword arguments for each code (or set) of a list, with their lines recorded."""
        if node is None or (isinstance(node, ScalarNode) and node.tag.endswith(":null")):
            return []
        kind = part[:-1]
        if not isinstance(node, SequenceNode):
            self.report(f"{part} must be a list, each {kind} starting with '- id: ...'", node)
            return []
        result = []
        for item in node.value:
            if not isinstance(item, MappingNode):
                self.report(f"each entry of {part} must be a mapping with at least id and name", item)
                continue
            key = (part, len(result))
            self.lines[key] = item.start_mark.line + 1
            id_node = dict((k.value, v) for k, v in item.value if isinstance(k, ScalarNode)).get("id")
            # Only codes are named in Problem.code_id; a set is named in the message instead.
            code_id = id_node.value if isinstance(id_node, ScalarNode) and part == "codes" else None
            label = id_node.value if isinstance(id_node, ScalarNode) else None
            found = self.mapping(item, keys, f"{kind} {label}" if label else f"a {kind}", code_id)
            entry = {"id": "", "name": ""}  # missing ones are named by validate(), not a TypeError
            for name, value_node in found.items():
                self.lines[key + (name,)] = value_node.start_mark.line + 1
                entry[name] = self.value(value_node, keys[name], name, code_id, key + (name,))
            result.append(entry)
        return result

    def value(self, node: Node | None, kind: str, name: str, code_id: str | None, key: tuple = ()):
        """The Python value of one field, or its default after reporting a wrong type."""
        if node is None:
            return ""
        if kind in ("texts", "ids"):
            return self.items(node, kind, name, code_id, key)
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as error:  # e.g. a !!python/object tag, which the safe loader refuses
            self.report(f"{name}: {getattr(error, 'problem', error)}; write plain text instead", node, code_id)
            return _empty(kind, name)
        if value is None:
            if name == "color" and "#" in self.text_lines[node.start_mark.line].partition(":")[2]:
                self.report('an unquoted # starts a comment in YAML; write the colour in quotes: color: "#1F77B4"',
                            node, code_id)
            return _empty(kind, name)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            self.report(f"{name} must be true or false, not {_describe(node, value)}", node, code_id)
            return True
        if isinstance(value, str):
            return value
        if isinstance(node, ScalarNode):
            self.report(f"{name} must be text, not {_describe(node, value)}; put it in quotes: "
                        f'{name}: "{node.value}"', node, code_id)
            # The scalar as written stands in, so a quoting slip in an id is not also an unknown parent.
            return node.value
        self.report(f"{name} must be text, not {_describe(node, value)}", node, code_id)
        return ""

    def items(self, node: Node, kind: str, name: str, code_id: str | None, key: tuple) -> list[str]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, SequenceNode):
            example = "[H1, H2]" if kind == "ids" else "one per line, each starting with '- '"
            self.report(f"{name} must be a list ({example})", node, code_id)
            return []
        result = []
        for j, item in enumerate(node.value):
            self.lines[key + (j,)] = item.start_mark.line + 1
            result.append(self.value(item, "text", f"{name} item {j + 1}", code_id))
        return result


class _Dumper(yaml.SafeDumper):
    """Writes list items indented under their key, as people write them by hand, and never aliases."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data) -> bool:
        return True


class _Flow(list):
    """A list written inline: `codes: [H1, H2]`."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # Block styles keep long and multi-line texts readable in diffs; PyYAML falls back to quotes
    # by itself where a block cannot hold the text exactly.
    style = "|" if "\n" in text else (">" if len(text) > 80 else None)
    if any(mark in text for mark in "\x85\u2028\u2029"):
        style = '"'  # YAML reads these as line breaks and folds them unless they are escaped

    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", data, flow_style=True))


def _defaults(cls: type) -> dict:
    return {f.name: f.default if f.default is not MISSING else f.default_factory()
            for f in fields(cls) if f.default is not MISSING or f.default_factory is not MISSING}


def _entry(item: Code | CodeSet, keys: dict) -> dict:
    # id and name always; everything else only when it differs from the default.
    defaults = _defaults(type(item))
    entry = {}
    for name in keys:
        value = getattr(item, name)
        if name not in defaults or value != defaults[name]:
            entry[name] = _Flow(value) if keys[name] == "ids" else value
    return entry


def dump_codebook(codebook: Codebook) -> str:
    """The codebook as readable YAML in the repository format."""
    data: dict = {}
    if codebook.name:
        data["name"] = codebook.name
    if codebook.description:
        data["description"] = codebook.description
    data["codes"] = [_entry(code, CODE_KEYS) for code in codebook.codes]
    if codebook.sets:
        data["sets"] = [_entry(code_set, SET_KEYS) for code_set in codebook.sets]
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=88)


def save_codebook(codebook: Codebook, path: str | Path) -> None:
    """Write a valid codebook as YAML, or as REFI-QDA when the path ends in `.qdc`."""
    path = Path(path)
    problems = validate(codebook)
    if problems:
        raise CodebookError(path, problems)
    if path.suffix.lower() == ".qdc":
        from coding.codebook.refi import export_qdc
        data = export_qdc(codebook)
    else:
        data = dump_codebook(codebook).encode("utf-8")
    # Write beside the target and rename, so a crash never leaves a half-written codebook.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
