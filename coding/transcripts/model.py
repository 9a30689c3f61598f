"""The transcript model every reader returns: one exact text and speaker turns as offsets into it."""
from __future__ import annotations

from dataclasses import dataclass, field

INTERVIEWER = "interviewer"
RESPONDENT = "respondent"


@dataclass(frozen=True)
class Turn:
    """One speaker turn: `text[start:end]` is exactly what the speaker says."""

    speaker: str | None  # None when the source names no speaker
    role: str | None
    start: int
    end: int
    timestamp: float | None = None


@dataclass(frozen=True)
class Segment:
    """An automatic unit for suggestions and themes: a turn, or a group of its sentences."""

    turn: int  # index into Transcript.turns
    start: int
    end: int


@dataclass
class Transcript:
    """A transcript read from one file, normalised once (NFC, `\\n`, no BOM, no timestamps)."""

    text: str
    turns: list[Turn]
    metadata: dict[str, str] = field(default_factory=dict)
    format: str = "txt"
    sha256: str = ""
    encoding: str | None = None
    source: str = ""

    def turn_text(self, turn: Turn) -> str:
        """The words of one turn."""
        return self.text[turn.start : turn.end]

    @property
    def speakers(self) -> list[str | None]:
        """Speaker labels in order of first appearance."""
        return list(dict.fromkeys(t.speaker for t in self.turns))

    @property
    def word_count(self) -> int:
        """Words spoken in all turns (whitespace-separated tokens)."""
        return sum(len(self.turn_text(t).split()) for t in self.turns)
