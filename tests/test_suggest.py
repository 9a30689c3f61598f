"""Code suggestions: codebook-only ranking, learning from codings, calibration, the CLI contract, eval splits.

All with the hashing embedder (no model), so these tests take seconds.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from coding.cli import main
from coding.codebook import Code, Codebook, save_codebook
from coding.embed import HashingEmbedder
from coding.suggest import (Example, IsotonicCalibration, PlattCalibration, Suggester, SuggestError,
                            reliability)
from coding.suggest.codebook_prior import code_profiles
from coding.suggest.data import Labelled
from coding.suggest.evaluate import (cross_validate, examples_of, group_folds, metrics, stratified_folds,
                                     stratified_subsample, without_anchors)

CODES = [
    Code("W", "Wohnen", definition="Zugang zu Wohnungen, Mieten und Vermieter.",
         anchors=["Der Vermieter wollte eine Schufa-Auskunft, die Miete für die Wohnung war viel zu hoch.",
                  "Sechs Leute wohnen in einer Wohnung mit zwei Zimmern, der Schimmel kommt jedes Jahr."],
         include="Wohnungssuche; Mietobergrenzen des Jobcenters",
         exclude="Streit unter Nachbarn wegen Lärm im Haus: N"),
    Code("S", "Sprache und Kita", definition="Sprachkurse, Kita-Plätze und Schule.",
         anchors=["Die Warteliste für den Integrationskurs ist lang, und ohne Kita-Platz kommen die Mütter nicht.",
                  "In der Vorbereitungsklasse sitzen dreißig Kinder mit zwölf Sprachen."]),
    Code("A", "Arbeit", definition="Arbeit, Ausbildung, Jobcenter und Betriebe.",
         anchors=["Der Betrieb sucht Fachkräfte, aber die Anerkennung des Berufsabschlusses dauert ein Jahr.",
                  "Das Jobcenter schickt die Leute in Maßnahmen statt in echte Arbeit."]),
    Code("N", "Nachbarschaft", definition="Zusammenleben, Konflikte und Akzeptanz im Quartier.",
         anchors=["Im Treppenhaus gibt es Streit wegen Lärm und Müll, die Alteingesessenen beschweren sich."]),
    Code("G", "Gruppe", codable=False, definition="Eine Gruppe, die nicht vergeben wird."),
]


@pytest.fixture
def codebook() -> Codebook:
    return Codebook("Test", "", list(CODES))


def suggester(codebook: Codebook, **kwargs) -> Suggester:
    return Suggester(codebook, HashingEmbedder(), **kwargs)


def test_codebook_only_ranks_the_code_whose_anchors_share_words_first(codebook):
    s = suggester(codebook)
    passages = ["Die Miete für die Wohnung ist viel zu hoch, und der Vermieter will eine Schufa-Auskunft.",
                "Ohne Kita-Platz kommen die Mütter nicht in den Integrationskurs, die Warteliste ist lang.",
                "Das Jobcenter und der Betrieb: die Anerkennung des Berufsabschlusses dauert."]
    firsts = [suggestions[0].code for suggestions in s.suggest(passages)]
    assert firsts == ["W", "S", "A"]
    # A code that is not codable is never suggested; its reason is the matching anchor.
    top = s.suggest(passages[:1], k=10)[0]
    assert {x.code for x in top} == {"W", "S", "A", "N"}
    assert top[0].reason.kind == "anchor" and "Vermieter" in top[0].reason.text


def test_an_exclusion_rule_that_names_another_code_points_there(codebook):
    profiles = {p.code: p for p in code_profiles(codebook, ["W", "S", "A", "N"])}
    assert profiles["W"].excludes == ["Streit unter Nachbarn wegen Lärm im Haus: N"]
    assert profiles["N"].pointers == ["Streit unter Nachbarn wegen Lärm im Haus"]


def test_a_passage_matching_an_exclusion_rule_is_pushed_down(codebook):
    from coding.suggest.codebook_prior import CodebookPrior

    s = suggester(codebook, codes=["W", "S", "A", "N"])
    passages = s.passages(["Streit unter Nachbarn wegen Lärm im Haus"])
    with_rule = CodebookPrior(codebook, HashingEmbedder(), s.codes).scores(passages)[0]
    without = CodebookPrior(codebook, HashingEmbedder(), s.codes, exclude=0.0).scores(passages)[0]
    assert with_rule[0] < without[0]  # W says: not here
    assert with_rule.argmax() == 3  # and its rule points to N


def test_learning_from_coded_examples_changes_the_ranking(codebook):
    passage = ["Der Hausmeister ruft uns an, wenn eine Familie neu einzieht, dann gehen wir vorbei."]
    s = suggester(codebook)
    before = s.suggest(passage)[0][0].code
    assert before != "N"
    examples = [("Der Hausmeister ruft an, wenn eine neue Familie einzieht.", "N"),
                ("Wir gehen vorbei, wenn jemand neu einzieht, der Hausmeister sagt Bescheid.", "N"),
                ("Eine neue Familie zieht ein, der Hausmeister ruft uns an und wir gehen hin.", "N"),
                ("Die Miete ist zu hoch.", "W"), ("Der Sprachkurs hat eine Warteliste.", "S"),
                ("Das Jobcenter vermittelt in Arbeit.", "A")]
    s.fit(examples)
    after = s.suggest(passage)[0]
    assert after[0].code == "N"
    assert after[0].reason.kind == "example" and "Hausmeister" in after[0].reason.text
    # add() keeps what was learnt and learns more
    s.add([Example("Die Kita hat keinen Platz frei.", "S", id="x1")])
    assert len(s.examples) == 7 and s.record()["examples"] == 7


def test_k_entries_scores_in_unit_interval_descending_with_a_reason(codebook):
    s = suggester(codebook).fit([(f"Die Wohnung Nummer {i} hat Schimmel und die Miete ist hoch.", "W")
                                 for i in range(20)] +
                                [(f"Der Sprachkurs {i} hat eine lange Warteliste.", "S") for i in range(20)])
    for k in (1, 2, 3, 4):
        for suggestions in s.suggest(["Schimmel in der Wohnung", "Warteliste beim Sprachkurs", ""], k=k):
            assert len(suggestions) == k
            scores = [x.score for x in suggestions]
            assert all(0.0 <= x <= 1.0 for x in scores)
            assert scores == sorted(scores, reverse=True)
            assert all(x.reason.text and x.reason.kind in {"example", "anchor", "definition"} for x in suggestions)
    # more than the codebook has: all of them
    assert len(s.suggest(["Wohnung"], k=9)[0]) == 4


def test_the_run_records_model_steps_and_parameters(codebook):
    record = suggester(codebook).fit([("Die Miete ist zu hoch.", "W")]).record()
    assert record["name"] == "suggest.hybrid.v1"
    assert record["embedder"] == {"model_id": "hashing-v1-256", "dim": 256}
    names = [step["name"] for step in record["steps"]]
    assert names[0] == "suggest.codebook_prior.v1" and all(n.rsplit(".", 1)[-1].startswith("v") for n in names)
    assert record["calibration"]["name"].startswith("calibrate.")


def test_unknown_codes_are_refused_with_the_code_named(codebook):
    with pytest.raises(SuggestError, match="'X'"):
        suggester(codebook).fit([("Text", "X")])
    with pytest.raises(SuggestError, match="'Q'"):
        suggester(codebook, codes=["W", "Q"])


def test_calibrators_are_monotone_and_keep_the_ranking(codebook):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4) * 0.5, size=400)
    labels = np.array([rng.choice(4, p=p) for p in probs])  # labels drawn from the scores: calibrated data
    grid = np.linspace(0, 1, 101)[:, None]
    for calibrator in (IsotonicCalibration(), PlattCalibration()):
        calibrator.fit(probs, labels)
        mapped = calibrator.transform(grid).ravel()
        assert np.all(np.diff(mapped) >= -1e-12) and mapped.min() >= 0 and mapped.max() <= 1
        # the map leaves well-calibrated scores roughly where they were
        assert abs(calibrator.transform(np.array([[0.8]]))[0, 0] - 0.8) < 0.2
    # With enough examples the suggester calibrates, and calibration does not reorder its codes.
    texts = [(f"Wohnung Miete Vermieter {i}", "W") for i in range(120)] + \
            [(f"Sprachkurs Kita Schule {i}", "S") for i in range(120)] + \
            [(f"Jobcenter Betrieb Arbeit {i}", "A") for i in range(80)]
    s = suggester(codebook).fit(texts)
    assert s.calibrator.name == "calibrate.isotonic.v1"
    passages = ["Miete und Kita", "Jobcenter Wohnung", "Arbeit im Betrieb"]
    raw = s.raw_scores(s.passages(passages))
    for row, suggestions in enumerate(s.suggest(passages, k=4)):
        assert [x.code for x in suggestions] == [s.codes[c] for c in np.argsort(-raw[row], kind="stable")]


def test_reliability_table_counts_every_suggestion_once():
    table = reliability(np.array([0.05, 0.15, 0.95, 0.91]), np.array([0, 0, 1, 0]), bins=10)
    assert sum(b.count for b in table) == 4
    assert table[-1].count == 2 and table[-1].share_correct == 0.5


# -- the command line contract --------------------------------------------------------------------

def run_suggest(capsys, monkeypatch, tmp_path, codebook, lines, *args):
    path = tmp_path / "codebook.yaml"
    save_codebook(codebook, path)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = main(["suggest", "--codebook", str(path), "--embedder", "hashing", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_suggest_contract(capsys, monkeypatch, tmp_path, codebook):
    lines = [json.dumps({"id": f"s{i}", "text": text}, ensure_ascii=False)
             for i, text in enumerate(["Die Miete ist zu hoch.", "Der Sprachkurs ist voll.", "Kein Job."])]
    code, out, err = run_suggest(capsys, monkeypatch, tmp_path, codebook, lines)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["s0", "s1", "s2"]  # same order as the input
    for row in rows:
        assert list(row) == ["id", "suggestions"]
        assert len(row["suggestions"]) == 3  # default K
        assert all(list(s) == ["code", "score"] for s in row["suggestions"])
        scores = [s["score"] for s in row["suggestions"]]
        assert scores == sorted(scores, reverse=True) and all(0 <= x <= 1 for x in scores)
    assert rows[0]["suggestions"][0]["code"] == "W"

    coded = tmp_path / "coded.jsonl"
    coded.write_text("\n".join(json.dumps({"id": f"c{i}", "text": t, "code": c}, ensure_ascii=False) for i, (t, c) in
                               enumerate([("Kein Job, keine Arbeit.", "A"), ("Ohne Job geht nichts.", "A"),
                                          ("Die Miete.", "W")])), encoding="utf-8")
    code, out, err = run_suggest(capsys, monkeypatch, tmp_path, codebook, lines, "--train", str(coded),
                                 "--top-k", "2", "--reasons")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(len(r["suggestions"]) == 2 for r in rows)
    assert rows[2]["suggestions"][0]["code"] == "A"
    assert rows[2]["suggestions"][0]["reason"]["kind"] == "example"


@pytest.mark.parametrize("bad, message", [
    ('{"id": "2", "text": "kaputt"', "line 2: not valid JSON"),
    ('{"id": "2"}', "line 2: the field 'text' is missing"),
    ('["id", "text"]', "line 2: expected a JSON object"),
    ('{"id": "2", "text": 5}', "line 2: the field 'text' must be a string"),
])
def test_cli_suggest_names_the_bad_line(capsys, monkeypatch, tmp_path, codebook, bad, message):
    lines = ['{"id": "1", "text": "Die Miete."}', bad, '{"id": "3", "text": "Der Kurs."}']
    code, out, err = run_suggest(capsys, monkeypatch, tmp_path, codebook, lines)
    assert code == 1 and out == ""  # nothing written when any line is bad
    assert err.startswith("codewerk: error: <stdin>:") and message in err and "Traceback" not in err


def test_cli_suggest_names_the_training_line_with_an_unknown_code(capsys, monkeypatch, tmp_path, codebook):
    coded = tmp_path / "coded.jsonl"
    coded.write_text('{"id": "1", "text": "Miete", "code": "W"}\n{"id": "2", "text": "x", "code": "Z9"}\n',
                     encoding="utf-8")
    code, _, err = run_suggest(capsys, monkeypatch, tmp_path, codebook, ['{"id": "1", "text": "a"}'],
                               "--train", str(coded))
    assert code == 1 and "coded.jsonl: line 2" in err and "'Z9'" in err


# -- evaluation splits ----------------------------------------------------------------------------

def corpus(n_groups: int = 4, per_group: int = 6) -> list[Labelled]:
    topics = {"W": "Wohnung Miete Vermieter", "S": "Sprachkurs Kita Schule", "A": "Jobcenter Arbeit Betrieb"}
    items = []
    for g in range(n_groups):
        for i in range(per_group):
            code = "WSA"[i % 3]
            items.append(Labelled(f"K{g}-{i}", f"{topics[code]} Fall {g} {i}", (code,), f"K{g}"))
    return items


def test_leave_one_interview_out_never_puts_an_interview_in_train_and_test():
    items = corpus()
    folds = group_folds(items)
    assert len(folds) == 4
    tested = []
    for train, test in folds:
        train_groups, test_groups = {items[i].group for i in train}, {items[i].group for i in test}
        assert len(test_groups) == 1 and not train_groups & test_groups
        assert len(train) + len(test) == len(items)
        tested.extend(test.tolist())
    assert sorted(tested) == list(range(len(items)))  # every passage is tested exactly once


def test_stratified_folds_and_subsamples():
    items = corpus(6, 10)
    folds = stratified_folds(items, 5, seed=0)
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(len(items)))
    for train, test in folds:
        assert not set(train) & set(test)
        small = stratified_subsample(items, train, 12, seed=1)
        assert len(small) == 12 and set(small) <= set(train)
        assert {items[i].codes[0] for i in small} == {"W", "S", "A"}


def test_anchors_that_are_test_passages_are_left_out(codebook):
    anchor = codebook.code("W").anchors[0]
    reduced, dropped = without_anchors(codebook, ["Vorher. " + anchor + " Nachher."])
    assert dropped == 1 and anchor not in reduced.code("W").anchors
    assert len(reduced.code("W").anchors) == 1 and codebook.code("W").anchors[0] == anchor  # original untouched


def test_cross_validation_scores_each_passage_from_a_fold_that_did_not_train_on_it(codebook):
    items = corpus()
    seen = []

    def factory(train, test):
        assert not {t.id for t in train} & {t.id for t in test}
        seen.append(len(train))
        return suggester(codebook, codes=["W", "S", "A"]).fit(examples_of(train))

    result = cross_validate(items, group_folds(items), factory)
    figures = metrics(result)
    assert seen == [18, 18, 18, 18] and not np.isnan(result.scores).any()
    assert figures["accuracy"] == 1.0 and set(figures["per_code"]) == {"W", "S", "A"}


def test_cli_eval_suggest_prints_the_figures(capsys, tmp_path, codebook):
    data = tmp_path / "gold.jsonl"
    data.write_text("\n".join(json.dumps({"text": i.text, "code": i.codes[0], "interview": i.group},
                                         ensure_ascii=False) for i in corpus()), encoding="utf-8")
    path = tmp_path / "codebook.yaml"
    save_codebook(codebook, path)
    code = main(["eval", "suggest", "--data", str(data), "--codebook", str(path), "--group", "interview",
                 "--embedder", "hashing"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "leave-one-interview-out (4 folds)" in out and "accuracy  1.000" in out and "macro-F1" in out
    assert "expected calibration error" in out


def test_a_few_new_codings_refit_the_steps_but_keep_the_tuning(codebook):
    base = [(f"Wohnung Miete Vermieter {i}", "W") for i in range(20)] + \
           [(f"Sprachkurs Kita Schule {i}", "S") for i in range(20)]
    s = suggester(codebook).fit(base)
    assert s.record()["tuned_at"] == 40
    s.add([("Der Hausmeister und die neue Familie im Haus", "N")])
    assert s.record()["tuned_at"] == 40 and "N" in {x.code for x in s.suggest(["Hausmeister"], k=2)[0]}
    s.add([(f"Jobcenter Betrieb Arbeit {i}", "A") for i in range(5)])
    assert s.record()["tuned_at"] == 46  # grown by more than a tenth: tuned again


def _inner_cross_validations(monkeypatch) -> list:
    """Records every inner cross-validation (the slow part of a fit) any suggester runs from now on."""
    runs: list = []
    run = Suggester._out_of_fold
    monkeypatch.setattr(Suggester, "_out_of_fold", lambda self, *args: runs.append(self) or run(self, *args))
    return runs


def test_a_refit_after_a_new_coding_keeps_the_tuning_of_the_suggester_it_replaces(codebook, monkeypatch):
    import copy

    coded = [(f"Wohnung Miete Vermieter {i}", "W") for i in range(20)] + \
            [(f"Sprachkurs Kita Schule {i}", "S") for i in range(20)]
    old = suggester(codebook).fit(coded)
    texts = ["Der Hausmeister und die Familie", "Die Miete steigt", "Kita und Schule"]
    before = old.scores(texts)
    new_coding = ("Der Hausmeister und die neue Familie im Haus", "N")
    added = copy.deepcopy(old).add([new_coding])
    runs = _inner_cross_validations(monkeypatch)
    refit = suggester(codebook).fit(coded + [new_coding], after=old)
    assert runs == [] and refit.record()["tuned_at"] == 40
    assert refit.scores(texts) == pytest.approx(added.scores(texts))  # as if the old one had learnt it
    assert "N" in {x.code for x in refit.suggest(["Hausmeister"], k=2)[0]}
    assert old.scores(texts) == pytest.approx(before)  # the old suggester, still answering, is untouched

    # A tenth of the codings changed (2 removed, 2 added): pool and calibration are fitted anew.
    changed = coded[2:] + [(f"Jobcenter Betrieb Arbeit {i}", "A") for i in range(2)]
    suggester(codebook).fit(changed, after=old)
    assert len(runs) == 1
    # An edited codebook changes what the prior says: fitted anew too.
    edited = Codebook("Test", "", [CODES[0], CODES[1], Code("A", "Arbeit", definition="Erwerbsarbeit."),
                                   *CODES[3:]])
    Suggester(edited, HashingEmbedder()).fit(coded + [new_coding], after=old)
    assert len(runs) == 2


def test_cli_suggest_can_keep_vectors_in_the_project_cache(capsys, monkeypatch, tmp_path, codebook):
    from coding.embed.cache import text_hash
    from coding.store import Project

    db = str(tmp_path / "p.db")
    assert main(["-p", db, "init"]) == 0
    capsys.readouterr()
    path = tmp_path / "codebook.yaml"
    save_codebook(codebook, path)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "1", "text": "Die Miete ist hoch."}\n'))
    assert main(["-p", db, "suggest", "--codebook", str(path), "--embedder", "hashing", "--cache"]) == 0
    assert json.loads(capsys.readouterr().out)["suggestions"][0]["code"] == "W"
    with Project(db) as project:
        assert project.cached_vectors("hashing-v1-256", [text_hash("Die Miete ist hoch.")])
