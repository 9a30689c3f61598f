"""The space themes are found in: the segments' embeddings, reduced, beside their German lemmas.

Two swappable steps, each with a versioned name and its parameters:

- a reduction of the embeddings: `PCAReduction` (the default) centres the vectors before projecting
  them. Sentence embeddings share a large common direction (any two German passages have a cosine of
  about 0.8 under e5), so raw cosines say little about which passages belong together; centred and
  projected onto their main axes, a cosine of 0 means "as unrelated as two random passages of this
  selection". `NoReduction` keeps the vectors as they are.
- a lexical block: `LemmaLSA` (the default) adds latent semantic analysis of the segments' lemmas
  without stop words, so that passages sharing the study's own vocabulary ("Schufa", "Kita-Platz")
  move together even where the embedding model does not know the term. `NoLexical` leaves it out.

The two blocks are unit-length each and concatenated, so that the cosine of two feature rows is the
(weighted) mean of their semantic and lexical cosines.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

from coding.embed.base import normalise_rows

# Spoken-German fillers that spaCy's stop-word list (written German) lacks; they fill interviews.
FILLERS = frozenset("äh ähm öhm hm hmm mhm ne halt mal genau okay ok irgendwie quasi sozusagen eigentlich "
                    "bisschen naja na jo".split())
_WORD = re.compile(r"[^\W\d_]", re.UNICODE)  # a token must hold a letter
# German number words ("siebzig", "zweiundsechzig", "dritte"): spaCy's German has no like_num for them.
_NUMBER_WORD = re.compile(r"(?:ein|eins|zwei|drei|vier|fünf|sechs|sieben|sieb|acht|neun|zehn|elf|zwölf|zwanzig|"
                          r"dreißig|vierzig|fünfzig|sechzig|siebzig|achtzig|neunzig|hundert|tausend|und|dritt)+"
                          r"(?:te|ten|ter|tes|ste|sten|stel|tel)?")


@lru_cache(maxsize=1)
def stop_lemmas() -> frozenset[str]:
    """spaCy's German stop words, their lemmas (the lemmatiser turns "die" into "der"), and fillers."""
    from spacy.lang.de.stop_words import STOP_WORDS

    from coding.suggest.features import ANALYZER

    words = sorted(STOP_WORDS)
    lemmas = {lemma for text in ANALYZER(words) for lemma in text.split()}
    return frozenset(words) | frozenset(lemmas) | FILLERS


# text -> its content lemmas. Every merge, split or move of a run re-describes all its themes from the
# lemmas of all its passages; filtering 5,000 passages' lemmas again each time took 0.3 s of a merge.
_CONTENT: dict[str, list[str]] = {}


def content_lemmas(texts: Sequence[str]) -> list[list[str]]:
    """Each text's lemmas (lower case) without stop words, fillers, numbers and one-letter tokens."""
    from coding.suggest.features import ANALYZER

    missing = [t for t in dict.fromkeys(texts) if t not in _CONTENT]
    if missing:
        stop = stop_lemmas()
        for text, lemmas in zip(missing, ANALYZER(missing), strict=True):
            _CONTENT[text] = [t for t in lemmas.split() if len(t) > 1 and t not in stop and _WORD.search(t)
                              and not _NUMBER_WORD.fullmatch(t)]
    return [list(_CONTENT[t]) for t in texts]


@runtime_checkable
class Reduction(Protocol):
    """Embeddings (n, d) -> reduced rows (n, k); the rows need not be unit length."""

    name: str

    def params(self) -> dict: ...

    def fit_transform(self, vectors: np.ndarray, seed: int) -> np.ndarray: ...


@runtime_checkable
class Lexical(Protocol):
    """Texts -> (n, k) lexical rows, or None when the step adds nothing. `weight` scales the block."""

    name: str
    weight: float

    def params(self) -> dict: ...

    def fit_transform(self, texts: Sequence[str], seed: int) -> np.ndarray | None: ...


class NoReduction:
    """The embeddings as they are."""

    name = "reduce.none.v1"

    def params(self) -> dict:
        return {}

    def fit_transform(self, vectors: np.ndarray, seed: int) -> np.ndarray:
        return np.asarray(vectors, dtype=np.float64)


class PCAReduction:
    """Centre the embeddings and keep their `dims` main axes (fewer when there are fewer segments)."""

    name = "reduce.pca.v1"

    def __init__(self, dims: int = 50) -> None:
        self.dims = dims

    def params(self) -> dict:
        return {"dims": self.dims, "centre": True}

    def fit_transform(self, vectors: np.ndarray, seed: int) -> np.ndarray:
        from sklearn.decomposition import PCA

        vectors = np.asarray(vectors, dtype=np.float64)
        dims = min(self.dims, vectors.shape[0] - 1, vectors.shape[1])
        if dims < 2:  # one or two segments: nothing to project, centring alone
            return vectors - vectors.mean(axis=0)
        return PCA(n_components=dims, random_state=seed).fit_transform(vectors)


class NoLexical:
    """No lexical block: themes from the embeddings alone."""

    name = "lexical.none.v1"
    weight = 0.0

    def params(self) -> dict:
        return {}

    def fit_transform(self, texts: Sequence[str], seed: int) -> np.ndarray | None:
        return None


class LemmaLSA:
    """Latent semantic analysis of the segments' content lemmas (TF-IDF, then truncated SVD).

    Lemmas seen in fewer than `min_df` segments are left out: a word only one passage uses says
    nothing about which passages belong together.
    """

    name = "lexical.lemma_lsa.v1"

    def __init__(self, dims: int = 100, weight: float = 1.0, min_df: int = 2, max_features: int = 20_000) -> None:
        self.dims, self.weight, self.min_df, self.max_features = dims, weight, min_df, max_features

    def params(self) -> dict:
        from coding.suggest.features import LemmaAnalyzer

        return {"dims": self.dims, "weight": self.weight, "min_df": self.min_df, "max_features": self.max_features,
                "lemmas": LemmaAnalyzer.name,
                "stop_words": "spacy.de+lemmas+fillers"}

    def fit_transform(self, texts: Sequence[str], seed: int) -> np.ndarray | None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        if len(texts) < 3:
            return None
        tokens = content_lemmas(texts)
        vectorizer = TfidfVectorizer(analyzer=lambda row: row, min_df=min(self.min_df, len(texts)),
                                     max_features=self.max_features, sublinear_tf=True)
        try:
            matrix = vectorizer.fit_transform(tokens)
        except ValueError:  # no lemma occurs often enough: no lexical signal
            return None
        dims = min(self.dims, matrix.shape[1] - 1, len(texts) - 1)
        if dims < 2:
            return None
        return TruncatedSVD(n_components=dims, random_state=seed).fit_transform(matrix)


def combine(semantic: np.ndarray, lexical: np.ndarray | None, weight: float) -> np.ndarray:
    """Unit-length feature rows: the semantic block and the weighted lexical block, each unit length first.

    A segment without any content lemma gets a zero lexical block; its cosines then come from the
    embedding alone (scaled, which does not change which theme is nearest). A row that is zero in
    both (a passage exactly at the mean, e.g. when all passages are the same) gets a dimension of its own.
    """
    rows = normalise_rows(semantic).astype(np.float64)
    if lexical is not None and weight > 0:
        rows = np.hstack([rows, math.sqrt(weight) * normalise_rows(lexical).astype(np.float64)])
    empty = ~rows.any(axis=1)
    if empty.any():  # a passage exactly at the mean of all: its own direction, so cosines stay defined
        rows = np.hstack([rows, empty[:, None].astype(np.float64)])
    return normalise_rows(rows).astype(np.float64)
