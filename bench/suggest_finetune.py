"""Experiment: does fine-tuning e5-small's top layers on the team's codings lift suggestion accuracy?

Issue 5 asks for accuracy >= 0.80 on the cycling dialogues (5-fold stratified CV, title + text); the
hybrid on frozen e5 vectors reaches 0.784. This measures the route that changes the features: per fold,
the top `--layers` transformer layers of the default model (multilingual-e5-small through
sentence-transformers) are trained with a classification head on the fold's training codings only,
and the hybrid suggester then runs on the tuned vectors. The lower layers stay frozen, so their output
is computed once per text and cached; a fold then only runs the top layers, which keeps a fold to
minutes on two cores.

Usage: python bench/suggest_finetune.py [--layers 2] [--epochs 3] [--folds 5]
Prints the figures; it does not write BENCHMARKS.md (an experiment, not yet a product path).
"""
from __future__ import annotations

import argparse
import copy
import csv
import io
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.suggest_quality import CYCLING, CYCLING_CODEBOOK  # noqa: E402
from coding.codebook import load_codebook  # noqa: E402
from coding.suggest import Suggester  # noqa: E402
from coding.suggest.data import Labelled, load_labelled  # noqa: E402
from coding.suggest.evaluate import cross_validate, examples_of, metrics, stratified_folds  # noqa: E402


def cycling_items() -> list[Labelled]:
    items = load_labelled(CYCLING, label="main_category_level1")
    raw = {r["ID"]: r for r in csv.DictReader(io.StringIO(CYCLING.read_text(encoding="utf-8"), newline=""))}
    return [Labelled(i.id, (raw[i.id]["title"].strip() + ". " + raw[i.id]["text"].strip())
                     if raw[i.id]["text"].strip() else raw[i.id]["title"].strip(), i.codes) for i in items]


class Base:
    """The frozen lower part of e5-small: token states after `cut` layers, cached per text."""

    def __init__(self, layers: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        from coding.embed.e5_convert import ensure_converted

        torch.set_num_threads(2)
        self.model = SentenceTransformer(str(ensure_converted()), device="cpu")
        self.bert = self.model[0].auto_model.eval()
        self.tokenizer = self.model.tokenizer
        self.cut = self.bert.config.num_hidden_layers - layers
        self.cache: dict[str, tuple] = {}

    def states(self, texts: list[str], batch: int = 16) -> list[tuple]:
        import torch

        todo = sorted({t for t in texts if t not in self.cache}, key=len)
        with torch.inference_mode():
            for start in range(0, len(todo), batch):
                chunk = todo[start:start + batch]
                enc = self.tokenizer(["query: " + t for t in chunk], padding=True, truncation=True,
                                     max_length=512, return_tensors="pt")
                out = self.bert(**enc, output_hidden_states=True)
                hidden = out.hidden_states[self.cut]
                for i, text in enumerate(chunk):
                    n = int(enc["attention_mask"][i].sum())
                    self.cache[text] = hidden[i, :n].clone()
        return [self.cache[t] for t in texts]


def _batch(states: list) -> tuple:
    import torch

    width = max(s.shape[0] for s in states)
    hidden = torch.zeros(len(states), width, states[0].shape[1])
    mask = torch.zeros(len(states), width)
    for i, s in enumerate(states):
        hidden[i, :s.shape[0]] = s
        mask[i, :s.shape[0]] = 1
    return hidden, mask


class Top:
    """The trainable top layers plus mean pooling (as e5 pools)."""

    def __init__(self, base: Base) -> None:
        import torch

        self.layers = torch.nn.ModuleList(copy.deepcopy(base.bert.encoder.layer[base.cut:]))

    def forward(self, hidden, mask):
        import torch

        additive = (1.0 - mask)[:, None, None, :] * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            result = layer(hidden, attention_mask=additive)
            hidden = result[0] if isinstance(result, tuple) else result
        return (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

    def vectors(self, states: list, batch: int = 32) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(states), batch):
                pooled = self.forward(*_batch(states[start:start + batch]))
                out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.vstack(out).astype(np.float32)


def tune(base: Base, texts: list[str], labels: list[str], epochs: int, seed: int) -> Top:
    import torch

    torch.manual_seed(seed)
    classes = sorted(set(labels))
    y = torch.tensor([classes.index(label) for label in labels])
    counts = torch.bincount(y, minlength=len(classes)).float()
    top = Top(base)
    head = torch.nn.Linear(base.bert.config.hidden_size, len(classes))
    optimiser = torch.optim.AdamW([{"params": top.layers.parameters(), "lr": 4e-5},
                                   {"params": head.parameters(), "lr": 2e-3}], weight_decay=0.01)
    loss = torch.nn.CrossEntropyLoss(weight=counts.sum() / (len(classes) * counts))
    states = base.states(texts)
    rng = np.random.default_rng(seed)
    top.layers.train()
    for _ in range(epochs):
        order = rng.permutation(len(texts))
        for start in range(0, len(order), 16):
            picked = order[start:start + 16]
            pooled = top.forward(*_batch([states[i] for i in picked]))
            optimiser.zero_grad()
            loss(head(pooled), y[picked]).backward()
            optimiser.step()
    top.layers.eval()
    return top


class TunedEmbedder:
    """The fold's tuned model as a Codewerk embedder (texts -> L2-normalised float32 rows)."""

    def __init__(self, base: Base, top: Top, fold: int) -> None:
        self.base, self.top = base, top
        self.model_id, self.dim = f"e5-tuned-fold{fold}", base.bert.config.hidden_size
        self.memo: dict[str, np.ndarray] = {}

    def embed(self, texts, progress=None) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            for text, row in zip(missing, self.top.vectors(self.base.states(missing)), strict=True):
                self.memo[text] = row
        return np.vstack([self.memo[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5, help="how many of the 5 folds to run (all: 5)")
    args = parser.parse_args()
    items = cycling_items()
    codebook = load_codebook(CYCLING_CODEBOOK)
    folds = stratified_folds(items, 5, seed=0)
    base = Base(args.layers)
    started = time.perf_counter()
    base.states([i.text for i in items])
    print(f"lower {base.cut} layers cached for {len(items)} texts in {time.perf_counter() - started:.0f} s", flush=True)
    embedders: dict[frozenset, TunedEmbedder] = {}
    folds = folds[:args.folds]
    for number, (train_rows, test_rows) in enumerate(folds):
        started = time.perf_counter()
        train = [items[i] for i in train_rows]
        top = tune(base, [i.text for i in train], [i.codes[0] for i in train], args.epochs, seed=number)
        embedders[frozenset(items[i].id for i in test_rows)] = TunedEmbedder(base, top, number)
        print(f"fold {number}: tuned in {time.perf_counter() - started:.0f} s", flush=True)

    def trained(train, test):
        return Suggester(codebook, embedders[frozenset(i.id for i in test)]).fit(examples_of(train))

    figures = metrics(cross_validate(items, folds, trained), 3)
    print(f"hybrid on tuned e5 ({len(folds)} fold(s), {figures['passages']} passages scored): "
          f"accuracy {figures['accuracy']:.3f}, macro-F1 {figures['macro_f1']:.3f}, top-3 {figures['top3']:.3f}")


if __name__ == "__main__":
    main()
