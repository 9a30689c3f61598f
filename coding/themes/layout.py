"""The 2-D map of a theme run: a t-SNE layout of the run's feature rows, which keeps neighbourhoods.

The first two principal axes (the map until now) draw the themes on top of each other: on the demo
corpus only 71 % of each passage's ten nearest neighbours stay near it (trustworthiness 0.71); t-SNE
keeps 92 %. t-SNE is quadratic-ish in the number of points, so above `sample` points it lays out a
seeded random sample and places every other passage at the similarity-weighted mean of its five most
similar sampled passages. The layout is computed once when a run is made and stored with it, so the
map never moves while leads rename, merge or move themes.
"""
from __future__ import annotations

import numpy as np
from sklearn.manifold import TSNE

from coding.themes.model import StepRecord

LAYOUT = "layout.tsne.v1"
NEIGHBOURS = 5


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def _tsne(rows: np.ndarray, seed: int, perplexity: float) -> np.ndarray:
    if len(rows) < 4:
        return np.zeros((len(rows), 2))
    # t-SNE needs perplexity < number of points; small selections get a proportionally smaller one.
    perplexity = min(perplexity, (len(rows) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", metric="cosine", random_state=seed,
                max_iter=750).fit_transform(rows)


def _place(rows: np.ndarray, sample: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Coordinates for `rows` from their most similar sampled rows (cosine), weighted by similarity."""
    unit, anchors = _unit_rows(rows), _unit_rows(sample)
    placed = np.empty((len(rows), 2))
    for start in range(0, len(rows), 4096):  # bounded memory for 50,000 passages
        similar = unit[start:start + 4096] @ anchors.T
        nearest = np.argpartition(-similar, NEIGHBOURS - 1, axis=1)[:, :NEIGHBOURS]
        weights = np.clip(np.take_along_axis(similar, nearest, axis=1), 1e-6, None)
        placed[start:start + 4096] = (coords[nearest] * weights[..., None]).sum(axis=1) / weights.sum(axis=1,
                                                                                                      keepdims=True)
    return placed


def map_layout(features: np.ndarray, seed: int = 0, *, sample: int = 2000,
               perplexity: float = 30.0) -> tuple[np.ndarray, StepRecord]:
    """2-D map coordinates (one row per feature row, scaled into [-1, 1]) and the step's record."""
    rows = np.asarray(features, dtype=np.float64)
    record = StepRecord(LAYOUT, {"perplexity": perplexity, "sample": sample, "neighbours": NEIGHBOURS,
                                 "metric": "cosine", "seed": seed})
    if len(rows) <= sample:
        coords = _tsne(rows, seed, perplexity)
    else:
        picked = np.sort(np.random.default_rng(seed).choice(len(rows), size=sample, replace=False))
        coords = np.empty((len(rows), 2))
        coords[picked] = _tsne(rows[picked], seed, perplexity)
        rest = np.setdiff1d(np.arange(len(rows)), picked)
        coords[rest] = _place(rows[rest], rows[picked], coords[picked])
    scale = np.abs(coords).max()
    return (coords / scale if scale > 0 else coords), record
