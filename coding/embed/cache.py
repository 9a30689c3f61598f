"""Embedding through the project's vector cache: each distinct text is embedded once per model.

Only cache misses reach the model. They are stored batch by batch, each batch in its own short
transaction, and the model runs outside any transaction, so other coders keep writing meanwhile
and an interrupted run keeps what it had finished.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from coding.embed.base import Embedder, Progress
from coding.store import Project


def text_hash(text: str) -> str:
    """SHA-256 (hex) of the exact text as UTF-8: the cache key beside the model id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_cached(project: Project, embedder: Embedder, texts: Sequence[str], *, batch_size: int = 64,
                 progress: Progress | None = None) -> np.ndarray:
    """The (len(texts), dim) float32 matrix of `texts` in input order, embedding only cache misses.

    `progress(done, total)` counts the distinct texts that needed embedding.
    """
    hashes = [text_hash(t) for t in texts]
    vectors, _ = _fill(project, embedder, texts, hashes, batch_size, progress)
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(hashes):
        out[row] = vectors[key]
    return out


def embed_segments(project: Project, embedder: Embedder, document_ids: Iterable[int] | None = None,
                   progress: Progress | None = None, *, batch_size: int = 64) -> int:
    """Cache the vectors of every segment of the project (or of some documents); return how many
    distinct texts were newly embedded (0 when all were cached).

    Each batch is stored as soon as it is embedded; `batch_size` also bounds how long another
    caller of the same model waits for the model while this runs in the background."""
    ids = [d["id"] for d in project.documents()] if document_ids is None else list(document_ids)
    texts = [segment["text"] for doc_id in ids for segment in project.segments(doc_id)]
    _, embedded = _fill(project, embedder, texts, [text_hash(t) for t in texts], batch_size, progress)
    return embedded


def _fill(project: Project, embedder: Embedder, texts: Sequence[str], hashes: list[str], batch_size: int,
          progress: Progress | None) -> tuple[dict[str, np.ndarray], int]:
    """The vectors of all `hashes`, embedding and storing the missing ones; and how many were missing."""
    model_id, dim = embedder.model_id, embedder.dim
    vectors = {k: v for k, v in project.cached_vectors(model_id, hashes).items() if v.shape == (dim,)}
    missing = {key: text for key, text in zip(hashes, texts) if key not in vectors}
    # Longest first: texts of similar length share a batch, so little of a batch is padding.
    todo = sorted(missing.items(), key=lambda item: -len(item[1]))
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]

        def batch_progress(done: int, _total: int, start: int = start) -> None:
            if progress:
                progress(start + done, len(todo))

        new = embedder.embed([text for _, text in batch], progress=batch_progress)
        fresh = {key: new[row] for row, (key, _) in enumerate(batch)}
        project.store_vectors(model_id, dim, fresh)
        vectors.update(fresh)
    return vectors, len(todo)


class ProjectCachedEmbedder:
    """An embedder that looks every text up in the project's vector cache first (same model id)."""

    def __init__(self, project: Project, embedder: Embedder) -> None:
        self.project, self.embedder = project, embedder
        self.model_id, self.dim = embedder.model_id, embedder.dim

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return embed_cached(self.project, self.embedder, texts, progress=progress)
