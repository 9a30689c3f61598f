"""Spans of a document as a browser shows and selects them: pieces to draw, offsets to trust.

Codewerk's offsets are Python `str` indices (code points), half-open. A browser counts in UTF-16
units, where an emoji or any other character outside the Basic Multilingual Plane counts 2; the
functions here convert between the two and re-check every selection a browser sends.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coding.errors import StoreError

# How far (in code points) a client's offsets may be off for checked_selection to look for the quote.
NEAR = 1000


@dataclass(frozen=True)
class Piece:
    """A stretch `[start, end)` of the text with the same turn and the same codings all through it.

    `coding_ids` are the codings covering the piece, ordered by where each coding starts (then by id),
    so a coding keeps its place among its neighbours from piece to piece. `turn` indexes the turns
    given to `pieces`, or is None for text outside every turn (header lines, speaker labels).
    """

    start: int
    end: int
    coding_ids: tuple[Any, ...]
    turn: int | None


def _get(item: Any, name: str) -> Any:
    """A field of a store row (dict) or of a model object (Turn, dataclass)."""
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def pieces(text: str, turns: Sequence[Any], codings: Iterable[Any]) -> list[Piece]:
    """Cut `text` into consecutive pieces at every turn boundary and every coding start and end.

    Args:
        text: the document text.
        turns: objects or dicts with `start` and `end` (`Turn`, rows of `Project.turns`).
        codings: objects or dicts with `id`, `start` and `end` (rows of `Project.codings`).

    Returns:
        Pieces covering `text` exactly, in order; empty for an empty text.

    Raises:
        StoreError: a turn or coding lies outside the text or is reversed.
    """
    spans = []
    for kind, items in (("turn", turns), ("coding", codings)):
        for position, item in enumerate(items):
            start, end = _get(item, "start"), _get(item, "end")
            name = f"turn {position}" if kind == "turn" else f"coding {_get(item, 'id')}"
            if not (0 <= start <= end <= len(text)):
                raise StoreError(f"{name} spans {start}-{end}, outside the document (0-{len(text)}); "
                                 "the document text and its spans are out of step: reload the document")
            spans.append((kind, position, start, end, item))
    if not text:
        return []

    cuts = sorted({0, len(text)} | {s[2] for s in spans} | {s[3] for s in spans})
    # Sweep left to right: a span is active on a piece when it starts at or before it and ends after.
    starts = sorted(spans, key=lambda s: s[2])
    active: dict[tuple[str, int], tuple[int, Any, Any]] = {}
    result: list[Piece] = []
    next_start = 0
    for a, b in zip(cuts, cuts[1:]):
        while next_start < len(starts) and starts[next_start][2] <= a:
            kind, position, start, end, item = starts[next_start]
            coding_id = _get(item, "id") if kind == "coding" else None
            active[(kind, position)] = (start, coding_id, end)
            next_start += 1
        for key in [k for k, (_, _, end) in active.items() if end <= a]:
            del active[key]
        turn = min((position for (kind, position) in active if kind == "turn"), default=None)
        covering = sorted(((start, coding_id) for (kind, _), (start, coding_id, _) in active.items()
                           if kind == "coding"), key=lambda c: (c[0], str(c[1])))
        result.append(Piece(a, b, tuple(coding_id for _, coding_id in covering), turn))
    return result


def utf16_length(s: str) -> int:
    """How many UTF-16 units JavaScript counts in `s` (`s.length`): characters beyond U+FFFF count 2."""
    return len(s) + sum(1 for char in s if ord(char) > 0xFFFF)


def index_to_utf16(text: str, index: int) -> int:
    """The JavaScript (UTF-16) offset of the Python index `index` into `text`."""
    if not 0 <= index <= len(text):
        raise ValueError(f"index {index} is outside the text (0-{len(text)})")
    return utf16_length(text[:index])


def utf16_to_index(text: str, u16_offset: int) -> int:
    """The Python index (code points) of the JavaScript (UTF-16) offset `u16_offset` into `text`.

    Raises:
        ValueError: the offset is outside the text or falls between the two halves of one character.
    """
    if not 0 <= u16_offset <= utf16_length(text):
        raise ValueError(f"UTF-16 offset {u16_offset} is outside the text (0-{utf16_length(text)})")
    units = index = 0
    while units < u16_offset:
        units += 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    if units != u16_offset:
        raise ValueError(f"UTF-16 offset {u16_offset} falls inside the character {text[index - 1]!r} "
                         f"at index {index - 1}")
    return index


def _nearest(text: str, quote: str, start: int, window: int) -> int | None:
    """Where `quote` occurs in `text` nearest to `start`, at most `window` code points away."""
    low, high = max(0, start - window), min(len(text), start + window + len(quote))
    best = None
    position = text.find(quote, low, high)
    while position != -1:
        if best is None or abs(position - start) < abs(best - start):
            best = position
        position = text.find(quote, position + 1, high)
    return best


def checked_selection(text: str, start: int, end: int, quote: str, *, window: int = NEAR) -> tuple[int, int]:
    """The offsets of a selection a browser sent, checked against the document text.

    `quote` is what the user saw selected; it must be `text[start:end]`. When it is not, the offsets
    are read as JavaScript UTF-16 offsets, and then the quote is looked for within `window` code
    points of `start` (nearest occurrence wins), so a client that counts differently still codes the
    words the user selected.

    Returns:
        The corrected `(start, end)`, with `text[start:end] == quote`.

    Raises:
        StoreError: the quote is empty or not in the text near the offsets.
    """
    if not quote:
        raise StoreError(f"the selection {start}-{end} is empty; select the words to code with the mouse")
    if 0 <= start < end <= len(text) and text[start:end] == quote:
        return start, end
    try:
        begin, finish = utf16_to_index(text, start), utf16_to_index(text, end)
    except ValueError:
        begin = finish = -1
    if finish > begin >= 0 and text[begin:finish] == quote:
        return begin, finish
    found = _nearest(text, quote, start, window)
    if found is None:
        shown = quote if len(quote) <= 60 else quote[:57] + "..."
        raise StoreError(f"the selected text {shown!r} is not in the document near {start}-{end}; "
                         "the document may have changed since the page was loaded: reload it and select again")
    return found, found + len(quote)


def trim_selection(text: str, start: int, end: int) -> tuple[int, int]:
    """The selection `[start, end)` without the white space at either end (empty: `(start, start)`)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def passage_at(segments: Sequence[Any], turns: Sequence[Any], offset: int) -> Any | None:
    """The segment a click at `offset` falls into, when a respondent says it (interviewers' questions
    are not coded); None between turns, in speaker labels and in header lines."""
    asking = {_get(turn, "id") for turn in turns if _get(turn, "role") == "interviewer"}
    for segment in segments:
        if _get(segment, "start") <= offset <= _get(segment, "end"):
            return None if _get(segment, "turn_id") in asking else segment
    return None
