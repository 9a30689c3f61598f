"""Reading coded passages for learning and evaluation: JSONL and CSV files, with clear errors.

`codewerk suggest --train` and `codewerk eval suggest --data` read these; both name the file and
the line of anything they cannot use.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from coding.errors import InputError

# A row of the cycling dialogues has a title and a text; some have only a title.
DEFAULT_FALLBACK = "title"


@dataclass
class Labelled:
    """A passage with its gold codes (usually one), for evaluation; `group` is its interview."""

    id: str
    text: str
    codes: tuple[str, ...]
    group: str | None = None
    context: str = ""


def json_lines(lines: Iterable[str], source: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line; InputError naming the line otherwise."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(source, f"line {number}: not valid JSON ({e.msg} at column {e.colno})",
                             'write one object a line, e.g. {"id": "1", "text": "..."}') from None
        if not isinstance(item, dict):
            raise InputError(source, f"line {number}: expected a JSON object, got {type(item).__name__}")
        for key in required:
            if key not in item:
                raise InputError(source, f"line {number}: the field {key!r} is missing",
                                 f"every line needs {', '.join(map(repr, required))}")
            if key != "id" and not isinstance(item[key], str):
                raise InputError(source, f"line {number}: the field {key!r} must be a string, "
                                 f"not {type(item[key]).__name__}")
        if "id" in item and not isinstance(item["id"], (str, int)):
            raise InputError(source, f"line {number}: the field 'id' must be a string or a number")
        if "context" in item and item["context"] is not None and not isinstance(item["context"], str):
            raise InputError(source, f"line {number}: the field 'context' must be a string")
        yield number, item


def _read_text(path: str | Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file", "check the path")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(path, f"is not UTF-8 text (byte {e.start})", "save it as UTF-8") from None


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file, with errors that name it."""
    return _read_text(path).splitlines()


def read_stdin_lines() -> list[str]:
    """Standard input as UTF-8 lines, whatever the console's encoding."""
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise InputError("<stdin>", f"is not UTF-8 text (byte {e.start})") from None


def read_coded(path: str | Path) -> list[dict]:
    """CODED.jsonl: one `{"id", "text", "code"}` object a line (optional "context")."""
    return [item for _, item in json_lines(read_lines(path), str(path), ("text", "code"))]


def load_labelled(path: str | Path, *, text: str = "text", label: str = "code", group: str | None = None,
                  fallback: str | None = DEFAULT_FALLBACK, id_field: str = "id",
                  context: str | None = "context") -> list[Labelled]:
    """Gold-coded passages from a CSV or JSONL file.

    Rows with an empty `text` use the `fallback` field (if the file has one). Rows with the same id
    (or, without ids, the same group and text) are one passage with several gold codes.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path)
    else:
        rows = [(n, item) for n, item in json_lines(read_lines(path), str(path), ())]
    if not rows:
        raise InputError(path, "holds no rows")
    merged: dict[tuple, Labelled] = {}
    for number, row in rows:
        for key in (text, label) + ((group,) if group else ()):
            if key not in row:
                raise InputError(path, f"line {number}: has no field {key!r}",
                                 f"it has {', '.join(map(repr, row))}; name the right one with --text/--label/--group")
        body = str(row[text] or "").strip() or (str(row.get(fallback) or "").strip() if fallback else "")
        code = str(row[label] or "").strip()
        if not body or not code:
            raise InputError(path, f"line {number}: {'no text' if not body else 'no code'}")
        where = str(row[group]) if group else None
        row_id = next((row[k] for k in (id_field, id_field.upper(), id_field.capitalize())
                       if row.get(k) not in (None, "")), None)
        key = ("id", str(row_id)) if row_id is not None else ("text", where, body)
        if key in merged:
            if code not in merged[key].codes:
                merged[key].codes += (code,)
            continue
        merged[key] = Labelled(str(row_id) if row_id is not None else f"{path.stem}:{number}", body, (code,), where,
                               str(row.get(context) or "") if context else "")
    return list(merged.values())


def _csv_rows(path: Path) -> list[tuple[int, dict]]:
    text = _read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    # csv counts physical lines; a quoted field may span several, so report the line it ends on.
    return [(reader.line_num, row) for row in reader]
