"""The transcript view: speaker turns with overlapping coded spans, and exact text selection.

A Streamlit custom component (components v2, inline HTML/CSS/JS, no build step). Python cuts the
text into pieces (`coding.spans.pieces`); the browser draws them and reports what the user selects as
code-point offsets, which are checked against the text here before anyone stores them.
"""
from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import streamlit as st

from coding.errors import StoreError
from coding.spans import Piece, checked_selection, pieces, trim_selection
from coding.timefmt import clock
from ui.colors import display_color

HERE = Path(__file__).resolve().parent
_component = st.components.v2.component(
    "codewerk_transcript",
    css=(HERE / "transcript.css").read_text(encoding="utf-8"),
    js=(HERE / "transcript.js").read_text(encoding="utf-8"),
)


@dataclass(frozen=True)
class TranscriptEvent:
    """What the user did in the transcript view.

    `selection` is `(start, end, quote)` in code points, checked against the text and trimmed of
    surrounding white space (it stays until the user selects again or clicks uncoded text);
    `clicked` is `(coding_ids, offset)` for one run after a click on a highlight; `cursor` the offset
    of the last click on uncoded text (until the user selects or clicks a highlight).
    """

    selection: tuple[int, int, str] | None
    clicked: tuple[tuple[Any, ...], int] | None
    cursor: int | None = None


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def _rgb(color: str | None, position: int) -> list[int]:
    """A code's display colour as [r, g, b] (see ui.colors)."""
    digits = display_color(color, position)[1:]
    return [int(digits[i:i + 2], 16) for i in (0, 2, 4)]


def lanes(codings: Sequence[Any]) -> dict[Any, int]:
    """A lane per coding (0, 1, ...) so that codings sharing any character have different lanes.

    Greedy in order of start: a coding takes the lowest lane free where it starts, so it keeps its
    band (top to bottom) in every piece even as other codings begin and end beside it.
    """
    lane_ends: list[int] = []
    result = {}
    for c in sorted(codings, key=lambda c: (_field(c, "start"), -_field(c, "end"), str(_field(c, "id")))):
        free = next((lane for lane, end in enumerate(lane_ends) if end <= _field(c, "start")), len(lane_ends))
        if free == len(lane_ends):
            lane_ends.append(0)
        lane_ends[free] = _field(c, "end")
        result[_field(c, "id")] = free
    return result


def _rows(text: str, group: Sequence[Piece], low: int, high: int) -> list[list[Any]]:
    """The pieces of `group` clipped to `[low, high)`, as [start, text, coding ids]."""
    rows = []
    for p in group:
        start, end = max(p.start, low), min(p.end, high)
        if start < end:
            rows.append([start, text[start:end], list(p.coding_ids)])
    return rows


def _outside_blocks(text: str, group: Sequence[Piece], label: str | None) -> list[dict[str, Any]]:
    """Text outside the turns: white space and the next turn's speaker label are hidden (the left
    column shows the speaker); anything else (header lines, notes) is shown dimmed."""
    low, high = group[0].start, group[-1].end
    region = text[low:high]
    visible_low = low + len(region) - len(region.lstrip())
    suffix = r"\s*(?:" + re.escape(label) + r"\s*:?\s*)?\Z" if label else r"\s*\Z"
    visible_high = max(visible_low, low + re.search(suffix, region).start())
    if visible_low == visible_high:
        return [{"kind": "hidden", "pieces": _rows(text, group, low, high)}]
    blocks = [{"kind": "hidden", "pieces": _rows(text, group, low, visible_low)},
              {"kind": "outside", "pieces": _rows(text, group, visible_low, visible_high)},
              {"kind": "hidden", "pieces": _rows(text, group, visible_high, high)}]
    return [b for b in blocks if b["pieces"]]


def _blocks(text: str, turns: Sequence[Any], cut: list[Piece]) -> list[dict[str, Any]]:
    if not turns:
        return [{"kind": "plain", "pieces": _rows(text, cut, 0, len(text))}] if text else []
    blocks: list[dict[str, Any]] = []
    groups = [(turn, list(group)) for turn, group in itertools.groupby(cut, key=lambda p: p.turn)]
    for position, (turn, group) in enumerate(groups):
        if turn is None:
            following = groups[position + 1][0] if position + 1 < len(groups) else None
            label = _field(turns[following], "speaker") if following is not None else None
            blocks.extend(_outside_blocks(text, group, label))
        else:
            t = turns[turn]
            blocks.append({"kind": "turn", "speaker": _field(t, "speaker"), "role": _field(t, "role"),
                           "time": clock(_field(t, "timestamp")), "pieces": _rows(text, group, 0, len(text))})
    return blocks


def transcript_data(text: str, turns: Sequence[Any], codings: Sequence[Any], codes: Sequence[Mapping[str, Any]],
                    *, selected_coding: Any = None, height: int = 600) -> dict[str, Any]:
    """Everything the browser needs to draw the transcript (JSON-ready; no HTML in it)."""
    lane = lanes(codings)
    # within a piece, codings in lane order: each keeps its band (top to bottom) all along
    cut = [replace(p, coding_ids=tuple(sorted(p.coding_ids, key=lane.__getitem__)))
           for p in pieces(text, turns, codings)]
    counts = Counter(_field(c, "code_id") for c in codings)
    return {
        "blocks": _blocks(text, turns, cut),
        "codings": [{"id": _field(c, "id"), "code": _field(c, "code_id"), "memo": _field(c, "memo") or "",
                     "start": _field(c, "start")} for c in codings],
        "codes": {str(code["id"]): {"name": code.get("name") or str(code["id"]), "rgb": _rgb(code.get("color"), i)}
                  for i, code in enumerate(codes)},
        "legend": [{"code": code["id"], "count": counts[code["id"]]} for code in codes if counts[code["id"]]],
        "selected": selected_coding,
        "height": int(height),
    }


def _selection(text: str, raw: Any) -> tuple[int, int, str] | None:
    """The browser's selection, checked against the text and trimmed; None when there is none."""
    if not isinstance(raw, Mapping):
        return None
    start, end, quote = raw.get("start"), raw.get("end"), raw.get("quote")
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(quote, str)):
        return None
    start, end = trim_selection(text, *checked_selection(text, start, end, quote))
    return (start, end, text[start:end]) if start < end else None


def _clicked(codings: Sequence[Any], raw: Any) -> tuple[tuple[Any, ...], int] | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("offset"), int):
        return None
    known = {str(_field(c, "id")): _field(c, "id") for c in codings}
    ids = tuple(known[str(i)] for i in raw.get("coding_ids") or [] if str(i) in known)
    return (ids, raw["offset"]) if ids else None


def transcript_view(text: str, turns: Sequence[Any], codings: Sequence[Any], codes: Sequence[Mapping[str, Any]], *,
                    key: str, selected_coding: Any = None, height: int = 600) -> TranscriptEvent | None:
    """Show a transcript with its codings; return what the user selected or clicked (None: nothing).

    Args:
        text: the document text.
        turns: `Turn`s or rows of `Project.turns` (speaker, role, start, end, timestamp).
        codings: rows of `Project.codings` (id, start, end, code_id, memo).
        codes: dicts with id, name and color (rows of `Project.codes`).
        key: the widget key (one per document view).
        selected_coding: the id of a coding to emphasise and scroll to.
        height: the height of the scrolling text area in pixels.
    """
    data = transcript_data(text, turns, codings, codes, selected_coding=selected_coding, height=height)
    result = _component(key=key, data=data, default={"selection": None, "cursor": None}, height="content",
                        on_selection_change=lambda: None, on_clicked_change=lambda: None,
                        on_cursor_change=lambda: None)
    try:
        selection = _selection(text, result.get("selection"))
    except StoreError as e:
        st.warning(str(e))
        selection = None
    clicked = _clicked(codings, result.get("clicked"))
    raw_cursor = result.get("cursor")
    cursor = raw_cursor.get("offset") if isinstance(raw_cursor, Mapping) else None
    cursor = cursor if isinstance(cursor, int) and 0 <= cursor <= len(text) else None
    if selection is None and clicked is None and cursor is None:
        return None
    return TranscriptEvent(selection, clicked, cursor)
