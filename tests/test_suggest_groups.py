"""Suggestions per group of alternative codes: a theme and a statement type on the same passage do not compete."""
from __future__ import annotations

import io
import json

import pytest

from coding.cli import main
from coding.codebook import Code, Codebook, save_codebook
from coding.embed import HashingEmbedder
from coding.suggest import Example, GroupedSuggester, SuggestError, code_groups

THEMES = [
    Code("W", "Wohnen", definition="Zugang zu Wohnungen, Mieten und Vermieter.",
         anchors=["Die Miete für die Wohnung ist zu hoch und der Vermieter will eine Schufa-Auskunft."]),
    Code("S", "Sprache", definition="Sprachkurse, Kita-Plätze und Schule.",
         anchors=["Die Warteliste für den Integrationskurs ist lang."]),
    Code("B", "Arbeit", definition="Arbeit, Ausbildung und Jobcenter.",
         anchors=["Das Jobcenter schickt die Leute in Maßnahmen."]),
]
KINDS = [
    Code("T", "Art der Aussage", codable=False),
    Code("T1", "Herausforderung", parent="T", definition="Ein Problem, das benannt wird.",
         anchors=["Das Problem ist, dass es nicht klappt."]),
    Code("T2", "Lösungsansatz", parent="T", definition="Was getan wird oder wurde, damit es besser geht.",
         anchors=["Wir haben deshalb eine Sprechstunde eingerichtet."]),
    Code("X", "Sonstiges", codable=False),
    Code("X1", "Einzelner Untercode", parent="X"),
]

# Every passage is coded twice, with a theme and a statement type, as the demo study codes.
PASSAGES = [
    ("Die Miete ist zu hoch, das Problem ist, dass keiner eine Wohnung findet.", "W", "T1"),
    ("Wir haben deshalb eine Wohnungssprechstunde eingerichtet, mit dem Vermieter zusammen.", "W", "T2"),
    ("Das Problem ist die Warteliste für den Integrationskurs, sie ist zu lang.", "S", "T1"),
    ("Wir haben deshalb einen zweiten Sprachkurs eingerichtet, am Abend.", "S", "T2"),
    ("Das Problem ist, dass das Jobcenter die Leute in Maßnahmen schickt.", "B", "T1"),
    ("Wir haben deshalb mit dem Jobcenter eine Sprechstunde für Arbeit eingerichtet.", "B", "T2"),
]


@pytest.fixture
def codebook() -> Codebook:
    return Codebook("Gruppen", "", THEMES + KINDS)


def examples() -> list[Example]:
    return [Example(text, code, id=f"{i}{code}") for i, (text, *codes) in enumerate(PASSAGES) for code in codes]


def test_codes_are_grouped_by_parent_and_a_lone_subcode_is_not_suggested(codebook):
    groups = code_groups(codebook)
    assert [(g.parent, g.name, g.codes) for g in groups] == [
        (None, "", ("W", "S", "B")), ("T", "Art der Aussage", ("T1", "T2"))]
    with pytest.raises(SuggestError, match="nothing to suggest"):
        code_groups(codebook, ["W", "X1"])


def test_a_passage_gets_the_best_theme_and_the_best_statement_type(codebook):
    s = GroupedSuggester(codebook, HashingEmbedder()).fit(examples())
    (themes, kinds), = s.suggest_grouped(["Das Problem ist, dass die Miete zu hoch ist und keiner eine Wohnung "
                                          "findet."], k=3)
    assert [x.code for x in themes][0] == "W" and {x.code for x in themes} == {"W", "S", "B"}
    assert [x.code for x in kinds] == ["T1", "T2"]
    # Each group's scores are its own: a theme and a type can both be likely for the same passage.
    assert themes[0].score > 0.34 and kinds[0].score > 0.5


def test_each_group_learns_only_from_the_codings_of_its_own_codes(codebook):
    s = GroupedSuggester(codebook, HashingEmbedder()).fit(examples())
    themes, kinds = s.members
    assert sorted({e.code for e in themes.examples}) == ["B", "S", "W"] and len(themes.examples) == 6
    assert sorted({e.code for e in kinds.examples}) == ["T1", "T2"] and len(kinds.examples) == 6
    s.add([Example("Noch ein Problem mit der Miete.", "T1")])
    assert len(themes.examples) == 6 and len(kinds.examples) == 7
    with pytest.raises(SuggestError, match="X1"):
        s.add([Example("Irgendwas", "X1")])


def test_the_flat_ranking_merges_the_groups_by_score(codebook):
    s = GroupedSuggester(codebook, HashingEmbedder()).fit(examples())
    text = ["Wir haben deshalb eine Sprechstunde für die Wohnungssuche eingerichtet."]
    flat = s.suggest(text, k=5)[0]
    grouped = [x for group in s.suggest_grouped(text, k=5)[0] for x in group]
    assert [x.score for x in flat] == sorted((x.score for x in grouped), reverse=True)


def test_the_cli_suggests_themes_and_statement_types_from_one_codebook(codebook, tmp_path, monkeypatch, capsys):
    book = tmp_path / "gruppen.yaml"
    save_codebook(codebook, book)
    train = tmp_path / "coded.jsonl"
    train.write_text("".join(json.dumps({"id": e.id, "text": e.text, "code": e.code}, ensure_ascii=False) + "\n"
                             for e in examples()), encoding="utf-8")
    line = json.dumps({"id": "p1", "text": "Das Problem ist die Miete."}, ensure_ascii=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(line + "\n"))
    assert main(["suggest", "--codebook", str(book), "--train", str(train), "--top-k", "5",
                 "--embedder", "hashing"]) == 0
    out = json.loads(capsys.readouterr().out)
    codes = [s["code"] for s in out["suggestions"]]
    assert len(codes) == 5 and set(codes) == {"W", "S", "B", "T1", "T2"}
    scores = [s["score"] for s in out["suggestions"]]
    assert scores == sorted(scores, reverse=True)
