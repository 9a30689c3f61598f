"""Suggestions from a tuned model, hedged by the base model: two hybrids, their scores fused.

A model tuned on the team's codings (`coding.suggest.adapt`) tells the project's codes apart better
than the base model, but it has learnt from every coded passage it is then asked about, so its
steps look surer in the inner cross-validation than they are on new passages. A `FusedSuggester`
therefore runs the whole hybrid twice, on the tuned vectors and on the base model's, and ranks by
the geometric mean of the two pooled scores, half and half: a fixed weight, because the codings that
could fit one are the codings the tuned model was trained on. On the cycling dialogues (5 folds,
BENCHMARKS.md section "suggest_tuned") the fusion ranks the right code first a little more often than
either hybrid alone (0.793 against 0.790 tuned and 0.784 base) and keeps the base model's top 3 (0.977;
the tuned model alone is more peaked, 0.967); it costs a second model's embedding. Calibration is fitted
on the fused scores of the inner cross-validation, so a fused "0.8" means what any "0.8" means.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coding.codebook import Codebook
from coding.embed.base import Embedder
from coding.suggest.base import Passages
from coding.suggest.features import LemmaClassifier
from coding.suggest.model import Suggester
from coding.suggest.pool import FLOOR


def fuse(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The rows' geometric mean, half and half, scaled to sum to 1 again."""
    mean = np.sqrt(np.clip(first, FLOOR, 1.0) * np.clip(second, FLOOR, 1.0))
    return mean / mean.sum(axis=1, keepdims=True)


@dataclass
class FusedPassages(Passages):
    """Passages with the tuned model's vectors, and `partner`: the same passages with the base model's."""

    partner: Passages | None = None


class FusedSuggester(Suggester):
    """The hybrid on the tuned `embedder`'s vectors, fused with a partner hybrid on `base`'s.

    Reasons (the closest coded example) come from the tuned vectors; the partner learns from the same
    codings with the same steps and inner folds. `partner_memo` is the base model's text -> vector dict,
    shared like `memo` (a `GroupedSuggester` embeds each passage once per model for all its groups).
    """

    name = "suggest.fused.v1"

    def __init__(self, codebook: Codebook, embedder: Embedder, base: Embedder, *,
                 partner_memo: dict[str, np.ndarray] | None = None, **options) -> None:
        super().__init__(codebook, embedder, **options)
        # The lemma step reads no vectors: one instance serves both, learning and scoring once per batch,
        # and its inner cross-validation runs once (`_held_out_known`).
        steps = [step if isinstance(step, LemmaClassifier) else copy.deepcopy(step) for step in self.steps]
        self.partner = Suggester(codebook, base, codes=self.codes, steps=steps, inner_folds=self.inner_folds,
                                 context_weight=self.context_weight, seed=self.seed, memo=partner_memo)

    def passages(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None,
                 lemmas: list[str] | None = None) -> FusedPassages:
        own = super().passages(texts, contexts, lemmas)
        partner = self.partner.passages(own.texts, contexts, own.lemmas)
        return FusedPassages(own.texts, own.vectors, own.context_vectors, own.contexts, own.lemmas, partner)

    def _refit(self, passages: Passages | None = None) -> None:
        if not isinstance(passages, FusedPassages):
            passages = self.passages([e.text for e in self.examples], [e.context for e in self.examples])
        # In step: the partner re-tunes pool and calibration exactly when this suggester does.
        self.partner.examples = list(self.examples)
        self.partner._tuned_at, self.partner._tuned_on = self._tuned_at, self._tuned_on
        self.partner._refit(passages.partner)  # first: the fused calibration needs its held-out scores
        super()._refit(passages)

    def _held_out_known(self, coded: frozenset) -> dict[int, np.ndarray]:
        # The partner has just run its inner cross-validation on the same codings and folds (it re-tunes
        # in step, first): the step both share scored the same held-out passages there already.
        if self.partner._tuned_on != coded:
            return {}
        return {j: self.partner._held_out_steps[j] for j, step in enumerate(self.steps)
                if step is self.partner.steps[j]}

    def _same_setup(self, other: Suggester) -> bool:
        return super()._same_setup(other) and self.partner._same_setup(other.partner)

    def _keep_tuning(self, other: Suggester) -> None:
        super()._keep_tuning(other)
        self.partner._keep_tuning(other.partner)

    def _to_calibrate(self) -> np.ndarray:
        return fuse(self.held_out_raw, self.partner.held_out_raw)

    def raw_scores(self, passages: FusedPassages) -> np.ndarray:
        return fuse(super().raw_scores(passages), self.partner.raw_scores(passages.partner))

    def record(self) -> dict:
        return {**super().record(), "fused_with": self.partner.record()}
