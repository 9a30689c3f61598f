"""Suggestions fused from two models (the project's tuned model and the base model): ranking, learning,
the review queue and the background embedding. Two hashing embedders of different widths stand in for
the two models, so these tests need no model."""
from __future__ import annotations

import copy
import time

import numpy as np
import pytest

from coding.codebook import Codebook
from coding.embed import HashingEmbedder, embed_segments
from coding.store import Project
from coding.suggest import Suggester
from coding.suggest.from_project import project_suggester
from coding.suggest.fuse import FusedSuggester, fuse
from coding.suggest.groups import GroupedSuggester
from coding.suggest.review import review_queue
from tests.test_review import CODES, make_project

BASE, TUNED = HashingEmbedder(), HashingEmbedder(384)
TOPICS = {"H1": ["Miete", "Wohnung", "Vermieter", "Nebenkosten"], "H8": ["Quartiersbüro", "Treff", "Beratung", "Hilfe"]}


def examples(n: int, offset: int = 0) -> list[tuple[str, str]]:
    """n coded passages, alternating between the two codes, each with its own wording."""
    out = []
    for i in range(offset, offset + n):
        code = "H1" if i % 2 else "H8"
        words = TOPICS[code]
        out.append((f"{words[i % 4]} und {words[(i + 1) % 4]} sind Thema Nummer {i} im Gespräch.", code))
    return out


def test_a_code_both_models_find_likely_comes_before_one_only_one_model_likes():
    tuned = np.array([[0.50, 0.45, 0.05]])
    base = np.array([[0.05, 0.45, 0.50]])
    fused = fuse(tuned, base)
    assert fused.argmax() == 1 and fused.sum() == pytest.approx(1.0)
    assert fuse(tuned, tuned) == pytest.approx(tuned)  # two models that agree: their scores stand


def test_the_fused_suggester_learns_and_relearns_from_the_team_s_codings():
    codebook = Codebook(codes=CODES[:2])
    suggester = FusedSuggester(codebook, TUNED, BASE).fit(examples(60))
    assert suggester.partner.embedder is BASE and len(suggester.partner.examples) == 60
    (best, *_), = suggester.suggest(["Die Miete für die Wohnung steigt, sagt der Vermieter."], k=2)
    assert best.code == "H1" and 0 < best.score <= 1 and best.reason.kind == "example"
    suggester.add(examples(3, offset=60))  # a few more: no new inner cross-validation for either model
    assert len(suggester.partner.examples) == 63
    # Learnt from scratch on as many other codings: both models run their inner cross-validation again.
    suggester.fit(examples(62, offset=100))
    assert suggester.record()["tuned_at"] == suggester.record()["fused_with"]["tuned_at"] == 62
    (best, *_), = suggester.suggest(["Im Quartiersbüro gibt es Beratung und Hilfe."], k=2)
    assert best.code == "H8"


def test_a_refit_after_a_new_coding_keeps_both_models_tuning(monkeypatch):
    from tests.test_suggest import _inner_cross_validations

    codebook = Codebook(codes=CODES[:2])
    old = FusedSuggester(codebook, TUNED, BASE).fit(examples(60))
    added = copy.deepcopy(old).add(examples(1, offset=60))
    runs = _inner_cross_validations(monkeypatch)
    refit = FusedSuggester(codebook, TUNED, BASE).fit(examples(61), after=old)
    assert runs == []
    assert refit.record()["tuned_at"] == refit.record()["fused_with"]["tuned_at"] == 60
    texts = ["Der Vermieter verlangt mehr Miete.", "Im Treff hilft die Beratung.", "Wohnung und Hilfe, beides."]
    assert refit.scores(texts) == pytest.approx(added.scores(texts))
    # With another tuned model, the old pool and calibration do not fit: both models are tuned anew.
    FusedSuggester(codebook, HashingEmbedder(128), BASE).fit(examples(61), after=old)
    assert len(runs) == 2


def test_both_models_share_the_lemma_step_and_suggest_as_if_each_had_its_own(monkeypatch):
    from coding.suggest.features import LemmaClassifier

    codebook = Codebook(codes=CODES[:2])
    fits: list = []
    learn = LemmaClassifier.fit
    monkeypatch.setattr(LemmaClassifier, "fit", lambda self, *args: fits.append(1) or learn(self, *args))
    shared = FusedSuggester(codebook, TUNED, BASE).fit(examples(60))
    assert len(fits) == 1 + 4 + 1  # the partner's fit and its 4 inner folds; this one's fit (memo), no folds
    lemma = shared.steps[-1]
    assert shared.partner.steps[-1] is lemma  # it reads no vectors: learnt and scored once for both
    separate = FusedSuggester(codebook, TUNED, BASE)
    separate.partner.steps[-1] = copy.deepcopy(separate.steps[-1])
    separate.fit(examples(60))
    texts = ["Der Vermieter verlangt mehr Miete.", "Im Treff hilft die Beratung.", "Wohnung und Hilfe, beides."]
    assert shared.scores(texts) == pytest.approx(separate.scores(texts))


def test_a_project_with_a_tuned_model_suggests_from_both_and_records_the_tuned_model_id(tmp_path):
    with Project(make_project(tmp_path)) as project:
        suggester = project_suggester(project, BASE, tuned=TUNED)
        assert isinstance(suggester, GroupedSuggester)
        assert suggester.embedder.model_id == "hashing-v1-384"  # what accepted suggestions record
        assert [e.model_id for e in suggester.embedders] == ["hashing-v1-256", "hashing-v1-384"]
        assert all(isinstance(m, FusedSuggester) for m in suggester.members)
        plain = project_suggester(project, BASE)
        assert [type(m) for m in plain.members] == [Suggester, Suggester]
        assert [e.model_id for e in plain.embedders] == ["hashing-v1-256"]


def test_the_queue_lists_only_segments_both_models_have_embedded(tmp_path):
    with Project(make_project(tmp_path)) as project:
        suggester = project_suggester(project, BASE, tuned=TUNED)
        r01, r02 = (project.document(name)["id"] for name in ("R01", "R02"))
        embed_segments(project, BASE)
        assert review_queue(project, suggester, min_score=0.0, cached_only=True) == []
        embed_segments(project, TUNED, [r02])
        listed = review_queue(project, suggester, min_score=0.0, cached_only=True)
        assert listed and {i.document_id for i in listed} == {r02}
        embed_segments(project, TUNED, [r01])
        assert {i.document_id for i in review_queue(project, suggester, min_score=0.0, cached_only=True)} == {r01, r02}


def test_the_background_embedding_stores_both_models_vectors_of_every_segment(tmp_path, monkeypatch):
    import ui.suggestions as suggestions
    from coding.embed.cache import text_hash

    monkeypatch.setattr(suggestions, "get_embedder", lambda name=None: BASE)
    monkeypatch.setattr(suggestions, "tuned_embedder", lambda project, base: TUNED)
    path = make_project(tmp_path)
    svc = suggestions.SuggestionService(path)
    svc.ensure_embedded()
    deadline = time.time() + 60
    while svc.embedding.state == "running" and time.time() < deadline:
        time.sleep(0.05)
    assert svc.embedding.state == "finished", svc.embedding
    with Project(path) as project:
        hashes = {text_hash(s["text"]) for d in project.documents() for s in project.segments(d["id"])}
        for model in (BASE, TUNED):
            assert set(project.cached_vectors(model.model_id, hashes)) == hashes, model.model_id
