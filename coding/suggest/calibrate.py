"""Calibration: make a score of 0.8 mean that about 80% of such suggestions are right.

Calibrators learn a monotone map from pooled probability to "share correct" on out-of-fold
predictions (every (passage, code) pair counts: is this code right for this passage?). Being
monotone, they never change a passage's ranking. Isotonic regression needs a few hundred coded
passages; below that a one-feature logistic fit (Platt scaling) is steadier; without coded
passages there is nothing to calibrate against and scores stay as pooled.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from coding.suggest.pool import FLOOR


@runtime_checkable
class Calibrator(Protocol):
    """A monotone map from raw probability to calibrated probability, fitted on held-out scores."""

    name: str

    def params(self) -> dict: ...

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> Calibrator: ...

    def transform(self, probs: np.ndarray) -> np.ndarray: ...


def pairs(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (passage, code) pair as (score, 1 if the code is the passage's code else 0)."""
    truth = np.zeros_like(probs)
    truth[np.arange(len(labels)), np.asarray(labels, dtype=int)] = 1.0
    return probs.ravel(), truth.ravel()


class NoCalibration:
    """Scores as pooled; used before any coded passage exists."""

    name = "calibrate.none.v1"

    def params(self) -> dict:
        return {}

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> NoCalibration:
        return self

    def transform(self, probs: np.ndarray) -> np.ndarray:
        return np.clip(probs, 0.0, 1.0)


class PlattCalibration:
    """Logistic regression on the log-odds of the pooled probability (two parameters)."""

    name = "calibrate.platt.v1"

    def __init__(self) -> None:
        self.slope, self.intercept = 1.0, 0.0

    def params(self) -> dict:
        return {"slope": round(self.slope, 4), "intercept": round(self.intercept, 4)}

    @staticmethod
    def _logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, FLOOR, 1 - FLOOR)
        return np.log(p / (1 - p))

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> PlattCalibration:
        from sklearn.linear_model import LogisticRegression

        x, y = pairs(probs, labels)
        if y.min() == y.max():
            return self
        model = LogisticRegression(C=100.0).fit(self._logit(x)[:, None], y)
        self.slope, self.intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
        if self.slope <= 0:  # a map that reverses the ranking is a fit gone wrong: keep the identity
            self.slope, self.intercept = 1.0, 0.0
        return self

    def transform(self, probs: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.slope * self._logit(probs) + self.intercept)))


class IsotonicCalibration:
    """Isotonic regression of correctness on score: a non-decreasing step map, no shape assumed."""

    name = "calibrate.isotonic.v1"

    def __init__(self) -> None:
        self._model = None

    def params(self) -> dict:
        return {"steps": 0 if self._model is None else int(len(self._model.X_thresholds_))}

    def fit(self, probs: np.ndarray, labels: np.ndarray) -> IsotonicCalibration:
        from sklearn.isotonic import IsotonicRegression

        x, y = pairs(probs, labels)
        self._model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
        return self

    def transform(self, probs: np.ndarray) -> np.ndarray:
        if self._model is None:
            return probs
        return self._model.predict(probs.ravel()).reshape(probs.shape)


def calibrator_for(n_examples: int, *, isotonic_from: int = 300, platt_from: int = 30) -> Calibrator:
    """The calibrator that the number of coded passages can support."""
    if n_examples >= isotonic_from:
        return IsotonicCalibration()
    if n_examples >= platt_from:
        return PlattCalibration()
    return NoCalibration()


@dataclass(frozen=True)
class Bin:
    """One row of a reliability table."""

    low: float
    high: float
    count: int
    mean_score: float
    share_correct: float


def reliability(scores: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[Bin]:
    """Suggestions grouped by score into equal-width bins: mean score against share actually right."""
    scores, correct = np.asarray(scores, float).ravel(), np.asarray(correct, float).ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            table.append(Bin(float(edges[b]), float(edges[b + 1]), int(mask.sum()),
                             float(scores[mask].mean()), float(correct[mask].mean())))
    return table


def expected_calibration_error(table: list[Bin]) -> float:
    """Count-weighted mean gap between score and share correct over the bins."""
    total = sum(b.count for b in table)
    return sum(b.count * abs(b.mean_score - b.share_correct) for b in table) / total if total else 0.0
