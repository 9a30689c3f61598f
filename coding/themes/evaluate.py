"""Measuring themes against gold labels: adjusted Rand index, NMI, best-matching theme per gold label.

`codewerk eval themes` clusters gold-labelled passages (each group of `--group-by` on its own, and all
of them together) three ways: the engine with its automatic number of themes, the engine told the
true number, and the plain baseline (scikit-learn's agglomerative clustering of the raw embeddings
with the true number). The labels are only ever used to score, never to fit.
"""
from __future__ import annotations

import csv
import fnmatch
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coding.embed.base import Embedder
from coding.errors import InputError
from coding.suggest.data import json_lines, read_lines
from coding.themes.cluster import AUTO
from coding.themes.engine import ThemeSteps, find_themes
from coding.themes.model import Segment

_TRUE = {"1", "true", "yes", "x"}


@dataclass(frozen=True)
class GoldRow:
    """A passage with its gold label and, when the data is grouped, its group."""

    id: str
    text: str
    label: str
    group: str | None = None


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Adjusted Rand index and normalised mutual information of two partitions of the same passages."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"ari": float(adjusted_rand_score(gold, predicted)),
            "nmi": float(normalized_mutual_info_score(gold, predicted))}


def best_matches(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict]:
    """For each gold label: the theme with the highest F1 for it, with that theme's precision and recall."""
    pairs = Counter(zip(gold, predicted))
    gold_sizes, theme_sizes = Counter(gold), Counter(predicted)
    out = {}
    for label in sorted(gold_sizes):
        best = None
        for theme in theme_sizes:
            both = pairs[(label, theme)]
            if not both:
                continue
            precision, recall = both / theme_sizes[theme], both / gold_sizes[label]
            f1 = 2 * precision * recall / (precision + recall)
            if best is None or f1 > best["f1"]:
                best = {"theme": theme, "precision": precision, "recall": recall, "f1": f1}
        out[label] = best
    return out


def baseline_labels(vectors: np.ndarray, k: int) -> np.ndarray:
    """The plain baseline: scikit-learn's agglomerative clustering (Ward) of the raw embeddings into k."""
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) < 2 or k < 2:
        return np.zeros(len(vectors), dtype=int)
    return AgglomerativeClustering(n_clusters=min(k, len(vectors))).fit_predict(vectors)


def load_gold(path: str | Path, *, label: str, text: str = "text", group_by: str | None = None,
              id_field: str = "id") -> tuple[list[GoldRow], int]:
    """Gold passages from CSV or JSONL, and how many rows were left out.

    `text` names one field or several joined by commas (their non-empty values are joined with ". ",
    e.g. "title,text"). `label` names one field, or a pattern such as "level2_*" for one-hot columns
    (1/true/yes/x): then a row counts only when exactly one of them is set. Rows without a label or
    without text are left out and counted.
    """
    path = Path(path)
    lines = read_lines(path)
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO("\n".join(lines), newline=""))
        rows = [(reader.line_num, row) for row in reader]
    else:
        rows = list(json_lines(lines, str(path), ()))
    if not rows:
        raise InputError(path, "holds no rows")
    fields = [f.strip() for f in text.split(",") if f.strip()]
    columns = list(rows[0][1])
    one_hot = [c for c in columns if fnmatch.fnmatchcase(c, label)] if any(ch in label for ch in "*?[") else None
    wanted = fields + ([group_by] if group_by else []) + ([] if one_hot is not None else [label])
    for key in wanted:
        if key not in columns:
            raise InputError(path, f"has no field {key!r}", f"its fields: {', '.join(columns[:20])}")
    if one_hot == []:
        raise InputError(path, f"no field matches {label!r}", f"its fields: {', '.join(columns[:20])}")
    out, skipped = [], 0
    for number, row in rows:
        body = ". ".join(str(row.get(f) or "").strip() for f in fields if str(row.get(f) or "").strip())
        if one_hot is not None:
            labels = [c for c in one_hot if str(row.get(c) or "").strip().lower() in _TRUE]
            gold = labels[0] if len(labels) == 1 else ""
        else:
            gold = str(row.get(label) or "").strip()
        if not body or not gold:
            skipped += 1
            continue
        row_id = row.get(id_field) or row.get(id_field.upper()) or f"{path.stem}:{number}"
        out.append(GoldRow(str(row_id), body, gold, str(row[group_by]) if group_by else None))
    if not out:
        raise InputError(path, f"no row has both a text ({text}) and a label ({label})")
    return out, skipped


def compare(rows: Sequence[GoldRow], vectors: np.ndarray, *, n_themes: int | str = AUTO, seed: int = 0,
            steps: ThemeSteps | None = None, embedder: str | None = None) -> dict:
    """The engine (automatic and true number of themes) and the baseline on one set of passages."""
    gold = [r.label for r in rows]
    true_k = len(set(gold))
    segments = [Segment(f"{i}", r.text) for i, r in enumerate(rows)]
    auto = find_themes(segments, vectors, n_themes=n_themes, seed=seed, steps=steps, embedder=embedder)
    told = find_themes(segments, vectors, n_themes=true_k, seed=seed, steps=steps, embedder=embedder)
    theme_of = lambda run: [run.assignments[s.id] for s in segments]  # noqa: E731
    return {"passages": len(rows), "gold_labels": true_k, "themes": len(auto.themes),
            "engine": scores(gold, theme_of(auto)), "engine_true_k": scores(gold, theme_of(told)),
            "baseline_true_k": scores(gold, [str(x) for x in baseline_labels(vectors, true_k)]),
            "record": auto.record()}


def evaluate_themes(path: str | Path, *, embedder: Embedder, label: str, group_by: str | None = None,
                    text: str = "text", n_themes: int | str = AUTO, seed: int = 0) -> dict:
    """What `codewerk eval themes` does: per group (if any) and over all passages, a JSON-ready dict."""
    rows, skipped = load_gold(path, label=label, text=text, group_by=group_by)
    vectors = np.asarray(embedder.embed([r.text for r in rows]), dtype=np.float64)
    parts = {}
    if group_by:
        for group in sorted({r.group for r in rows}):
            pick = [i for i, r in enumerate(rows) if r.group == group]
            parts[group] = compare([rows[i] for i in pick], vectors[pick], n_themes=n_themes, seed=seed,
                                   embedder=embedder.model_id)
    parts["(all)"] = compare(rows, vectors, n_themes=n_themes, seed=seed, embedder=embedder.model_id)
    return {"data": str(path), "label": label, "group_by": group_by, "passages": len(rows), "skipped": skipped,
            "embedder": embedder.model_id, "seed": seed, "n_themes": n_themes, "groups": parts}


def format_report(report: dict) -> str:
    """The figures as a plain table for the command line."""
    by = f", each {report['group_by']} on its own and all together" if report["group_by"] else ""
    lines = [f"{report['passages']} passages with one {report['label']} label ({report['skipped']} rows left out: "
             f"no text, no label or several){by}; embedder {report['embedder']}, seed {report['seed']}", "",
             f"{'group':<34} {'passages':>8} {'gold':>5} {'themes':>6} {'ARI':>6} {'NMI':>6} | "
             f"{'true k: ARI':>11} {'NMI':>6} | {'baseline ARI':>12} {'NMI':>6}"]
    for name, part in report["groups"].items():
        e, t, b = part["engine"], part["engine_true_k"], part["baseline_true_k"]
        lines.append(f"{name[:34]:<34} {part['passages']:>8} {part['gold_labels']:>5} {part['themes']:>6} "
                     f"{e['ari']:>6.3f} {e['nmi']:>6.3f} | {t['ari']:>11.3f} {t['nmi']:>6.3f} | "
                     f"{b['ari']:>12.3f} {b['nmi']:>6.3f}")
    lines += ["", "themes: the engine's automatic number; true k: the engine told the number of gold labels; "
              "baseline: agglomerative (Ward) on the raw embeddings with the true number"]
    return "\n".join(lines)
