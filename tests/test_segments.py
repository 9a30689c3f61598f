"""Segments: exact offsets, sentence groups of at most about 120 words, one segment per short turn."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coding import read_transcript, split_segments
from coding.transcripts.conventions import SourceLine, parse_lines
from coding.transcripts.model import Transcript, Turn

WORDS = ["Wohnung", "Sprachkurs", "äh", "Förderung", "Quartier", "(.)", "(lacht)", "Straße", "Kita", "ne?",
         "Jobcenter", "😊", "Größe", "weiß", "also", "𝔘nicode", "Miete,", "400", "Euro."]
sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ".")
turn_text = st.lists(sentence, min_size=1, max_size=25).map(" ".join)
label = st.sampled_from(["I", "B", "B1", "IP", "Herr Öztürk", "Frau Dr. Lange", "Interviewerin"])
stamp = st.sampled_from(["", " #00:03:17-2#", " [00:12:40]", " (01:02:03)"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(label, turn_text, stamp), min_size=1, max_size=8))
def test_every_turn_and_segment_slices_back_to_its_content(turns):
    lines = []
    for speaker, words, time in turns:
        lines += [f"{speaker}: {words}{time}", ""]
    text, parsed, _ = parse_lines([SourceLine(line) for line in lines])
    assert [t.speaker for t in parsed] == [s for s, _, _ in turns]
    for turn, (_, words, _) in zip(parsed, turns):
        assert text[turn.start:turn.end] == words
    transcript = Transcript(text, parsed)
    segments = split_segments(transcript)
    for seg in segments:
        content = text[seg.start:seg.end]
        turn = parsed[seg.turn]
        assert turn.start <= seg.start < seg.end <= turn.end
        assert content == content.strip() and content
    # Segments of a turn cover it in order without overlap, and lose no word.
    for i, turn in enumerate(parsed):
        mine = [s for s in segments if s.turn == i]
        assert [s.start for s in mine] == sorted(s.start for s in mine)
        assert all(a.end <= b.start for a, b in zip(mine, mine[1:]))
        joined = " ".join(text[s.start:s.end] for s in mine)
        assert joined.split() == text[turn.start:turn.end].split()


def test_a_short_turn_is_one_segment_and_a_long_one_is_cut_between_sentences():
    short = "Die Mieten sind zu hoch."
    long = " ".join(f"Das ist Satz Nummer {i} über die Wohnungssuche im Quartier und die Schufa." for i in range(60))
    text = f"B: {short}\n\nB: {long}"
    transcript = Transcript(text, [Turn("B", None, 3, 3 + len(short)), Turn("B", None, 3 + len(short) + 5, len(text))])
    segments = split_segments(transcript)
    assert [text[s.start:s.end] for s in segments if s.turn == 0] == [short]
    parts = [text[s.start:s.end] for s in segments if s.turn == 1]
    counts = [len(p.split()) for p in parts]
    assert len(parts) >= 5 and max(counts) <= 125
    assert max(counts) - min(counts) <= 15  # balanced, no tiny remainder
    assert all(p.startswith("Das ist Satz") and p.endswith("Schufa.") for p in parts)


def test_segments_of_a_real_file(f4_file):
    transcript = read_transcript(f4_file)
    segments = split_segments(transcript)
    assert len(segments) == len(transcript.turns)
    assert transcript.text[segments[1].start:segments[1].end].startswith("Also (.) seit 2022")
