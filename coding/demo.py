"""The demo project that the app opens on first start: the study's corpus and codebook."""
from __future__ import annotations

import os
from pathlib import Path

from coding.store import Project

ROOT = Path(__file__).resolve().parents[1]
DEMO_CORPUS = ROOT / "corpora" / "ankunftsquartiere"
DEMO_CODEBOOK = ROOT / "codebooks" / "ankunftsquartiere.yaml"
DEMO_USER = "demo"
# The demo coder has finished these interviews: about half of the gold coding, a project in progress.
DEMO_CODED = [f"K{i:02d}" for i in range(1, 9)] + [f"N{i:02d}" for i in range(1, 8)]


def ensure_demo_project(path: str | Path, corpus: Path = DEMO_CORPUS, codebook: Path = DEMO_CODEBOOK) -> bool:
    """Create the demo project at `path` unless a project is already there; True if it was created.

    The project is built in a temporary file and moved into place at the end, so an interrupted
    first start never leaves a half-filled project behind.
    """
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    with Project.create(partial) as project:
        project.ensure_user(DEMO_USER, role="coder", display_name="Demo-Kodiererin")
        if codebook.exists():
            from coding.codebook import load_codebook

            project.save_codebook(load_codebook(codebook), DEMO_USER)
        if corpus.is_dir() and any(corpus.glob("*.*")):
            from coding.importing import import_paths

            import_paths(project, [corpus], user=DEMO_USER)
            if (corpus / "coding.jsonl").exists():
                load_gold_coding(project, corpus / "coding.jsonl", DEMO_CODED, DEMO_USER)
        project.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(partial, path)
    for leftover in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    return True


def load_gold_coding(project: Project, path: Path, interviews: list[str], coder: str) -> int:
    """Store the gold codings of some interviews as one coder's work: each passage gets its thematic
    code and its facet (A1-A3) on the same span. Returns how many codings were stored."""
    import json

    from coding.errors import InputError

    documents = {d["name"]: d["id"] for d in project.documents()}
    texts: dict[str, str] = {}
    codings = []
    seen: set[tuple[int, int, int, str]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        name = record["interview"]
        if name not in interviews:
            continue
        if name not in documents:
            raise InputError(path, f"line {number}: interview {name} is not in the project")
        text = texts.setdefault(name, project.document(documents[name])["text"])
        start = text.find(record["quote"])
        if start < 0:
            raise InputError(path, f"line {number}: the quote is not in {name}: {record['quote'][:50]!r}")
        for code in (record["code"], record.get("facet")):
            span = (documents[name], start, start + len(record["quote"]), code)
            # A passage with two thematic codes has two lines but carries its facet once.
            if code and span not in seen:
                seen.add(span)
                codings.append({"document_id": span[0], "start": span[1], "end": span[2], "code_id": code,
                                "origin": "imported"})
    return len(project.add_codings(codings, coder))
