"""What a theme run holds: the coded segments it clustered, its themes, its steps, and views of both.

A `ThemeRun` is the unit a team lead reviews and the store keeps: the segments that went in (id,
text, code, stakeholder group, interview), the feature rows they were clustered in, the steps with
their versioned names and parameters, the themes, and the operations applied since (split, merge,
move). Its `as_dict()` is the `codewerk themes` contract of DESIGN.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coding.errors import CodewerkError


class ThemeError(CodewerkError):
    """Themes cannot be made or changed as asked (an unknown theme id, nothing to split, ...)."""


@dataclass(frozen=True)
class Segment:
    """One coded segment to cluster: its text, the code it carries, who said it and in which interview."""

    id: str
    text: str
    code: str | None = None
    stakeholder: str | None = None
    document: str | None = None


@dataclass(frozen=True)
class StepRecord:
    """A step of the run by its versioned name and the parameters it ran with."""

    name: str
    params: dict

    def as_dict(self) -> dict:
        return {"name": self.name, "params": dict(self.params)}


@dataclass
class Theme:
    """A proposed theme.

    `label` is the draft title (the theme's most central passage, shortened); `keywords` its
    characteristic lemmas (class-based TF-IDF); `members` its segment ids in input order;
    `representatives` quotes that are central and cover different stakeholder groups;
    `codes` and `stakeholders` count its segments per code and per group; `interviews` the
    documents it draws on; `cross_stakeholder` how evenly it spreads over the run's groups (0..1,
    see stakeholders.py); `groups_reached` in how many groups it occurs.
    """

    id: str
    label: str
    keywords: list[str]
    codes: dict[str, int]
    stakeholders: dict[str, int]
    members: list[str]
    representatives: list[str]
    interviews: list[str] = field(default_factory=list)
    cross_stakeholder: float = 0.0
    groups_reached: int = 0

    @property
    def size(self) -> int:
        return len(self.members)

    def as_dict(self) -> dict:
        """The contract's fields first, in the contract's order, then the extra figures."""
        return {"id": self.id, "label": self.label, "keywords": list(self.keywords), "codes": dict(self.codes),
                "stakeholders": dict(self.stakeholders), "members": list(self.members),
                "representatives": list(self.representatives), "interviews": list(self.interviews),
                "cross_stakeholder": round(self.cross_stakeholder, 4), "groups_reached": self.groups_reached,
                "size": self.size}


@dataclass(frozen=True)
class ThemeMatrix:
    """Segments per theme (rows) and stakeholder group (columns); `cells` holds the segment ids."""

    themes: list[str]
    groups: list[str]
    counts: np.ndarray
    cells: dict[tuple[str, str], list[str]]

    def as_dict(self) -> dict:
        return {"groups": list(self.groups),
                "rows": {theme: [int(c) for c in row] for theme, row in zip(self.themes, self.counts)}}


@dataclass
class ThemeRun:
    """One clustering of coded segments into themes, with everything needed to explain and revise it.

    `features` are the rows (aligned with `segments`) the themes were found in; split and move
    work in that space so that a revision does not silently change the run's geometry. `params`
    holds what the run decided (the number of themes asked for and chosen, the criterion's curve,
    the seed, the embedder); `history` the operations applied since, in order.
    """

    segments: list[Segment]
    features: np.ndarray
    themes: list[Theme]
    steps: list[StepRecord]
    params: dict
    history: list[dict] = field(default_factory=list)

    @property
    def assignments(self) -> dict[str, str]:
        """Segment id -> theme id, in input order."""
        theme_of = {member: theme.id for theme in self.themes for member in theme.members}
        return {s.id: theme_of[s.id] for s in self.segments if s.id in theme_of}

    def theme(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        known = ", ".join(t.id for t in self.themes)
        raise ThemeError(f"there is no theme {theme_id!r} in this run (its themes: {known})")

    def rows(self, theme_id: str) -> np.ndarray:
        """Positions in `segments` of a theme's members."""
        members = set(self.theme(theme_id).members)
        return np.array([i for i, s in enumerate(self.segments) if s.id in members], dtype=int)

    def matrix(self) -> ThemeMatrix:
        """The theme x stakeholder-group matrix; groups ordered by how many segments they hold, then name."""
        by_id = {s.id: s for s in self.segments}
        totals: dict[str, int] = {}
        for s in self.segments:
            if s.stakeholder is not None:
                totals[s.stakeholder] = totals.get(s.stakeholder, 0) + 1
        groups = sorted(totals, key=lambda g: (-totals[g], g))
        column = {g: j for j, g in enumerate(groups)}
        counts = np.zeros((len(self.themes), len(groups)), dtype=int)
        cells: dict[tuple[str, str], list[str]] = {}
        for i, theme in enumerate(self.themes):
            for member in theme.members:
                group = by_id[member].stakeholder
                if group is None:
                    continue
                counts[i, column[group]] += 1
                cells.setdefault((theme.id, group), []).append(member)
        return ThemeMatrix([t.id for t in self.themes], groups, counts, cells)

    def record(self) -> dict:
        """Steps, parameters and history: what a stored run keeps to stay explainable."""
        return {"steps": [s.as_dict() for s in self.steps], "params": dict(self.params),
                "history": [dict(h) for h in self.history]}

    def as_dict(self) -> dict:
        """The `codewerk themes` output: themes, assignments, then the matrix and the run's record."""
        return {"themes": [t.as_dict() for t in self.themes], "assignments": self.assignments,
                "matrix": self.matrix().as_dict(), "run": self.record()}
