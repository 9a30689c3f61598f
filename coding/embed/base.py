"""The one embedding interface: texts in, an L2-normalised float32 matrix out, with model id and dimension.

Every backend (the offline default e5, any sentence-transformers model, USE, the hashing fake for
tests) implements `Embedder`; callers never care which one they hold.
"""
from __future__ import annotations

import hashlib
import importlib
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from coding.errors import ModelNotAvailable

Progress = Callable[[int, int], None]  # (texts done, texts in all)


@runtime_checkable
class Embedder(Protocol):
    """Texts -> (n, dim) float32 rows of unit length. `model_id` names model and settings exactly."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray: ...


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit length (a zero row stays zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """A deterministic bag-of-words embedder for fast unit tests: no model, no download.

    Words and word bigrams are hashed into `dim` buckets with a sign, so texts sharing words are
    similar. It is not meant to be good, only honest and instant.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-v1-{dim}"

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w.lower() for w in _TOKEN.findall(text)]
            for feature in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[i, bucket] += 1.0 if digest[4] & 1 else -1.0
            if progress:
                progress(i + 1, len(texts))
        return normalise_rows(out)


def embed_in_batches(encode: Callable[[list[str]], np.ndarray], texts: Sequence[str], dim: int, batch_size: int,
                     progress: Progress | None = None, *, longest_first: bool = False) -> np.ndarray:
    """Unit rows of `encode` applied to batches of `texts`, in input order, reporting after each batch.

    `longest_first` batches texts of similar length together, so that models that pad a batch to its
    longest text waste little.
    """
    texts = list(texts)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i])) if longest_first else list(range(len(texts)))
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        out[rows] = encode([texts[i] for i in rows])
        if progress:
            progress(start + len(rows), len(texts))
    return normalise_rows(out)


def require(module: str, what: str, install: str) -> Any:
    """Import an optional package when a feature first needs it; if absent, say what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ModelNotAvailable(f"{what} needs the package {install.split('==')[0]}: pip install {install}") from e


T = TypeVar("T")


class Shared(Generic[T]):
    """One model per process, built on first use and then shared by every embedder and user.

    `lock` also serialises calls into the model: the engines below use every core for one batch, so
    running two batches at once would only make both slower.
    """

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self.lock = threading.Lock()

    def get(self) -> T:
        with self.lock:
            if self._value is None:
                self._value = self._build()
            return self._value
