"""What every suggestion step shares: the passages it scores, the suggestion it returns, its protocol.

A `Suggester` (model.py) runs several scoring steps on the same `Passages` (texts, their embeddings,
the embeddings of their neighbouring text) and pools their per-code probabilities. Each step has a
versioned name and its parameters, recorded with every suggestion run, so that a stored suggestion
stays explainable after a step's v2 exists.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from coding.errors import CodewerkError

# Passages longer than this are cut for the reason shown to the user (never for scoring).
REASON_CHARS = 240


class SuggestError(CodewerkError):
    """Suggestions cannot be made as asked (an unknown code, no codes to suggest, ...)."""


@dataclass(frozen=True)
class Example:
    """One coded passage the suggester learns from; `context` is the text around it, if known."""

    text: str
    code: str
    context: str = ""
    id: str | None = None


@dataclass(frozen=True)
class Reason:
    """Why a code was suggested: the closest coded example, anchor example or code description.

    `kind` is "example" (the most similar passage the team coded with this code), "anchor" (the
    code's most similar anchor example) or "definition" (the code's name and definition, when no
    anchor matches better); the UI words it in the user's language.
    """

    kind: str
    text: str
    similarity: float
    source: str | None = None  # the coded example's id, when it has one

    def __str__(self) -> str:
        label = {"example": "like the coded passage", "anchor": "like the anchor example",
                 "definition": "matches the definition"}[self.kind]
        source = f" [{self.source}]" if self.source else ""
        return f"{label}{source} (similarity {self.similarity:.2f}): \u201e{shorten(self.text)}\u201c"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "similarity": round(self.similarity, 4), "source": self.source}


@dataclass(frozen=True)
class Suggestion:
    """A code proposed for a passage: `score` is the calibrated chance that it is right (0..1)."""

    code: str
    score: float
    reason: Reason


@dataclass
class Passages:
    """Texts with what the steps need of them, computed once per batch.

    `vectors` are the texts' unit-length embeddings; `context_vectors` those of the neighbouring
    text (zero rows where there is none); `lemmas` the texts' lemma strings (features.py).
    """

    texts: list[str]
    vectors: np.ndarray
    context_vectors: np.ndarray
    contexts: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, rows: Sequence[int] | np.ndarray) -> Passages:
        rows = np.asarray(rows, dtype=int)
        pick = lambda values: [values[i] for i in rows] if values else []  # noqa: E731
        return Passages(pick(self.texts), self.vectors[rows], self.context_vectors[rows],
                        pick(self.contexts), pick(self.lemmas))

    def mixed(self, weight: float) -> np.ndarray:
        """Text vectors nudged towards their context's vector by `weight`, unit length again.

        Kept per weight: the steps and every reason of a batch ask for the same matrix.
        """
        if weight <= 0:
            return self.vectors
        memo = self.__dict__.setdefault("_mixed", {})
        if weight not in memo:
            mixed = self.vectors + weight * self.context_vectors
            norms = np.linalg.norm(mixed, axis=1, keepdims=True)
            memo[weight] = (mixed / np.where(norms == 0, 1, norms)).astype(np.float32)
        return memo[weight]


@runtime_checkable
class Step(Protocol):
    """A scoring step: learns from coded passages and gives each passage a probability per code.

    `scores` returns an (n, len(codes)) matrix whose rows sum to 1. `fit` may be given no passages
    at all (a codebook-only step learns nothing from them).
    """

    name: str

    def params(self) -> dict: ...

    def fit(self, passages: Passages, labels: np.ndarray, codes: list[str]) -> Step: ...

    def scores(self, passages: Passages) -> np.ndarray: ...


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    logits = logits - logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def shorten(text: str, limit: int = REASON_CHARS) -> str:
    """One line of at most `limit` characters, cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " \u2026"


def as_examples(items: Iterable) -> list[Example]:
    """Examples from `Example`s, (text, code) or (text, code, context) tuples, or dicts."""
    examples = []
    for i, item in enumerate(items):
        if isinstance(item, Example):
            examples.append(item)
        elif isinstance(item, dict):
            examples.append(Example(item["text"], item["code"], item.get("context") or "", item.get("id")))
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3):
            examples.append(Example(item[0], item[1], item[2] if len(item) == 3 else ""))
        else:
            raise SuggestError(f"coded example {i + 1} is {item!r}; give (text, code_id) pairs or Example objects")
        if not isinstance(examples[-1].text, str) or not isinstance(examples[-1].code, str):
            raise SuggestError(f"coded example {i + 1}: text and code must be strings")
    return examples
