"""Measuring suggestions honestly: cross-validation splits, out-of-fold scores, metrics, learning curves.

The suggester under test is built by a factory from the training part of each fold only; whatever
it tunes (pool weights, calibration) it tunes by its own inner cross-validation on that part. The
test part of a fold is scored once.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from coding.codebook import Codebook
from coding.embed.base import Embedder
from coding.suggest.base import Example
from coding.suggest.calibrate import Bin, expected_calibration_error, reliability
from coding.suggest.data import Labelled
from coding.suggest.model import Suggester

Folds = list[tuple[np.ndarray, np.ndarray]]
# Builds a fitted suggester from the training passages of one fold (and may use the test ids,
# e.g. to leave out codebook anchors that are test passages).
Factory = Callable[[list[Labelled], list[Labelled]], Suggester]


class MemoEmbedder:
    """Wraps an embedder so that each text is embedded once across all folds of an evaluation."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner, self.model_id, self.dim = embedder, embedder.model_id, embedder.dim
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str], *, progress=None) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if todo:
            self._vectors.update(zip(todo, np.asarray(self.inner.embed(todo, progress=progress), np.float32)))
        return np.array([self._vectors[t] for t in texts], dtype=np.float32).reshape(len(texts), self.dim)


def without_anchors(codebook: Codebook, passages: Sequence[str],
                    codes: Sequence[str] | None = None) -> tuple[Codebook, int]:
    """The codebook minus every anchor example that is (part of) one of these passages, and how many
    (of the given codes' anchors; default all codes).

    A codebook's anchors are often passages of the very interviews it is evaluated on; an anchor
    that is a test passage would hand the answer to the codebook prior.
    """
    import dataclasses

    squeeze = lambda text: " ".join(text.split())  # noqa: E731
    tests = [squeeze(p) for p in passages]
    dropped = 0
    reduced = []
    for code in codebook.codes:
        if codes is not None and code.id not in codes:
            kept = code.anchors  # not suggested: its anchors never reach the prior
        else:
            kept = [a for a in code.anchors if not any(squeeze(a) in t or t in squeeze(a) for t in tests if t)]
        dropped += len(code.anchors) - len(kept)
        reduced.append(dataclasses.replace(code, anchors=kept))
    return Codebook(codebook.name, codebook.description, reduced, codebook.sets), dropped


def stratified_folds(items: Sequence[Labelled], k: int = 5, seed: int = 0) -> Folds:
    """k folds stratified by each passage's first gold code."""
    from sklearn.model_selection import StratifiedKFold

    labels = [item.codes[0] for item in items]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(train, test) for train, test in splitter.split(np.zeros(len(items)), labels)]


def group_folds(items: Sequence[Labelled]) -> Folds:
    """Leave one group (interview) out: each group is the test part of one fold."""
    groups = [item.group for item in items]
    if any(g is None for g in groups):
        raise ValueError("leave-one-group-out needs a group for every passage")
    positions = np.arange(len(items))
    return [(positions[[g != name for g in groups]], positions[[g == name for g in groups]])
            for name in dict.fromkeys(groups)]


def stratified_subsample(items: Sequence[Labelled], rows: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` of the given rows, drawn stratified by first gold code (all of them if there are fewer)."""
    from sklearn.model_selection import train_test_split

    rows = np.asarray(rows)
    if size >= len(rows):
        return rows
    labels = np.array([items[i].codes[0] for i in rows])
    counts = {code: int((labels == code).sum()) for code in set(labels)}
    # A code seen once cannot be split by stratification; such rows are drawn like the others.
    stratify = np.where([counts[c] >= 2 for c in labels], labels, "~rare")
    try:
        picked, _ = train_test_split(rows, train_size=size, stratify=stratify, random_state=seed)
    except ValueError:  # too few rows per code for the requested size: draw plainly
        picked = np.random.default_rng(seed).choice(rows, size=size, replace=False)
    return np.sort(picked)


def examples_of(items: Sequence[Labelled]) -> list[Example]:
    """Training examples: one per (passage, gold code)."""
    return [Example(item.text, code, item.context, item.id) for item in items for code in item.codes]


@dataclass
class OutOfFold:
    """Every passage's calibrated score for every code, from the fold that did not train on it."""

    codes: list[str]
    items: list[Labelled]
    scores: np.ndarray
    raw: np.ndarray
    records: list[dict] = field(default_factory=list)

    def ranking(self) -> np.ndarray:
        """Code positions per passage, best first (by calibrated score, then raw)."""
        return np.lexsort((-self.raw, -self.scores), axis=1) if self.scores.size else np.zeros((0, 0), int)


def cross_validate(items: Sequence[Labelled], folds: Folds, factory: Factory) -> OutOfFold:
    """Run the factory on each fold's training part and score its test part."""
    items = list(items)
    scores = raw = None
    codes: list[str] = []
    records = []
    for train, test in folds:
        suggester = factory([items[i] for i in train], [items[i] for i in test])
        if scores is None:
            codes = suggester.codes
            scores = np.full((len(items), len(codes)), np.nan)
            raw = np.full((len(items), len(codes)), np.nan)
        elif suggester.codes != codes:
            raise ValueError("every fold's suggester must suggest the same codes in the same order")
        passages = suggester.passages([items[i].text for i in test], [items[i].context for i in test])
        raw[test] = suggester.raw_scores(passages)
        scores[test] = suggester.calibrator.transform(raw[test])
        records.append(suggester.record())
    return OutOfFold(codes, items, scores, raw, records)


def metrics(result: OutOfFold, k: int = 3) -> dict:
    """Accuracy, macro-F1, top-k accuracy, and per code: passages, top-1 and top-k recall."""
    from sklearn.metrics import f1_score

    scored = ~np.isnan(result.scores).any(axis=1)
    ranking = result.ranking()[scored]
    items = [item for item, keep in zip(result.items, scored) if keep]
    top1 = [result.codes[r[0]] for r in ranking]
    topk = [{result.codes[c] for c in r[:k]} for r in ranking]
    hit1 = np.array([p in item.codes for p, item in zip(top1, items)])
    hitk = np.array([bool(set(item.codes) & s) for s, item in zip(topk, items)])
    # With several gold codes, a prediction of any of them counts as that one.
    truth = [p if p in item.codes else item.codes[0] for p, item in zip(top1, items)]
    per_code = {}
    for code in result.codes:
        mine = np.array([code in item.codes for item in items])
        if mine.any():
            per_code[code] = {"passages": int(mine.sum()),
                              "top1": float(np.mean([p == code for p, m in zip(top1, mine) if m])),
                              f"top{k}": float(np.mean([code in s for s, m in zip(topk, mine) if m]))}
    return {"passages": len(items), "accuracy": float(hit1.mean()),
            "macro_f1": float(f1_score(truth, top1, labels=sorted(set(truth)), average="macro", zero_division=0)),
            f"top{k}": float(hitk.mean()), "per_code": per_code}


def calibration_table(result: OutOfFold, k: int = 3, bins: int = 10) -> tuple[list[Bin], float]:
    """Reliability of the suggestions a user sees (the top k of each passage), with the ECE."""
    ranking = result.ranking()
    scores, correct = [], []
    for row, item in enumerate(result.items):
        if np.isnan(result.scores[row]).any():
            continue
        for c in ranking[row][:k]:
            scores.append(result.scores[row, c])
            correct.append(result.codes[c] in item.codes)
    table = reliability(np.array(scores), np.array(correct), bins)
    return table, expected_calibration_error(table)


def learning_curve(items: Sequence[Labelled], folds: Folds, factory: Factory, sizes: Sequence[int],
                   seeds: Sequence[int] = (0, 1, 2), k: int = 3) -> dict[int, dict]:
    """Accuracy after `size` coded passages: stratified subsamples of each training part, several seeds."""
    items = list(items)
    curve = {}
    for size in sizes:
        runs = []
        for seed in seeds:
            small = [(stratified_subsample(items, train, size, seed), test) for train, test in folds]
            runs.append(metrics(cross_validate(items, small, factory), k))
        curve[size] = {"accuracy": float(np.mean([r["accuracy"] for r in runs])),
                       "accuracy_sd": float(np.std([r["accuracy"] for r in runs])),
                       "macro_f1": float(np.mean([r["macro_f1"] for r in runs])),
                       f"top{k}": float(np.mean([r[f"top{k}"] for r in runs])), "runs": len(runs)}
    return curve


def format_metrics(figures: dict, k: int = 3) -> str:
    """The figures as a few plain lines, for the command line."""
    lines = [f"passages  {figures['passages']}", f"accuracy  {figures['accuracy']:.3f}",
             f"macro-F1  {figures['macro_f1']:.3f}", f"top-{k}     {figures[f'top{k}']:.3f}", "",
             f"{'code':<36} {'passages':>8} {'top-1':>6} {f'top-{k}':>6}"]
    for code, row in figures["per_code"].items():
        lines.append(f"{code[:36]:<36} {row['passages']:>8} {row['top1']:>6.3f} {row[f'top{k}']:>6.3f}")
    return "\n".join(lines)


def format_reliability(table: list[dict], ece: float) -> str:
    lines = [f"{'score':<11} {'suggestions':>11} {'mean score':>10} {'share right':>11}"]
    for b in table:
        lines.append(f"{b['low']:.1f}-{b['high']:.1f}    {b['count']:>11} {b['mean_score']:>10.3f} "
                     f"{b['share_correct']:>11.3f}")
    lines.append(f"expected calibration error {ece:.3f}")
    return "\n".join(lines)


def evaluate_suggestions(data: str, *, embedder: Embedder, codebook: str | None = None, text: str = "text",
                         fallback: str | None = "title", label: str = "code", group: str | None = None,
                         folds: int = 5, k: int = 3, train: bool = True, codes: Sequence[str] | None = None,
                         seed: int = 0) -> dict:
    """What `codewerk eval suggest` does: load, split, cross-validate, measure (a JSON-ready dict).

    Anchors that are test passages are left out of the codebook in that fold (`without_anchors`).
    Only codes that occur in the gold data are suggested.
    """
    import dataclasses

    from coding.codebook import Code, load_codebook
    from coding.errors import InputError
    from coding.suggest.data import load_labelled

    items = load_labelled(data, text=text, label=label, group=group, fallback=fallback)
    gold = list(dict.fromkeys(code for item in items for code in item.codes))
    book = load_codebook(codebook) if codebook else Codebook("gold codes", "", [Code(c, c) for c in gold])
    known = {c.id for c in book.codes}
    missing = [c for c in gold if c not in known]
    if missing:
        raise InputError(data, f"gold codes not in the codebook: {', '.join(missing[:10])}",
                         "give the codebook that holds them with --codebook")
    wanted = list(codes) if codes else [c.id for c in book.codes if c.id in set(gold)]
    items = [dataclasses.replace(i, codes=tuple(c for c in i.codes if c in wanted)) for i in items]
    items = [i for i in items if i.codes]
    if group:
        splits = group_folds(items)
    else:
        least = min(sum(1 for i in items if i.codes[0] == c) for c in {i.codes[0] for i in items})
        if least < folds:
            raise InputError(data, f"a code has only {least} passage(s), fewer than the {folds} folds",
                             "use fewer --folds or leave the rare code out with --codes")
        splits = stratified_folds(items, folds, seed)
    shared = MemoEmbedder(embedder)
    dropped = []

    def factory(train_items: list[Labelled], test_items: list[Labelled]) -> Suggester:
        fold_book, n = without_anchors(book, [i.text for i in test_items], wanted)
        dropped.append(n)
        suggester = Suggester(fold_book, shared, codes=wanted, seed=seed)
        return suggester.fit(examples_of(train_items)) if train else suggester

    result = cross_validate(items, splits, factory)
    table, ece = calibration_table(result, k)
    how = f"leave-one-{group}-out ({len(splits)} folds)" if group else f"{folds}-fold stratified cross-validation"
    return {"description": f"{len(items)} passages, {len(wanted)} codes, {how}, "
                           f"{'codebook and training folds' if train else 'codebook only'}, "
                           f"embedder {embedder.model_id}; {sum(dropped)} anchor(s) left out as test passages",
            "figures": metrics(result, k), "reliability": [dataclasses.asdict(b) for b in table], "ece": ece,
            "suggester": result.records[0] if result.records else None}
