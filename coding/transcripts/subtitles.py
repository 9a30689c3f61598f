"""WebVTT and SRT as automatic transcription services write them -> text and speaker turns.

Consecutive cues of one speaker become one turn that keeps the first cue's start time; cue texts are
joined with single spaces, so a sentence split across cues reads whole.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from coding.errors import SubtitleError
from coding.transcripts.conventions import assign_roles, is_speaker
from coding.transcripts.labels import has_honorific, match_label
from coding.transcripts.model import Turn

_VTT_TIME = r"(?:(\d{1,3}):)?(\d{2}):(\d{2})\.(\d{3})"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t]+.*)?$")
_SRT_TIME = r"(\d{1,3}):(\d{2}):(\d{2})[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"^{_SRT_TIME}[ \t]+-->[ \t]+{_SRT_TIME}(?:[ \t]+.*)?$")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)*[ \t]+([^>]*)>")
_TAG = re.compile(r"</?[^>\s][^>]*>")
_SPACES = re.compile(r"\s+")
_ENDS = (".", "?", "!", "…", '"', "“", "”", ")", "]", ":")


@dataclass
class _Cue:
    start: float
    text: str
    voice: str | None
    line: int


def parse_vtt(text: str, path: str | Path) -> tuple[str, list[Turn]]:
    """Parse WebVTT; raises SubtitleError naming the line for a missing header or a broken timing."""
    lines = text.split("\n")
    if not lines[0].startswith("WEBVTT"):
        raise SubtitleError(path, "the file does not start with 'WEBVTT'", 1,
                            "a WebVTT file must begin with the line WEBVTT; is it an .srt file?")
    return _build(_cues(lines, path, _VTT_TIMING, "hh:mm:ss.mmm --> hh:mm:ss.mmm", skip_header=True), path)


def parse_srt(text: str, path: str | Path) -> tuple[str, list[Turn]]:
    """Parse SubRip (.srt); raises SubtitleError naming the line for a broken timing."""
    return _build(_cues(text.split("\n"), path, _SRT_TIMING, "hh:mm:ss,mmm --> hh:mm:ss,mmm", skip_header=False), path)


def _cues(lines: list[str], path: str | Path, timing: re.Pattern[str], form: str, skip_header: bool) -> list[_Cue]:
    cues: list[_Cue] = []
    blocks = _blocks(lines)
    if skip_header and blocks and blocks[0][0][0] == 0:
        blocks = blocks[1:]  # the WEBVTT line and its header block
    last_end = 0.0
    for block in blocks:
        first_line = block[0][1].strip()
        if first_line.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first_line:
            continue
        timing_at = next((k for k, (_, text) in enumerate(block) if "-->" in text), None)
        if timing_at is None:
            # A cue number followed by a line that should be its timing ("00:00:04,000 -> ...").
            number, text = block[1] if first_line.isdigit() and len(block) > 1 else block[0]
            raise SubtitleError(path, f"a cue without valid timing: '{text.strip()[:60]}'", number + 1,
                                f"every cue needs a line '{form}'")
        number, timing_line = block[timing_at]
        m = timing.match(timing_line.strip())
        if not m:
            raise SubtitleError(path, f"broken cue timing '{timing_line.strip()[:60]}'", number + 1,
                                f"expected '{form}'")
        start, end = _seconds(m.groups()[:4]), _seconds(m.groups()[4:])
        if end < start:
            raise SubtitleError(path, f"the cue ends ({end:.3f} s) before it starts ({start:.3f} s)", number + 1)
        last_end = max(last_end, end)
        payload = " ".join(text for _, text in block[timing_at + 1:])
        voice = _VOICE.search(payload)
        clean = _SPACES.sub(" ", html.unescape(_TAG.sub("", payload)).replace("\u00a0", " ")).strip()
        if clean:
            cues.append(_Cue(start, clean, voice.group(1).strip() if voice else None, number + 1))
    return cues


def _blocks(lines: list[str]) -> list[list[tuple[int, str]]]:
    """Blank-line separated blocks, each a list of (0-based line number, text)."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, text in enumerate(lines):
        if text.strip():
            current.append((number, text))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _seconds(groups: tuple[str | None, ...]) -> float:
    h, m, s, ms = groups
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def _build(cues: list[_Cue], path: str | Path) -> tuple[str, list[Turn]]:
    """Group cues into turns by speaker and write the text as `Speaker: words` paragraphs."""
    prefixes = [match_label(cue.text) if cue.voice is None else None for cue in cues]
    counts = Counter(m.label for m in prefixes if m)
    # A cue may start mid-sentence ("... stelle das in | Frage: Brauchen wir"): there a prefix counts
    # only if it labels other cues too, is numbered like `Sprecher 2` or names a `Herr`/`Frau`.
    for k, prefix in enumerate(prefixes):
        if prefix and k and not cues[k - 1].text.endswith(_ENDS):
            label = prefix.label
            if counts[label] < 2 and not any(ch.isdigit() for ch in label) and not has_honorific(label):
                prefixes[k] = None
    groups: list[tuple[str | None, float, list[str]]] = []  # speaker, start, texts
    for cue, prefix in zip(cues, prefixes):
        speaker, words = cue.voice, cue.text
        if prefix and is_speaker(prefix, counts):
            speaker, words = prefix.label, cue.text[prefix.content_start:].strip()
        if speaker is None or (groups and speaker == groups[-1][0]):
            if groups:
                groups[-1][2].append(words)
                continue
            speaker = None
        groups.append((speaker, cue.start, [words]))

    roles = assign_roles([speaker for speaker, _, _ in groups], {}, [" ".join(texts) for _, _, texts in groups])
    parts: list[str] = []
    turns: list[Turn] = []
    pos = 0
    for speaker, start_time, texts in groups:
        words = " ".join(t for t in texts if t)
        if not words:
            continue
        label = f"{speaker}: " if speaker else ""
        if parts:
            pos += 2  # the blank line between turns
        turns.append(Turn(speaker, roles[speaker], pos + len(label), pos + len(label) + len(words), start_time))
        parts.append(label + words)
        pos += len(label) + len(words)
    return "\n\n".join(parts), turns
