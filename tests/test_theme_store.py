"""Theme runs in the project: revisions, undo, conflicts between leads, accepting into the codebook, migration."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from coding import auth
from coding.codebook import Code, Codebook
from coding.embed import HashingEmbedder
from coding.errors import StoreError
from coding.importing import import_paths
from coding.store import MIGRATIONS, Project, migrate
from coding.store.database import connect
from coding.store.themes import ThemeConflict, ThemeLocked
from coding.themes.from_project import (
    coded_passages,
    load_run,
    merge_themes,
    move_segments,
    projection,
    split_theme,
    start_run,
    theme_segments,
)
from coding.themes.model import ThemeError

PASSWORD = "ein-langes-passwort"
# Three challenges, each voiced in every stakeholder group's interview: sentences per (code, topic).
TOPICS = {
    "H1": ["Die Vermieter verlangen eine Schufa-Auskunft, die hat keiner von den neuen Familien.",
           "Bezahlbare Wohnungen finden die Familien kaum, die Mieten steigen jedes Jahr.",
           "Große Wohnungen für Familien mit vielen Kindern gibt es auf dem Wohnungsmarkt nicht."],
    "H2": ["Die Kita-Plätze reichen nicht, die Wartelisten für die Kita sind sehr lang.",
           "Ohne Kita-Platz können die Mütter keinen Sprachkurs und keine Arbeit beginnen.",
           "Die Kita sucht Erzieherinnen, die Gruppen sind voll und die Wartelisten wachsen."],
    "H3": ["Die Projektförderung läuft nach zwei Jahren aus und das Vertrauen der Familien bricht ab.",
           "Kurze Förderperioden zerstören die Beziehungen, die Projekte enden, wenn das Vertrauen wächst.",
           "Jedes Jahr ein neuer Förderantrag, die Projektförderung ist zu kurz für echte Arbeit."],
}
GROUPS = {"K01": "Kommune", "K02": "Kommune", "M01": "MSO", "W01": "Wohlfahrt"}
CODES = [Code(id="H1", name="Wohnen", color="#4E79A7"), Code(id="H2", name="Kinderbetreuung", color="#F28E2B"),
         Code(id="H3", name="Förderung", color="#E15759"), Code(id="A", name="Art der Aussage", codable=False),
         Code(id="A1", name="Herausforderung", parent="A", color="#757575")]


OPENERS = {"K01": "Also", "K02": "Ehrlich gesagt", "M01": "Na ja", "W01": "Wissen Sie"}


def interview(name: str) -> str:
    """Every topic sentence once, each interviewee opening their answers in their own way."""
    lines = [f"Interview {name}", ""]
    for sentences in TOPICS.values():
        for sentence in sentences:
            lines += ["I: Und weiter?", "", f"B: {OPENERS[name]}: {sentence}", ""]
    return "\n".join(lines)


def make_theme_project(folder: Path, roles: tuple[str, ...] = ("lead",)) -> Path:
    """Four interviews in three stakeholder groups; every answer coded with its topic by a coder, and
    the Wohnen and Förderung answers also as A1 Herausforderung (the facet)."""
    path = folder / "themes.db"
    for name in GROUPS:
        (folder / f"{name}.txt").write_text(interview(name), encoding="utf-8")
    with Project.create(path) as project:
        for name, group in GROUPS.items():
            import_paths(project, [folder / f"{name}.txt"], user="setup", attributes={"Stakeholdergruppe": group})
        project.save_codebook(Codebook(codes=CODES), "setup")
        for name in GROUPS:
            document = project.document(name)
            for code, sentences in TOPICS.items():
                for sentence in sentences:
                    answer = f"{OPENERS[name]}: {sentence}"
                    start = document["text"].index(answer)
                    project.add_coding(document["id"], start, start + len(answer), code, "setup")
                    if code in ("H1", "H3"):
                        project.add_coding(document["id"], start, start + len(answer), "A1", "setup")
        for role in roles:
            auth.create_account(project, role, role, PASSWORD, "setup")
    return path


@pytest.fixture
def themed(tmp_path):
    """(project, run id): a project with a theme run of all topic codings, three themes asked for."""
    with Project(make_theme_project(tmp_path)) as project:
        run_id = start_run(project, HashingEmbedder(), "lead", name="Alle Herausforderungen", codes=["H1", "H2", "H3"],
                           n_themes=3, seed=1)
        yield project, run_id


def titles(project, run_id, revision=None):
    return {t["id"]: t["label"] for t in project.theme_revision(run_id, revision)["state"]["themes"]}


# -- reading a project's coded passages ------------------------------------------------------------
def test_coded_passages_name_code_group_interview_and_place(tmp_path):
    with Project(make_theme_project(tmp_path)) as project:
        passages = coded_passages(project, codes=["H1"])
        assert len(passages) == 12  # 3 sentences x 4 interviews
        first = passages[0]
        document = project.document(first["document"])
        assert document["text"][first["start"]:first["end"]] == first["text"]
        assert (first["code"], first["stakeholder"]) == ("H1", GROUPS[first["document"]])
        assert document["text"].splitlines()[first["line"] - 1].endswith(first["text"])
        segments = theme_segments(project, codes=["H1"], attributes={"Stakeholdergruppe": ["MSO"]})
        assert {s.document for s in segments} == {"M01"} and {s.code for s in segments} == {"H1"}


def test_the_facet_keeps_only_passages_that_also_carry_it(tmp_path):
    with Project(make_theme_project(tmp_path)) as project:
        passages = coded_passages(project, facet="A1")
        assert {p["code"] for p in passages} == {"H1", "H3"}  # H2 answers are not Herausforderung here
        assert len(passages) == 24


def test_a_selection_without_enough_passages_is_refused_by_name(tmp_path):
    with Project(make_theme_project(tmp_path)) as project:
        with pytest.raises(ThemeError, match="holds 0 coded passage"):
            start_run(project, HashingEmbedder(), "lead", name="leer", codes=["H1"],
                      attributes={"Stakeholdergruppe": ["Niemand"]})
        assert project.theme_runs() == []


# -- runs and revisions -----------------------------------------------------------------------------
def test_a_run_keeps_its_selection_model_seed_steps_and_first_state(themed):
    project, run_id = themed
    (listed,) = project.theme_runs()
    assert (listed["name"], listed["revision"], listed["action"], listed["segments"]) == (
        "Alle Herausforderungen", 1, "create", 36)
    run = project.theme_run(run_id)
    assert run["selection"]["codes"] == ["H1", "H2", "H3"] and run["seed"] == 1
    assert run["embedder"] == "hashing-v1-256" and run["steps"]["steps"][0]["name"]
    assert run["features"].shape[0] == 36
    state = project.theme_revision(run_id)["state"]
    assert len(state["themes"]) == 3
    assert sorted(state["assignments"]) == sorted(p["id"] for p in run["segments"])
    assert all(t["status"] == "active" and t["description"] == "" for t in state["themes"])


def test_each_action_appends_a_revision_and_leaves_the_earlier_ones_as_they_were(themed):
    project, run_id = themed
    first = titles(project, run_id)
    t1, t2, t3 = first
    assert project.rename_theme(run_id, 1, t1, "Wohnungsmarkt verschlossen", "lead") == 2
    assert project.describe_theme(run_id, 2, t1, "Schufa & Mieten", "lead") == 3
    assert merge_themes(project, run_id, 3, [t2, t3], "lead") == 4
    assert titles(project, run_id, 1) == first
    latest = project.theme_revision(run_id)["state"]
    assert [t["id"] for t in latest["themes"]] and t3 not in titles(project, run_id)
    renamed = next(t for t in latest["themes"] if t["id"] == t1)
    assert (renamed["label"], renamed["description"]) == ("Wohnungsmarkt verschlossen", "Schufa & Mieten")
    assert [r["action"] for r in project.theme_revisions(run_id)] == ["create", "rename", "describe", "merge"]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        project.db.execute("UPDATE theme_revisions SET action = 'x'")


def test_a_lead_title_survives_the_recomputation_a_merge_brings(themed):
    project, run_id = themed
    t1, t2, t3 = titles(project, run_id)
    project.rename_theme(run_id, 1, t2, "Kita fehlt", "lead")
    merge_themes(project, run_id, 2, [t2, t3], "lead")
    assert titles(project, run_id)[t2] == "Kita fehlt"


def test_split_and_move_follow_the_passages(themed):
    project, run_id = themed
    t1, t2, t3 = titles(project, run_id)
    merge_themes(project, run_id, 1, [t1, t2], "lead")
    split_theme(project, run_id, 2, t1, "lead", n=2)
    state = project.theme_revision(run_id)["state"]
    assert len(state["themes"]) == 3 and t1 not in {t["id"] for t in state["themes"]}
    passage = state["themes"][0]["members"][0]
    target = state["themes"][-1]["id"]
    move_segments(project, run_id, 3, [passage], target, "lead")
    assert project.theme_revision(run_id)["state"]["assignments"][passage] == target


def test_undo_walks_back_one_action_at_a_time(themed):
    project, run_id = themed
    first = titles(project, run_id)
    t1, t2, t3 = first
    project.rename_theme(run_id, 1, t1, "Erster Titel", "lead")
    merge_themes(project, run_id, 2, [t2, t3], "lead")
    assert project.undoable(run_id)["action"] == "merge"
    assert project.undo_themes(run_id, 3, "lead") == 4
    assert titles(project, run_id) == {**first, t1: "Erster Titel"}
    assert project.undoable(run_id)["action"] == "rename"
    project.undo_themes(run_id, 4, "lead")
    assert titles(project, run_id) == first
    assert project.undoable(run_id) is None
    with pytest.raises(Exception, match="nothing to undo"):
        project.undo_themes(run_id, 5, "lead")
    # after undoing, a new action is undone to the state it started from, and then further back nothing
    project.discard_theme(run_id, 5, t3, "lead")
    project.undo_themes(run_id, 6, "lead")
    assert titles(project, run_id) == first and project.undoable(run_id) is None
    revisions = project.theme_revisions(run_id)
    assert [(r["action"], r["undo_to"]) for r in revisions] == [
        ("create", None), ("rename", 1), ("merge", 2), ("undo", 1), ("undo", None), ("discard", 5), ("undo", None)]


def test_an_action_computed_from_an_old_revision_is_refused_and_nothing_is_stored(themed):
    project, run_id = themed
    t1, t2, t3 = titles(project, run_id)
    project.rename_theme(run_id, 1, t1, "Von Ayse", "lead")  # another lead, a moment earlier
    before = project.dump()
    with pytest.raises(ThemeConflict, match=r"revision 1: lead: rename \(revision 2\)"):
        project.rename_theme(run_id, 1, t2, "Von Ben", "lead")
    with pytest.raises(ThemeConflict):
        merge_themes(project, run_id, 1, [t2, t3], "lead")
    with pytest.raises(ThemeConflict):
        project.undo_themes(run_id, 1, "lead")
    assert project.dump() == before


def test_accepting_a_theme_makes_a_code_under_themen_and_codes_its_passages(themed):
    project, run_id = themed
    t1 = next(iter(titles(project, run_id)))
    project.rename_theme(run_id, 1, t1, "Wohnungsmarkt verschlossen", "lead")
    project.describe_theme(run_id, 2, t1, "Familien finden keine Wohnung.", "lead")
    project.accept_theme(run_id, 3, t1, "lead")
    codes = {c["id"]: c for c in project.codes()}
    parent = next(c for c in codes.values() if c["name"] == "Themen")
    assert parent["parent"] is None and not parent["codable"]
    code = next(c for c in codes.values() if c["name"] == "Wohnungsmarkt verschlossen")
    assert (code["parent"], code["definition"]) == (parent["id"], "Familien finden keine Wohnung.")
    theme = project.theme_revision(run_id)["state"]["themes"][0]
    assert (theme["status"], theme["code_id"]) == ("accepted", code["id"])
    made = [c for c in project.codings() if c["code_id"] == code["id"]]
    passages = {p["id"]: p for p in project.theme_run(run_id)["segments"]}
    assert sorted((c["document_id"], c["start"], c["end"]) for c in made) == sorted(
        (passages[m]["document_id"], passages[m]["start"], passages[m]["end"]) for m in theme["members"])
    assert {(c["coder"], c["origin"]) for c in made} == {("lead", "theme")}
    with pytest.raises(ThemeLocked, match="undo the acceptance"):
        project.rename_theme(run_id, 4, t1, "Anders", "lead")
    # a second accepted theme goes under the same parent
    t2 = project.theme_revision(run_id)["state"]["themes"][1]["id"]
    project.accept_theme(run_id, 4, t2, "lead")
    assert [c["name"] for c in project.codes()].count("Themen") == 1


def test_undoing_an_acceptance_removes_its_codings_and_its_unused_code(themed):
    project, run_id = themed
    t1 = next(iter(titles(project, run_id)))
    project.accept_theme(run_id, 1, t1, "lead")
    code_id = project.theme_revision(run_id)["state"]["themes"][0]["code_id"]
    n = len([c for c in project.codings() if c["code_id"] == code_id])
    project.undo_themes(run_id, 2, "lead")
    assert n > 0 and not [c for c in project.codings() if c["code_id"] == code_id]
    removed = [c for c in project.codings(include_removed=True) if c["code_id"] == code_id]
    assert len(removed) == n and {c["removed_by"] for c in removed} == {"lead"}
    assert code_id not in {c["id"] for c in project.codes()}
    assert project.theme_revision(run_id)["state"]["themes"][0]["status"] == "active"


def test_an_accepted_code_someone_else_used_meanwhile_stays_after_the_undo(themed):
    project, run_id = themed
    t1 = next(iter(titles(project, run_id)))
    project.accept_theme(run_id, 1, t1, "lead")
    code_id = project.theme_revision(run_id)["state"]["themes"][0]["code_id"]
    document = project.document("K01")
    project.add_coding(document["id"], 0, 9, code_id, "setup")  # a coder uses the new code elsewhere
    project.undo_themes(run_id, 2, "lead")
    assert code_id in {c["id"] for c in project.codes()}
    assert [c["coder"] for c in project.codings() if c["code_id"] == code_id] == ["setup"]


def test_every_theme_action_is_in_the_event_log(themed):
    project, run_id = themed
    t1, t2, t3 = titles(project, run_id)
    project.rename_theme(run_id, 1, t1, "Neu", "lead")
    merge_themes(project, run_id, 2, [t2, t3], "lead")
    project.undo_themes(run_id, 3, "lead")
    events = project.events("theme_run", run_id)
    assert [(e["action"], e["user"]) for e in events] == [
        ("theme_run.created", "lead"), ("theme.rename", "lead"), ("theme.merge", "lead"), ("theme.undo", "lead")]
    assert events[1]["after"] == {"revision": 2, "theme": t1, "label": "Neu"}
    assert events[3]["after"]["undid"] == 3


def test_a_run_reloads_as_the_engine_left_it(themed):
    project, run_id = themed
    stored = load_run(project, run_id)
    assert stored.revision == 1 and len(stored.run.segments) == 36
    assert stored.run.assignments == stored.state["assignments"]
    points = projection(stored.run.features)
    assert points.shape == (36, 2) and abs(points).sum() > 0
    assert (projection(stored.run.features) == points).all()


def test_the_map_is_stored_with_the_run_and_does_not_move_when_leads_revise_it(themed):
    project, run_id = themed
    before = project.theme_run(run_id)
    assert before["layout"].shape == (36, 2) and np.abs(before["layout"]).max() == pytest.approx(1.0)
    assert before["steps"]["layout"]["name"] == "layout.tsne.v1"
    t1, t2, _ = titles(project, run_id)
    merge_themes(project, run_id, 1, [t1, t2], "lead")
    assert (project.theme_run(run_id)["layout"] == before["layout"]).all()


def test_a_run_stored_without_a_map_reads_back_without_one(themed):
    project, run_id = themed
    run = project.theme_run(run_id)
    other = project.create_theme_run("ohne Karte", "lead", selection=run["selection"], embedder=run["embedder"],
                                     seed=run["seed"], steps=run["steps"], segments=run["segments"],
                                     features=run["features"], state=project.theme_revision(run_id)["state"])
    assert project.theme_run(other)["layout"] is None
    with pytest.raises(StoreError, match="one map point"):
        project.create_theme_run("kaputt", "lead", selection=run["selection"], embedder=run["embedder"],
                                 seed=run["seed"], steps=run["steps"], segments=run["segments"],
                                 features=run["features"], state=project.theme_revision(run_id)["state"],
                                 layout=np.zeros((3, 2)))


# -- migration ---------------------------------------------------------------------------------------
def test_an_existing_project_gets_the_theme_tables_after_a_backup(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    migrate(db, path, MIGRATIONS[:4])  # a project made before themes existed
    db["users"].insert({"name": "setup", "display_name": "setup", "role": "admin", "created_at": "2026-01-01"})
    db.conn.close()
    with Project(path) as project:
        assert {"theme_runs", "theme_revisions"} <= set(project.db.table_names())
        assert project.users()[0]["name"] == "setup"
        assert project.theme_runs() == []
    backup = tmp_path / "old.db.before-0005_themes.bak"
    assert backup.exists()
    with sqlite3.connect(backup) as old:
        assert "theme_runs" not in {r[0] for r in old.execute("SELECT name FROM sqlite_master")}


def test_a_pasted_description_with_control_characters_can_still_be_accepted_into_the_codebook(themed):
    project, run_id = themed
    t1, _, _ = titles(project, run_id)
    project.describe_theme(run_id, 1, t1, "Aus dem PDF kopiert:\x07 Mieten\x0c steigen.", "lead")
    project.rename_theme(run_id, 2, t1, "Mieten\x0b steigen", "lead")
    project.accept_theme(run_id, 3, t1, "lead")
    code = next(c for c in project.codes() if c["name"] == "Mieten steigen")
    assert code["definition"] == "Aus dem PDF kopiert: Mieten steigen."
