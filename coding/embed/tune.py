"""Adapting the embedding model to a team's codings: fine-tuning its transformer layers.

Frozen sentence embeddings know German, not the team's codebook: two passages about the same bike
lane can sit far apart because one complains and the other praises. Fine-tuning trains the model's
transformer layers, with one linear head per group of alternative codes, to tell the team's codes
apart; the suggester then runs on the tuned model's vectors. What that gains on the cycling
dialogues: BENCHMARKS.md, section "Code suggestions on a tuned model" (`bench/suggest_finetune.py`).

What is trained and kept: the encoder layers (the word-embedding table stays frozen: it is most of
the model's size and holds what the model knows of the vocabulary). Only the trained tensors are
saved, in one safetensors file (about 85 MB for e5-small, against 470 MB for the whole model); loading
applies them to the base model, whose identity is recorded in the file and checked.

Training: batches of texts of similar length (little padding), shuffled; AdamW with a warm-up over
the first tenth of the steps, then a linear decay to zero; plain cross-entropy per group.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coding.errors import TuningError

NAME = "embed.tune.v1"

Task = Sequence[tuple[str, str]]  # (passage, code) pairs of one group of alternative codes


@dataclass(frozen=True)
class TuningSettings:
    """How the model is tuned; recorded with the tuned weights."""

    epochs: int = 3
    learning_rate: float = 3e-5
    head_learning_rate: float = 2e-3
    batch_size: int = 16
    warm_up: float = 0.1
    weight_decay: float = 0.01
    seed: int = 0


def _trainable(model: Any) -> Any:
    """The transformer (a Hugging Face model) inside a sentence-transformers model."""
    return model[0].auto_model


def tuned_parameters(model: Any) -> dict[str, Any]:
    """The tensors fine-tuning trains: every encoder parameter, not the word-embedding table."""
    return {name: p for name, p in _trainable(model).named_parameters() if not name.startswith("embeddings.")}


def _tokens(model: Any, texts: list[str]) -> dict[str, Any]:
    """Token ids for `texts`, cut at the model's maximum length; prompt="" keeps a model's default prompt out."""
    return model.preprocess(texts, prompt="")


def _pooled(model: Any, features: dict[str, Any]) -> Any:
    """The model's sentence vector before any final normalisation (the heads want its length too)."""
    from sentence_transformers.models import Normalize

    for module in model:
        if isinstance(module, Normalize):
            continue
        features = module(features)
    return features["sentence_embedding"]


def length_batches(lengths: Sequence[int], size: int) -> list[np.ndarray]:
    """Positions grouped into batches of texts of similar length (sorted by length, stable), so that
    batches carry little padding; the caller shuffles the batches."""
    by_length = np.argsort(np.asarray(lengths), kind="stable")
    return [by_length[start:start + size] for start in range(0, len(by_length), size)]


def warm_up_then_decay(optimiser: Any, steps: int, warm_up: float) -> Any:
    """A learning-rate schedule rising linearly over the first `warm_up` share of `steps`, then falling
    linearly to zero at the last step."""
    import torch

    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / max(1.0, warm_up * steps)) * (steps - step) / steps)


def tune_model(model: Any, tasks: Sequence[Task], *, prefix: str = "", settings: TuningSettings = TuningSettings(),
               progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Fine-tune a loaded sentence-transformers `model` in place on coded passages; return its tuned tensors.

    `tasks` holds one list of (passage, code) pairs per group of alternative codes; each group gets its
    own head, and a group needs two codes at least. `prefix` is put before every passage, as the
    embedder does (e5 wants "query: "). `progress(step, steps)` is called after every batch.
    """
    import torch

    tasks = [list(task) for task in tasks]
    labelled = [task for task in tasks if len({code for _, code in task}) >= 2]
    if not labelled:
        raise TuningError("tuning needs codings of at least two different codes of one group; code more passages first")
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    dim = int(_pooled(model, _tokens(model, ["x"])).shape[1])
    heads, batches = [], []
    for number, task in enumerate(labelled):
        codes = sorted({code for _, code in task})
        heads.append(torch.nn.Linear(dim, len(codes)))
        texts = [prefix + text for text, _ in task]
        targets = torch.tensor([codes.index(code) for _, code in task])
        for picked in length_batches([len(t) for t in texts], settings.batch_size):
            batches.append((number, [texts[i] for i in picked], targets[picked]))
    trained = tuned_parameters(model)
    embeddings = _trainable(model).embeddings
    embeddings.requires_grad_(False)
    optimiser = torch.optim.AdamW(
        [{"params": list(trained.values()), "lr": settings.learning_rate},
         {"params": [p for head in heads for p in head.parameters()], "lr": settings.head_learning_rate}],
        weight_decay=settings.weight_decay)
    steps = settings.epochs * len(batches)
    schedule = warm_up_then_decay(optimiser, steps, settings.warm_up)
    loss = torch.nn.CrossEntropyLoss()
    model.train()
    embeddings.eval()  # no dropout on the frozen part: it is the same input every epoch
    done = 0
    try:
        for _ in range(settings.epochs):
            for b in rng.permutation(len(batches)):
                number, texts, targets = batches[b]
                pooled = _pooled(model, _tokens(model, texts))  # cut at the model's own maximum length
                optimiser.zero_grad()
                loss(heads[number](pooled), targets).backward()
                optimiser.step()
                schedule.step()
                done += 1
                if progress is not None:
                    progress(done, steps)
    finally:
        model.eval()
        embeddings.requires_grad_(True)
    return {name: p.detach().clone().contiguous() for name, p in trained.items()}


def save_tuned(path: str | Path, weights: dict[str, Any], *, base: str, record: dict) -> str:
    """Write the tuned tensors and what made them into `path`; return the file's identity (a short hash)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    save_file(weights, str(partial), metadata={"codewerk": json.dumps({"name": NAME, "base": base, **record})})
    partial.replace(path)  # a crash while writing leaves no half file under the real name
    return tuned_identity(path)


def tuned_identity(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def tuned_record(path: str | Path) -> dict:
    """What a tuned file says about itself: base model, codings, settings."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return json.loads((handle.metadata() or {}).get("codewerk", "{}"))
    except Exception as e:  # a missing, truncated or foreign file
        raise TuningError(f"{path}: not a tuned model file Codewerk wrote ({e})") from e


def apply_tuned(model: Any, path: str | Path, *, base: str) -> None:
    """Load tuned tensors into `model`, after checking that they were trained from `base`."""
    from safetensors.torch import load_file

    record = tuned_record(path)
    if record.get("base") != base:
        raise TuningError(f"{path}: tuned from the model {record.get('base')!r}, not from {base!r}; tune again")
    weights = load_file(str(path))
    expected = tuned_parameters(model)
    if set(weights) != set(expected) or any(weights[k].shape != expected[k].shape for k in weights):
        raise TuningError(f"{path}: its tensors do not fit the model {base!r}; tune again")
    _trainable(model).load_state_dict(weights, strict=False)
    model.eval()


def settings_record(settings: TuningSettings, tasks: Sequence[Task]) -> dict:
    """Settings and the size of what was learnt, for the tuned file's record."""
    return {"settings": asdict(settings), "codings": [len(task) for task in tasks],
            "codes": [sorted({code for _, code in task}) for task in tasks]}
