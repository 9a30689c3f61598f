"""The steps that learn from the team's codings through embeddings: a classifier and nearest examples.

Both see a passage as its embedding, optionally together with the embedding of the text around it
(the interviewer's question before an answer says a lot about what the answer is about).
"""
from __future__ import annotations

import numpy as np

from coding.suggest.base import Passages, softmax
from coding.suggest.features import _spread


def _has_context(passages: Passages) -> bool:
    return bool(len(passages)) and bool(np.any(passages.context_vectors))


class EmbeddingClassifier:
    """Logistic regression on standardised embeddings (and context embeddings, when known).

    `context` is decided at fit time: when no coded example carries neighbouring text, the
    classifier sees the passage's own embedding only.
    """

    name = "suggest.embedding_lr.v1"

    def __init__(self, C: float = 0.02, use_context: bool = True, class_weight: str | None = "balanced") -> None:
        self.C, self.use_context, self.class_weight = C, use_context, class_weight
        self._model = None
        self._columns: np.ndarray | None = None
        self._n_codes = 0
        self._with_context = False

    def params(self) -> dict:
        return {"C": self.C, "use_context": self.use_context, "class_weight": self.class_weight, "standardise": True}

    def _inputs(self, passages: Passages) -> np.ndarray:
        if self._with_context:
            return np.hstack([passages.vectors, passages.context_vectors])
        return passages.vectors

    def fit(self, passages: Passages, labels: np.ndarray, codes: list[str]) -> EmbeddingClassifier:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self._n_codes = len(codes)
        self._with_context = self.use_context and _has_context(passages)
        self._model, self._columns = None, np.unique(labels)
        if len(self._columns) < 2:
            return self
        self._model = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=3000,
                                                                       class_weight=self.class_weight))
        self._model.fit(self._inputs(passages), labels)
        self._columns = self._model.classes_
        return self

    def scores(self, passages: Passages) -> np.ndarray:
        inputs = self._inputs(passages) if self._model is not None else None
        return _spread(self._model, self._columns, self._n_codes, inputs, len(passages))


class Neighbours:
    """Similarity to the closest coded examples of each code (the mean of the `k` best).

    Similarities are compared across codes as z-scores per passage, so the step behaves the same
    with embedders whose cosine similarities live in different ranges.
    """

    name = "suggest.neighbours.v1"

    def __init__(self, k: int = 5, sharpness: float = 2.0, context_weight: float = 0.3) -> None:
        self.k, self.sharpness, self.context_weight = k, sharpness, context_weight
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._labels = np.zeros(0, dtype=int)
        self._n_codes = 0

    def params(self) -> dict:
        return {"k": self.k, "sharpness": self.sharpness, "context_weight": self.context_weight}

    def fit(self, passages: Passages, labels: np.ndarray, codes: list[str]) -> Neighbours:
        self._n_codes = len(codes)
        self._vectors = passages.mixed(self.context_weight)
        self._labels = np.asarray(labels, dtype=int)
        return self

    def similarities(self, passages: Passages) -> np.ndarray:
        """(n, codes): mean of the k highest similarities to each code's examples; NaN without any."""
        out = np.full((len(passages), self._n_codes), np.nan)
        if not len(self._labels) or not len(passages):
            return out
        sims = passages.mixed(self.context_weight) @ self._vectors.T
        for code in np.unique(self._labels):
            own = sims[:, self._labels == code]
            k = min(self.k, own.shape[1])
            out[:, code] = np.sort(own, axis=1)[:, -k:].mean(axis=1)
        return out

    def scores(self, passages: Passages) -> np.ndarray:
        sims = self.similarities(passages)
        known = ~np.isnan(sims[0]) if len(sims) else np.zeros(self._n_codes, bool)
        out = np.full_like(sims, np.nan)
        if known.sum() == 0:
            return out
        out[:, known] = softmax(self.sharpness * zscores(sims[:, known]))
        return out


def zscores(values: np.ndarray) -> np.ndarray:
    """Each row centred and scaled to unit spread (a row of equal values becomes zeros)."""
    centred = values - values.mean(axis=1, keepdims=True)
    spread = values.std(axis=1, keepdims=True)
    return centred / np.where(spread < 1e-9, 1, spread)
