"""Selection offsets of foreign REFI-QDA files -> positions in the text Codewerk stores.

REFI says positions count Unicode code points, but producers disagree: NVivo 12.6 (Windows) counts
UTF-16 code units (an emoji counts 2) and CRLF as two, other tools count a CRLF once. For each source
the reading is chosen that puts the most selection edges on word boundaries and matches the most
selection names (`@name`, the quoted text some producers write). The source text is then aligned
line by line with the normalised text Codewerk stores (NFC, `\\n`, no timestamps, no trailing blanks),
so every selection lands on the same words there.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

CODE_POINTS = "code points"
UTF16 = "UTF-16"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SPACE = re.compile(r"\s+")
_ELLIPSIS = ("…", "...")


@dataclass(frozen=True)
class Reading:
    """How a producer counted: in code points or UTF-16 units, and whether a CRLF counts as two."""

    unit: str = CODE_POINTS
    crlf_counts_two: bool = True

    def describe(self) -> str:
        return self.unit if self.crlf_counts_two else f"{self.unit}, CRLF = 1"


# Ties go to the spec's reading; the others follow in the order they are met in the wild.
READINGS = (Reading(CODE_POINTS, True), Reading(UTF16, True), Reading(CODE_POINTS, False), Reading(UTF16, False))


class Offsets:
    """Turns a producer's offsets, counted in one reading, into indices of the source text."""

    def __init__(self, source: str, reading: Reading) -> None:
        self.reading = reading
        # A CRLF counted once: remember where the dropped CRs were, in the shortened text's indices.
        crs = [m.start() for m in re.finditer("\r\n", source)] if not reading.crlf_counts_two else []
        self._dropped = [at - k for k, at in enumerate(crs)]
        text = source.replace("\r\n", "\n") if crs else source
        # Each character beyond U+FFFF takes two UTF-16 units: their UTF-16 starts, for bisecting.
        astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF] if reading.unit == UTF16 else []
        self._astral_units = [i + k for k, i in enumerate(astral)]
        self._text_length = len(text)

    def index(self, offset: int) -> int | None:
        """The source index of an offset; None when it is outside the text or splits a character."""
        k = bisect_left(self._astral_units, offset)
        if k and self._astral_units[k - 1] + 1 == offset:
            return None  # between the two halves of a surrogate pair
        position = offset - k
        if not 0 <= position <= self._text_length:
            return None
        return position + bisect_right(self._dropped, position)


def at_word_boundary(text: str, position: int) -> bool:
    """True when a selection edge at `position` does not cut a word in two."""
    if position <= 0 or position >= len(text):
        return True
    return not (text[position - 1].isalnum() and text[position].isalnum())


def _comparable(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def name_matches(name: str, selected: str) -> bool:
    """Does a selection's `@name` quote the selected text (whole, or its start followed by an ellipsis)?"""
    name, selected = _comparable(name), _comparable(selected)
    if not name:
        return False
    if name == selected:
        return True
    for ellipsis in _ELLIPSIS:
        if name.endswith(ellipsis) and len(name) > len(ellipsis) + 3:
            return selected.startswith(name[: -len(ellipsis)].rstrip())
    return False


def score(source: str, offsets: Offsets, selections: list[tuple[int, int, str]]) -> int:
    """How well a reading fits: a point per edge on a word boundary, four per matching name (a name
    is the producer's own word on what it selected, so it outweighs any guess from boundaries)."""
    total = 0
    for start, end, name in selections:
        a, b = offsets.index(start), offsets.index(end)
        if a is None or b is None or a >= b:
            continue
        total += at_word_boundary(source, a) + at_word_boundary(source, b)
        total += 4 * name_matches(name, source[a:b])
    return total


def _names_all_match(source: str, offsets: Offsets, selections: list[tuple[int, int, str]]) -> bool:
    named = [(start, end, name) for start, end, name in selections if name.strip()]
    for start, end, name in named:
        a, b = offsets.index(start), offsets.index(end)
        if a is None or b is None or not name_matches(name, source[a:b]):
            return False
    return bool(named)


def detect_reading(source: str, selections: list[tuple[int, int, str]]) -> Reading:
    """The reading under which these selections fit the source text best (ties: code points).

    When every named selection quotes its text under the spec's reading (as Codewerk's own exports
    do), that reading is taken without guessing.
    """
    if _names_all_match(source, Offsets(source, READINGS[0]), selections):
        return READINGS[0]
    best, best_score = READINGS[0], -1
    seen: set[tuple[bool, bool]] = set()
    has_crlf = "\r\n" in source
    has_astral = any(ord(ch) > 0xFFFF for ch in source)
    for reading in READINGS:
        # Readings that count this text alike give the same score; the first of them stands.
        key = (reading.unit == UTF16 and has_astral, not reading.crlf_counts_two and has_crlf)
        if key in seen:
            continue
        seen.add(key)
        value = score(source, Offsets(source, reading), selections)
        if value > best_score:
            best, best_score = reading, value
    return best


def _lines(text: str, breaks: re.Pattern[str]) -> tuple[list[str], list[int]]:
    lines, starts, position = [], [], 0
    for match in breaks.finditer(text):
        lines.append(text[position:match.start()])
        starts.append(position)
        position = match.end()
    lines.append(text[position:])
    starts.append(position)
    return lines, starts


def _column(source_line: str, target_line: str, column: int, is_end: bool,
            opcodes: dict[int, list[tuple[str, int, int, int, int]]], line: int) -> int:
    """Where a column of a source line lands in its target line: inside equal stretches exactly,
    in a changed stretch at its start (a selection start) or its end (a selection end)."""
    if source_line == target_line:
        return column
    if column >= len(source_line):
        return len(target_line)
    if is_end and column == 0:
        return 0
    probe = column - 1 if is_end else column  # an end is placed by the last character it includes
    if line not in opcodes:
        opcodes[line] = difflib.SequenceMatcher(None, source_line, target_line, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes[line]:
        if i1 <= probe < i2:
            if tag == "equal":
                return j1 + (column - i1)
            return j2 if is_end else j1
    return len(target_line)


class Alignment:
    """Maps indices of a source text onto the normalised text Codewerk stored from it."""

    def __init__(self, source: str, target: str) -> None:
        self.same = source == target
        self.source_lines, self.source_starts = _lines(source, _LINE_BREAK)
        self.target_lines, self.target_starts = _lines(target, re.compile("\n"))
        self.target_length = len(target)
        self.paired = len(self.source_lines) == len(self.target_lines)
        self._opcodes: dict[int, list[tuple[str, int, int, int, int]]] = {}  # per source line, made on demand
        if self.paired:
            # The txt reader keeps one line per source line: line i stays line i.
            self.line_of = list(range(len(self.source_lines)))
            self.line_end_of = self.line_of
        else:
            self.line_of, self.line_end_of = self._matched_lines()

    def _matched_lines(self) -> tuple[list[int], list[int]]:
        keys = [_comparable(line) for line in self.source_lines]
        targets = [_comparable(line) for line in self.target_lines]
        starts = [0] * len(keys)
        ends = [0] * len(keys)
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, keys, targets).get_opcodes():
            for i in range(i1, i2):
                if tag == "equal":
                    starts[i] = ends[i] = j1 + (i - i1)
                else:  # an unmatched line: its start goes to the stretch's first target line, its end to the last
                    starts[i], ends[i] = min(j1, len(targets) - 1), max(min(j2, len(targets)) - 1, 0)
        return starts, ends

    def position(self, index: int, *, is_end: bool) -> int:
        """The stored-text index for a source index (a selection start, or an exclusive end)."""
        if self.same:
            return index
        line = max(bisect_right(self.source_starts, index) - 1, 0)
        column = index - self.source_starts[line]
        source_line = self.source_lines[line]
        column = min(column, len(source_line))  # inside a line break: the end of the line
        target = (self.line_end_of if is_end else self.line_of)[line]
        target_line = self.target_lines[target]
        if not self.paired and _comparable(source_line) != _comparable(target_line):
            placed = len(target_line) if is_end else 0
        else:
            placed = _column(source_line, target_line, column, is_end, self._opcodes, line)
        return min(self.target_starts[target] + placed, self.target_length)


def place(alignment: Alignment, start: int, end: int) -> tuple[int, int] | None:
    """A source span as a span of the stored text, or None when nothing of it is left there."""
    a = alignment.position(start, is_end=False)
    b = alignment.position(end, is_end=True)
    return (a, b) if a < b else None
