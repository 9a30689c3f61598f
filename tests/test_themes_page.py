"""The Themes page as AppTest runs it: a lead makes a run and reviews it; a coder does not get the page."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding import auth
from coding.store import Project
from ui.i18n import t
from tests.conftest import open_app
from tests.test_theme_store import PASSWORD, make_theme_project

ROOT = Path(__file__).resolve().parents[1]
PAGE = "ui/pages/themes.py"


@pytest.fixture
def team(tmp_path):
    return make_theme_project(tmp_path, roles=("lead", "coder", "admin"))


def _run(path: Path, role: str, language: str = "de") -> AppTest:
    return open_app(path, role, PAGE, password=PASSWORD, language=language, timeout=120)


def _button(at: AppTest, label: str, key_prefix: str = ""):
    found = [b for b in at.button if b.label == label and (b.key or "").startswith(key_prefix)]
    assert found, f"no button {label!r} (buttons: {[b.label for b in at.button]})"
    return found[0]


def _cards(at: AppTest) -> list[str]:
    """The bold card titles, as a lead reads them (Markdown escapes removed)."""
    return [m.value[2:-2].replace("\\", "") for m in at.markdown if m.value.startswith("**T")]


def _start(at: AppTest, n: int = 3) -> AppTest:
    at.multiselect(key="themes_codes").set_value(["H1", "H2", "H3"])
    at.radio(key="themes_auto").set_value(False)
    at.number_input(key="themes_number").set_value(n)
    at.text_input(key="themes_name").input("Erster Lauf")
    at.button[[b.label for b in at.button].index(t("themes_start", at.session_state["language"]))].click()
    return at.run()


def test_a_lead_makes_a_run_and_sees_map_cards_and_matrix(team):
    at = _run(team, "lead")
    assert not at.exception, at.exception
    assert "Noch kein Themenlauf" in at.info[0].value
    at = _start(at)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(_cards(at)) == 3
    assert {"Karte der Passagen", "Themen im Einzelnen", "Themen nach Stakeholdergruppen"} <= {
        h.value for h in at.subheader}
    quotes = [x.value.strip("»«") for x in at.text if x.value.startswith("»")]
    with Project(team) as project:
        answers = {p["text"] for p in project.theme_run(1)["segments"]}
    assert len(quotes) >= 3 and set(quotes) <= answers  # each card quotes its passages verbatim
    assert any(c.value.startswith("K01, Zeile ") for c in at.caption)  # with interview and place
    assert any(c.value.startswith("36 Passagen, 3 Themen · Codes: H1, H2, H3") for c in at.caption)
    with Project(team) as project:
        (run,) = project.theme_runs()
        assert (run["name"], run["created_by"], run["segments"]) == ("Erster Lauf", "lead", 36)


def test_rename_merge_undo_and_accept_from_the_page(team):
    at = _start(_run(team, "lead"))
    first = _cards(at)
    t1, t2, t3 = (title.split(" · ")[0] for title in first)
    # rename: the lead's own title, typed as text, is shown literally
    at.text_input(key=f"label_1_1_{t1}").set_value("Wohnungsmarkt *zu*")
    _button(at, "Umbenennen", f"rename_{t1}").click()
    at.run()
    assert f"{t1} · Wohnungsmarkt *zu*" in _cards(at)
    # merge two themes
    at.multiselect(key="themes_merge_1_2").set_value([t2, t3])
    _button(at, "Zusammenführen").click()
    at.run()
    assert len(_cards(at)) == 2 and not any(c.startswith(t3) for c in _cards(at))
    # undo walks back: the merge, then the rename
    undo = _button(at, "Rückgängig: Zusammenführen (Stand 3)")
    undo.click()
    at.run()
    assert len(_cards(at)) == 3 and "Rückgängig gemacht." in [s.value for s in at.success]
    _button(at, "Rückgängig: Umbenennen (Stand 2)").click()
    at.run()
    assert _cards(at) == first
    # accept: a code under Themen, its passages coded
    _button(at, "In das Codebuch übernehmen", f"accept_{t1}").click()
    at.run()
    assert not at.exception and not at.error
    assert any("im Codebuch" in c.value for c in at.caption)
    with Project(team) as project:
        names = {c["name"]: c for c in project.codes()}
        code = names[first[0].split(" · ", 1)[1]]
        assert names["Themen"]["id"] == code["parent"]
        assert [c["origin"] for c in project.codings() if c["code_id"] == code["id"]].count("theme") >= 4


def test_a_change_by_another_lead_is_reported_not_overwritten(team):
    at = _start(_run(team, "lead"))
    t1 = _cards(at)[0].split(" · ")[0]
    with Project(team) as project:  # another lead renames the theme meanwhile
        project.rename_theme(1, 1, t1, "Von der anderen Leitung", "admin")
    at.text_input(key=f"label_1_1_{t1}").set_value("Mein Titel")
    _button(at, "Umbenennen", f"rename_{t1}").click()
    at.run()
    assert "Nicht gespeichert: Jemand hat die Themen inzwischen geändert" in at.error[0].value
    assert f"{t1} · Von der anderen Leitung" in _cards(at)
    with Project(team) as project:
        assert [r["user"] for r in project.theme_revisions(1)] == ["lead", "admin"]


def test_a_coder_has_no_themes_page(team):
    coder = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    coder.session_state["project_path"] = str(team)
    with Project(team) as project:
        coder.session_state["session"] = auth.login(project, "coder", PASSWORD)
    coder.run()
    assert not coder.exception
    with pytest.raises(Exception):  # not in the coder's navigation
        coder.switch_page(PAGE).run()
    at = _run(team, "admin")
    assert not at.exception and at.title[0].value == "Themen"


def test_the_page_speaks_english(team):
    at = _start(_run(team, "lead", language="en"))
    assert at.title[0].value == "Themes"
    assert "The themes" in [h.value for h in at.subheader]
