"""Embedding speed: the project pipeline against the bare model, and whole projects from scratch.

Usage: python bench/embed_speed.py [--embedder e5] [--sample 8] [--parts pair,demo,council]
Writes the section "embed" of BENCHMARKS.md.

1. Pipeline vs bare `encode`, side by side in one process: the same segments (never embedded
   before) go once through `embed_segments` into a fresh project (cache look-up, batching, storing
   every batch) and once straight into the model's own `encode`. The two alternate, so noise from
   other work on this shared machine hits both alike; the ratio of the summed times is the figure.
2. Wall time to embed every segment of the demo project, and of the 72 Magdeburg council sessions,
   into a fresh project (what a team waits for once; coding goes on meanwhile in the app).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import machine, write_section  # noqa: E402
from coding.embed.cache import embed_segments  # noqa: E402
from coding.embed.registry import get_embedder  # noqa: E402
from coding.importing import import_paths  # noqa: E402
from coding.store import Project  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "out" / "embed"  # the last figures of each part (git-ignored)


def imported(path: Path, source: Path) -> Path:
    """A fresh project with every file of `source` imported (import time is not part of any figure)."""
    with Project.create(path) as project:
        import_paths(project, [source], user="bench")
    return path


def segment_texts(path: Path) -> list[str]:
    with Project(path) as project:
        return [s["text"] for d in project.documents() for s in project.segments(d["id"])]


def bare_encode(embedder, texts: list[str]) -> None:
    """The model alone: sentence-transformers' `encode` over all texts (it sorts them by length itself)."""
    model = getattr(embedder, "_model", None)
    if model is not None and hasattr(model, "encode"):
        prefix = getattr(embedder, "prefix", "")
        model.encode([prefix + t for t in texts], prompt="", batch_size=embedder.batch_size,
                     normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    else:  # an engine without sentence-transformers: its own batch call is the bare model
        embedder.embed(texts)


def side_by_side(embedder, template: Path, work: Path, rounds: int = 2) -> dict:
    """`embed_segments` on a copy of `template` (nothing cached) against `encode` on the same texts.

    They alternate document by document (the first of each pair switching every time), so that a
    burst of other work on this shared machine lands on both alike; each side's time is summed.
    """
    documents, seen = [], set()
    with Project(template) as project:
        for document in project.documents():  # a text met in an earlier document is cached by then
            texts = [t for t in dict.fromkeys(s["text"] for s in project.segments(document["id"])) if t not in seen]
            seen.update(texts)
            documents.append((document["id"], texts))
    bare_encode(embedder, documents[0][1][:8])  # both paths warm
    seconds = {"pipeline": 0.0, "bare": 0.0}
    flip = False
    for r in range(rounds):
        copy = work / f"pipeline{r}.db"
        shutil.copy(template, copy)
        with Project(copy) as project:
            for doc_id, texts in documents:
                flip = not flip
                for kind in (("pipeline", "bare") if flip else ("bare", "pipeline")):
                    started = time.perf_counter()
                    if kind == "pipeline":
                        embedded = embed_segments(project, embedder, [doc_id])
                    else:
                        bare_encode(embedder, texts)
                    seconds[kind] += time.perf_counter() - started
                assert embedded == len(texts)  # the pipeline embedded exactly what the bare model did
    n = sum(len(texts) for _, texts in documents) * rounds
    return {"texts": n // rounds, "documents": len(documents), "rounds": rounds,
            "pipeline_per_s": n / seconds["pipeline"], "bare_per_s": n / seconds["bare"],
            "ratio": seconds["bare"] / seconds["pipeline"]}


def whole_project(embedder, path: Path) -> dict:
    """Every segment of an imported project embedded into its (empty) vector cache, timed."""
    with Project(path) as project:
        documents = project.documents()
        started = time.perf_counter()
        embedded = embed_segments(project, embedder, progress=_progress)
        seconds = time.perf_counter() - started
    return {"documents": len(documents), "segments": sum(d["segments"] for d in documents), "embedded": embedded,
            "words": sum(d["word_count"] for d in documents), "seconds": seconds}


def _progress(done: int, total: int) -> None:
    if done % 2000 < 64 or done == total:
        print(f"  {done}/{total}", flush=True)


def sample_project(source: Path, work: Path, documents: int) -> Path:
    """A project of `documents` interviews of the demo corpus, chosen with a fixed seed."""
    folder = work / "sample"
    folder.mkdir()
    files = sorted(p for p in source.iterdir() if p.suffix in (".docx", ".txt", ".vtt"))
    for file in random.Random(0).sample(files, documents):
        shutil.copy(file, folder / file.name)
    return imported(work / "sample.db", folder)


def council_project(work: Path) -> Path:
    from bench.magdeburg import FORMATS, load_sessions, write_session

    folder = work / "council"
    folder.mkdir()
    for i, (session, turns) in enumerate(load_sessions().items()):
        write_session(session, turns, folder, FORMATS[i % 4])
    return imported(work / "council.db", folder)


def report(embedder_id: str, pair: dict, demo: dict, council: dict | None, command: str) -> str:
    lines = ["## Embedding speed (`bench/embed_speed.py`)", "", f"`{command}` — {machine()}; embedder `{embedder_id}`.",
             "", f"**Pipeline against the bare model**, side by side in one process: the {pair['texts']} segments of "
             f"{pair['documents']} demo interviews, {pair['rounds']} rounds, alternating document by document which "
             "goes first. Pipeline = `embed_segments` into a copy of the project with an empty vector cache (hashing, "
             "cache look-up, batches, storing every batch in the project); bare = the model's own `encode` on the "
             "same texts (which sorts them by length itself).", "",
             "| path | segments/s |", "|---|---:|",
             f"| pipeline (`embed_segments`, cache misses only) | {pair['pipeline_per_s']:.1f} |",
             f"| bare `encode` | {pair['bare_per_s']:.1f} |", "",
             f"Pipeline / bare: **{pair['ratio']:.2f}** (target at least 0.85).", "",
             "**Whole projects from scratch** (every segment embedded into an empty cache; in the app this runs "
             "in the background while coding goes on):", "", "| project | documents | words | segments | wall time | "
             "segments/s |", "|---|---:|---:|---:|---:|---:|",
             _project_row("demo corpus (30 interviews)", demo)]
    if council:
        lines.append(_project_row("72 Magdeburg council sessions", council))
    return "\n".join(lines)


def _project_row(name: str, m: dict) -> str:
    minutes = f"{m['seconds'] / 60:.1f} min" if m["seconds"] >= 120 else f"{m['seconds']:.0f} s"
    return (f"| {name} | {m['documents']} | {m['words']:,} | {m['segments']:,} | {minutes} | "
            f"{m['segments'] / m['seconds']:.1f} |")


def main() -> None:
    from coding.demo import DEMO_CORPUS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="e5")
    parser.add_argument("--sample", type=int, default=8, help="demo interviews in the side-by-side run (default 8)")
    parser.add_argument("--parts", default="pair,demo,council",
                        help="what to measure (default all: pair,demo,council); the others keep their last figures")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    embedder = get_embedder(args.embedder)
    saved = RESULTS / (re.sub(r"[^\w.-]+", "_", embedder.model_id) + ".json")
    results = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "pair" in parts:
            results["pair"] = side_by_side(embedder, sample_project(DEMO_CORPUS, work, args.sample), work)
        if "demo" in parts:
            results["demo"] = whole_project(embedder, imported(work / "demo.db", DEMO_CORPUS))
        if "council" in parts:
            results["council"] = whole_project(embedder, council_project(work))
        results["measured"] = {**results.get("measured", {}), **{p: machine() for p in parts}}
        print(results, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(results, indent=1), encoding="utf-8")
    command = "python bench/embed_speed.py" + (f" --embedder {args.embedder}" if args.embedder != "e5" else "")
    body = report(embedder.model_id, results["pair"], results["demo"], results.get("council"), command)
    if not args.no_write:
        write_section("embed", body)
    print(body)


if __name__ == "__main__":
    main()
