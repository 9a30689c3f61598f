"""Code suggestions in the app: one model per server process, fitted in the background.

Fitting embeds every coded passage not yet in the project's vector cache (minutes on a first start
with the default model) and learns from them; coding goes on meanwhile, and the panel shows a
progress bar until the suggester is ready. When codings or codes change, the next request refits in
the background while the previous suggester keeps answering.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from coding.embed import get_embedder
from coding.errors import CodewerkError
from coding.store import Project
from coding.suggest.from_project import project_suggester
from coding.suggest.groups import CodeGroup, GroupedSuggester
from coding.suggest.model import Suggestion


@dataclass
class SuggestionService:
    """The suggester of one project, rebuilt in a background thread when the project's coding changes."""

    path: Path
    suggester: GroupedSuggester | None = None
    version: int | None = None
    building: int | None = None
    progress: tuple[int, int] = (0, 0)
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _project: Project | None = None

    def ensure(self, version: int) -> None:
        """Start a rebuild if the project changed since the last one and none is running."""
        with self.lock:
            if version in (self.version, self.building):
                return
            self.building, self.progress, self.error = version, (0, 0), None
        threading.Thread(target=self._build, args=(version,), daemon=True, name="codewerk-suggester").start()

    def _build(self, version: int) -> None:
        # The suggester keeps reading the vector cache through this connection; it stays open until
        # the next suggester replaces this one.
        project = Project(self.path)
        try:
            suggester = project_suggester(project, get_embedder(),
                                          progress=lambda done, total: setattr(self, "progress", (done, total)))
        except (CodewerkError, ValueError) as e:
            project.close()
            with self.lock:
                self.error, self.building = str(e), None
            return
        with self.lock:
            if self._project is not None:
                self._project.close()
            self._project, self.suggester, self.version, self.building = project, suggester, version, None

    def suggest(self, text: str, k: int) -> list[tuple[CodeGroup, list[Suggestion]]] | None:
        """Each group's k best codes for one passage (None while no suggester is ready)."""
        with self.lock:  # one connection and one model for everybody: one question at a time
            if self.suggester is None:
                return None
            return list(zip(self.suggester.groups, self.suggester.suggest_grouped([text], k=k)[0]))

    @property
    def model_id(self) -> str | None:
        return self.suggester.embedder.model_id if self.suggester is not None else None


@st.cache_resource
def service(path: str) -> SuggestionService:
    """One service per project and server process, shared by all users."""
    return SuggestionService(Path(path))


def coding_version(project: Project) -> int:
    """Changes whenever a code or coding changes (the last such event in the log)."""
    row = project.db.execute("SELECT max(id) FROM events WHERE entity IN ('code', 'coding')").fetchone()
    return row[0] or 0
