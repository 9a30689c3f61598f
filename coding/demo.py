"""The demo project that the app opens on first start: the study's corpus and codebook."""
from __future__ import annotations

import os
from pathlib import Path

from coding.store import Project

ROOT = Path(__file__).resolve().parents[1]
DEMO_CORPUS = ROOT / "corpora" / "ankunftsquartiere"
DEMO_CODEBOOK = ROOT / "codebooks" / "ankunftsquartiere.yaml"
DEMO_USER = "demo"


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
        project.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(partial, path)
    for leftover in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    return True
