"""Editing the codebook in the app: what a team lead sees in the codebook, the codings and the event log."""
from __future__ import annotations

import pytest

from coding.codebook import Code, Codebook
from coding.errors import CodebookError, StoreError
from coding.importing import import_paths


@pytest.fixture
def coded(project, f4_file):
    """T01 with a small codebook: H1 Wohnen > H1.1 Schufa, H2 Arbeit, H3 Anlaufstellen."""
    import_paths(project, [f4_file], user="alice")
    project.save_codebook(Codebook(name="t", codes=[
        Code(id="H1", name="Wohnen", color="#1F77B4"), Code(id="H1.1", name="Schufa", parent="H1"),
        Code(id="H2", name="Arbeit"), Code(id="H3", name="Anlaufstellen")]), "lead")
    return project


def _span(project, words: str) -> tuple[int, int, int]:
    doc_id = project.documents()[0]["id"]
    start = project.document(doc_id)["text"].index(words)
    return doc_id, start, start + len(words)


def _code(project, words: str, code_id: str, coder: str) -> int:
    return project.add_coding(*_span(project, words), code_id, coder)


def _ids(project) -> list[str]:
    return [c["id"] for c in project.codes()]


def test_a_new_code_goes_to_the_end_of_its_siblings_and_is_logged(coded):
    assert coded.add_code(Code(id="H1.2", name="Wohnungsgröße", parent="H1"), "lead") == "H1.2"
    assert _ids(coded) == ["H1", "H1.1", "H1.2", "H2", "H3"]
    assert [c.id for c in coded.codebook().children("H1")] == ["H1.1", "H1.2"]
    created = [e for e in coded.events("code", "H1.2") if e["action"] == "code.created"]
    assert created[0]["user"] == "lead" and created[0]["after"]["name"] == "Wohnungsgröße"
    coded.add_code(Code(id="H4", name="Sprache"), "lead")
    assert _ids(coded)[-1] == "H4"


@pytest.mark.parametrize(("code", "message"), [
    (Code(id="H2", name="Arbeit zwei"), "'H2' is used by another code"),
    (Code(id="H5", name="Bunt", color="blau"), "#RRGGBB"),
    (Code(id="H5", name="Waise", parent="H9"), "parent 'H9' is not a code"),
    (Code(id="H5", name=""), "has no name"),
])
def test_an_invalid_new_code_is_refused_with_the_codebook_rules_and_nothing_changes(coded, code, message):
    before = coded.dump()
    with pytest.raises(CodebookError, match=message):
        coded.add_code(code, "lead")
    assert coded.dump() == before


def test_new_code_ids_are_readable_and_never_reuse_an_id(coded):
    assert coded.new_code_id("Größe der Wohnungen") == "groesse-der-wohnungen"
    coded.add_code(Code(id=coded.new_code_id("Schufa-Auskunft"), name="Schufa-Auskunft"), "alice")
    assert coded.new_code_id("Schufa-Auskunft") == "schufa-auskunft-2"
    coded.delete_code("schufa-auskunft", "lead")
    assert coded.new_code_id("Schufa Auskunft") == "schufa-auskunft-2"  # a deleted code keeps its id
    with pytest.raises(StoreError, match="belonged to a code deleted on .*choose another"):
        coded.add_code(Code(id="schufa-auskunft", name="Schufa"), "lead")
    quote = "das ist wirklich eine Andockstelle geworden, sagen alle im Quartier immer wieder"
    long_id = coded.new_code_id(quote)
    assert long_id == "das-ist-wirklich-eine-andockstelle" and len(long_id) <= 40
    assert coded.new_code_id("?!") == "code"


def test_a_rename_keeps_the_id_and_the_codings(coded):
    coding_id = _code(coded, "Schufa-Auskunft", "H1.1", "alice")
    row = coded.update_code("H1.1", "lead", name="Schufa-Auskunft", anchors=["die hat ja keiner"])
    assert row["id"] == "H1.1" and row["anchors"] == ["die hat ja keiner"]
    assert coded.codebook().code("H1.1").name == "Schufa-Auskunft"
    assert [c["id"] for c in coded.codings() if c["code_id"] == "H1.1"] == [coding_id]
    (event,) = [e for e in coded.events("code", "H1.1") if e["action"] == "code.updated"]
    assert (event["before"]["name"], event["after"]["name"]) == ("Schufa", "Schufa-Auskunft")
    assert coded.update_code("H1.1", "lead", name="Schufa-Auskunft") == row  # no change, no event
    assert len([e for e in coded.events("code", "H1.1") if e["action"] == "code.updated"]) == 1


def test_an_invalid_change_is_refused(coded):
    with pytest.raises(CodebookError, match="#RRGGBB"):
        coded.update_code("H2", "lead", color="rot")
    with pytest.raises(StoreError, match="use move_code"):
        coded.update_code("H2", "lead", parent="H1")
    with pytest.raises(StoreError, match="no code 'H9'"):
        coded.update_code("H9", "lead", name="x")
    assert coded.codebook().code("H2").color is None


def test_moving_a_code_takes_its_sub_codes_along_and_refuses_cycles(coded):
    coded.move_code("H1", "H3", "lead")
    assert _ids(coded) == ["H2", "H3", "H1", "H1.1"]
    coded.move_code("H2", "H3", "lead", position=0)
    assert [c.id for c in coded.codebook().children("H3")] == ["H2", "H1"]
    coded.move_code("H3", None, "lead", position=0)  # already first: nothing to log
    moved = [e for e in coded.events("code") if e["action"] == "code.moved"]
    assert [(e["entity_id"], e["before"]["parent"], e["after"]["parent"]) for e in moved] == [
        ("H1", None, "H3"), ("H2", None, "H3")]
    with pytest.raises(StoreError, match="H1 is inside it \\(H3 > H1\\)"):
        coded.move_code("H3", "H1", "lead")
    with pytest.raises(StoreError, match="its own parent"):
        coded.move_code("H2", "H2", "lead")
    assert coded.codebook().code("H3").parent is None


def test_a_merge_keeps_every_coding_under_the_target_and_the_log_shows_each(coded):
    kept = _code(coded, "Schufa-Auskunft", "H1", "alice")
    moving = [_code(coded, "Schufa-Auskunft", "H1.1", "bob"), _code(coded, "Vermieter", "H1.1", "alice")]
    duplicate = _code(coded, "Schufa-Auskunft", "H1.1", "alice")  # alice already coded this span with H1
    coded.add_code(Code(id="H1.1.1", name="Bürgschaft", parent="H1.1"), "lead")

    assert coded.merge_codes("H1.1", "H1", "lead") == 2

    under_target = {c["id"]: (c["coder"], c["quote"]) for c in coded.codings() if c["code_id"] == "H1"}
    assert under_target == {kept: ("alice", "Schufa-Auskunft"), moving[0]: ("bob", "Schufa-Auskunft"),
                            moving[1]: ("alice", "Vermieter")}
    assert not [c for c in coded.codings() if c["code_id"] == "H1.1"]
    (gone,) = [c for c in coded.codings(include_removed=True) if c["removed_at"]]
    assert gone["id"] == duplicate and gone["removed_by"] == "lead"
    assert "H1.1" not in _ids(coded) and coded.codebook().code("H1.1.1").parent == "H1"
    actions = [(e["action"], e["entity_id"]) for e in coded.events() if e["user"] == "lead"
               and e["action"] in ("coding.recoded", "coding.removed", "code.merged")]
    assert sorted(actions) == sorted([("coding.recoded", str(moving[0])), ("coding.recoded", str(moving[1])),
                                      ("coding.removed", str(duplicate)), ("code.merged", "H1.1")])
    (merged,) = [e for e in coded.events("code", "H1.1") if e["action"] == "code.merged"]
    assert merged["after"]["merged_into"] == "H1" and merged["after"]["codings_moved"] == 2
    assert merged["after"]["children_moved"] == ["H1.1.1"]


def test_a_code_cannot_be_merged_into_itself_or_its_own_sub_code(coded):
    with pytest.raises(StoreError, match="into itself"):
        coded.merge_codes("H1", "H1", "lead")
    with pytest.raises(StoreError, match="into its own sub-code H1.1"):
        coded.merge_codes("H1", "H1.1", "lead")
    assert _ids(coded) == ["H1", "H1.1", "H2", "H3"]


def test_deleting_says_what_it_touches_then_removes_the_codings_restorably(coded):
    ids = [_code(coded, "Schufa-Auskunft", "H2", "alice"), _code(coded, "Vermieter", "H2", "bob"),
           _code(coded, "Quartiersbüro", "H3", "bob")]
    usage = coded.code_usage("H2")
    assert usage == {"id": "H2", "name": "Arbeit", "codings": 2, "documents": 1, "document_names": ["T01"],
                     "coders": ["alice", "bob"], "children": []}
    assert coded.code_counts() == {"H1": 0, "H1.1": 0, "H2": 2, "H3": 1}

    assert coded.delete_code("H2", "lead") == 2

    assert [c["id"] for c in coded.codings()] == [ids[2]]
    assert coded.code_counts() == {"H1": 0, "H1.1": 0, "H3": 1}
    assert "H2" not in _ids(coded) and "H2" in [c["id"] for c in coded.codes(include_deleted=True)]
    # Everything needed to undo the deletion is in the log: the code, and each coding as it was.
    (deleted,) = [e for e in coded.events("code", "H2") if e["action"] == "code.deleted"]
    removed = [e["before"] for e in coded.events("coding") if e["action"] == "coding.removed"]
    assert deleted["after"]["codings_removed"] == 2 and sorted(r["id"] for r in removed) == ids[:2]
    old = deleted["before"]
    coded.save_codebook(Codebook(codes=[*coded.codebook().codes, Code(id=old["id"], name=old["name"])]), "lead")
    for r in removed:
        coded.add_coding(r["document_id"], r["start"], r["end"], r["code_id"], r["coder"], quote=r["quote"])
    assert sorted((c["coder"], c["quote"]) for c in coded.codings() if c["code_id"] == "H2") == [
        ("alice", "Schufa-Auskunft"), ("bob", "Vermieter")]


def test_a_code_with_sub_codes_is_not_deleted(coded):
    assert coded.code_usage("H1")["children"] == [{"id": "H1.1", "name": "Schufa"}]
    with pytest.raises(StoreError, match="H1 has 1 sub-code\\(s\\): H1.1 \\(Schufa\\); move or delete"):
        coded.delete_code("H1", "lead")
    assert coded.delete_code("H1.1", "lead") == 0
    with pytest.raises(StoreError, match="H1.1 \\(Schufa\\) was deleted"):
        coded.delete_code("H1.1", "lead")
