"""Lexical features over German lemmas, and the classifier step that learns from them.

Lemmas come from spaCy's blank German pipeline with the lookup lemmatizer (the tables of
`spacy-lookups-data`; no model download), so "Radwege", "Radweg" and "Radwegs" count as one word.
German writes compounds as one word ("Radwegbenutzungspflicht", "Fahrradständer"); character
n-grams within the lemmas let a compound share features with its parts.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from coding.suggest.base import Passages, SuggestError

# Lemmas of texts seen before; the same passages are scored again and again while a team codes.
_CACHE_LIMIT = 200_000


@lru_cache(maxsize=1)
def _nlp():
    import spacy  # imported on first use: it takes a second

    try:
        import spacy_lookups_data  # noqa: F401  (the lemma tables live in this package)
    except ImportError:
        raise SuggestError("code suggestions need the German lemma tables: pip install spacy-lookups-data") from None
    nlp = spacy.blank("de")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class LemmaAnalyzer:
    """German texts -> lower-case lemmas joined by spaces (numbers become `0`, punctuation goes)."""

    name = "lemmas.spacy_lookup_de.v1"

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, texts: Sequence[str]) -> list[str]:
        # Threads share the cache (the app warms it in the background): read it once, never after a clear.
        found = {t: self._cache.get(t) for t in texts}
        todo = [t for t, lemmas in found.items() if lemmas is None]
        if todo:
            if len(self._cache) + len(todo) > _CACHE_LIMIT:
                self._cache.clear()
            for text, doc in zip(todo, _nlp().pipe(todo, batch_size=256)):
                found[text] = " ".join(_lemma(token) for token in doc if not (token.is_punct or token.is_space))
                self._cache[text] = found[text]
        return [found[t] for t in texts]


def _lemma(token) -> str:
    if token.like_num:
        return "0"
    return (token.lemma_ or token.text).lower()


ANALYZER = LemmaAnalyzer()


def lemma_vectorizer(min_df: int = 1, char: bool = True):
    """TF-IDF over lemma 1-2-grams, plus character 3-5-grams within words (for compounds)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), min_df=min_df,
                            sublinear_tf=True, lowercase=False)
    if not char:
        return words
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=min_df, sublinear_tf=True,
                            lowercase=False, max_features=100_000)
    return FeatureUnion([("words", words), ("chars", chars)])


class LemmaClassifier:
    """Logistic regression over lemma TF-IDF: the lexical learner ("which words go with which code").

    Codes without coded examples get no column of their own; `scores` leaves them out (NaN), and
    the pool treats them as "no opinion" so that the codebook prior alone ranks them.
    """

    name = "suggest.lemma_lr.v1"

    def __init__(self, C: float = 10.0, char_ngrams: bool = True, min_df: int = 1,
                 class_weight: str | None = "balanced") -> None:
        self.C, self.char_ngrams, self.min_df, self.class_weight = C, char_ngrams, min_df, class_weight
        self._model = None
        self._columns: np.ndarray | None = None
        self._n_codes = 0
        # The step reads no vectors, so the two hybrids of a `FusedSuggester` share it; these remember the
        # last passages it learnt from and scored (by their list of lemmas), so it does each only once.
        self._fitted: tuple | None = None
        self._scored: tuple | None = None

    def params(self) -> dict:
        return {"C": self.C, "char_ngrams": self.char_ngrams, "min_df": self.min_df, "class_weight": self.class_weight,
                "lemmas": LemmaAnalyzer.name, "word_ngrams": [1, 2], "char_ngrams_range": [3, 5]}

    def fit(self, passages: Passages, labels: np.ndarray, codes: list[str]) -> LemmaClassifier:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        if self._fitted and self._fitted[0] is passages.lemmas and np.array_equal(self._fitted[1], labels) \
                and self._fitted[2] == list(codes):
            return self
        self._fitted, self._scored = (passages.lemmas, np.array(labels), list(codes)), None
        self._n_codes = len(codes)
        self._model, self._columns = None, None
        present = np.unique(labels)
        if len(present) < 2:  # one code seen so far: nothing to tell apart yet
            self._columns = present
            return self
        self._model = make_pipeline(lemma_vectorizer(self.min_df, self.char_ngrams),
                                    LogisticRegression(C=self.C, solver="newton-cg", max_iter=2000,
                                                       class_weight=self.class_weight))
        self._model.fit(passages.lemmas, labels)
        self._columns = self._model.classes_
        return self

    def scores(self, passages: Passages) -> np.ndarray:
        if not (self._scored and self._scored[0] is passages.lemmas):
            self._scored = (passages.lemmas, _spread(self._model, self._columns, self._n_codes, passages.lemmas,
                                                     len(passages)))
        return self._scored[1].copy()


def _spread(model, columns: np.ndarray | None, n_codes: int, inputs, n: int) -> np.ndarray:
    """A classifier's probabilities placed in the columns of all codes; NaN for codes it never saw."""
    out = np.full((n, n_codes), np.nan)
    if columns is None or len(columns) == 0:
        return out
    if model is None:  # a single code seen: it is all this step knows
        out[:, columns] = 1.0
        return out
    out[:, columns] = model.predict_proba(inputs)
    return out
