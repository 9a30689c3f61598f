"""Theme runs of a project: its coded passages clustered, stored, revised through the store, projected for a map.

The engine (`find_themes`, `merge`, `split`, `move`) knows nothing about projects; the store keeps runs
as JSON states and knows nothing about clustering. This module joins the two: it reads the coded
passages a selection names, embeds them through the vector cache, stores the run, and turns an
engine revision of a stored revision into the next stored revision.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coding.embed.base import Embedder
from coding.embed.cache import embed_cached
from coding.store import Project
from coding.store.themes import ACCEPTED, ACTIVE, THEME_ORIGIN, require_active, theme_of
from coding.themes.cluster import AUTO
from coding.themes.engine import find_themes, merge, move, split
from coding.themes.layout import map_layout
from coding.themes.model import Segment, StepRecord, Theme, ThemeError, ThemeRun

STAKEHOLDER = "Stakeholdergruppe"  # the document attribute naming a passage's stakeholder group
MIN_PASSAGES = 3  # fewer coded passages make no themes worth reviewing
# Fields a lead adds to a theme; the engine's fields are recomputed by every merge, split and move.
REVIEW_FIELDS = ("description", "status", "renamed", "code_id", "codings")


def coded_passages(project: Project, codes: Sequence[str] | None = None, facet: str | None = None,
                   attributes: Mapping[str, Sequence[str]] | None = None,
                   stakeholder: str = STAKEHOLDER) -> list[dict[str, Any]]:
    """The active codings a selection names, each as a passage with its place in its interview.

    Args:
        codes: code ids (a parent brings its sub-codes). None: the codable top-level codes (the themes
            of a codebook; subcodes such as statement types would count each passage twice).
        facet: a code such as A1 (Herausforderung): only passages overlapping a coding of it are kept.
        attributes: document attributes, e.g. {"Stakeholdergruppe": ["Kommune"]} (see coded_segments).
        stakeholder: the document attribute that names a passage's stakeholder group.

    Returns dicts with id (the coding id, as text), text (the quote), code, stakeholder, document
    (its name), document_id, start, end and line (1-based line of the start in the document). A span
    coded with the same code by several coders is one passage; codings made by accepting a theme are
    left out (they are a run's result, not its input).
    """
    if codes is None:
        codable = [c["id"] for c in project.codes() if c["codable"] and c["parent"] is None and c["id"] != facet]
        rows = project.coded_segments(codes=codable, attributes=attributes or None, context=0) if codable else []
    else:
        rows = project.coded_segments(codes=list(codes), attributes=attributes or None, context=0)
    rows = [r for r in rows if r["origin"] != THEME_ORIGIN and r["code_id"] != facet]
    if facet is not None:
        spans: dict[int, list[tuple[int, int]]] = {}
        for r in project.coded_segments(codes=[facet], context=0):
            spans.setdefault(r["document_id"], []).append((r["start"], r["end"]))
        rows = [r for r in rows if any(s < r["end"] and r["start"] < e for s, e in spans.get(r["document_id"], []))]
    groups = {d["id"]: d["attributes"].get(stakeholder) for d in project.documents()}
    texts: dict[int, str] = {}
    seen: set[tuple[int, int, int, str]] = set()
    passages = []
    for r in rows:
        key = (r["document_id"], r["start"], r["end"], r["code_id"])
        if key in seen:
            continue
        seen.add(key)
        if r["document_id"] not in texts:
            texts[r["document_id"]] = project.document(r["document_id"])["text"]
        passages.append({"id": str(r["id"]), "text": r["quote"], "code": r["code_id"],
                         "stakeholder": groups.get(r["document_id"]) or None, "document": r["document"],
                         "document_id": r["document_id"], "start": r["start"], "end": r["end"],
                         "line": texts[r["document_id"]].count("\n", 0, r["start"]) + 1})
    return passages


def theme_segments(project: Project, codes: Sequence[str] | None = None, facet: str | None = None,
                   attributes: Mapping[str, Sequence[str]] | None = None,
                   stakeholder: str = STAKEHOLDER) -> list[Segment]:
    """The coded passages of a selection as the engine's segments (see coded_passages)."""
    return [_segment(p) for p in coded_passages(project, codes, facet, attributes, stakeholder)]


def _segment(passage: Mapping[str, Any]) -> Segment:
    return Segment(passage["id"], passage["text"], passage["code"], passage["stakeholder"], passage["document"])


def start_run(project: Project, embedder: Embedder, user: str, *, name: str, codes: Sequence[str] | None = None,
              facet: str | None = None, attributes: Mapping[str, Sequence[str]] | None = None,
              stakeholder: str = STAKEHOLDER, n_themes: int | str = AUTO, seed: int = 0,
              progress: Callable[[int, int], None] | None = None) -> int:
    """Cluster the coded passages of a selection into themes and store the run; returns its id.

    ThemeError when the selection holds fewer than MIN_PASSAGES passages.
    """
    passages = coded_passages(project, codes, facet, attributes, stakeholder)
    if len(passages) < MIN_PASSAGES:
        raise ThemeError(f"the selection holds {len(passages)} coded passage(s); themes need at least "
                         f"{MIN_PASSAGES}: choose more codes, another facet or fewer attribute filters")
    vectors = embed_cached(project, embedder, [p["text"] for p in passages], progress=progress)
    run = find_themes([_segment(p) for p in passages], vectors, n_themes=n_themes, seed=seed,
                      embedder=embedder.model_id)
    selection = {"codes": list(codes) if codes is not None else None, "facet": facet,
                 "attributes": {k: list(v) for k, v in (attributes or {}).items()}, "stakeholder": stakeholder,
                 "n_themes": n_themes}
    layout, layout_step = map_layout(run.features, seed)
    return project.create_theme_run(name, user, selection=selection, embedder=embedder.model_id, seed=seed,
                                    steps={**run.record(), "layout": layout_step.as_dict()}, segments=passages,
                                    features=run.features, state=state_of(run, None), layout=layout)


def state_of(run: ThemeRun, previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """A revision's state from an engine run: the engine's themes with the lead's fields carried over
    from `previous` for every theme id that lives on (a lead's title and an accepted title stay)."""
    before = {t["id"]: t for t in previous["themes"]} if previous else {}
    themes = []
    for theme in run.themes:
        old = before.get(theme.id)
        extras = {k: old[k] for k in REVIEW_FIELDS if k in old} if old else {}
        row = {**theme.as_dict(), "draft_label": theme.label, "description": "", "status": ACTIVE, "renamed": False,
               **extras}
        if old and (old.get("renamed") or old.get("status") == ACCEPTED):
            row["label"] = old["label"]
        themes.append(row)
    return {"themes": themes, "assignments": run.assignments, "history": [dict(h) for h in run.history]}


@dataclass
class StoredRun:
    """A stored run at one revision: the engine's run, the revision's state and its number."""

    run: ThemeRun
    state: dict[str, Any]
    revision: int
    passages: list[dict[str, Any]]

    def theme(self, theme_id: str) -> dict[str, Any]:
        return theme_of(self.state, theme_id)


def load_run(project: Project, run_id: int, revision: int | None = None,
             stored: Mapping[str, Any] | None = None) -> StoredRun:
    """The run as the engine sees it at `revision` (default: the latest); `stored` saves reading the
    run's fixed part again (the result of project.theme_run)."""
    stored = stored if stored is not None else project.theme_run(run_id)
    head = project.theme_revision(run_id, revision)
    state = head["state"]
    themes = [Theme(id=t["id"], label=t["draft_label"], keywords=t["keywords"], codes=t["codes"],
                    stakeholders=t["stakeholders"], members=t["members"], representatives=t["representatives"],
                    interviews=t["interviews"], cross_stakeholder=t["cross_stakeholder"],
                    groups_reached=t["groups_reached"]) for t in state["themes"]]
    record = stored["steps"]
    run = ThemeRun(segments=[_segment(p) for p in stored["segments"]],
                   features=np.asarray(stored["features"], dtype=np.float64), themes=themes,
                   steps=[StepRecord(s["name"], s["params"]) for s in record["steps"]], params=record["params"],
                   history=list(state["history"]))
    return StoredRun(run, state, head["number"], stored["segments"])


def merge_themes(project: Project, run_id: int, base: int, theme_ids: Sequence[str], user: str) -> int:
    """Merge themes (computed from revision `base`) under the first id; descriptions are joined."""
    current = load_run(project, run_id, base)
    require_active(current.state, theme_ids)
    revised = state_of(merge(current.run, theme_ids), current.state)
    descriptions = [current.theme(i)["description"] for i in dict.fromkeys(theme_ids)]
    joined = "\n\n".join(d for d in descriptions if d)
    revised["themes"] = [{**t, "description": joined} if t["id"] == theme_ids[0] else t for t in revised["themes"]]
    return project.revise_themes(run_id, base, "merge", {"themes": list(theme_ids), "into": theme_ids[0]},
                                 revised, user)


def split_theme(project: Project, run_id: int, base: int, theme_id: str, user: str, n: int | str = AUTO) -> int:
    """Re-cluster one theme (of revision `base`) into `n` themes with new ids."""
    current = load_run(project, run_id, base)
    require_active(current.state, [theme_id])
    after = split(current.run, theme_id, n)
    return project.revise_themes(run_id, base, "split", {"theme": theme_id, "n": n, "into": after.history[-1]["into"]},
                                 state_of(after, current.state), user)


def move_segments(project: Project, run_id: int, base: int, segment_ids: Sequence[str], theme_id: str,
                  user: str) -> int:
    """Move passages (of revision `base`) into another theme; a theme left empty disappears."""
    current = load_run(project, run_id, base)
    assignments = current.state["assignments"]
    sources = sorted({assignments[s] for s in segment_ids if s in assignments})
    require_active(current.state, [theme_id, *sources])
    after = move(current.run, segment_ids, theme_id)
    return project.revise_themes(run_id, base, "move", {"segments": list(segment_ids), "from": sources,
                                                        "into": theme_id}, state_of(after, current.state), user)


def projection(features: np.ndarray) -> np.ndarray:
    """2-D coordinates of the feature rows for the map of a run stored without a layout (made before
    migration 0006): their first two principal axes, signs fixed so that a run always draws the same way."""
    rows = np.asarray(features, dtype=np.float64)
    if len(rows) < 2 or rows.shape[1] < 2:
        return np.zeros((len(rows), 2))
    centred = rows - rows.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    coords = centred @ (axes * signs[:, None]).T
    return coords if coords.shape[1] == 2 else np.hstack([coords, np.zeros((len(rows), 1))])
