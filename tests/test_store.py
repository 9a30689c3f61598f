"""The project database: atomic imports, the event log, codings that keep their quote, migrations."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from coding.codebook import Code, Codebook
from coding.errors import DuplicateDocumentError, MigrationError, ProjectNotFoundError, StoreError
from coding.importing import import_paths
from coding.store import MIGRATIONS, Project, applied, migrate


def test_a_new_project_is_in_wal_mode_with_all_migrations(tmp_path):
    with Project.create(tmp_path / "p.db") as p:
        assert p.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert applied(p.db) == [name for name, _ in MIGRATIONS]


def test_opening_a_missing_project_says_how_to_create_one(tmp_path):
    with pytest.raises(ProjectNotFoundError, match="codewerk --project .* init"):
        Project(tmp_path / "nope.db")


def test_create_refuses_to_overwrite_an_existing_file(tmp_path):
    (tmp_path / "p.db").write_text("precious")
    with pytest.raises(StoreError, match="already there"):
        Project.create(tmp_path / "p.db")
    assert (tmp_path / "p.db").read_text() == "precious"


def test_imported_document_keeps_text_turns_segments_attributes_and_is_logged(project, f4_file):
    result = import_paths(project, [f4_file], user="alice", attributes={"Stakeholdergruppe": "Kommune"})
    (doc,) = project.documents()
    assert doc["name"] == "T01" and doc["attributes"] == {"Stakeholdergruppe": "Kommune"}
    assert doc["metadata"]["Datum"] == "02.02.2026"
    full = project.document(result.document_ids[0])
    turns = project.turns(doc["id"])
    assert [t["speaker"] for t in turns] == ["I", "B", "I", "B"]
    assert all(full["text"][t["start"]:t["end"]] == t["text"] for t in turns)
    assert turns[1]["text"].endswith("die hat ja keiner.")
    assert turns[1]["timestamp"] == pytest.approx(62.5)
    assert len(project.segments(doc["id"])) >= 4
    (event,) = [e for e in project.events() if e["action"] == "document.imported"]
    assert event["user"] == "alice" and event["after"]["turns"] == 4


def test_importing_the_same_file_twice_is_refused_and_changes_nothing(project, f4_file):
    import_paths(project, [f4_file], user="alice")
    before = project.dump()
    with pytest.raises(DuplicateDocumentError, match="T01.txt.*already in the project as 'T01'"):
        import_paths(project, [f4_file], user="bob")
    assert project.dump() == before


def test_a_failure_in_the_middle_of_storing_leaves_no_trace(project, f4_file, tmp_path, monkeypatch):
    second = tmp_path / "T02.txt"
    second.write_text(f4_file.read_text().replace("Beispielhausen", "Musterstadt"), encoding="utf-8")
    before = project.dump()
    calls = {"n": 0}
    original = project._insert_document

    def fail_on_second(doc, user):
        calls["n"] += 1
        if calls["n"] == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return original(doc, user)

    monkeypatch.setattr(project, "_insert_document", fail_on_second)
    with pytest.raises(sqlite3.OperationalError):
        import_paths(project, [f4_file, second], user="alice")
    assert project.dump() == before


def test_event_log_cannot_be_edited_or_deleted(project, f4_file):
    import_paths(project, [f4_file], user="alice")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        project.db.execute("DELETE FROM events")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        project.db.execute("UPDATE events SET user = 'mallory'")


def _codebook():
    return Codebook(name="t", codes=[Code(id="H1", name="Wohnen", color="#1F77B4"),
                                     Code(id="H4", name="Finanzierung", anchors=["Förderung endet"])])


def test_codings_keep_their_quote_and_removal_is_recorded_not_erased(project, f4_file):
    import_paths(project, [f4_file], user="alice")
    project.save_codebook(_codebook(), "lead")
    doc = project.documents()[0]
    text = project.document(doc["id"])["text"]
    start = text.index("Schufa-Auskunft")
    coding_id = project.add_coding(doc["id"], start, start + len("Schufa-Auskunft"), "H1", "alice")
    assert project.codings(doc["id"])[0]["quote"] == "Schufa-Auskunft"
    project.remove_coding(coding_id, "bob")
    assert project.codings(doc["id"]) == []
    (removed,) = project.codings(doc["id"], include_removed=True)
    assert removed["removed_by"] == "bob"
    assert [e["action"] for e in project.events("coding", coding_id)] == ["coding.added", "coding.removed"]


def test_a_coding_whose_quote_does_not_match_the_offsets_is_refused(project, f4_file):
    import_paths(project, [f4_file], user="alice")
    project.save_codebook(_codebook(), "lead")
    doc_id = project.documents()[0]["id"]
    text = project.document(doc_id)["text"]
    start = text.index("Schufa")
    with pytest.raises(StoreError, match="does not match"):
        project.add_coding(doc_id, start + 1, start + 7, "H1", "alice", quote="Schufa")
    with pytest.raises(StoreError, match="outside the document"):
        project.add_coding(doc_id, 0, len(text) + 5, "H1", "alice")


def test_saving_a_codebook_again_changes_only_what_changed(project):
    assert project.save_codebook(_codebook(), "lead") == 2
    assert project.save_codebook(_codebook(), "lead") == 0
    changed = _codebook()
    changed.codes[0].name = "Wohnen und Wohnungsmarkt"
    assert project.save_codebook(changed, "lead") == 1
    assert project.codes()[1]["anchors"] == ["Förderung endet"]


def test_two_coders_writing_at_once_both_keep_all_their_codings(tmp_path, f4_file):
    path = tmp_path / "shared.db"
    with Project.create(path) as p:
        import_paths(p, [f4_file], user="admin")
        p.save_codebook(_codebook(), "admin")
        doc_id = p.documents()[0]["id"]
    errors = []

    def code(coder: str) -> None:
        try:
            with Project(path) as mine:
                for i in range(40):
                    mine.add_coding(doc_id, i, i + 5, "H1" if i % 2 else "H4", coder)
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=code, args=(name,)) for name in ("alice", "bob", "chen")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with Project(path) as p:
        coders = [c["coder"] for c in p.codings(doc_id)]
    assert sorted(set(coders)) == ["alice", "bob", "chen"] and len(coders) == 120


def test_an_upgrade_backs_up_the_file_first_and_a_failed_one_names_the_backup(tmp_path, f4_file):
    path = tmp_path / "p.db"
    with Project.create(path) as p:
        import_paths(p, [f4_file], user="alice")

    def add_column(db):
        db["documents"].add_column("language", str)

    def broken(db):
        db.execute("ALTER TABLE no_such_table ADD COLUMN x")

    with Project(path) as p:
        assert migrate(p.db, path, MIGRATIONS + [("0002_language", add_column)]) == ["0002_language"]
        backup = tmp_path / "p.db.before-0002_language.bak"
        assert backup.exists()
        with sqlite3.connect(backup) as old:
            assert "language" not in [r[1] for r in old.execute("PRAGMA table_info(documents)")]
        with pytest.raises(MigrationError, match="0003_broken.*before-0003_broken.bak"):
            migrate(p.db, path, MIGRATIONS + [("0002_language", add_column), ("0003_broken", broken)])
        assert "0003_broken" not in applied(p.db)
        assert len(p.documents()) == 1


def test_the_same_coder_cannot_code_the_same_passage_twice_with_the_same_code(project, f4_file):
    import_paths(project, [f4_file], user="alice")
    project.save_codebook(_codebook(), "lead")
    doc_id = project.documents()[0]["id"]
    project.add_coding(doc_id, 10, 20, "H1", "alice")
    with pytest.raises(StoreError, match="already coded with H1 by alice"):
        project.add_coding(doc_id, 10, 20, "H1", "alice")
    project.add_coding(doc_id, 10, 20, "H1", "bob")  # another coder's judgement is their own
    project.add_coding(doc_id, 10, 20, "H4", "alice")
    assert len(project.codings(doc_id)) == 3


def test_suggestion_feedback_is_kept_and_rejected_codes_are_known_per_passage(project, f4_file):
    import_paths(project, [f4_file], user="alice")
    project.save_codebook(_codebook(), "lead")
    doc_id = project.documents()[0]["id"]
    project.add_coding(doc_id, 10, 20, "H1", "alice", origin="suggestion", model_id="e5-test")
    project.record_suggestion(doc_id, 10, 20, "H1", "alice", "accepted", "e5-test", 0.81)
    project.record_suggestion(doc_id, 10, 20, "H4", "alice", "rejected", "e5-test", 0.42)
    assert project.codings(doc_id)[0]["model_id"] == "e5-test"
    assert project.rejected_codes(doc_id, 10, 20) == {"H4"} and project.rejected_codes(doc_id, 10, 21) == set()
    rates = {r["code_id"]: r["rate"] for r in project.suggestion_rates()}
    assert rates == {"H1": 1.0, "H4": 0.0}
    with pytest.raises(StoreError, match="unknown decision"):
        project.record_suggestion(doc_id, 10, 20, "H4", "alice", "maybe", "e5-test", 0.4)
