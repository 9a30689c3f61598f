"""Spans as the browser sees them: pieces for drawing overlapping codings, UTF-16 offsets, checked selections."""
from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from coding.errors import StoreError
from coding.spans import (
    Piece,
    checked_selection,
    index_to_utf16,
    passage_at,
    pieces,
    trim_selection,
    utf16_length,
    utf16_to_index,
)

# Umlauts, a combining accent, emoji (one astral character; a family joined by zero-width joiners),
# white space and a CJK character: everything that makes code points, UTF-16 units and glyphs differ.
ALPHABET = ["a", "b", "c", " ", "\n", "ä", "Ö", "ß", "e\u0301", "😀", "👩\u200d👩\u200d👧", "中", "\t"]
texts = st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join)


@st.composite
def documents(draw):
    """A text, non-overlapping turns in order, and codings that may overlap each other and the turns."""
    text = draw(texts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    turns = [{"start": a, "end": b} for a, b in zip(cuts[0::2], cuts[1::2])]
    codings = []
    for i, (a, b) in enumerate(draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text))),
                                             max_size=6))):
        if a != b:
            codings.append({"id": i + 1, "start": min(a, b), "end": max(a, b)})
    return text, turns, codings


@given(documents())
def test_pieces_cover_the_text_in_order_with_the_codings_and_turn_of_every_character(document):
    text, turns, codings = document
    cut = pieces(text, turns, codings)
    if not text:
        assert cut == []
        return
    assert cut[0].start == 0 and cut[-1].end == len(text)
    assert all(p.start < p.end for p in cut)
    assert all(a.end == b.start for a, b in zip(cut, cut[1:]))
    for p in cut:
        for i in range(p.start, p.end):
            assert set(p.coding_ids) == {c["id"] for c in codings if c["start"] <= i < c["end"]}
            covering = [n for n, t in enumerate(turns) if t["start"] <= i < t["end"]]
            assert p.turn == (covering[0] if covering else None)
        starts = [next(c["start"] for c in codings if c["id"] == i) for i in p.coding_ids]
        assert starts == sorted(starts)  # a coding keeps its place among its neighbours


@given(documents())
def test_pieces_are_cut_exactly_at_turn_and_coding_edges(document):
    text, turns, codings = document
    assume(text)
    cut = pieces(text, turns, codings)
    edges = {p.start for p in cut} | {p.end for p in cut}
    assert edges == {0, len(text)} | {s[k] for s in turns + codings for k in ("start", "end")}


def test_overlapping_codings_split_into_pieces_a_renderer_can_draw_directly():
    text = "I: Wir wohnen hier gern. B: Ja."
    turns = [{"start": 3, "end": 24}, {"start": 28, "end": 31}]
    codings = [{"id": 7, "start": 7, "end": 18}, {"id": 3, "start": 14, "end": 24}]
    assert pieces(text, turns, codings) == [
        Piece(0, 3, (), None), Piece(3, 7, (), 0), Piece(7, 14, (7,), 0), Piece(14, 18, (7, 3), 0),
        Piece(18, 24, (3,), 0), Piece(24, 28, (), None), Piece(28, 31, (), 1)]


def test_turns_and_codings_are_read_from_objects_as_well_as_store_rows():
    from coding import Turn

    cut = pieces("abcdef", [Turn("B", "respondent", 1, 5)], [{"id": "x", "start": 2, "end": 3}])
    assert [(p.start, p.end, p.coding_ids, p.turn) for p in cut] == [
        (0, 1, (), None), (1, 2, (), 0), (2, 3, ("x",), 0), (3, 5, (), 0), (5, 6, (), None)]


def test_a_coding_outside_the_text_is_a_clear_error():
    with pytest.raises(StoreError, match=r"coding 9 spans 2-12, outside the document \(0-6\)"):
        pieces("abcdef", [], [{"id": 9, "start": 2, "end": 12}])


@given(texts)
def test_utf16_offsets_round_trip_on_every_character_boundary(text):
    assert utf16_length(text) == len(text.encode("utf-16-le")) // 2
    boundaries = [index_to_utf16(text, i) for i in range(len(text) + 1)]
    for i, u in enumerate(boundaries):
        assert utf16_to_index(text, u) == i
        assert index_to_utf16(text, utf16_to_index(text, u)) == u
    for u in set(range(utf16_length(text) + 1)) - set(boundaries):
        with pytest.raises(ValueError, match="falls inside the character"):
            utf16_to_index(text, u)


def test_utf16_counts_as_javascript_does():
    text = "😀 Grüße, 👩\u200d👩\u200d👧!"
    # JavaScript: "😀 Grüße, 👩‍👩‍👧!".length == 19; the family is 3 emoji (2 units each) and 2 joiners
    assert utf16_length(text) == 19 and len(text) == 15
    assert index_to_utf16(text, text.index("G")) == 3
    assert utf16_to_index(text, 18) == text.index("!")
    with pytest.raises(ValueError, match="outside the text"):
        utf16_to_index(text, 20)


@given(texts, st.data())
def test_checked_selection_accepts_a_selection_that_slices_to_its_quote(text, data):
    assume(text)
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    assert checked_selection(text, start, end, text[start:end]) == (start, end)


@given(texts, texts, st.data())
def test_checked_selection_repairs_offsets_counted_in_utf16_units(before, selected, data):
    text = before + selected + "."
    assume(selected)
    start, end = len(before), len(before) + len(selected)
    # what a client counting JavaScript string positions sends: shifted by the astral characters before
    sent = index_to_utf16(text, start), index_to_utf16(text, end)
    begin, finish = checked_selection(text, *sent, selected)
    assert text[begin:finish] == selected
    if text.count(selected) == 1:
        assert (begin, finish) == (start, end)


@given(texts, st.integers(-30, 30))
def test_checked_selection_finds_a_shifted_quote_nearby(text, shift):
    text = "Anfang. " + text + " Das Quartiersbüro ist eine Andockstelle. " + text
    start = text.index("Quartiersbüro")
    quote = "Quartiersbüro ist"
    assert checked_selection(text, start + shift, start + shift + len(quote), quote) == (start, start + len(quote))


def test_checked_selection_prefers_the_occurrence_nearest_to_the_offsets():
    text = "ja 😀😀 ja 😀 ja"
    third = text.rindex("ja")
    assert checked_selection(text, third + 1, third + 3, "ja") == (third, third + 2)


@given(texts)
def test_checked_selection_refuses_a_quote_that_is_not_there(text):
    with pytest.raises(StoreError, match="is not in the document near 0-4; .* reload it and select again"):
        checked_selection(text, 0, 4, "§§§§")


def test_checked_selection_refuses_an_empty_quote():
    with pytest.raises(StoreError, match="empty"):
        checked_selection("abc", 1, 1, "")


def test_checked_selection_looks_only_near_the_offsets():
    text = "Wohnung " + "x" * 5000 + " Ende"
    with pytest.raises(StoreError, match="not in the document near 5005-5012"):
        checked_selection(text, 5005, 5012, "Wohnung")


@given(texts, st.data())
def test_trim_selection_strips_white_space_at_either_end_only(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    begin, finish = trim_selection(text, start, end)
    assert start <= begin <= finish <= end
    assert text[begin:finish] == text[start:end].strip()


def test_a_click_finds_the_respondents_passage_under_it_but_never_a_question():
    turns = [{"id": 1, "role": "interviewer", "start": 3, "end": 20},
             {"id": 2, "role": "respondent", "start": 24, "end": 80}]
    segments = [{"id": 10, "turn_id": 1, "start": 3, "end": 20},
                {"id": 11, "turn_id": 2, "start": 24, "end": 50}, {"id": 12, "turn_id": 2, "start": 51, "end": 80}]
    assert passage_at(segments, turns, 30)["id"] == 11
    assert passage_at(segments, turns, 50)["id"] == 11  # just after its last character
    assert passage_at(segments, turns, 51)["id"] == 12
    assert passage_at(segments, turns, 10) is None  # the interviewer's question
    assert passage_at(segments, turns, 22) is None  # a speaker label between turns
