"""Clustering the feature rows into themes, with an automatic number of themes.

`Agglomerative` (cluster.agglomerative.v1) builds one tree (average linkage on cosine distance by
default) and cuts it. A cut into k themes keeps the k clusters of the tree that are large enough to
be a theme (at least `min_share` of the segments, at least 2) and gives every segment of a smaller
cluster to the nearest of them: a tree cut alone would spend themes on single outlying passages.

The automatic number of themes is the knee of the curve "within-theme dispersion after cutting into
k themes", k = 1 .. `max_themes` (Kneedle, Satopää et al. 2011): the point after which a further theme
buys the least. It looks at the shape of the curve, not at any label, and works the same whatever
the number of segments. (Silhouette, the usual choice, keeps rising with k on sentence embeddings,
whose clusters overlap; see BENCHMARKS.md.) `finer`/`coarser` multiply the automatic number by 1.5
or divide it by 1.5.

Beyond `direct_limit` segments the tree is built over k-means micro-clusters (`micro` of them)
instead of the segments, so memory and time stay bounded (average linkage needs n^2/2 distances).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from coding.embed.base import normalise_rows
from coding.themes.model import ThemeError

AUTO = "auto"
FINER, COARSER = "finer", "coarser"
STEP_FACTOR = 1.5  # how much finer or coarser one step is


@dataclass
class Clustering:
    """Theme index per row (0 .. k-1, in order of each theme's first row) and what was decided."""

    labels: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0


@runtime_checkable
class Clusterer(Protocol):
    """Feature rows (unit length) -> themes; `n_themes` is a number, "auto", "finer" or "coarser"."""

    name: str

    def params(self) -> dict: ...

    def cluster(self, features: np.ndarray, n_themes: int | str, seed: int) -> Clustering: ...


class Agglomerative:
    """Agglomerative clustering on cosine distance, cut at the knee of the dispersion curve.

    Args:
        linkage: "average" (default), "complete" or "ward" (ward on the unit rows, i.e. Euclidean).
        max_themes: the largest number of themes the automatic choice considers.
        min_share: a cluster needs at least this share of the segments (and 2) to be a theme.
        direct_limit: above this many segments, cluster micro-clusters instead of segments.
        micro: how many k-means micro-clusters on that path.
    """

    name = "cluster.agglomerative.v1"

    def __init__(self, linkage: str = "average", max_themes: int = 40, min_share: float = 0.01,
                 direct_limit: int = 6000, micro: int = 1000) -> None:
        if linkage not in ("average", "complete", "ward"):
            raise ThemeError(f"unknown linkage {linkage!r}: use average, complete or ward")
        self.linkage, self.max_themes, self.min_share = linkage, max_themes, min_share
        self.direct_limit, self.micro = direct_limit, micro

    def params(self) -> dict:
        return {"linkage": self.linkage, "metric": "euclidean" if self.linkage == "ward" else "cosine",
                "max_themes": self.max_themes, "min_share": self.min_share, "direct_limit": self.direct_limit,
                "micro": self.micro, "criterion": "knee of within-theme dispersion (kneedle)",
                "step_factor": STEP_FACTOR}

    def cluster(self, features: np.ndarray, n_themes: int | str, seed: int) -> Clustering:
        features = np.asarray(features, dtype=np.float64)
        n = len(features)
        if n == 0:
            return Clustering(np.zeros(0, dtype=int), {"n_themes": 0})
        if n == 1:
            return Clustering(np.zeros(1, dtype=int), {"n_themes": 1})
        tree, unit_of, min_size, top = self._tree(features, seed)
        units = tree.n
        info: dict = {"segments": n, "units": units, "path": "direct" if unit_of is None else "micro-clusters"}
        if isinstance(n_themes, str):
            if n_themes not in (AUTO, FINER, COARSER):
                raise ThemeError(f"the number of themes must be a number, {AUTO}, {FINER} or {COARSER}, "
                                 f"not {n_themes!r}")
            cuts = tree.big_clusters(top, min_size)
            ks = sorted(cuts)
            curve = [tree.dispersion(tree.assign(cuts[k])) for k in ks]
            knee = ks[_knee(curve) - 1] if ks else 1
            k = {AUTO: knee, FINER: math.ceil(knee * STEP_FACTOR), COARSER: math.floor(knee / STEP_FACTOR)}[n_themes]
            k = max(2 if n_themes == FINER else 1, min(k, units))
            info.update({"asked": n_themes, "knee": knee, "dispersion": [round(float(w), 4) for w in curve]})
        else:
            if int(n_themes) < 1:
                raise ThemeError(f"the number of themes must be at least 1, not {n_themes}")
            k = min(int(n_themes), units)
            info["asked"] = int(n_themes)
        labels, used = tree.cut_exactly(k, min_size)
        if unit_of is not None:
            labels = labels[unit_of]
        labels = _first_seen_order(labels)
        info.update({"n_themes": int(labels.max()) + 1, "min_size": used})
        return Clustering(labels, info)

    def cuts(self, features: np.ndarray, seed: int = 0) -> dict[int, np.ndarray]:
        """Every cut the automatic choice considers: k -> theme per row, k = 1 .. `max_themes` (or fewer)."""
        features = np.asarray(features, dtype=np.float64)
        n = len(features)
        if n < 2:
            return {1: np.zeros(n, dtype=int)} if n else {}
        tree, unit_of, min_size, top = self._tree(features, seed)
        found = tree.big_clusters(top, min_size)
        labels = {k: tree.assign(kept) for k, kept in found.items()}
        return {k: (rows[unit_of] if unit_of is not None else rows) for k, rows in sorted(labels.items())}

    def _tree(self, features: np.ndarray, seed: int) -> tuple[_Tree, np.ndarray | None, int, int]:
        """The tree over the segments (or their micro-clusters), the unit of each segment (None: itself),
        the least size of a theme, and the largest number of themes the automatic choice considers."""
        units, weights, unit_of = self._units(features, seed)
        min_size = max(2, math.ceil(self.min_share * len(features)))
        top = max(1, min(self.max_themes, len(units), len(features) // min_size))
        return _Tree(units, weights, self.linkage), unit_of, min_size, top

    def _units(self, features: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The rows to build the tree over, their weights, and which unit each segment belongs to."""
        if len(features) <= self.direct_limit:
            return features, np.ones(len(features)), None
        from sklearn.cluster import MiniBatchKMeans

        model = MiniBatchKMeans(n_clusters=self.micro, random_state=seed, n_init=1, batch_size=4096,
                                max_no_improvement=20)
        assigned = model.fit_predict(features)
        used, unit_of = np.unique(assigned, return_inverse=True)
        weights = np.bincount(unit_of).astype(float)
        centres = np.zeros((len(used), features.shape[1]))
        np.add.at(centres, unit_of, features)
        return normalise_rows(centres / weights[:, None]).astype(np.float64), weights, unit_of


class _Tree:
    """One linkage tree over weighted rows, and its cuts into themes of a least size."""

    def __init__(self, rows: np.ndarray, weights: np.ndarray, method: str) -> None:
        from scipy.cluster.hierarchy import linkage

        self.rows, self.weights, self.n = rows, weights, len(rows)
        merges = linkage(rows, method=method, metric="euclidean" if method == "ward" else "cosine")
        self.left, self.right = merges[:, 0].astype(int), merges[:, 1].astype(int)
        size = np.concatenate([weights, np.zeros(self.n - 1)])
        for i in range(self.n - 1):
            size[self.n + i] = size[self.left[i]] + size[self.right[i]]
        self.size = size

    def big_clusters(self, most: int, min_size: float) -> dict[int, list[int]]:
        """For k = 1 .. most: the clusters of at least `min_size` when the tree, undone merge by merge
        from the top, first holds k of them (k missing when the tree never does)."""
        import heapq

        n, top = self.n, 2 * self.n - 2
        internal = [-top] if top >= n else []  # a heap of the current clusters that can be undone, latest first
        big = {top} if self.size[top] >= min_size else set()
        found = {len(big): sorted(big)} if big else {}
        while len(found) < most and internal:
            node = -heapq.heappop(internal)
            big.discard(node)
            for child in (self.left[node - n], self.right[node - n]):
                if self.size[child] >= min_size:
                    big.add(child)
                    if child >= n:
                        heapq.heappush(internal, -child)
            if len(big) not in found and 0 < len(big) <= most:
                found[len(big)] = sorted(big)
        return found

    def assign(self, kept: list[int]) -> np.ndarray:
        """Row -> theme: the rows under each kept cluster, the rest to the nearest kept cluster (cosine)."""
        labels = np.full(self.n, -1)
        for theme, node in enumerate(kept):
            labels[self._leaves(node)] = theme
        loose = labels < 0
        if loose.any():
            centres = np.zeros((len(kept), self.rows.shape[1]))
            np.add.at(centres, labels[~loose], self.rows[~loose] * self.weights[~loose, None])
            labels[loose] = (self.rows[loose] @ normalise_rows(centres).T).argmax(axis=1)
        return labels

    def cut_exactly(self, k: int, min_size: int) -> tuple[np.ndarray, int]:
        """A cut into exactly k themes, lowering the least size when the tree needs it (down to 1)."""
        size = min_size
        while True:
            kept = self.big_clusters(k, size).get(k)
            if kept is not None:
                return self.assign(kept), size
            if size <= 1:
                raise ThemeError(f"cannot make {k} themes of {self.n} distinct passages")
            size = max(1, size // 2)

    def _leaves(self, node: int) -> list[int]:
        n, out, stack = self.n, [], [node]
        while stack:
            x = stack.pop()
            if x < n:
                out.append(x)
            else:
                stack.extend((self.left[x - n], self.right[x - n]))
        return out

    def dispersion(self, labels: np.ndarray) -> float:
        """Weighted sum of squared distances of the rows to their theme's mean."""
        k = labels.max() + 1
        sums = np.zeros((k, self.rows.shape[1]))
        np.add.at(sums, labels, self.rows * self.weights[:, None])
        mass = np.bincount(labels, weights=self.weights, minlength=k)
        total = float((self.weights * (self.rows ** 2).sum(axis=1)).sum())
        return total - float(((sums ** 2).sum(axis=1) / np.maximum(mass, 1e-12)).sum())


def _knee(curve: list[float]) -> int:
    """The k (1-based) where a falling curve bends most: farthest below the line joining its ends."""
    values = np.asarray(curve, dtype=float)
    if len(values) < 3:
        return len(values) or 1
    x = np.linspace(0.0, 1.0, len(values))
    span = values[0] - values[-1]
    if span <= 0:
        return 1
    y = (values - values[-1]) / span  # 1 at k=1, 0 at the largest k
    return int(np.argmax((1.0 - x) - y)) + 1


def _first_seen_order(labels: np.ndarray) -> np.ndarray:
    """Renumber themes 0, 1, ... in the order their first row appears (a stable, input-defined order)."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    return rank[np.searchsorted(np.unique(labels), labels)]
