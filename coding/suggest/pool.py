"""Pooling the steps' probabilities into one ranking: a weighted product (log-linear pool).

`p(code) ∝ exp(bias[code] + Σ_step weight[step] · log p_step(code))`. With few coded examples the
weights are fixed defaults that trust the codebook and give the learned steps more say as examples
accumulate; with enough examples they are fitted on out-of-fold scores (the Suggester's inner
cross-validation), with an L2 pull towards the defaults. A step that has no opinion about a code
(a classifier that never saw it) counts as neutral for that code, so the codebook alone ranks
codes nobody has used yet.
"""
from __future__ import annotations

import numpy as np

from coding.suggest.base import softmax

FLOOR = 1e-6


def log_scores(scores: np.ndarray) -> np.ndarray:
    """log p with a floor; NaN (no opinion) becomes the row's mean over the codes the step knows."""
    logs = np.log(np.clip(scores, FLOOR, 1.0))
    known = ~np.isnan(scores)
    if known.all():
        return logs
    mean = np.nanmean(np.where(known, logs, np.nan), axis=1, keepdims=True) if known.any() else 0.0
    return np.where(known, logs, np.nan_to_num(mean, nan=0.0))


class LogLinearPool:
    """Weighted log-linear pooling of step probabilities, with per-code biases when fitted."""

    name = "suggest.pool.loglinear.v1"

    def __init__(self, steps: list[str], *, half_way: float = 5.0, l2: float = 0.01, min_examples: int = 30) -> None:
        self.steps = list(steps)
        self.half_way, self.l2, self.min_examples = half_way, l2, min_examples
        self.weights = np.array([1.0 if s.startswith("suggest.codebook_prior") else 0.0 for s in self.steps])
        self.bias: np.ndarray | None = None
        self.fitted = False

    def params(self) -> dict:
        return {"half_way": self.half_way, "l2": self.l2, "min_examples": self.min_examples, "fitted": self.fitted,
                "weights": {s: round(float(w), 4) for s, w in zip(self.steps, self.weights)},
                "bias": None if self.bias is None else [round(float(b), 4) for b in self.bias]}

    def defaults(self, n_examples: int) -> np.ndarray:
        """Codebook 1; each learned step grows from 0 towards 1 (half-way at `half_way` examples)."""
        share = n_examples / (n_examples + self.half_way)
        return np.array([1.0 - 0.5 * share if s.startswith("suggest.codebook_prior") else share for s in self.steps])

    def set_defaults(self, n_examples: int) -> LogLinearPool:
        self.weights, self.bias, self.fitted = self.defaults(n_examples), None, False
        return self

    def fit(self, step_scores: list[np.ndarray], labels: np.ndarray) -> LogLinearPool:
        """Weights and biases that maximise the likelihood of `labels` on out-of-fold step scores."""
        from scipy.optimize import minimize

        labels = np.asarray(labels, dtype=int)
        n = len(labels)
        start = self.defaults(n)
        if n < self.min_examples:
            return self.set_defaults(n)
        logs = np.stack([log_scores(s) for s in step_scores])  # (steps, n, codes)
        present = np.unique(labels)
        logs = logs[:, :, present]  # fit over the codes that occur; the others keep a neutral bias
        target = np.searchsorted(present, labels)
        m, c = len(self.steps), len(present)

        def loss(theta):
            w, b = theta[:m], theta[m:]
            probs = softmax(np.tensordot(w, logs, axes=1) + b)
            nll = -np.log(np.clip(probs[np.arange(n), target], 1e-12, None)).mean()
            penalty = self.l2 * (np.sum((w - start) ** 2) + np.sum(b ** 2))
            grad_logits = probs.copy()
            grad_logits[np.arange(n), target] -= 1.0
            grad_logits /= n
            gw = np.einsum("snc,nc->s", logs, grad_logits) + 2 * self.l2 * (w - start)
            gb = grad_logits.sum(axis=0) + 2 * self.l2 * b
            return nll + penalty, np.concatenate([gw, gb])

        theta0 = np.concatenate([start, np.zeros(c)])
        bounds = [(0.0, None)] * m + [(None, None)] * c
        result = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
        self.weights = result.x[:m]
        bias = np.zeros(step_scores[0].shape[1])
        fitted = result.x[m:] - result.x[m:].mean()
        bias[present] = fitted
        self.bias, self.fitted = bias, True
        return self

    def combine(self, step_scores: list[np.ndarray]) -> np.ndarray:
        """(n, codes) pooled probabilities, rows summing to 1."""
        logits = sum(w * log_scores(s) for w, s in zip(self.weights, step_scores) if w)
        if isinstance(logits, int):  # every weight zero: no opinion at all
            logits = np.zeros_like(step_scores[0])
        if self.bias is not None:
            logits = logits + self.bias
        return softmax(np.nan_to_num(logits))
