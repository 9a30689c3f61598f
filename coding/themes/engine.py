"""Coded segments + their vectors -> a `ThemeRun`; and the revisions a team lead makes to a run.

`find_themes(segments, vectors)` runs the steps (reduction, lexical block, clustering, labels,
representative quotes), each recorded by versioned name and parameters. `split`, `merge`, `move` and
`relabel` are pure functions: they return a new run and leave the given one as it was, so that the
app can keep the old run for undo. All of them are deterministic for the same input and seed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import inspect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from coding.embed.base import normalise_rows
from coding.themes.cluster import AUTO, Agglomerative, Clusterer
from coding.themes.features import LemmaLSA, Lexical, NoLexical, NoReduction, PCAReduction, Reduction, combine
from coding.themes.labels import CentralQuotes, CTfidfLabeller, Labeller, Representer
from coding.themes.model import Segment, StepRecord, Theme, ThemeError, ThemeRun
from coding.themes.stakeholders import cross_stakeholder_score, distribution, group_totals, unit_of

NAME = "themes.v1"


@contextlib.contextmanager
def one_blas_thread():
    """Run numpy/scipy linear algebra on one thread meanwhile.

    The matrices here are small (at most tens of thousands of rows by a few hundred columns), and on
    the project's 2-core machine with other work running, OpenBLAS's second thread made the lemma SVD
    13 times slower instead of faster (BENCHMARKS.md, "Themes"). The limit is process-wide while it lasts.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
_STEP_CLASSES = {cls.name: cls for cls in (PCAReduction, NoReduction, LemmaLSA, NoLexical, Agglomerative,
                                           CTfidfLabeller, CentralQuotes)}


@dataclass
class ThemeSteps:
    """The steps of a theme run; each can be swapped for another object with the same small protocol."""

    reduction: Reduction = field(default_factory=PCAReduction)
    lexical: Lexical = field(default_factory=LemmaLSA)
    clusterer: Clusterer = field(default_factory=Agglomerative)
    labeller: Labeller = field(default_factory=CTfidfLabeller)
    representer: Representer = field(default_factory=CentralQuotes)

    def records(self) -> list[StepRecord]:
        return [StepRecord(step.name, step.params()) for step in
                (self.reduction, self.lexical, self.clusterer, self.labeller, self.representer)]

    @classmethod
    def from_records(cls, records: Sequence[StepRecord]) -> ThemeSteps:
        """The steps a stored run names, rebuilt with their parameters (so a run can be revised later)."""
        steps = [_build(record) for record in records]
        if len(steps) != 5:
            raise ThemeError(f"a theme run has 5 steps, this record has {len(steps)}")
        return cls(*steps)


def _build(record: StepRecord):
    step_class = _STEP_CLASSES.get(record.name)
    if step_class is None:
        raise ThemeError(f"unknown theme step {record.name!r}; known: {', '.join(sorted(_STEP_CLASSES))}")
    accepted = inspect.signature(step_class).parameters
    return step_class(**{k: v for k, v in record.params.items() if k in accepted})


def features_of(segments: Sequence[Segment], vectors: np.ndarray, steps: ThemeSteps, seed: int) -> np.ndarray:
    """The unit-length rows themes are found in: reduced embeddings beside the weighted lexical block."""
    semantic = steps.reduction.fit_transform(np.asarray(vectors), seed)
    lexical = steps.lexical.fit_transform([s.text for s in segments], seed)
    return combine(semantic, lexical, steps.lexical.weight)


def find_themes(segments: Sequence[Segment], vectors: np.ndarray, *, n_themes: int | str = AUTO, seed: int = 0,
                steps: ThemeSteps | None = None, embedder: str | None = None) -> ThemeRun:
    """Cluster coded segments into themes.

    Args:
        segments: the coded segments (unique ids).
        vectors: their embeddings, one row per segment (from a project: `coding.embed.embed_cached`).
        n_themes: a number, "auto" (the knee of the dispersion curve), "finer" or "coarser".
        seed: makes the randomised parts (SVD, micro-clusters) repeatable.
        steps: the steps (default: `ThemeSteps()`).
        embedder: the model id of the vectors, recorded with the run.
    """
    segments = list(segments)
    vectors = np.asarray(vectors, dtype=np.float64)
    _check(segments, vectors)
    steps = steps or ThemeSteps()
    with one_blas_thread():
        features = features_of(segments, vectors, steps, seed) if segments else np.zeros((0, 0))
        clustering = steps.clusterer.cluster(features, n_themes, seed)
        groups = [np.flatnonzero(clustering.labels == t) for t in range(clustering.k)]
        params = {"name": NAME, "seed": seed, "n_themes": n_themes, "embedder": embedder, "segments": len(segments),
                  "unit": unit_of(segments), "clustering": clustering.info}
        run = ThemeRun(segments, features, [], steps.records(), params)
        return dataclasses.replace(run, themes=describe(run, groups, steps=steps))


def _check(segments: list[Segment], vectors: np.ndarray) -> None:
    if vectors.ndim != 2 or len(vectors) != len(segments):
        raise ThemeError(f"need one vector per segment: {len(segments)} segments, vectors of shape {vectors.shape}")
    seen: set[str] = set()
    for s in segments:
        if s.id in seen:
            raise ThemeError(f"the segment id {s.id!r} occurs twice; every segment needs its own id")
        seen.add(s.id)
    if len(segments) and not np.isfinite(vectors).all():
        raise ThemeError("the vectors hold NaN or infinite values")


def describe(run: ThemeRun, groups: Sequence[np.ndarray], ids: Sequence[str | None] | None = None,
             steps: ThemeSteps | None = None) -> list[Theme]:
    """Themes for these groups of rows of the run: labels, quotes, figures; ordered by cross-stakeholder
    score (to two decimals), then size, then first segment.

    `ids` gives each group's theme id (None: a new one); without `ids` the themes are numbered
    T01, T02, ... in their final order.
    """
    steps = steps or ThemeSteps.from_records(run.steps)
    segments, features = run.segments, run.features
    given = list(ids) if ids is not None else [None] * len(groups)
    if len(given) != len(groups):
        raise ThemeError(f"{len(groups)} groups of segments but {len(given)} theme ids")
    kept = [(np.asarray(g, dtype=int), i) for g, i in zip(groups, given) if len(g)]  # a theme needs members
    groups, given = [g for g, _ in kept], [i for _, i in kept]
    texts = [s.text for s in segments]
    keywords = steps.labeller.keywords(texts, groups)
    totals, unit = group_totals(segments), unit_of(segments)
    drafts = []
    for rows, words in zip(groups, keywords):
        centre = normalise_rows(features[rows].mean(axis=0, keepdims=True))[0]
        central = rows[np.argsort(-(features[rows] @ centre), kind="stable")]
        members = [segments[r] for r in rows]
        score = cross_stakeholder_score(members, totals, unit)
        quotes = steps.representer.pick(segments, central)
        drafts.append((rows, Theme(
            id="", label=steps.labeller.title(texts, central), keywords=words,
            codes=_counts(s.code for s in members), stakeholders=distribution(members),
            members=[s.id for s in members], representatives=[segments[r].id for r in quotes],
            interviews=sorted({s.document for s in members if s.document is not None}),
            cross_stakeholder=score, groups_reached=len({s.stakeholder for s in members} - {None}))))
    order = sorted(range(len(drafts)), key=lambda i: (-round(drafts[i][1].cross_stakeholder, 2),
                                                      -len(drafts[i][0]), int(drafts[i][0][0])))
    if ids is None:
        width = max(2, len(str(len(drafts))))
        return [dataclasses.replace(drafts[i][1], id=f"T{n:0{width}d}") for n, i in enumerate(order, 1)]
    fresh = _new_ids(run, sum(1 for g in given if g is None))
    return [dataclasses.replace(drafts[i][1], id=given[i] if given[i] is not None else next(fresh)) for i in order]


def _counts(values) -> dict[str, int]:
    counts = Counter(v for v in values if v is not None)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _new_ids(run: ThemeRun, count: int):
    """Theme ids never used in this run before (numbers after the highest T-number it has seen)."""
    used = [t.id for t in run.themes] + [i for h in run.history for i in h.get("into", []) + h.get("themes", [])]
    numbers = [int(m.group(1)) for i in used if (m := re.fullmatch(r"T(\d+)", str(i)))]
    width = max(2, max((len(str(i)) - 1 for i in used), default=2))
    start = max(numbers, default=0) + 1
    return iter(f"T{n:0{width}d}" for n in range(start, start + count))


def _revised(run: ThemeRun, groups: list[np.ndarray], ids: list[str | None], event: dict) -> ThemeRun:
    themes = describe(run, groups, ids)
    if event["op"] == "split":
        kept = {i for i in ids if i is not None}
        event = {**event, "into": [t.id for t in themes if t.id not in kept]}
    return dataclasses.replace(run, themes=themes, history=run.history + [event])


def relabel(run: ThemeRun) -> ThemeRun:
    """The run with every theme's keywords, title, quotes and figures computed again from its members
    (keywords depend on all themes, so a change to one theme can change another's)."""
    return dataclasses.replace(run, themes=describe(run, [run.rows(t.id) for t in run.themes],
                                                    [t.id for t in run.themes]))


def split(run: ThemeRun, theme_id: str, n: int | str = AUTO, seed: int | None = None) -> ThemeRun:
    """Re-cluster one theme into `n` themes (auto: the run's criterion, at least 2) with new ids."""
    rows = run.rows(theme_id)
    if len(rows) < 2:
        raise ThemeError(f"the theme {theme_id} has {len(rows)} segment(s); splitting needs at least 2")
    steps = ThemeSteps.from_records(run.steps)
    seed = run.params.get("seed", 0) if seed is None else seed
    with one_blas_thread():
        labels = steps.clusterer.cluster(run.features[rows], n, seed).labels
        if labels.max() < 1:  # the criterion sees one theme; a lead who asks for a split wants two
            labels = steps.clusterer.cluster(run.features[rows], 2, seed).labels
    parts = [rows[labels == t] for t in range(labels.max() + 1)]
    others = [t for t in run.themes if t.id != theme_id]
    groups = [run.rows(t.id) for t in others] + parts
    ids = [t.id for t in others] + [None] * len(parts)
    return _revised(run, groups, ids, {"op": "split", "theme": theme_id, "n": n, "seed": seed})


def merge(run: ThemeRun, theme_ids: Sequence[str]) -> ThemeRun:
    """One theme from several; it keeps the first id given."""
    theme_ids = list(dict.fromkeys(theme_ids))
    if len(theme_ids) < 2:
        raise ThemeError("merging needs at least two different themes")
    merged = np.sort(np.concatenate([run.rows(i) for i in theme_ids]))
    others = [t for t in run.themes if t.id not in theme_ids]
    groups = [run.rows(t.id) for t in others] + [merged]
    ids = [t.id for t in others] + [theme_ids[0]]
    return _revised(run, groups, ids, {"op": "merge", "themes": theme_ids, "into": [theme_ids[0]]})


def move(run: ThemeRun, segment_ids: Sequence[str], theme_id: str) -> ThemeRun:
    """Segments moved into another theme; a theme left without segments disappears."""
    run.theme(theme_id)
    moving = set(segment_ids)
    unknown = moving - {s.id for s in run.segments}
    if unknown:
        raise ThemeError(f"no segment {sorted(unknown)[0]!r} in this run")
    position = {s.id: i for i, s in enumerate(run.segments)}
    groups, ids = [], []
    for theme in run.themes:
        keep = [m for m in theme.members if m not in moving]
        if theme.id == theme_id:
            keep += list(segment_ids)
        if keep:
            groups.append(np.sort(np.array([position[m] for m in dict.fromkeys(keep)], dtype=int)))
            ids.append(theme.id)
    return _revised(run, groups, ids, {"op": "move", "segments": list(segment_ids), "into": [theme_id]})
