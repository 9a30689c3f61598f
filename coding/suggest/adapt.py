"""A project's suggestion model adapted to its codings: tuned once on request, then used for suggestions.

A lead starts the tuning when the team has coded enough (it takes minutes on a laptop and runs in
the background); `coding.embed.tune` trains the embedding model's layers to tell the project's codes
apart, one head per group of alternative codes. The tuned weights are kept beside the project file
(`<project>.tuned/<identity>.safetensors`), and the project setting `suggest.tuned_model` says
which file the suggestions use. Everything else (themes, the vector cache of the base model) keeps
the base model: the tuned vectors have their own model id, so both live side by side in the cache.
Going back to the base model removes the setting and the file.
"""
from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coding.embed.base import Embedder
from coding.embed.tune import TuningSettings, save_tuned, settings_record, tune_model
from coding.errors import TuningError
from coding.store import Project
from coding.suggest.base import SuggestError
from coding.suggest.from_project import project_examples
from coding.suggest.groups import code_groups

SETTING = "suggest.tuned_model"
MIN_CODINGS = 20  # per group: fewer teach the model nothing it could keep


def tuned_dir(project: Project) -> Path:
    return project.path.with_name(project.path.name + ".tuned")


def tuning_tasks(project: Project) -> list[list[tuple[str, str]]]:
    """(passage, code) pairs per group of alternative codes, from the project's active codings."""
    examples = project_examples(project)
    groups = code_groups(project.codebook(), sorted({e.code for e in examples}) or None)
    tasks = [[(e.text, e.code) for e in examples if e.code in group.codes] for group in groups]
    return [task for task in tasks if len(task) >= MIN_CODINGS and len({code for _, code in task}) >= 2]


def _tunable(embedder: Embedder) -> Any:
    from coding.embed.st_backend import SentenceTransformerEmbedder

    if not isinstance(embedder, SentenceTransformerEmbedder):
        raise TuningError(f"the embedding model {embedder.model_id!r} cannot be tuned; only sentence-transformers "
                          "models can (the default 'e5' is one)")
    return embedder


def tune_project(project: Project, embedder: Embedder, *, settings: TuningSettings = TuningSettings(),
                 progress: Callable[[int, int], None] | None = None) -> dict:
    """Tune a copy of `embedder`'s model on the project's codings, keep it, and make suggestions use it.

    Returns what the setting now records (file, base model id, codings, seconds). The shared model
    the app answers with is not touched while this runs.
    """
    base = _tunable(embedder)
    try:
        tasks = tuning_tasks(project)
    except SuggestError as e:  # no two codes with the same parent to choose between
        raise TuningError(f"nothing to tune on: {e}") from e
    if not tasks:
        raise TuningError(f"tuning needs at least {MIN_CODINGS} codings of two or more codes of one group; "
                          "code more passages first")
    started = time.perf_counter()
    model = copy.deepcopy(base.model)
    weights = tune_model(model, tasks, prefix=base.prefix, settings=settings, progress=progress)
    folder = tuned_dir(project)
    partial = folder / "tuning.part.safetensors"
    identity = save_tuned(partial, weights, base=base.identity, record=settings_record(settings, tasks))
    path = folder / f"{identity}.safetensors"
    partial.replace(path)
    record = {"file": path.name, "base": base.model_id, "codings": sum(len(t) for t in tasks),
              "seconds": round(time.perf_counter() - started), "at": datetime.now(UTC).isoformat(timespec="seconds")}
    previous = current_tuning(project)
    project.set_setting(SETTING, json.dumps(record))
    if previous and previous["file"] != path.name:  # keep one tuned file per project (tens of MB each)
        (folder / previous["file"]).unlink(missing_ok=True)
    return record


def current_tuning(project: Project) -> dict | None:
    """What the project's suggestions are tuned with (see `tune_project`), or None for the base model."""
    value = project.setting(SETTING)
    return json.loads(value) if value else None


def forget_tuning(project: Project) -> None:
    """Suggest with the base model again; the tuned file goes."""
    previous = current_tuning(project)
    project.set_setting(SETTING, None)
    if previous:
        (tuned_dir(project) / previous["file"]).unlink(missing_ok=True)


def tuned_embedder(project: Project, base: Embedder) -> Embedder | None:
    """The project's tuned model if it has one made from `base` (suggestions fuse it with `base`,
    `coding.suggest.fuse`), else None."""
    record = current_tuning(project)
    if not record or record.get("base") != base.model_id:
        return None
    path = tuned_dir(project) / record["file"]
    if not path.exists():
        raise TuningError(f"{path}: the tuned suggestion model is missing; tune again on the review page, "
                          "or go back to the base model there")
    from coding.embed.registry import get_tuned

    return get_tuned(_tunable(base), path)
