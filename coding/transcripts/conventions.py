"""Lines of a transcript (plain text or Word paragraphs) -> text, speaker turns and header metadata.

Handles the conventions of German qualitative research: `I:`/`B:` (f4/f5), named speakers,
`[Name]` labels, timestamps in the running text, unlabelled paragraphs that continue the previous
speaker, and a short header block (title, date, place) before the first turn.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from coding.transcripts.labels import (TIMESTAMP, LabelMatch, is_header_key, known_role, match_label, name_shaped,
                                      seconds, starts_like_phrase)
from coding.transcripts.model import INTERVIEWER, RESPONDENT, Turn

_SENTENCE_END = (".", "?", "!", "…", '"', "“", ")")
_SENTINEL = "\x00"
_SHORT_LABEL = re.compile(r"[A-Z]{1,3} ?\d{0,2}")
_AROUND_SENTINEL = re.compile(rf"[ \t]*{_SENTINEL}[ \t]*")
_INTERVIEWER_KEYS = re.compile(r"interview(?:er|erin|er\*in|ende|t von|t durch)\b", re.I)
_RESPONDENT_KEYS = re.compile(r"befragte|interviewpartner|interviewte|experte|expertin|gesprächspartner", re.I)


@dataclass(frozen=True)
class SourceLine:
    """One line or paragraph of the source; `bold_prefix` is the length of a leading bold run."""

    text: str
    bold_prefix: int = 0


def strip_timestamps(line: str) -> tuple[str, float | None]:
    """Remove transcription timestamps (and the blanks they leave); return the line and the first time."""
    first = TIMESTAMP.search(line)
    if not first:
        return line.rstrip(), None
    marked = TIMESTAMP.sub(_SENTINEL, line)
    return _AROUND_SENTINEL.sub(" ", marked).strip(" "), seconds(first)


def parse_lines(lines: list[SourceLine]) -> tuple[str, list[Turn], dict[str, str]]:
    """Turn source lines into (text, turns, metadata); `text` joins the cleaned lines with `\\n`."""
    cleaned: list[str] = []
    times: list[float | None] = []
    labels: list[LabelMatch | None] = []
    for line in lines:
        text, time = strip_timestamps(line.text)
        cleaned.append(text)
        times.append(time)
        labels.append(match_label(text, _shifted_bold(line, text)) if text.strip() else None)

    counts = Counter(m.label for m in labels if m)
    speaker = [m is not None and is_speaker(m, counts) for m in labels]
    first = next((i for i in range(len(labels))
                  if speaker[i] and not _looks_like_header(i, labels, cleaned, counts)), None)
    if first is None:  # only header-like lines (`Befragte: Straße Straße`): a transcript beats a header
        first = next((i for i in range(len(labels)) if speaker[i]), None)

    starts, pos = [], 0
    for text in cleaned:
        starts.append(pos)
        pos += len(text) + 1
    full = "\n".join(cleaned)

    if first is None:
        header_end = _unlabelled_header_end(cleaned)
        metadata = _metadata(cleaned[:header_end])
        body = [i for i in range(header_end, len(cleaned)) if cleaned[i].strip()]
        if not body:  # nothing but a short block: it is the content, not a header
            metadata, body = {}, [i for i, t in enumerate(cleaned) if t.strip()]
        if not body:
            return full, [], metadata
        turn = _make_turn(full, None, None, starts[body[0]], starts[body[-1]] + len(cleaned[body[-1]]),
                          next((times[i] for i in body if times[i] is not None), None))
        return full, [turn] if turn else [], metadata

    metadata = _metadata(cleaned[:first])
    raw: list[tuple[str, int, int, float | None]] = []  # speaker, start, end, time
    for i in range(first, len(cleaned)):
        text = cleaned[i]
        if not text.strip():
            continue
        end = starts[i] + len(text)
        if speaker[i]:
            m = labels[i]
            raw.append((m.label, starts[i] + m.content_start, end, times[i]))
        else:
            label, start, _, time = raw[-1]
            raw[-1] = (label, start, end, time if time is not None else times[i])

    roles = assign_roles([r[0] for r in raw], metadata, [full[r[1]:r[2]] for r in raw])
    turns = [_make_turn(full, label, roles[label], start, end, time) for label, start, end, time in raw]
    return full, [t for t in turns if t], metadata


def _shifted_bold(line: SourceLine, cleaned: str) -> int:
    """Where the bold label ends in the cleaned line (a timestamp before it may have been removed)."""
    if not line.bold_prefix:
        return 0
    bold = strip_timestamps(line.text[: line.bold_prefix])[0].strip()
    at = cleaned.find(bold)
    if not bold or at < 0 or cleaned[:at].strip():
        return 0
    return at + len(bold)


def is_speaker(m: LabelMatch, counts: Counter[str]) -> bool:
    """A label is a speaker when its form says so, when the same label starts several lines, or when it
    is shaped like a person's name in a document where such names start at least two lines."""
    if is_header_key(m.label.rstrip(".")):
        return False
    if m.strong:
        return True
    if starts_like_phrase(m.label):
        return False
    if counts[m.label] >= 2:
        return True
    return name_shaped(m.label) and sum(n for label, n in counts.items() if name_shaped(label)) >= 2


def _looks_like_header(i: int, labels: list[LabelMatch | None], lines: list[str], counts: Counter[str]) -> bool:
    """`Interviewerin: Dr. Miriam Albers` in a header names the interviewer; it is not a turn.

    Such a line has a label used once, a short value that is no sentence, and is followed by another
    labelled line (not by paragraphs that would continue a speaker).
    """
    m = labels[i]
    value = lines[i][m.content_start:].strip()
    if _SHORT_LABEL.fullmatch(m.label):  # `B: also` is a turn, whatever its length
        return False
    if (m.strong or known_role(m.label)[0]) and not name_shaped(value):  # `Befragte: also`, not `…: Frau Okafor`
        return False
    if counts[m.label] != 1 or len(value.split()) > 6 or value.endswith(_SENTENCE_END + (",", ";", "–", "-")):
        return False
    following = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
    return following is None or labels[following] is not None


def _unlabelled_header_end(lines: list[str]) -> int:
    """Without any speaker labels, a first block of at most 8 short lines is the header."""
    block = 0
    while block < len(lines) and lines[block].strip():
        block += 1
    if 0 < block <= 8 and all(len(t.split()) <= 12 for t in lines[:block]):
        return block
    return 0


def _metadata(header: list[str]) -> dict[str, str]:
    """`Key: value` lines by key; the first line without a key is the title; other lines a note."""
    meta: dict[str, str] = {}
    notes: list[str] = []
    for text in (t.strip() for t in header):
        if not text:
            continue
        key, sep, value = text.partition(":")
        key = key.strip()
        keyed = sep and 0 < len(key) <= 40 and len(key.split()) <= 4 and value.strip()
        if keyed and (meta or is_header_key(key.rstrip(".")) or not _could_be_title(key)):
            meta.setdefault(key, value.strip())
        elif "title" not in meta and not meta and not notes:
            meta["title"] = text
        else:
            notes.append(text)
    if notes:
        meta["note"] = "\n".join(notes)
    return meta


def _could_be_title(key: str) -> bool:
    return len(key.split()) >= 2


def assign_roles(labels: list[str | None], metadata: dict[str, str],
                 texts: list[str] | None = None) -> dict[str | None, str | None]:
    """Roles from the label conventions, then from the header and the other speakers, and, for two
    speakers nothing else tells apart (`Sprecher 1`/`Sprecher 2`), from the shape of a guided
    interview: the interviewer's turns are short questions, the respondent's long answers."""
    roles: dict[str | None, str | None] = {}
    conventional: set[str] = set()
    for label in dict.fromkeys(labels):
        is_known, role = known_role(label) if label else (False, None)
        roles[label] = role
        if is_known:
            conventional.add(label)
    interviewers = [v for k, v in metadata.items() if _INTERVIEWER_KEYS.search(k)]
    respondents = [v for k, v in metadata.items() if _RESPONDENT_KEYS.search(k)]
    for label in roles:
        if not label or label in conventional:
            continue
        if any(_same_person(label, name) for name in interviewers):
            roles[label] = INTERVIEWER
        elif any(_same_person(label, name) for name in respondents):
            roles[label] = RESPONDENT
    if INTERVIEWER in roles.values():
        for label in roles:
            if roles[label] is None and label and label not in conventional:
                roles[label] = RESPONDENT
    if texts is not None and len(roles) == 2 and all(r is None for r in roles.values()) and None not in roles:
        roles.update(_roles_from_turn_lengths(labels, texts))
    return roles


def _roles_from_turn_lengths(labels: list[str | None], texts: list[str]) -> dict[str, str]:
    """Two speakers with at least three turns each: if one speaks in turns a third as long as the
    other's (by median), that one asks the questions."""
    lengths: dict[str, list[int]] = {}
    for label, text in zip(labels, texts):
        lengths.setdefault(label, []).append(len(text.split()))
    if any(len(v) < 3 for v in lengths.values()):
        return {}
    (a, la), (b, lb) = sorted(lengths.items(), key=lambda item: statistics.median(item[1]))
    if statistics.median(la) * 3 <= statistics.median(lb):
        return {a: INTERVIEWER, b: RESPONDENT}
    return {}


def _same_person(label: str, name: str) -> bool:
    """`Herr Kettler` and `Jonas Kettler` are the same person; so are equal names."""
    a, b = label.split(), name.replace(",", " ").split()
    return bool(a and b) and (label == name.strip() or a[-1] == b[-1])


def _make_turn(text: str, speaker: str | None, role: str | None, start: int, end: int,
               time: float | None) -> Turn | None:
    """A turn whose offsets enclose exactly its words (no surrounding white space)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    return Turn(speaker=speaker, role=role, start=start, end=end, timestamp=time)
