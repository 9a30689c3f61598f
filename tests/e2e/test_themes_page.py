"""The Themes page in a real browser: a lead finds themes in a small project and sees the map and the cards.

Screenshots go to tests/artifacts/themes_*.png.
"""
from __future__ import annotations

import pytest

from coding.embed import HashingEmbedder
from coding.store import Project
from coding.themes.from_project import start_run
from tests.test_theme_store import GROUPS, PASSWORD, TOPICS, make_theme_project

pytestmark = pytest.mark.e2e

TIMEOUT = 60_000  # ms
VIEWPORT = {"width": 1400, "height": 4400}  # tall: Streamlit scrolls inside its own container


@pytest.fixture(scope="module")
def themes_project(tmp_path_factory, serve):
    """(url, database path): four interviews in three stakeholder groups, coded by topic; a lead."""
    path = make_theme_project(tmp_path_factory.mktemp("themes"), ("lead",))
    url = serve("app.py", {"CODEWERK_PROJECT": str(path), "CODEWERK_ADMIN_PASSWORD": "admin-passwort-lang",
                           "CODEWERK_EMBEDDER": "hashing"})
    return url, path


def _themes_page(context, url: str, log_in):
    """A page in `context` where the lead is logged in and has opened the Themes page."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    log_in(page, url, "lead", PASSWORD)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Themen").click()
    return page


def test_a_lead_finds_themes_and_sees_them_on_the_map(themes_project, browser, log_in, artifacts):
    from playwright.sync_api import expect

    url, path = themes_project
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = _themes_page(context, url, log_in)
        expect(page.get_by_role("heading", name="Themen", exact=True)).to_be_visible()
        expect(page.get_by_text("Noch kein Themenlauf")).to_be_visible()
        page.get_by_role("button", name="Themen bilden").click()
        expect(page.get_by_role("heading", name="Karte der Passagen")).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_role("heading", name="Themen im Einzelnen")).to_be_visible()
        # the map is drawn (Vega renders into a canvas or an SVG once its data arrived)
        chart = page.get_by_test_id("stVegaLiteChart").first
        expect(chart.locator("canvas, svg").first).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text("Themen nach Stakeholdergruppen")).to_be_visible()
        page.wait_for_timeout(1500)  # let the charts finish drawing before the picture
        page.screenshot(path=str(artifacts / "themes_run.png"), full_page=True)
    finally:
        context.close()

    with Project(path) as project:
        (run,) = project.theme_runs()
        # Every answer once, by its topic code; the statement type A1 on the same spans is a subcode
        # and is not clustered unless asked for.
        answers = sum(len(sentences) for sentences in TOPICS.values()) * len(GROUPS)
        assert run["created_by"] == "lead" and run["segments"] == answers


def test_a_lead_ticks_passages_in_a_card_and_moves_them_to_another_theme(themes_project, browser, log_in, artifacts):
    from playwright.sync_api import expect

    url, path = themes_project
    with Project(path) as project:
        if not project.theme_runs():  # this test run alone: make the run the first test makes in the browser
            start_run(project, HashingEmbedder(), "lead", name="Themenlauf 1")
        run = project.theme_runs()[0]
        before = project.theme_revision(run["id"])
    first = next(th for th in before["state"]["themes"] if th["status"] == "active")
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = _themes_page(context, url, log_in)
        card = page.locator(f".st-key-theme_card_{first['id']}")
        card.get_by_text("Bearbeiten").click()
        card.get_by_text("Passagen zeigen und verschieben").click()
        grid = card.get_by_test_id("stDataFrame")
        expect(grid).to_be_visible()
        page.wait_for_timeout(1000)  # the grid draws into a canvas after its data arrived
        box = grid.bounding_box()
        for row in (0, 1):  # the row markers (tick boxes) sit in the grid's first, narrow column
            page.mouse.click(box["x"] + 14, box["y"] + 35 + 35 * row + 17)
            page.wait_for_timeout(700)
        page.screenshot(path=str(artifacts / "themes_move_ticked.png"), full_page=True)
        card.get_by_role("button", name="Verschieben").click()
        expect(page.get_by_text("Gespeichert.")).to_be_visible()
    finally:
        context.close()

    with Project(path) as project:
        after = project.theme_revision(run["id"])
    assert after["action"] == "move" and after["number"] == before["number"] + 1
    moved = after["details"]["segments"]
    assert moved == first["members"][:2]  # the two rows ticked, in the card's order
    target = after["details"]["into"]
    assert target != first["id"] and all(after["state"]["assignments"][m] == target for m in moved)
