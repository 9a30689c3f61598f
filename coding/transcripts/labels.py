"""Speaker labels and timestamps as German qualitative research transcribes them (f4/f5 and others)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from coding.transcripts.model import INTERVIEWER, RESPONDENT

# Timestamps that transcription software writes into the running text.
_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[-.,](\d{1,3}))?"
TIMESTAMP = re.compile(
    rf"#{_TIME}#"                 # f4/f5: #00:03:17-2#
    rf"|\[{_TIME}\]"              # [00:03:17]
    rf"|\({_TIME}\)"              # (00:03:17)
    rf"|^{_TIME}(?=\t)"           # a table cell holding only the time
    rf"|(?<=\t){_TIME}(?=\t|$)",
    re.M,
)

# Labels whose role is fixed by convention. IP is the "Interviewpartner", a respondent.
_KNOWN = [
    (r"I|IV|INT|Int|Interviewer|Interviewerin|Interviewende[rn]?|Moderator|Moderatorin|Moderation"
     r"|Frage|F|Q|Interviewer\*in|Interviewer:in", INTERVIEWER),
    (r"B|IP|Befragte[rn]?|Befragte\*r|Interviewpartner(?:in)?|Interviewte[rn]?|Experte|Expertin|E"
     r"|Antwort|A|Respondent|Interviewee|TN|Teilnehmer(?:in)?", RESPONDENT),
    (r"Sprecher(?:in)?|Speaker|SPEAKER_?|Person|Stimme", None),
]
_KNOWN_RES = [(re.compile(rf"(?:{names})(?:\s?\d{{1,2}})?", re.I if role is None else 0), role)
              for names, role in _KNOWN]

_HONORIFIC = re.compile(r"(?:Herr|Frau|Hr\.|Fr\.|Dr\.|Prof\.|Mr\.?|Mrs\.?|Ms\.?)\s", re.I)
# A name-like label: capitalised words (with particles such as von, de, al), at most five.
_NAME_WORD = r"(?:[A-ZÄÖÜ][\w'’\-.]*|von|vom|van|der|de|den|da|di|du|zu|zur|al|el|bin|ibn|\d{1,2})"
_NAME = rf"{_NAME_WORD}(?: {_NAME_WORD}){{0,4}}"
_COLON_LABEL = re.compile(rf"(?P<label>{_NAME}|[A-ZÄÖÜ]\w*\*\w+)[ \t]*:(?:[ \t]+|$)")
_BRACKET_LABEL = re.compile(r"\[(?P<label>[A-ZÄÖÜ][^\]\d]{0,40}?)\]:?(?:[ \t]+|$)")
_TAB_LABEL = re.compile(rf"(?P<label>{_NAME})\t+")

# Header keys are never speakers, and a few words often start a paragraph with a colon.
HEADER_KEYS = {
    "datum", "date", "ort", "place", "location", "dauer", "länge", "length", "titel", "title",
    "projekt", "project", "interview", "interview-nr", "interviewnummer", "interview nr", "nr",
    "transkription", "transkribiert von", "transkript", "transcript", "aufnahme", "zeit", "uhrzeit",
    "thema", "topic", "anmerkung", "anmerkungen", "hinweis", "kontext", "organisation", "funktion",
    "institution", "gruppe", "stakeholdergruppe", "teilnehmende", "anwesend", "beginn", "ende",
    "quelle", "source", "sprache", "language", "version", "kodiert von", "pseudonym",
}
_NOT_SPEAKERS = {
    "zum beispiel", "beispiel", "also", "erstens", "zweitens", "drittens", "fazit", "achtung",
    "wichtig", "stichwort", "punkt", "ziel", "kurz", "nein", "ja", "genau", "ok", "okay", "aber",
    "und", "oder", "nachtrag", "ergänzung", "problem", "frage ist", "lacht", "unv", "unverständlich",
    "pause", "seufzt", "räuspert sich", "husten", "telefon klingelt", "gleichzeitig", "lachen",
}


# A label shaped like a person's name starts with none of these (German capitalises nouns, so
# "Stichwort Wohnen:" or "Für den Ausschuss:" would otherwise look like a name).
_NOT_NAME_START = {
    "für", "zum", "zur", "im", "in", "am", "an", "auf", "bei", "mit", "nach", "aus", "über", "unter", "vor",
    "das", "die", "der", "den", "dem", "des", "ein", "eine", "einen", "mein", "meine", "unser", "unsere",
    "ich", "wir", "sie", "es", "er", "noch", "nur", "also", "aber", "und", "oder", "dazu", "dann", "hier",
    "da", "so", "wie", "was", "wer", "warum", "weil", "wenn", "daher", "deshalb", "thema", "stichwort",
    "punkt", "beispiel", "frage", "problem", "fazit", "ergebnis", "ziel", "schritt", "teil", "kapitel",
    "abschnitt", "anlage", "tagesordnungspunkt", "top", "antrag", "drucksache", "erstens", "zweitens",
    "nun", "zu", "jetzt", "heute", "vielleicht", "kurz", "ganz", "zunächst", "schließlich", "abschließend",
    "außerdem", "allerdings", "natürlich", "wichtig", "zuerst", "zudem", "zuletzt", "bitte", "danke", "liebe",
    "lieber", "sehr", "meine", "damen", "deswegen", "nochmal", "noch", "zitat", "quelle", "hinweis",
    "nachtrag", "ergänzung", "vorschlag", "begründung", "beschluss", "zusammenfassung", "bemerkung", "stand",
    "status", "titel", "resümee", "dies", "diese", "dieser", "mein", "unsere", "ihre", "ihr", "zweiter", "erster", "letzter",
}


_PARTICLES = {"von", "vom", "van", "de", "der", "den", "zu", "zur", "al", "el", "bin", "ibn", "da", "di", "du"}


def name_shaped(label: str) -> bool:
    """`Simone Borris`, `Gerd vom Baur`: two to five capitalised words (particles inside) that do not
    start like a phrase (`Zur Begründung`, `Vielleicht von Interesse`)."""
    words = label.split()
    return (2 <= len(words) <= 5 and not starts_like_phrase(label)
            and words[0][0].isupper() and words[-1][0].isupper()
            and all(w[0].isupper() or w in _PARTICLES for w in words) and not any(ch.isdigit() for ch in label))


def starts_like_phrase(label: str) -> bool:
    """Whether a label begins with a word that starts sentences, not names (`Zur`, `Nun`, `Thema`)."""
    return label.split()[0].lower().strip(".") in _NOT_NAME_START


@dataclass(frozen=True)
class LabelMatch:
    """A speaker label at the start of a line: its text and where the spoken words begin."""

    label: str
    content_start: int  # offset in the line where the spoken words begin
    strong: bool  # a form that is a label whatever its words (known label, honorific, bracket, bold)


def seconds(match: re.Match[str]) -> float:
    """The time of a TIMESTAMP match in seconds (f4's `-2` is tenths of a second)."""
    h, m, s, f = _time_groups(match)
    if s is None:  # mm:ss written without hours
        h, m, s = "0", h, m
    fraction = float(f"0.{f}") if f else 0.0
    return int(h) * 3600 + int(m) * 60 + int(s) + fraction


def _time_groups(match: re.Match[str]) -> tuple[str, str, str | None, str | None]:
    values = [g for g in match.groups()]
    # Each alternative has four groups (h, m, s, f); the matched one has h set.
    for i in range(0, len(values), 4):
        if values[i] is not None:
            return values[i], values[i + 1], values[i + 2], values[i + 3]
    raise ValueError("timestamp without hour/minute groups")


def has_honorific(label: str) -> bool:
    """`Herr Öztürk`, `Frau Dr. Lange`: a label that names a person with a form of address or title."""
    return bool(_HONORIFIC.match(label + " "))


def known_role(label: str) -> tuple[bool, str | None]:
    """Whether a label is a conventional one (I, B1, IP, Interviewerin, Sprecher 2, ...) and its role."""
    for pattern, role in _KNOWN_RES:
        if pattern.fullmatch(label):
            return True, role
    return False, None


def match_label(line: str, bold_prefix: int = 0) -> LabelMatch | None:
    """Find a speaker label at the start of a line, or None."""
    stripped = line.lstrip()
    indent = len(line) - len(stripped)
    if bold_prefix:
        bold = line[:bold_prefix].strip()
        label = bold.rstrip(":").strip()
        if label and len(label) <= 40 and not bold.endswith((".", "?", "!")):
            rest = len(line[:bold_prefix]) + len(line[bold_prefix:]) - len(line[bold_prefix:].lstrip(" \t:"))
            return LabelMatch(label, rest, strong=True)
    for pattern, strong in ((_BRACKET_LABEL, True), (_COLON_LABEL, False), (_TAB_LABEL, False)):
        m = pattern.match(stripped)
        if not m:
            continue
        label = m.group("label").strip()
        if label.lower().strip(".") in _NOT_SPEAKERS:
            return None
        is_known, _ = known_role(label)
        return LabelMatch(label, indent + m.end(), strong or is_known or has_honorific(label))
    return None


def is_header_key(label: str) -> bool:
    """Whether a label is a header key such as Datum or Ort rather than a speaker."""
    return label.lower() in HEADER_KEYS
