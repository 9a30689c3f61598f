"""Any sentence-transformers model, from a local folder or the local Hugging Face cache; never downloads.

With internet a user can fetch any model from the hub once (`hf download NAME`); Codewerk itself only
ever reads what is already on the machine, so interview data and model choice stay offline. (Named
st_backend so that it does not shadow the sentence_transformers package.)
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coding.embed.base import Progress, embed_in_batches
from coding.errors import ModelNotAvailable

# Before huggingface_hub or transformers are imported anywhere below: they read these once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_SMALL_FILE = 1 << 20  # files up to this size count with their content in a folder's fingerprint


def _missing(name: str) -> ModelNotAvailable:
    return ModelNotAvailable(
        f"the embedding model '{name}' is not on this computer (neither in the Hugging Face cache nor as a "
        f"folder {Path(name).resolve()}), and Codewerk never downloads models while "
        f"it runs. Fetch it once where there is internet: `hf download {name}` (into the Hugging Face cache, "
        f"~/.cache/huggingface/hub, which you can copy to this computer), or save it as a folder with "
        f"`python -c \"from sentence_transformers import SentenceTransformer as S; S('{name}').save('models/x')\"` "
        f"and configure `st:models/x`. The models 'e5' (the default) and 'use' ship with Codewerk.")


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


def locate(name: str) -> tuple[Path, str]:
    """The local folder of a model given by folder path or hub name, and a stable identity for it.

    Raises ModelNotAvailable (with what to do) when the model is not already on this computer.
    """
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir() or not ((path / "modules.json").exists() or (path / "config.json").exists()):
            raise ModelNotAvailable(f"{path}: not a sentence-transformers model folder (no modules.json or "
                                    "config.json); point `st:` at the folder that `SentenceTransformer.save` wrote")
        return path.resolve(), f"{path.resolve().name}@{fingerprint(path)}"
    if _looks_like_path(name):
        raise ModelNotAvailable(f"{path}: no model folder there; check the path, or copy the model folder there")
    from huggingface_hub import snapshot_download

    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo_id in candidates:
        try:
            folder = Path(snapshot_download(repo_id, local_files_only=True))
        except Exception:  # not cached (LocalEntryNotFoundError) or not a valid hub name
            continue
        return folder, f"{repo_id}@{folder.name[:12]}"  # snapshot folders are named by commit
    raise _missing(name)


def fingerprint(folder: Path) -> str:
    """A short hash of a model folder that survives copying it: file names and sizes, small files' bytes."""
    digest = hashlib.sha256()
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "README.md"
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]  # e.g. hf's .cache/
    for file in sorted(files):
        size = file.stat().st_size
        digest.update(f"{file.relative_to(folder).as_posix()}\0{size}\0".encode())
        if size <= _SMALL_FILE:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """A sentence-transformers model on CPU; `prefix` is put before every text (e5 wants `query: `).

    The model loads when the embedder is made, so a missing or broken model is reported at once.
    `tuned` names a file of weights fine-tuned from this model on a team's codings
    (`coding.embed.tune`); they are applied on load, and the model id says so.
    """

    def __init__(self, name_or_path: str | Path, prefix: str = "", *, model_id: str | None = None,
                 batch_size: int = 32, tuned: str | Path | None = None) -> None:
        self.name = str(name_or_path)
        self.prefix = prefix
        self.batch_size = batch_size
        self.folder, self.identity = locate(self.name)
        self._model = _load(self.folder)
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.model_id = model_id or f"st:{self.identity}" + (f"/prefix={prefix}" if prefix else "")
        if tuned is not None:
            from coding.embed.tune import apply_tuned, tuned_identity

            apply_tuned(self._model, tuned, base=self.identity)
            self.model_id += f"+tuned-{tuned_identity(tuned)}"
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded sentence-transformers model (for tuning a copy of it)."""
        return self._model

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        texts = [self.prefix + t for t in texts]
        return embed_in_batches(self._encode, texts, self.dim, self.batch_size, progress, longest_first=True)

    def _encode(self, batch: list[str]) -> np.ndarray:
        with self._lock:
            # prompt="" keeps a model's own default prompt out: the prefix is the only one.
            return self._model.encode(batch, prompt="", batch_size=len(batch), convert_to_numpy=True,
                                      normalize_embeddings=True, show_progress_bar=False)


def _load(folder: Path) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ModelNotAvailable("this embedder needs sentence-transformers: pip install torch==2.13.0 "
                                "sentence-transformers (torch first, so that pip takes the CPU build)") from e
    try:
        return SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    except Exception as e:  # a partial download, a folder of another library, a broken file
        raise ModelNotAvailable(f"{folder}: the sentence-transformers model there cannot be loaded ({e}); "
                                "fetch or save it again") from e
