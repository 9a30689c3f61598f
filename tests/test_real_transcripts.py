"""Real spoken German at length: three Magdeburg city-council sessions (StadtratWatch, CC0, machine
speech-to-text with real transcription errors) written into every format Codewerk reads, then read back.

The files are written by bench/magdeburg.py, the one place that turns the council data into transcripts
(the benchmarks use the same files). The data stays in shared/ beside the repository (it is not copied
into the repository); without it these tests are skipped. What is checked is what a researcher would
notice: the same speakers in the same order, one turn per speech (in subtitles: per run of one speaker),
the right time, every word.

What the files say (bench/magdeburg.py):
- txt (f4): a header block (title, `Datum:`, `Ort:`), then per speech `Name: first paragraph`, further
  paragraphs unlabelled, and the f4 stamp `#hh:mm:ss-t#` at the end of the speech's last paragraph with
  the time the speech ends (start_s + duration_s). f4 stamps mark a turn's end, so that is the turn's time.
- docx: a heading and a `Datum:` paragraph (no `Ort`), `Name:` in a bold run, the same end stamps.
- vtt: cues of about twelve words, each with a voice tag, times spread over the speech: a speech's first
  cue starts at start_s.
- srt: the same cues, `Name: ` only where the speaker changes.

Why these sessions: they are the shortest full sessions (fast), and together they hold what makes real
transcripts hard:
- 2024-07-08 has seven places where one speaker has two consecutive speeches (the chair, mostly): in
  txt/docx each speech has its own label and stays its own turn; in subtitles consecutive cues of one
  speaker are one turn, so there they merge, and the merged turn keeps the first speech's time.
  It also runs for over three hours, so stamps carry hours.
- 2025-04-04 has paragraphs that open with a phrase and a colon ("Zum Schluss vielleicht noch etwas: Es
  ist ..."); an unlabelled paragraph continues the same speaker, it must not become a new speaker.
  Its speakers include academic titles and double names ("Dr. Kathrin Meyer-Pinger").
- most speeches in all three have several paragraphs (blank lines in the source text), written as
  unlabelled paragraphs after the first; speaker names are "First Last", shaped like `Key: value` header
  lines, so each text file also has a real header block (title, Datum, Ort) the reader must tell apart.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from bench.magdeburg import DATA, FORMATS, load_sessions, paragraphs, write_session
from coding import read_transcript
from tests.fixtures.transcripts import checks

SESSIONS = ("2024-03-11", "2024-07-08", "2025-04-04")

pytestmark = [
    pytest.mark.slow,  # loads real data (still fast: about two seconds)
    pytest.mark.skipif(
        not DATA.exists(),
        reason=f"real transcripts not available: {DATA} missing (shared/ lives beside the repository)",
    ),
]


@lru_cache(maxsize=1)
def sessions() -> dict[str, list[dict]]:
    """The chosen sessions' speeches, in order."""
    return {session: turns for session, turns in load_sessions().items() if session in SESSIONS}


def header(session: str, fmt: str) -> dict[str, str | None]:
    """The header bench/magdeburg.py writes, as metadata: the Word file has no `Ort:` line."""
    return {"title": f"Stadtratssitzung Magdeburg {session}", "Datum": session,
            "Ort": "Magdeburg, Ratssaal" if fmt == "txt" else None}


def expected_turns(rows: list[dict], fmt: str) -> list[tuple[str, float, str]]:
    """(speaker, timestamp, words) per turn. txt/docx: one turn per speech, timed by the f4 stamp at its
    end. Subtitles: consecutive speeches of one speaker are one turn that keeps the first speech's start."""
    subtitles = fmt in ("vtt", "srt")
    turns: list[list] = []
    for row in rows:
        if subtitles and turns and turns[-1][0] == row["speaker"]:
            turns[-1][2] += " " + row["text"]
        else:
            time = row["start_s"] if subtitles else row["start_s"] + row["duration_s"]
            turns.append([row["speaker"], float(time), row["text"]])
    return [(speaker, time, checks.words(text)) for speaker, time, text in turns]


def test_chosen_sessions_hold_the_hard_cases():
    data = sessions()
    assert set(data) == set(SESSIONS)
    consecutive = sum(a["speaker"] == b["speaker"] for rows in data.values() for a, b in zip(rows, rows[1:]))
    assert consecutive >= 5
    assert any("\n" in row["text"] for row in data["2024-03-11"])
    colon_paragraphs = [p for row in data["2025-04-04"] for p in paragraphs(row)[1:] if ": " in p[:45]]
    assert colon_paragraphs, "2025-04-04 should have continuation paragraphs opening with 'Phrase: ...'"
    last = data["2024-07-08"][-1]
    assert last["start_s"] + last["duration_s"] > 3 * 3600, "2024-07-08 should run for over three hours"
    for rows in data.values():
        # bench/magdeburg.py spreads a speech's cues over max(duration, 1 s): speeches must not overlap
        # for cue times (and end stamps) to stay in spoken order.
        assert all(a["start_s"] + max(a["duration_s"], 1) <= b["start_s"] for a, b in zip(rows, rows[1:]))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("session", SESSIONS)
def test_real_session_round_trips(tmp_path, session, fmt):
    rows = sessions()[session]
    path = write_session(session, rows, tmp_path, fmt, name=f"stadtrat_{session}")
    transcript = read_transcript(path)
    checks.assert_well_formed(transcript, path)
    assert transcript.format == fmt

    expected = expected_turns(rows, fmt)
    got_speakers = [t.speaker for t in transcript.turns]
    assert len(transcript.turns) == len(expected), (
        f"{len(transcript.turns)} turns instead of {len(expected)}; first difference at "
        + str(next((i for i, (a, b) in enumerate(zip(got_speakers, [e[0] for e in expected])) if a != b), None))
    )
    assert got_speakers == [speaker for speaker, _, _ in expected]
    assert all(t.role is None for t in transcript.turns)  # names only, no interviewer label: no role
    assert [t.timestamp for t in transcript.turns] == pytest.approx([time for _, time, _ in expected], abs=1e-3)
    for index, (turn, (speaker, _, said)) in enumerate(zip(transcript.turns, expected)):
        got = checks.words(checks.content(transcript, turn))
        assert got == said, f"turn {index} ({speaker}) differs: {got[:80]!r}... vs {said[:80]!r}..."
    if fmt in ("txt", "docx"):
        expected_header = header(session, fmt)
        assert {key: transcript.metadata.get(key) for key in expected_header} == expected_header
