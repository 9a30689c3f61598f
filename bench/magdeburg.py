"""Real council transcripts (StadtratWatch Magdeburg, CC0) written out in the formats Codewerk reads.

The data stays in ../shared; this module turns a session's speech turns into the files a research
team would receive: f4 plain text, Word, WebVTT with voice tags and SRT with speaker prefixes.
"""
from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "stadtratwatch_magdeburg" \
    / "speech_turns_all_sessions.jsonl.gz"
FORMATS = ("txt", "docx", "vtt", "srt")
CUE_WORDS = 12


def load_sessions(path: Path = DATA) -> dict[str, list[dict]]:
    """Speech turns grouped by session date, in spoken order."""
    sessions: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            sessions[row["session"]].append(row)
    return {k: sorted(v, key=lambda r: r["turn_index"]) for k, v in sorted(sessions.items())}


def paragraphs(turn: dict) -> list[str]:
    """A turn's paragraphs, each on one line."""
    return [" ".join(p.split()) for p in turn["text"].split("\n\n") if p.strip()]


def f4_stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"#{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}-{int(seconds * 10) % 10}#"


def _cue_time(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def to_f4_text(session: str, turns: list[dict]) -> str:
    """f4 convention: header block, `Name: text #hh:mm:ss-t#` with the stamp at the turn's end."""
    lines = [f"Stadtratssitzung Magdeburg {session}", f"Datum: {session}", "Ort: Magdeburg, Ratssaal", ""]
    for turn in turns:
        paras = paragraphs(turn)
        paras[-1] += " " + f4_stamp(turn["start_s"] + turn["duration_s"])
        lines.append(f"{turn['speaker']}: {paras[0]}")
        lines.extend(paras[1:])
        lines.append("")
    return "\n".join(lines)


def write_docx(session: str, turns: list[dict], path: Path) -> None:
    """Word file with bold speaker labels in their own run and f4 stamps at turn ends."""
    import docx

    document = docx.Document()
    document.add_heading(f"Stadtratssitzung Magdeburg {session}", level=1)
    document.add_paragraph(f"Datum: {session}")
    for turn in turns:
        paras = paragraphs(turn)
        paras[-1] += " " + f4_stamp(turn["start_s"] + turn["duration_s"])
        first = document.add_paragraph()
        first.add_run(f"{turn['speaker']}:").bold = True
        first.add_run(" " + paras[0])
        for para in paras[1:]:
            document.add_paragraph(para)
    document.save(path)


def _cues(turns: list[dict]) -> list[tuple[float, float, str, str]]:
    """Cues of about CUE_WORDS words with times spread over the turn: (start, end, speaker, text)."""
    cues = []
    for turn in turns:
        words = " ".join(paragraphs(turn)).split()
        chunks = [words[i:i + CUE_WORDS] for i in range(0, len(words), CUE_WORDS)]
        step = max(turn["duration_s"], 1) / max(1, len(chunks))
        for k, chunk in enumerate(chunks):
            start = turn["start_s"] + k * step
            cues.append((start, start + step, turn["speaker"], " ".join(chunk)))
    return cues


def to_vtt(turns: list[dict]) -> str:
    """WebVTT with a voice tag on every cue, as automatic transcription services write it."""
    out = ["WEBVTT", ""]
    for n, (start, end, speaker, text) in enumerate(_cues(turns), start=1):
        out += [str(n), f"{_cue_time(start, '.')} --> {_cue_time(end, '.')}", f"<v {speaker}>{text}", ""]
    return "\n".join(out)


def to_srt(turns: list[dict]) -> str:
    """SRT with a `Speaker:` prefix where the speaker changes."""
    out, previous = [], None
    for n, (start, end, speaker, text) in enumerate(_cues(turns), start=1):
        label = f"{speaker}: " if speaker != previous else ""
        previous = speaker
        out += [str(n), f"{_cue_time(start, ',')} --> {_cue_time(end, ',')}", label + text, ""]
    return "\n".join(out)


def write_session(session: str, turns: list[dict], folder: Path, fmt: str, name: str | None = None) -> Path:
    """Write one session (or part of it) as `fmt` into `folder`; returns the file."""
    path = folder / f"{name or session}.{fmt}"
    if fmt == "txt":
        path.write_text(to_f4_text(session, turns), encoding="utf-8")
    elif fmt == "docx":
        write_docx(session, turns, path)
    elif fmt == "vtt":
        path.write_text(to_vtt(turns), encoding="utf-8")
    elif fmt == "srt":
        path.write_text(to_srt(turns), encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt}")
    return path


def interview_sized(sessions: dict[str, list[dict]], n: int = 30, words: int = 2000) -> list[tuple[str, list[dict]]]:
    """n excerpts of consecutive turns of about `words` words each, from different sessions."""
    excerpts = []
    for session, turns in sessions.items():
        chunk, count = [], 0
        for turn in turns:
            chunk.append(turn)
            count += len(turn["text"].split())
            if count >= words:
                break
        if count >= words * 0.8:
            excerpts.append((session, chunk))
        if len(excerpts) == n:
            break
    return excerpts
