"""Real spoken German at length: three Magdeburg city-council sessions (StadtratWatch, CC0, machine
speech-to-text with real transcription errors) written into every format Codewerk reads, then read back.

The data stays in shared/ beside the repository (it is not copied into the repository); without it these
tests are skipped. What is checked is what a researcher would notice: the same speakers in the same
order, one turn per speech (in subtitles: per run of one speaker), the right time, every word.

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
  lines, so each file also gets a real header block (title, Datum, Ort) the reader must tell apart.
"""
from __future__ import annotations

import gzip
import html
import importlib.util
import json
import sys
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest

from coding import read_transcript

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "benchmarks" / "stadtratwatch_magdeburg" / "speech_turns_all_sessions.jsonl.gz"
SESSIONS = ("2024-03-11", "2024-07-08", "2025-04-04")
FORMATS = ("txt", "docx", "vtt", "srt")
WORDS_PER_CUE = 12

pytestmark = [
    pytest.mark.slow,  # loads real data (still fast: about two seconds)
    pytest.mark.skipif(
        not DATA.exists(),
        reason=f"real transcripts not available: {DATA} missing (shared/ lives beside the repository)",
    ),
]

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "transcripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"transcript_fixtures_{name}", FIXTURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


docx_builders = _load("docx_builders")
checks = _load("checks")


@lru_cache(maxsize=1)
def sessions() -> dict[str, list[dict]]:
    """The chosen sessions' speeches, in order."""
    chosen: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["session"] in SESSIONS:
                chosen[row["session"]].append(row)
    return {session: sorted(rows, key=lambda r: r["turn_index"]) for session, rows in chosen.items()}


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def german_date(session: str) -> str:
    year, month, day = session.split("-")
    return f"{day}.{month}.{year}"


def f4_stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"#{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}-{int(round(seconds * 10)) % 10}#"


def header(session: str) -> list[str]:
    return [f"Stadtrat Magdeburg, Sitzung vom {german_date(session)}", f"Datum: {german_date(session)}",
            "Ort: Magdeburg"]


def cues(rows: list[dict]):
    """(speaker, first cue of a speech?, start, end, words) for cues of about WORDS_PER_CUE words,
    spread evenly over each speech's duration."""
    for row in rows:
        spoken = row["text"].split()
        chunks = [spoken[i : i + WORDS_PER_CUE] for i in range(0, len(spoken), WORDS_PER_CUE)]
        for index, chunk in enumerate(chunks):
            start = row["start_s"] + row["duration_s"] * index / len(chunks)
            end = row["start_s"] + row["duration_s"] * (index + 1) / len(chunks)
            yield row["speaker"], index == 0, start, end, " ".join(chunk)


def cue_time(seconds: float, decimal: str) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{decimal}{ms % 1000:03d}"


def write(session: str, rows: list[dict], fmt: str, folder: Path) -> Path:
    path = folder / f"stadtrat_{session}.{fmt}"
    if fmt == "txt":
        lines = header(session) + [""]
        for row in rows:
            first, *rest = paragraphs(row["text"])
            lines += [f"{row['speaker']}: {f4_stamp(row['start_s'])} {first}", ""]
            for paragraph in rest:
                lines += [paragraph, ""]
        path.write_text("\n".join(lines), encoding="utf-8")
    elif fmt == "docx":
        docx_builders.build_turns_docx(
            path, header(session),
            [(row["speaker"], f4_stamp(row["start_s"]), paragraphs(row["text"])) for row in rows],
        )
    elif fmt == "vtt":
        blocks = ["WEBVTT"]
        for number, (speaker, _, start, end, said) in enumerate(cues(rows), 1):
            blocks.append(f"{number}\n{cue_time(start, '.')} --> {cue_time(end, '.')}\n"
                          f"<v {speaker}>{html.escape(said, quote=False)}</v>")
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    elif fmt == "srt":
        blocks = []
        for number, (speaker, first, start, end, said) in enumerate(cues(rows), 1):
            blocks.append(f"{number}\n{cue_time(start, ',')} --> {cue_time(end, ',')}\n"
                          + (f"{speaker}: " if first else "") + said)
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


def expected_turns(rows: list[dict], fmt: str) -> list[tuple[str, float, str]]:
    """(speaker, timestamp, words) per turn: one per speech, except that subtitles merge consecutive
    speeches of one speaker into one turn that keeps the first speech's start."""
    turns: list[list] = []
    for row in rows:
        if fmt in ("vtt", "srt") and turns and turns[-1][0] == row["speaker"]:
            turns[-1][2] += " " + row["text"]
        else:
            turns.append([row["speaker"], float(row["start_s"]), row["text"]])
    return [(speaker, start, checks.words(text)) for speaker, start, text in turns]


def test_chosen_sessions_hold_the_hard_cases():
    data = sessions()
    assert set(data) == set(SESSIONS)
    consecutive = sum(a["speaker"] == b["speaker"] for rows in data.values() for a, b in zip(rows, rows[1:]))
    assert consecutive >= 5
    assert any("\n" in row["text"] for row in data["2024-03-11"])
    colon_paragraphs = [p for row in data["2025-04-04"] for p in paragraphs(row["text"])[1:] if ": " in p[:45]]
    assert colon_paragraphs, "2025-04-04 should have continuation paragraphs opening with 'Phrase: ...'"
    for rows in data.values():  # cue times can only be spread this way if speeches do not overlap
        assert all(a["start_s"] + a["duration_s"] <= b["start_s"] for a, b in zip(rows, rows[1:]))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("session", SESSIONS)
def test_real_session_round_trips(tmp_path, session, fmt):
    rows = sessions()[session]
    path = write(session, rows, fmt, tmp_path)
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
    assert [t.timestamp for t in transcript.turns] == pytest.approx([start for _, start, _ in expected], abs=1e-3)
    for index, (turn, (speaker, _, said)) in enumerate(zip(transcript.turns, expected)):
        got = checks.words(checks.content(transcript, turn))
        assert got == said, f"turn {index} ({speaker}) differs: {got[:80]!r}... vs {said[:80]!r}..."
    if fmt in ("txt", "docx"):
        assert transcript.metadata.get("Datum") == german_date(session)
        assert transcript.metadata.get("Ort") == "Magdeburg"
        assert transcript.metadata.get("title") == header(session)[0]
