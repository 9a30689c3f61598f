"""Code suggestions in the app: one model per server process, fitted in the background.

Fitting embeds every coded passage not yet in the project's vector cache (minutes on a first start
with the default model) and learns from them; coding goes on meanwhile, and the panel shows a
progress bar until the suggester is ready. When codings or codes change, the next request refits in
the background while the previous suggester keeps answering.

After a fit, and whenever a page finds documents that were not there at the last run, a second
background thread embeds every segment of the project into the vector cache, a few segments per
call into the model, so that a coder's suggestion waiting for the shared model waits about a second
at most. The review page lists what is embedded already and shows how far the rest has come.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import streamlit as st

from coding.cli import PROGRESS_LINE
from coding.embed import embed_segments, get_embedder
from coding.embed.tune import TuningSettings
from coding.errors import CodewerkError
from coding.store import Project
from coding.suggest.adapt import SETTING as TUNED_SETTING
from coding.suggest.adapt import tuned_embedder
from coding.suggest.from_project import project_suggester
from coding.suggest.groups import CodeGroup, GroupedSuggester
from coding.suggest.model import DEFAULT_K, Suggestion
from coding.suggest.review import ReviewItem, Scores, review_queue

# Segments per call into the model while embedding in the background: with the default model a
# batch of eight takes well under a second, the longest an interactive suggestion waits for it.
EMBED_BATCH = 8

CorpusVersion = tuple[int, int, str | None]  # (number of documents, highest document id, tuned model)
SuggesterVersion = tuple[int, str | None]  # (last code or coding event, tuned model)


@dataclass(frozen=True)
class EmbeddingProgress:
    """How far the background embedding of the project's segments has come (replaced, never changed)."""

    state: str = "idle"  # "running", "finished" or "error"
    done: int = 0
    total: int = 0  # segments this run had to embed (0: all were in the cache already)
    error: str | None = None

    @property
    def fraction(self) -> float:
        if self.total:
            return min(1.0, self.done / self.total)
        return 1.0 if self.state == "finished" else 0.0


@dataclass(frozen=True)
class TuningProgress:
    """How far tuning the suggestion model on the project's codings has come (replaced, never changed)."""

    state: str = "idle"  # "running", "finished" or "error"
    done: int = 0  # training steps
    total: int = 0
    error: str | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


@dataclass
class SuggestionService:
    """The suggester of one project, rebuilt in a background thread when the project's coding changes;
    and the background embedding of every segment of the project."""

    path: Path
    suggester: GroupedSuggester | None = None
    version: SuggesterVersion | None = None
    building: SuggesterVersion | None = None
    progress: tuple[int, int] = (0, 0)
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    embedding: EmbeddingProgress = field(default_factory=EmbeddingProgress)
    embedded: CorpusVersion | None = None  # the documents the last complete embedding run saw
    scored: Scores = field(default_factory=dict)  # the current suggester's suggestions, by passage text
    tuning: TuningProgress = field(default_factory=TuningProgress)
    tuning_epochs: int = TuningSettings.epochs
    _project: Project | None = None

    def ensure(self, version: SuggesterVersion) -> None:
        """Start a rebuild if the project changed since the last one and none is running."""
        with self.lock:
            if version in (self.version, self.building):
                return
            self.building, self.progress, self.error = version, (0, 0), None
        threading.Thread(target=self._build, args=(version,), daemon=True, name="codewerk-suggester").start()

    def _build(self, version: SuggesterVersion) -> None:
        # The suggester keeps reading the vector cache through this connection; it stays open until
        # the next suggester replaces this one.
        project = Project(self.path)
        try:
            base = get_embedder()
            # The suggester it replaces lends its pool weights and calibration while the codings have
            # changed little: a coder's new coding is learnt in the steps' time, not a whole fit's.
            suggester = project_suggester(project, base, tuned=tuned_embedder(project, base), after=self.suggester,
                                          progress=lambda done, total: setattr(self, "progress", (done, total)))
        except Exception as e:  # noqa: BLE001 - any failure must end "preparing" with its message, never hang
            project.close()
            with self.lock:
                self.error, self.building = str(e) if isinstance(e, CodewerkError) else f"{type(e).__name__}: {e}", None
            return
        with self.lock:
            if self._project is not None:
                self._project.close()
            self._project, self.suggester, self.version, self.building = project, suggester, version, None
            self.scored = {}
        # Only if documents or the model changed since the last embedding run: a refit after every new
        # coding must not start (and show) an embedding run with nothing to embed.
        self.ensure_embedded(corpus_version(project))

    def ensure_embedded(self, corpus: CorpusVersion | None = None) -> None:
        """Embed every segment not yet in the vector cache in a background thread, unless a run is going
        on or `corpus` (see `corpus_version`) is what the last complete run saw; None: let the thread check.

        A running pass looks at the documents again when it ends, so documents imported meanwhile
        are embedded too.
        """
        with self.lock:
            if self.embedding.state == "running" or (corpus is not None and corpus == self.embedded):
                return
            self.embedding = EmbeddingProgress("running")
        threading.Thread(target=self._embed_all, daemon=True, name="codewerk-embedder").start()

    def _embed_all(self) -> None:
        project = None
        try:
            project = Project(self.path)
            while (corpus := corpus_version(project)) != self.embedded:
                base = get_embedder()
                for embedder in (base, tuned_embedder(project, base)):  # tuning may have changed the latter
                    if embedder is not None:
                        embed_segments(project, embedder, batch_size=EMBED_BATCH,
                                       progress=lambda done, total: setattr(self, "embedding",
                                                                            EmbeddingProgress("running", done, total)))
                self.embedded = corpus
        except Exception as e:  # noqa: BLE001 - nobody above a background thread would see it; the page does
            self.embedding = replace(self.embedding, state="error", error=str(e) or type(e).__name__)
        else:
            self.embedding = replace(self.embedding, state="finished")
        finally:
            if project is not None:
                project.close()

    def start_tuning(self) -> bool:
        """Tune the suggestion model on the project's codings (`codewerk tune`, `coding.suggest.adapt`);
        False if a tuning is running already. When it ends, the project setting changes, and the next page
        run rebuilds the suggester on the tuned model; until then suggestions keep the model they have.

        The training runs in its own process at a lower priority, so the people coding meanwhile get
        their suggestions first, and its memory goes back when it ends.
        """
        with self.lock:
            if self.tuning.state == "running":
                return False
            self.tuning = TuningProgress("running")
        threading.Thread(target=self._tune, daemon=True, name="codewerk-tuning").start()
        return True

    def _tune(self) -> None:
        command = [sys.executable, "-m", "coding", "--project", str(self.path), "tune",
                   "--epochs", str(self.tuning_epochs)]
        said: list[str] = []
        try:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                       encoding="utf-8", errors="replace", preexec_fn=_lower_priority)
            for line in process.stderr:
                if step := PROGRESS_LINE.match(line):
                    self.tuning = TuningProgress("running", int(step[1]), int(step[2]))
                elif line.strip():
                    said.append(line.strip())
            failed = process.wait()
        except OSError as e:
            said, failed = [f"{type(e).__name__}: {e}"], 1
        if failed:
            # The command's own one-line error, without its "codewerk: error: " prefix.
            errors = [s for s in said if s.startswith("codewerk:")] or said or [f"exit code {failed}"]
            message = errors[-1].removeprefix("codewerk: error: ").removeprefix("codewerk: ")
            self.tuning = replace(self.tuning, state="error", error=message)
        else:
            self.tuning = replace(self.tuning, state="finished")

    def suggest(self, text: str, k: int) -> list[tuple[CodeGroup, list[Suggestion]]] | None:
        """Each group's k best codes for one passage (None while no suggester is ready)."""
        with self.lock:  # one connection and one model for everybody: one question at a time
            if self.suggester is None:
                return None
            return list(zip(self.suggester.groups, self.suggester.suggest_grouped([text], k=k)[0]))

    def review(self, project: Project, document_ids: Iterable[int] | None = None, min_score: float = 0.6,
               group: CodeGroup | None = None) -> list[ReviewItem] | None:
        """The review queue (`coding.suggest.review`) of the current suggester; None while none is ready.

        Only segments already in the vector cache are listed, so the page never waits for the model.
        Scores are remembered per passage until the suggester is replaced, and the lock is held for
        one chunk of passages at a time, so suggestions on the Code page keep answering meanwhile.
        """
        for _ in range(3):  # a refit takes far longer than a chunk: a second try practically always does
            with self.lock:
                suggester, scored = self.suggester, self.scored
            if suggester is None:
                return None
            try:
                return review_queue(project, _Locked(self, suggester), document_ids, min_score, group,
                                    cached_only=True, memo=scored)
            except _Replaced:
                continue
        return None

    @property
    def model_id(self) -> str | None:
        return self.suggester.embedder.model_id if self.suggester is not None else None


class _Replaced(Exception):
    """The suggester was replaced while a review queue was being scored (never leaves this module)."""


class _Locked:
    """A suggester as the review queue sees it: every call holds the service's lock and stops if a
    refit replaced the suggester meanwhile (its connection is closed then)."""

    def __init__(self, service: SuggestionService, suggester: GroupedSuggester) -> None:
        self.service, self.suggester = service, suggester
        self.groups, self.embedders = suggester.groups, suggester.embedders

    def suggest_grouped(self, texts: Sequence[str], k: int = DEFAULT_K) -> list[list[list[Suggestion]]]:
        with self.service.lock:
            if self.service.suggester is not self.suggester:
                raise _Replaced
            return self.suggester.suggest_grouped(texts, k=k)


@st.cache_resource
def service(path: str) -> SuggestionService:
    """One service per project and server process, shared by all users."""
    return SuggestionService(Path(path))


def _lower_priority() -> None:
    os.nice(10)


def suggester_version(project: Project) -> SuggesterVersion:
    """Changes whenever a code or coding changes (the last such event in the log) or the suggestion model
    is tuned or reset."""
    row = project.db.execute("SELECT max(id) FROM events WHERE entity IN ('code', 'coding')").fetchone()
    return row[0] or 0, project.setting(TUNED_SETTING)


def corpus_version(project: Project) -> CorpusVersion:
    """Changes whenever documents are imported (their number and the highest id: one cheap query on
    every page run, not the document list with its counts) or the suggestion model changes."""
    count, highest = project.db.execute("SELECT count(*), max(id) FROM documents").fetchone()
    return count, highest or 0, project.setting(TUNED_SETTING)
