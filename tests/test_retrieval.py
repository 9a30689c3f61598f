"""Retrieving coded segments, the code-by-stakeholder matrix and coding progress on hand-made projects."""
from __future__ import annotations

import pytest

from coding.codebook import Code, Codebook
from coding.errors import StoreError
from coding.importing import import_paths

INTERVIEWS = {  # name: (stakeholder group or None, text)
    "A": ("Kommune", ("I: Wie ist die Lage?\nB: Wohnungen fehlen. Die Mieten steigen stark.\nI: Und Sprache?\n"
                      "B: Die Kurse sind voll.\n")),
    "B": ("Kommune", "I: Was fehlt?\nB: Bezahlbare Wohnungen.\n"),
    "C": ("MSO", "I: Was erleben Sie?\nB: Die Mieten sind zu hoch und die Kurse zu weit weg.\n"),
    "D": (None, "I: Und bei Ihnen?\nB: Wohnungen gibt es kaum.\n"),
}


@pytest.fixture
def study(project, tmp_path):
    """Four interviews (two Kommune, one MSO, one without a group) coded by alice and bob."""
    for name, (group, text) in INTERVIEWS.items():
        path = tmp_path / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        import_paths(project, [path], user="alice", attributes={"Stakeholdergruppe": group} if group else None)
    project.save_codebook(Codebook(codes=[Code(id="W", name="Wohnen", color="#1F77B4"),
                                          Code(id="W.M", name="Mieten", parent="W"),
                                          Code(id="S", name="Sprache")]), "lead")
    code(project, "A", "Wohnungen fehlen", "W", "alice")
    code(project, "A", "Die Mieten steigen stark", "W", "alice")
    code(project, "A", "Die Kurse sind voll", "S", "alice")
    code(project, "B", "Bezahlbare Wohnungen", "W", "bob")
    code(project, "C", "Die Mieten sind zu hoch", "W.M", "bob")
    code(project, "C", "die Kurse zu weit weg", "S", "alice")
    project.remove_coding(code(project, "C", "zu hoch", "W", "alice"), "alice")  # removed: counts nowhere
    code(project, "D", "Wohnungen gibt es kaum", "W", "alice")
    return project


def code(project, document: str, words: str, code_id: str, coder: str) -> int:
    doc = project.document(document)
    start = doc["text"].index(words)
    return project.add_coding(doc["id"], start, start + len(words), code_id, coder)


def quotes(rows) -> list[tuple[str, str]]:
    return [(r["document"], r["quote"]) for r in rows]


def test_the_matrix_counts_segments_and_shares_of_interviews_per_group(study):
    matrix = study.code_attribute_matrix("Stakeholdergruppe")
    assert matrix["groups"] == ["Kommune", "MSO", "–"]
    assert matrix["sizes"] == {"Kommune": 2, "MSO": 1, "–": 1}
    rows = {r["code_id"]: r for r in matrix["rows"]}
    assert [r["code_id"] for r in matrix["rows"]] == ["W", "W.M", "S"]
    # W: two codings in A and one in B (both Kommune interviews), none left in C, one in D.
    assert rows["W"]["segments"] == {"Kommune": 3, "MSO": 0, "–": 1}
    assert rows["W"]["share"] == {"Kommune": 1.0, "MSO": 0.0, "–": 1.0}
    assert rows["W.M"]["segments"] == {"Kommune": 0, "MSO": 1, "–": 0}
    # S: A only of the two Kommune interviews, and C.
    assert rows["S"]["segments"] == {"Kommune": 1, "MSO": 1, "–": 0}
    assert rows["S"]["share"] == {"Kommune": 0.5, "MSO": 1.0, "–": 0.0}
    assert rows["W"]["code"] == "Wohnen" and rows["W"]["color"] == "#1F77B4"
    assert [r["code_id"] for r in study.code_attribute_matrix(codes=["S"])["rows"]] == ["S"]


def test_segments_of_a_parent_code_include_its_sub_codes_in_document_order(study):
    assert quotes(study.coded_segments(codes=["W"])) == [
        ("A", "Wohnungen fehlen"), ("A", "Die Mieten steigen stark"), ("B", "Bezahlbare Wohnungen"),
        ("C", "Die Mieten sind zu hoch"), ("D", "Wohnungen gibt es kaum")]
    assert quotes(study.coded_segments(codes=["W.M"])) == [("C", "Die Mieten sind zu hoch")]
    assert len(study.coded_segments()) == 7


def test_filters_combine(study):
    groups = {"Stakeholdergruppe": ["Kommune", "MSO"]}
    assert quotes(study.coded_segments(codes=["W"], attributes=groups, coders=["bob"])) == [
        ("B", "Bezahlbare Wohnungen"), ("C", "Die Mieten sind zu hoch")]
    assert quotes(study.coded_segments(codes=["S"], attributes={"Stakeholdergruppe": "MSO"})) == [
        ("C", "die Kurse zu weit weg")]
    assert quotes(study.coded_segments(attributes={"Stakeholdergruppe": ["–"]})) == [("D", "Wohnungen gibt es kaum")]
    assert study.coded_segments(codes=["S"], coders=["bob"]) == []
    with pytest.raises(StoreError, match="no code 'X'"):
        study.coded_segments(codes=["X"])


def test_a_segment_carries_its_code_coder_turn_and_context_cut_at_words(project, f4_file):
    import_paths(project, [f4_file], user="alice", attributes={"Stakeholdergruppe": "Kommune"})
    project.save_codebook(Codebook(codes=[Code(id="H1", name="Wohnen", color="#1F77B4")]), "lead")
    doc_id = project.documents()[0]["id"]
    coding_id = code(project, "T01", "Schufa-Auskunft", "H1", "bob")
    (row,) = project.coded_segments(context=30)
    assert row["id"] == coding_id and row["document_id"] == doc_id and row["document"] == "T01"
    assert (row["quote"], row["code_id"], row["code"], row["color"]) == ("Schufa-Auskunft", "H1", "Wohnen", "#1F77B4")
    assert (row["coder"], row["origin"], row["memo"]) == ("bob", "human", "")
    assert (row["speaker"], row["timestamp"]) == ("B", pytest.approx(62.5))
    assert row["before"] == "die Vermieter verlangen eine "  # 30 characters would start inside "Und"
    assert row["after"] == ", die hat ja keiner.\n\nI: Und"
    assert project.coded_segments(context=20)[0]["after"] == ", die hat ja keiner."
    assert project.coded_segments(context=15)[0]["after"] == ", die hat ja"  # not "ke"
    assert project.coded_segments(context=0)[0]["before"] == ""


def test_progress_counts_respondent_text_only_and_overlaps_once(project, tmp_path):
    path = tmp_path / "P.txt"
    path.write_text("I: Frage eins?\nB: Antwort eins ist lang.\nI: Frage zwei?\nB: Antwort zwei.\n", encoding="utf-8")
    import_paths(project, [path], user="alice")
    project.save_codebook(Codebook(codes=[Code(id="H1", name="Eins")]), "lead")
    (untouched,) = project.progress()
    assert untouched["respondent_words"] == 6 and untouched["coverage"] == 0.0
    assert untouched["last_coded_at"] is None and untouched["codings_by_coder"] == {}
    # Respondent text: "Antwort eins ist lang." (22) + "Antwort zwei." (13) = 35 characters.
    code(project, "P", "Antwort eins", "H1", "alice")              # 12 characters
    code(project, "P", "eins ist", "H1", "bob")                    # 8, of which "eins" overlaps alice's
    code(project, "P", "Frage zwei?\nB: Antwort", "H1", "alice")   # only "Antwort" (7) is respondent text
    project.remove_coding(code(project, "P", "zwei.", "H1", "bob"), "bob")
    (doc,) = project.progress()
    assert doc["coverage"] == pytest.approx((12 + 4 + 7) / 35)
    assert doc["coverage_by_coder"] == {"alice": pytest.approx(19 / 35), "bob": pytest.approx(8 / 35)}
    assert doc["codings_by_coder"] == {"alice": 2, "bob": 1} and doc["codings"] == 3
    assert doc["last_coded_at"] == max(c["created_at"] for c in project.codings())
