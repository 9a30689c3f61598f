"""A suggester for a project: its codebook, its codings as examples, its vector cache."""
from __future__ import annotations

from coding.embed.base import Embedder, Progress
from coding.embed.cache import ProjectCachedEmbedder, embed_cached
from coding.store import Project
from coding.suggest.base import Example
from coding.suggest.groups import GroupedSuggester


def project_examples(project: Project) -> list[Example]:
    """Every active coding with a codable code, as a coded passage to learn from."""
    codable = {c["id"] for c in project.codes() if c["codable"]}
    return [Example(text=c["quote"], code=c["code_id"], id=str(c["id"]))
            for c in project.codings() if c["code_id"] in codable]


def project_suggester(project: Project, embedder: Embedder, *, tuned: Embedder | None = None,
                      codes: list[str] | None = None, progress: Progress | None = None,
                      after: GroupedSuggester | None = None) -> GroupedSuggester:
    """Fit a suggester (one per group of alternative codes) on the project's codings; texts are embedded
    once per model and kept in the project.

    `tuned`: the project's tuned model (`coding.suggest.adapt.tuned_embedder`), fused with `embedder`'s.
    `codes` limits what is suggested (default: every codable code); `progress(done, total)` reports
    the embedding of passages not yet in the cache, the slow part on a first start. `after`: the
    suggester this one replaces, whose pool weights and calibration are kept while the codings have
    changed little (`Suggester.fit`).
    """
    examples = project_examples(project)
    if codes is not None:
        examples = [e for e in examples if e.code in codes]
    models = [m for m in (embedder, tuned) if m is not None]
    texts = [e.text for e in examples]
    for model in models:  # fill the cache first (the base model's vectors usually are there already)
        embed_cached(project, model, texts, progress=progress)
    cached = [ProjectCachedEmbedder(project, m) for m in models]
    return GroupedSuggester(project.codebook(), cached[0], codes=codes,
                            tuned=cached[1] if tuned else None).fit(examples, after=after)
