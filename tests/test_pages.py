"""Every page, as every role, as AppTest runs them; and what each role may and may not change."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding import auth
from coding.codebook import Code, Codebook
from coding.importing import import_paths
from coding.store import Project
from tests.conftest import open_app

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["ui/pages/code.py", "ui/pages/documents.py", "ui/pages/codebook.py", "ui/pages/retrieve.py",
         "ui/pages/account.py", "ui/pages/review.py"]
PASSWORD = "ein-langes-passwort"


@pytest.fixture(scope="module")
def team(tmp_path_factory, request):
    """A small project: two interviews with attributes, a codebook, codings, and one user per role."""
    folder = tmp_path_factory.mktemp("team")
    from tests.conftest import F4_INTERVIEW

    (folder / "K01.txt").write_text(F4_INTERVIEW, encoding="utf-8")
    (folder / "N01.txt").write_text(F4_INTERVIEW.replace("Beispielhausen", "Musterland"), encoding="utf-8")
    path = folder / "team.db"
    with Project.create(path) as project:
        import_paths(project, [folder / "K01.txt"], user="setup", attributes={"Stakeholdergruppe": "Kommune"})
        import_paths(project, [folder / "N01.txt"], user="setup", attributes={"Stakeholdergruppe": "MSO"})
        project.save_codebook(Codebook(codes=[
            Code(id="H1", name="Wohnen", color="#1F77B4", definition="Zugang zu Wohnungen.",
                 anchors=["die hat ja keiner"], include="Mieten", exclude="Konflikte: H10"),
            Code(id="H8", name="Andockstellen", color="#2CA02C")]), "setup")
        for role in auth.ROLES:
            auth.create_account(project, role, role, PASSWORD, "setup")
        text = project.document("K01")["text"]
        start = text.index("Schufa-Auskunft")
        project.add_coding(project.document("K01")["id"], start, start + 15, "H1", "coder")
    return path


def _run(path: Path, role: str | None, page: str | None = None, language: str = "de") -> AppTest:
    return open_app(path, role, page, password=PASSWORD, language=language)


@pytest.mark.parametrize("role", auth.ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_for_every_role_without_an_error(team, role, page):
    at = _run(team, role, page)
    assert not at.exception, at.exception
    assert not [e.value for e in at.error]


def test_without_a_login_only_the_login_page_is_there_and_logging_in_works(team):
    at = _run(team, None)
    assert not at.exception and at.title[0].value == "Codewerk"
    at.text_input(key="login_name").input("coder")
    at.text_input(key="login_password").input("falsch-falsch")
    at.button[0].click().run()
    assert "unknown user or wrong password" in at.error[0].value
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception and at.session_state["session"].user == "coder"
    assert "Angemeldet als coder" in at.sidebar.caption[0].value


def test_logging_out_ends_the_session_for_good(team):
    at = _run(team, "coder")
    token = at.session_state["session"].token
    at.sidebar.button(key="logout").click().run()
    assert at.session_state["session"] is None
    with Project(team) as project:
        assert auth.session_from_token(project, token) is None


def test_coders_read_the_codebook_leads_change_it(team):
    at = _run(team, "coder", "ui/pages/codebook.py")
    assert at.text_input[0].disabled and "Nur Teamleitung" in at.caption[0].value
    lead = _run(team, "lead", "ui/pages/codebook.py")
    assert not lead.text_input[0].disabled
    lead.text_input[0].set_value("Wohnen und Wohnungsmarkt")
    lead.button[0].click().run()  # the form's save button
    with Project(team) as project:
        assert {c["id"]: c["name"] for c in project.codes()}["H1"] == "Wohnen und Wohnungsmarkt"
        project.update_code("H1", "lead", name="Wohnen")


def test_the_code_page_shows_the_transcript_and_the_rules_of_a_code(team):
    at = _run(team, "coder", "ui/pages/code.py")
    assert not at.exception
    assert "Markieren Sie eine Textstelle" in at.info[0].value


def test_only_admins_manage_users(team):
    admin = _run(team, "admin", "ui/pages/account.py")
    assert any("Benutzer*innen" == h.value for h in admin.subheader)
    coder = _run(team, "coder", "ui/pages/account.py")
    assert not any("Benutzer*innen" == h.value for h in coder.subheader)


def test_retrieve_lists_coded_segments_with_their_context(team):
    at = _run(team, "lead", "ui/pages/retrieve.py")
    texts = [t.value for t in at.text]
    assert any("»Schufa-Auskunft«" in t for t in texts)
    assert "1 Segmente in 1 Dokumenten" in [c.value for c in at.caption]


def test_pages_speak_english_on_request(team):
    at = _run(team, "lead", "ui/pages/documents.py", language="en")
    assert at.title[0].value == "Documents"


def test_a_reload_keeps_the_open_interview(team):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["project_path"] = str(team)
    with Project(team) as project:
        at.session_state["session"] = auth.login(project, "coder", PASSWORD)
        n01 = project.document("N01")["id"]
    at.query_params["doc"] = "N01"  # what the page wrote into the URL before the reload
    at.run()
    assert not at.exception
    (picker,) = [box for box in at.selectbox if box.label == "Dokument"]
    assert picker.value == n01 and at.query_params["doc"] in ("N01", ["N01"])


def _code_page_with_selection(path: Path, words: str) -> tuple[AppTest, tuple[int, int]]:
    """The Code page of K01 for the coder, with `words` selected in the transcript view."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["project_path"] = str(path)
    with Project(path) as project:
        at.session_state["session"] = auth.login(project, "coder", PASSWORD)
        document = project.document("K01")
    start = document["text"].index(words)
    at.session_state[f"transcript_{document['id']}"] = {
        "selection": {"start": start, "end": start + len(words), "quote": words}}
    at.query_params["doc"] = "K01"
    return at.run(), (start, start + len(words))


def test_suggestions_for_a_selection_can_be_accepted_and_rejected(team):
    import time

    at, span = _code_page_with_selection(team, "Die Größe der Wohnungen passt oft nicht")
    with Project(team) as project:
        doc_id = project.document("K01")["id"]
    deadline = time.time() + 60  # the suggester is fitted in a background thread
    while not [b for b in at.button if b.label == "Übernehmen"] and time.time() < deadline:
        time.sleep(0.5)
        at.run()
    assert not at.exception
    assert "Vorschläge" in [c.value for c in at.caption]
    accepts = [b for b in at.button if b.label == "Übernehmen"]
    assert accepts and all(b.key.startswith("accept_") for b in accepts)
    rejected_code = [b for b in at.button if b.label == "Ablehnen"][-1].key.removeprefix("reject_")
    [b for b in at.button if b.label == "Ablehnen"][-1].click().run()
    assert f"reject_{rejected_code}" not in [b.key for b in at.button]  # not shown again for this passage
    accepted_code = accepts[0].key.removeprefix("accept_")
    [b for b in at.button if b.key == f"accept_{accepted_code}"][0].click().run()
    with Project(team) as project:
        mine = [c for c in project.codings(doc_id) if (c["start"], c["end"]) == span]
        assert [(c["code_id"], c["origin"], c["model_id"]) for c in mine] == [
            (accepted_code, "suggestion", "hashing-v1-256")]
        decisions = {(r["code_id"], r["accepted"], r["rejected"]) for r in project.suggestion_rates()}
        assert (rejected_code, 0, 1) in decisions and (accepted_code, 1, 0) in decisions
        project.remove_coding(mine[0]["id"], "coder")


def test_interviewer_questions_get_no_suggestions(team):
    at, _ = _code_page_with_selection(team, "Wie hat sich das Quartier verändert?")
    assert not at.exception
    assert "Für Fragen der Interviewenden gibt es keine Vorschläge." in [c.value for c in at.caption]


def test_leads_see_how_often_suggestions_of_each_code_were_accepted(team):
    with Project(team) as project:  # a code of its own, so other tests' feedback does not count
        doc_id = project.document("K01")["id"]
        project.add_code(Code(id="Z9", name="Nur für diesen Test", color="#777777"), "lead")
        project.record_suggestion(doc_id, 0, 5, "Z9", "coder", "accepted", "hashing-v1-256", 0.7)
        project.record_suggestion(doc_id, 0, 5, "Z9", "coder", "rejected", "hashing-v1-256", 0.6)
    lead = _run(team, "lead", "ui/pages/codebook.py")
    table = lead.dataframe[0].value
    rates = dict(zip(table["ID"], table["Vorschläge angenommen"]))
    assert rates["Z9"] == "50% (1/2)"
    coder = _run(team, "coder", "ui/pages/codebook.py")
    assert "Vorschläge angenommen" not in coder.dataframe[0].value.columns
    with Project(team) as project:
        project.delete_code("Z9", "lead")
