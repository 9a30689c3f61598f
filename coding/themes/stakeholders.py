"""How far a theme cuts across stakeholder groups.

The cross-stakeholder score is the normalised entropy of the theme's *reach* in each group: for
every stakeholder group of the run, the share of that group's interviews that voice the theme (of its
segments, when the segments name no interview). The shares are made to sum to one and their entropy
is divided by log(number of groups in the run):

- 1.0: every group of the run voices the theme equally, relative to how many interviews it gave;
- 0.0: one group only (or a run with a single group).

Why shares rather than raw counts: the study has 15 municipal interviews and 2 federal ones, so raw
counts would make every theme look municipal. Why interviews rather than segments: one talkative
interviewee should not make a theme look like a group's concern. Why entropy over all groups of the
run rather than "groups reached": it rewards a theme that is voiced evenly, and a theme reaching 2 of
7 groups scores lower than one reaching 6 (`groups_reached` is reported beside it).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from coding.themes.model import Segment


def unit_of(segments: Sequence[Segment]) -> str:
    """What counts as one voice: "interviews" when every segment names its interview, else "segments"."""
    return "interviews" if segments and all(s.document is not None for s in segments) else "segments"


def group_totals(segments: Sequence[Segment]) -> dict[str, int]:
    """Voices (interviews or segments) per stakeholder group in the whole run."""
    unit = unit_of(segments)
    voices = {(s.stakeholder, s.document if unit == "interviews" else s.id) for s in segments
              if s.stakeholder is not None}
    return dict(Counter(group for group, _ in voices))


def cross_stakeholder_score(members: Sequence[Segment], totals: dict[str, int], unit: str) -> float:
    """Normalised entropy (0..1) of a theme's reach per group; `totals` from `group_totals` of the run."""
    if len(totals) < 2:
        return 0.0
    voices = {(s.stakeholder, s.document if unit == "interviews" else s.id) for s in members
              if s.stakeholder is not None and s.stakeholder in totals}
    reach = Counter(group for group, _ in voices)
    shares = [reach[g] / totals[g] for g in totals if reach[g]]
    whole = sum(shares)
    if whole == 0:
        return 0.0
    entropy = -sum((p / whole) * math.log(p / whole) for p in shares)
    return max(0.0, min(1.0, entropy / math.log(len(totals))))


def distribution(members: Sequence[Segment]) -> dict[str, int]:
    """Segments per stakeholder group, most first (then by name); segments without a group are left out."""
    counts = Counter(s.stakeholder for s in members if s.stakeholder is not None)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
