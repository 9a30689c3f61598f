"""The vector cache: embeddings keyed by (model id, text hash), so nothing is embedded twice (mixed into Project).

Vectors are a cache, not research data: they are derived from the texts, so they bypass the event log.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from coding.errors import StoreError
from coding.store.database import write_transaction

_CHUNK = 500  # hashes per query, well below SQLite's limit on parameters


class VectorsMixin:
    """Read and write cached embeddings; each write is one short transaction."""

    def cached_vectors(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored float32 vectors of `model_id` for those of `hashes` that have one."""
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start:start + _CHUNK]
            rows = self.db.execute(
                f"SELECT text_hash, dim, vector FROM vectors WHERE model_id = ? "
                f"AND text_hash IN ({', '.join('?' * len(chunk))})", [model_id, *chunk])
            for text_hash, dim, blob in rows:
                found[text_hash] = np.frombuffer(blob, dtype="<f4", count=dim).astype(np.float32)
        return found

    def store_vectors(self, model_id: str, dim: int, items: Mapping[str, np.ndarray]) -> int:
        """Store vectors of `model_id` by text hash in one short transaction; return how many were given.

        A vector already there stays (the same model gives the same vector for the same text, so a
        coder embedding the same texts at the same time changes nothing).
        """
        rows = []
        for text_hash, vector in items.items():
            vector = np.asarray(vector, dtype="<f4").reshape(-1)
            if vector.shape[0] != dim:
                raise StoreError(f"the vector for text {text_hash[:12]} has {vector.shape[0]} values, "
                                 f"but model {model_id} makes {dim}")
            rows.append((model_id, text_hash, dim, vector.tobytes()))
        if rows:
            with write_transaction(self.db):
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO vectors (model_id, text_hash, dim, vector) VALUES (?, ?, ?, ?)", rows)
        return len(rows)

    def vector_count(self, model_id: str) -> int:
        """How many texts have a cached vector of `model_id`."""
        return self.db.execute("SELECT count(*) FROM vectors WHERE model_id = ?", [model_id]).fetchone()[0]
