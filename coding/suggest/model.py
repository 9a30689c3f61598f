"""The Suggester: ranks the codes of a codebook for selected passages, with a score and a reason each.

On day one it knows only the codebook (`CodebookPrior`). As the team codes, it learns from the
coded passages through three steps (nearest coded examples, a classifier on embeddings, a classifier
on German lemmas) and pools them with the codebook prior; with enough codings the pool's weights
and the calibration are fitted by an inner cross-validation over those codings, so nothing is tuned
on the passages being suggested for. `add` refits the steps (seconds for a few thousand codings;
passages seen before are not embedded again) and re-tunes pool and calibration only when a tenth
of the codings has changed since they were last tuned; `fit(..., after=)` keeps them from the
suggester it replaces on the same terms.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

import numpy as np

from coding.codebook import Codebook
from coding.embed.base import Embedder
from coding.suggest.base import Example, Passages, Reason, Step, Suggestion, SuggestError, as_examples
from coding.suggest.calibrate import Calibrator, NoCalibration, calibrator_for
from coding.suggest.codebook_prior import CodebookPrior
from coding.suggest.features import ANALYZER, LemmaClassifier
from coding.suggest.learners import EmbeddingClassifier, Neighbours
from coding.suggest.pool import LogLinearPool

DEFAULT_K = 3


def default_steps() -> list[Step]:
    """The learned steps of suggest.hybrid.v1, with their default parameters."""
    return [Neighbours(), EmbeddingClassifier(), LemmaClassifier()]


class Suggester:
    """Code suggestions from the codebook and, as they accumulate, from the team's codings.

    Args:
        codebook: the codebook whose codes are suggested.
        embedder: any `Embedder`; its `model_id` is recorded with every run.
        codes: the code ids that may be suggested (default: every codable code of the codebook).
        steps: the learned steps (default: `default_steps()`); the codebook prior always runs.
        calibrator: a fixed `Calibrator`, or None to pick one by the number of coded passages.
        inner_folds: folds of the inner cross-validation that fits pool weights and calibration.
        memo: a text -> vector dict to share with other suggesters (a `GroupedSuggester` embeds each
            passage once for all its groups).
    """

    name = "suggest.hybrid.v1"

    def __init__(self, codebook: Codebook, embedder: Embedder, *, codes: Sequence[str] | None = None,
                 steps: list[Step] | None = None, calibrator: Calibrator | None = None, inner_folds: int = 4,
                 context_weight: float = 0.3, seed: int = 0, memo: dict[str, np.ndarray] | None = None) -> None:
        self.codebook, self.embedder = codebook, embedder
        known = {code.id for code in codebook.codes}
        if codes is None:
            codes = [code.id for code in codebook.codes if code.codable is not False]
        for code_id in codes:
            if code_id not in known:
                raise SuggestError(f"code {code_id!r} is not in the codebook {codebook.name!r}")
        if not codes:
            raise SuggestError(f"the codebook {codebook.name!r} has no codable codes to suggest")
        self.codes = list(dict.fromkeys(codes))
        self._index = {code_id: i for i, code_id in enumerate(self.codes)}
        self.prior = CodebookPrior(codebook, embedder, self.codes, context_weight=context_weight)
        self.steps = default_steps() if steps is None else list(steps)
        self.pool = LogLinearPool([self.prior.name] + [s.name for s in self.steps])
        self.fixed_calibrator = calibrator
        self.calibrator: Calibrator = calibrator or NoCalibration()
        self.inner_folds, self.context_weight, self.seed = inner_folds, context_weight, seed
        self.examples: list[Example] = []
        self._labels = np.zeros(0, dtype=int)
        self._examples: Passages | None = None
        self._memo: dict[str, np.ndarray] = {} if memo is None else memo  # text -> vector, shareable
        self._tuned_at = 0  # number of codings when pool and calibration were last fitted
        self._tuned_on: frozenset = frozenset()  # and those codings (`_key`)
        self._held_out_steps: list[np.ndarray] = []  # each step's scores in that inner cross-validation
        self.held_out_raw = np.zeros((0, len(self.codes)))  # the coded passages' pooled scores from steps
        # that did not see them (the inner cross-validation), as they were at `_tuned_at`
        self.retune_growth = 0.1

    # -- learning -------------------------------------------------------------------------------

    def fit(self, examples: Iterable, *, after: Suggester | None = None) -> Suggester:
        """Learn from these coded passages (replacing any learnt before); no examples: codebook only.

        `after`: the suggester this one replaces. If it suggested the same codes of the same codebook with
        the same models and steps, its pool weights and calibration are kept while the codings differ by
        less than a tenth from those they were fitted on, as `add` keeps them: refitting after a coder's
        new coding then takes the steps' time, not the inner cross-validation's.
        """
        self.examples, self._tuned_at, self._tuned_on = [], 0, frozenset()
        if after is not None and after._tuned_at and self._same_setup(after):
            self._keep_tuning(after)
        return self.add(examples)

    def _same_setup(self, other: Suggester) -> bool:
        """Whether `other` pools and calibrates the same scores as this suggester would."""
        return (type(other) is type(self) and other.codes == self.codes and other.codebook == self.codebook
                and other.embedder.model_id == self.embedder.model_id and other.fixed_calibrator is None
                and self.fixed_calibrator is None
                and (other.inner_folds, other.context_weight, other.seed) == (self.inner_folds, self.context_weight,
                                                                               self.seed)
                and [(s.name, s.params()) for s in other.steps] == [(s.name, s.params()) for s in self.steps])

    def _keep_tuning(self, other: Suggester) -> None:
        """Take `other`'s pool weights and calibration, and what they were fitted on (copies: `other` may
        go on suggesting meanwhile, and this suggester may re-tune its own)."""
        self.pool, self.calibrator = copy.deepcopy(other.pool), copy.deepcopy(other.calibrator)
        self.held_out_raw, self._tuned_at, self._tuned_on = other.held_out_raw, other._tuned_at, other._tuned_on
        self._held_out_steps = other._held_out_steps

    def add(self, examples: Iterable) -> Suggester:
        """Learn from more coded passages, as a team's codings accumulate."""
        new = as_examples(examples)
        for i, example in enumerate(new):
            if example.code not in self._index:
                where = f" ({example.id})" if example.id else ""
                raise SuggestError(f"coded example {len(self.examples) + i + 1}{where} has the code "
                                   f"{example.code!r}, which is not among the codes to suggest "
                                   f"({', '.join(self.codes)})")
        self.examples.extend(new)
        self._refit()
        return self

    def _refit(self, passages: Passages | None = None) -> None:
        """Refit on `self.examples` (`passages`: them, already embedded and lemmatised)."""
        n = len(self.examples)
        self._labels = np.array([self._index[e.code] for e in self.examples], dtype=int)
        if passages is None:
            passages = self.passages([e.text for e in self.examples], [e.context for e in self.examples])
        self._examples = passages
        self.prior.fit(self._examples, self._labels, self.codes)
        for step in self.steps:
            step.fit(self._examples, self._labels, self.codes)
        if n >= self.pool.min_examples and len(np.unique(self._labels)) >= 2:
            # The inner cross-validation costs several fits; a few new or changed codings hardly move pool
            # weights or calibration, so they are re-tuned only when a tenth of the codings has changed.
            coded = frozenset(map(_key, self.examples))
            if self._tuned_at and len(coded ^ self._tuned_on) < self._tuned_at * self.retune_growth:
                return
            held_out = self._out_of_fold(self._held_out_known(coded))
            self.pool.fit(held_out, self._labels)
            self.held_out_raw = self.pool.combine(held_out)
            self.calibrator = self.fixed_calibrator or calibrator_for(n)
            self.calibrator.fit(self._to_calibrate(), self._labels)
            self._tuned_at, self._tuned_on, self._held_out_steps = n, coded, held_out[1:]
        else:
            self.pool.set_defaults(n)
            self.calibrator = self.fixed_calibrator or NoCalibration()
            self._tuned_at, self._tuned_on, self._held_out_steps = 0, frozenset(), []
            self.held_out_raw = np.zeros((0, len(self.codes)))

    def _to_calibrate(self) -> np.ndarray:
        """The held-out raw scores the calibrator learns from (a `FusedSuggester` fuses two)."""
        return self.held_out_raw

    def _held_out_known(self, coded: frozenset) -> dict[int, np.ndarray]:
        """Held-out scores of some steps (by position) that another suggester has just computed for
        these codings on the same inner folds (a `FusedSuggester` shares its lemma step); none here."""
        return {}

    def _out_of_fold(self, known: dict[int, np.ndarray] | None = None) -> list[np.ndarray]:
        """Every step's scores for every coded passage, from steps that did not see that passage;
        those of the steps in `known` are taken from there."""
        from sklearn.model_selection import KFold, StratifiedKFold

        passages, labels = self._examples, self._labels
        counts = np.bincount(labels)
        folds = min(self.inner_folds, len(labels))
        if counts[counts > 0].min() >= folds:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=self.seed).split(labels, labels)
        else:
            splitter = KFold(folds, shuffle=True, random_state=self.seed).split(labels)
        known = known or {}
        held_out = [self.prior.scores(passages)] + [known[j] if j in known else
                                                    np.full((len(labels), len(self.codes)), np.nan)
                                                    for j in range(len(self.steps))]
        for train, test in splitter:
            for j, step in enumerate(self.steps):
                if j not in known:
                    fresh = copy.copy(step).fit(passages.subset(train), labels[train], self.codes)
                    held_out[j + 1][test] = fresh.scores(passages.subset(test))
        return held_out

    # -- suggesting -----------------------------------------------------------------------------

    def passages(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None,
                 lemmas: list[str] | None = None) -> Passages:
        """Texts embedded (passages seen before are not embedded again) and lemmatised (unless their
        `lemmas` are given)."""
        texts = list(texts)
        contexts = [c or "" for c in contexts] if contexts is not None else [""] * len(texts)
        if len(contexts) != len(texts):
            raise SuggestError(f"{len(texts)} passages but {len(contexts)} contexts; give one context per passage")
        wanted = [t for t in dict.fromkeys(texts + [c for c in contexts if c]) if t not in self._memo]
        if wanted:
            vectors = np.asarray(self.embedder.embed(wanted), dtype=np.float32)
            if len(self._memo) + len(wanted) > 100_000:
                self._memo.clear()
            self._memo.update(zip(wanted, vectors))
        dim = self.embedder.dim
        vectors = np.array([self._memo[t] for t in texts], dtype=np.float32).reshape(len(texts), dim)
        around = np.array([self._memo[c] if c else np.zeros(dim, np.float32) for c in contexts],
                          dtype=np.float32).reshape(len(texts), dim)
        return Passages(texts, vectors, around, contexts, ANALYZER(texts) if lemmas is None else lemmas)

    def raw_scores(self, passages: Passages) -> np.ndarray:
        """(n, codes) pooled probabilities before calibration, rows summing to 1."""
        from sklearn import config_context

        # The inputs are this suggester's own vectors and lemmas: scikit-learn's checks of them and of its
        # parameters would take a third of the time of a single suggestion.
        with config_context(assume_finite=True, skip_parameter_validation=True):
            return self.pool.combine([self.prior.scores(passages)] + [s.scores(passages) for s in self.steps])

    def scores(self, texts: Sequence[str], context: Sequence[str | None] | None = None) -> np.ndarray:
        """(n, codes) calibrated scores, columns in the order of `self.codes`."""
        return self.calibrator.transform(self.raw_scores(self.passages(texts, context)))

    def suggest(self, texts: Sequence[str], k: int = DEFAULT_K,
                context: Sequence[str | None] | None = None) -> list[list[Suggestion]]:
        """For each passage the `k` best codes (fewer if the codebook has fewer), best first."""
        if isinstance(texts, str):
            raise SuggestError("suggest() takes a list of passages; wrap a single passage in a list")
        if k < 1:
            raise SuggestError(f"k must be at least 1, not {k}")
        return self.rank(self.passages(texts, context), k)

    def rank(self, passages: Passages, k: int = DEFAULT_K) -> list[list[Suggestion]]:
        """`suggest` for passages already embedded (a `GroupedSuggester` embeds once for all its groups)."""
        raw = self.raw_scores(passages)
        calibrated = np.clip(self.calibrator.transform(raw), 0.0, 1.0)
        out = []
        sims = self._example_similarities(passages)
        for row in range(len(passages)):
            # Rank by the pooled score; calibration is monotone, so it only renames the numbers.
            top = np.lexsort((-raw[row], -calibrated[row]))[:k].tolist()
            reasons = self.reasons(passages, row, top, sims)
            out.append([Suggestion(self.codes[c], round(float(calibrated[row, c]), 4), reason)
                        for c, reason in zip(top, reasons)])
        return out

    def _example_similarities(self, passages: Passages) -> np.ndarray | None:
        """(passages, coded examples) similarities, computed once for all the reasons of a batch."""
        if not self.examples:
            return None
        return passages.mixed(self.context_weight) @ self._examples.mixed(self.context_weight).T

    def reasons(self, passages: Passages, row: int, code_positions: list[int],
                similarities: np.ndarray | None = None) -> list[Reason]:
        """The closest coded example of each code; the closest anchor or its definition without one."""
        reasons = self.prior.reasons(passages, row, code_positions)
        if not self.examples:
            return reasons
        if similarities is None:
            similarities = self._example_similarities(passages)
        sims = similarities[row]
        for i, position in enumerate(code_positions):
            own = np.flatnonzero(self._labels == position)
            if len(own):
                best = own[np.argmax(sims[own])]
                example = self.examples[best]
                reasons[i] = Reason("example", example.text, float(sims[best]), example.id)
        return reasons

    def record(self) -> dict:
        """What produced the suggestions: model, embedder, steps and their parameters (stored with runs)."""
        return {"name": self.name, "embedder": {"model_id": self.embedder.model_id, "dim": self.embedder.dim},
                "codes": self.codes, "examples": len(self.examples), "inner_folds": self.inner_folds,
                "context_weight": self.context_weight, "seed": self.seed, "tuned_at": self._tuned_at,
                "steps": [{"name": s.name, "params": s.params()} for s in [self.prior, *self.steps]],
                "pool": {"name": self.pool.name, "params": self.pool.params()},
                "calibration": {"name": self.calibrator.name, "params": self.calibrator.params()}}


def _key(example: Example) -> tuple[str, str, str]:
    """A coded passage as the inner cross-validation sees it."""
    return example.text, example.code, example.context or ""
