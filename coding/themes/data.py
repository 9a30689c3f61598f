"""Reading coded segments for `codewerk themes`: one JSON object a line, checked before anything runs.

A line is `{"id", "text", "code", "stakeholder"}` with an optional `"document"` (the interview). Every
problem names the source and the line, and nothing is clustered until every line is good.
"""
from __future__ import annotations

from collections.abc import Iterable

from coding.errors import InputError
from coding.suggest.data import json_lines
from coding.themes.model import Segment

REQUIRED = ("id", "text", "code", "stakeholder")


def read_segments(lines: Iterable[str], source: str) -> list[Segment]:
    """Segments from JSON lines; InputError naming the line for a bad field, an empty text or a repeated id."""
    segments: list[Segment] = []
    first_line: dict[str, int] = {}
    for number, item in json_lines(lines, source, REQUIRED):
        segment_id = str(item["id"])
        if segment_id in first_line:
            raise InputError(source, f"line {number}: the id {segment_id!r} was already used on line "
                             f"{first_line[segment_id]}", "every segment needs its own id")
        first_line[segment_id] = number
        if not item["text"].strip():
            raise InputError(source, f"line {number}: the text is empty")
        document = item.get("document")
        if document is not None and not isinstance(document, (str, int)):
            raise InputError(source, f"line {number}: the field 'document' must be a string or a number, "
                             f"not {type(document).__name__}")
        segments.append(Segment(segment_id, item["text"], item["code"] or None, item["stakeholder"] or None,
                                str(document) if document is not None else None))
    return segments
