"""Words and quotes for a theme: keywords by class-based TF-IDF, a draft title, representative quotes.

`CTfidfLabeller` (label.ctfidf_lemmas.v2) treats each theme's segments as one document and scores
every content lemma by its frequency in the theme times log(1 + average theme length / its frequency
over all themes): a word that many themes use scores low, a word this theme uses often scores high
(the c-TF-IDF of BERTopic). Lemmas come from `coding.suggest.features.ANALYZER`, stop words and
fillers removed (features.py). The draft title is the theme's most central passage.

`CentralQuotes` (represent.central_groups.v1) picks quotes that are central and, as far as the
theme allows, from different stakeholder groups: the workshop wants to hear each side in its own
words, not the municipality three times.
"""
from __future__ import annotations

import bisect
import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from coding.suggest.base import shorten
from coding.themes.features import content_lemmas
from coding.themes.model import Segment

TITLE_CHARS = 90
# Spoken openers that start many answers and say nothing about the theme ("Also, …", "Und dann,
# Stichwort …", "Ehrlich gesagt …"); a draft title drops them. Words that can open a real statement
# ("Da haben wir …", "So läuft das") are not among them.
_OPENER = re.compile(
    r"^(?:(?:also|ja|na ja|naja|tja|und dann|und|aber|ehrlich gesagt|ich sag mal|ich meine|wie gesagt|"
    r"sagen wir mal|genau|gut|okay|ok|äh|ähm|öhm|hm+|erstens|zweitens|drittens|stichwort)\b[\s,:;.!?–-]*)+",
    re.IGNORECASE)
_SURFACE = re.compile(r"[^\W\d_][\w-]*", re.UNICODE)


@runtime_checkable
class Labeller(Protocol):
    """Themes (rows of segments) -> keywords per theme and a draft title per theme."""

    name: str

    def params(self) -> dict: ...

    def keywords(self, texts: Sequence[str], themes: Sequence[np.ndarray]) -> list[list[str]]: ...

    def title(self, texts: Sequence[str], central: Sequence[int]) -> str: ...


@runtime_checkable
class Representer(Protocol):
    """A theme's rows, ordered most central first -> the rows to quote."""

    name: str

    def params(self) -> dict: ...

    def pick(self, segments: Sequence[Segment], central: Sequence[int]) -> list[int]: ...


class CTfidfLabeller:
    """Keywords by class-based TF-IDF over German content lemmas; the most central passage as title.

    A lemma counts as a keyword of a theme only if at least `min_members` of its segments use it
    (fewer in themes that small), so that one long passage cannot fill a theme's keywords alone.
    With `nouns_first`, nouns (words the texts capitalise inside sentences) come before other words
    of any score: a blank German pipeline has no part-of-speech tagger, German capitals are one.
    """

    name = "label.ctfidf_lemmas.v2"

    def __init__(self, top: int = 8, min_members: int = 2, title_chars: int = TITLE_CHARS,
                 nouns_first: bool = True) -> None:
        self.top, self.min_members, self.title_chars = top, min_members, title_chars
        self.nouns_first = nouns_first

    def params(self) -> dict:
        from coding.suggest.features import LemmaAnalyzer

        return {"top": self.top, "min_members": self.min_members, "title_chars": self.title_chars,
                "nouns_first": self.nouns_first,
                "lemmas": LemmaAnalyzer.name, "stop_words": "spacy.de+lemmas+fillers",
                "weighting": "tf_class/len_class * log(1 + mean_len / tf_all)"}

    def keywords(self, texts: Sequence[str], themes: Sequence[np.ndarray]) -> list[list[str]]:
        lemmas = content_lemmas(texts)
        counts = [Counter(t for row in rows for t in lemmas[row]) for rows in themes]
        spread = [Counter(t for row in rows for t in set(lemmas[row])) for rows in themes]
        overall: Counter = Counter()
        for c in counts:
            overall.update(c)
        lengths = [sum(c.values()) for c in counts]
        mean_length = (sum(lengths) / len(lengths)) if lengths else 0.0
        forms = SurfaceForms.of(texts)
        out = []
        for rows, c, s, length in zip(themes, counts, spread, lengths):
            need = min(self.min_members, max(1, len(rows) // 2))
            scored = [(c[t] / length * math.log(1 + mean_length / overall[t]), t) for t in c if s[t] >= need]
            scored.sort(key=lambda item: (-item[0], item[1]))
            words = [t for _, t in scored]
            if self.nouns_first:  # themes are named by things, "Warteliste" says more than "dauern"
                words.sort(key=lambda t: not forms.is_noun(t))
            words = words[:self.top]
            out.append([forms.display(word) for word in words])
        return out

    def title(self, texts: Sequence[str], central: Sequence[int]) -> str:
        if not len(central):
            return ""
        text = texts[central[0]].strip()
        rest = _OPENER.sub("", text)
        if rest and rest != text:  # "Aber die Vorbereitungsklasse ist voll" -> "Die Vorbereitungsklasse ist voll"
            text = rest[0].upper() + rest[1:]
        return shorten(text, self.title_chars)


class SurfaceForms:
    """How the texts write each word inside a sentence: German capitalises nouns there, and the
    lemmatiser lower-cases everything. Words that open a sentence are capitalised anyway and not counted."""

    def __init__(self, texts: Sequence[str]) -> None:
        capital: Counter = Counter()
        lower: Counter = Counter()
        for text in texts:
            for match in _SURFACE.finditer(text):
                before = text[:match.start()].rstrip(" \t\n\"'„“‚‘»«(-–")
                if not before or before[-1] in ".!?:;…":
                    continue
                word = match.group()
                (capital if word[0].isupper() else lower)[word.lower()] += 1
        self.words = sorted(set(capital) | set(lower))
        self.capital, self.lower = capital, lower

    @classmethod
    def of(cls, texts: Sequence[str]) -> SurfaceForms:
        """The forms of these texts, kept for the last few text sets: every revision of a run (merge,
        split, move) labels the same passages again."""
        return _surface_forms(tuple(texts))

    def is_noun(self, lemma: str) -> bool:
        """Whether the words that start like the lemma are mostly capitalised inside sentences."""
        known = self.__dict__.setdefault("_nouns", {})
        if lemma not in known:
            known[lemma] = self._is_noun(lemma)
        return known[lemma]

    def _is_noun(self, lemma: str) -> bool:
        stem = lemma[:max(3, len(lemma) - 2)]
        start = bisect.bisect_left(self.words, stem)
        capital = lower = 0
        for word in self.words[start:]:
            if not word.startswith(stem):
                break
            capital, lower = capital + self.capital[word], lower + self.lower[word]
        return capital > lower

    def display(self, lemma: str) -> str:
        """The lemma as the texts write it: capitalised for a noun, else lower case."""
        return lemma[:1].upper() + lemma[1:] if self.is_noun(lemma) else lemma


@functools.lru_cache(maxsize=4)
def _surface_forms(texts: tuple[str, ...]) -> SurfaceForms:
    return SurfaceForms(texts)


def warm_up(texts: Sequence[str]) -> None:
    """Do ahead what re-describing a run's themes needs the first time (its passages' content lemmas, how
    the texts write each word, which lemmas are nouns), so that a lead's first merge, split or move does
    not wait for it: with 5,000 passages the first merge took 1.3 s in the app, later ones 0.3 s."""
    lemmas = content_lemmas(texts)
    forms = SurfaceForms.of(texts)
    for lemma in {t for row in lemmas for t in row}:
        forms.is_noun(lemma)


class CentralQuotes:
    """Up to `n` quotes, most central first, each from a stakeholder group not quoted yet where possible.

    Candidates are the more central `pool` share of the theme (at least `n`): covering a group may
    reach past the centre but never to the theme's fringe, where a passage is likeliest to have been
    put in the wrong theme. Identical texts are quoted once.
    """

    name = "represent.central_groups.v1"

    def __init__(self, n: int = 3, pool: float = 0.75) -> None:
        self.n, self.pool = n, pool

    def params(self) -> dict:
        return {"n": self.n, "pool": self.pool}

    def pick(self, segments: Sequence[Segment], central: Sequence[int]) -> list[int]:
        candidates = list(central[:max(self.n, math.ceil(self.pool * len(central)))])
        squeezed = {r: " ".join(segments[r].text.split()) for r in candidates}  # once, not once per quote
        chosen: list[int] = []
        groups: set = set()
        texts: set[str] = set()
        while len(chosen) < self.n:
            fresh = [r for r in candidates if r not in chosen and squeezed[r] not in texts]
            if not fresh:
                break
            new_group = [r for r in fresh if segments[r].stakeholder is not None
                         and segments[r].stakeholder not in groups]
            row = (new_group or fresh)[0]
            chosen.append(row)
            groups.add(segments[row].stakeholder)
            texts.add(squeezed[row])
        return chosen
