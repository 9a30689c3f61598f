"""The review page in a real browser: a coder ticks suggested codings and accepts them in one go.

Screenshots go to tests/artifacts/review_*.png.
"""
from __future__ import annotations

import pytest

from coding.store import Project
from tests.e2e.conftest import logged_in
from tests.test_review import CODES, PASSWORD, make_project

pytestmark = pytest.mark.e2e

TIMEOUT = 30_000  # ms
SUGGESTER_TIMEOUT = 90_000  # ms: the suggester is fitted in the background after the first page run
VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def reviewing(tmp_path_factory, serve):
    """(url, database path): two interviews, two code groups, a few codings to learn from, a coder."""
    path = make_project(tmp_path_factory.mktemp("review"), ("coder",))
    url = serve("app.py", {"CODEWERK_PROJECT": str(path), "CODEWERK_ADMIN_PASSWORD": "admin-passwort-lang"})
    return url, path


def test_a_coder_ticks_two_suggestions_and_accepts_them(reviewing, browser, artifacts):
    from playwright.sync_api import expect

    url, path = reviewing
    dialogs: list[str] = []
    with logged_in(browser, url, "coder", PASSWORD, viewport=VIEWPORT, timeout=TIMEOUT) as page:
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.get_by_test_id("stSidebar").get_by_role("link", name="Vorschläge prüfen").click()
        expect(page.get_by_role("heading", name="Vorschläge prüfen")).to_be_visible()
        rows = page.get_by_test_id("stCheckbox")
        expect(rows.first).to_be_visible(timeout=SUGGESTER_TIMEOUT)
        expect(page.get_by_text("6 offene Vorschläge ab 60 % Sicherheit")).to_be_visible()
        texts = page.get_by_test_id("stText")
        ticked = [texts.nth(i).inner_text() for i in (0, 2)]
        for i in (0, 2):
            rows.nth(i).click()
            expect(rows.nth(i).get_by_role("checkbox")).to_be_checked()
        expect(page.get_by_role("checkbox", checked=True)).to_have_count(2)
        page.screenshot(path=str(artifacts / "review_ticked.png"), full_page=True)
        page.get_by_role("button", name="Alle markierten übernehmen").click()
        expect(page.get_by_text("2 Kodierung(en) angelegt, 0 schon vorhanden.")).to_be_visible()
        expect(page.get_by_text("4 offene Vorschläge ab 60 % Sicherheit")).to_be_visible()
        expect(rows).to_have_count(4)
        page.screenshot(path=str(artifacts / "review_accepted.png"), full_page=True)

    names = {code.id: code.name for code in CODES}
    expected = set()
    for text in ticked:  # "Wohnen · 67 % · R01\nEine größere Wohnung …"
        head, passage = text.split("\n", 1)
        code, _, document = head.split(" · ")
        expected.add((document, code, passage))
    with Project(path) as project:
        documents = {d["id"]: d["name"] for d in project.documents()}
        codings = [c for c in project.codings() if c["coder"] == "coder"]
        assert {(documents[c["document_id"]], names[c["code_id"]], c["quote"]) for c in codings} == expected
        assert len(codings) == 2
        assert {(c["origin"], c["model_id"]) for c in codings} == {("suggestion", "hashing-v1-256")}
        rates = project.suggestion_rates()
        assert (sum(r["accepted"] for r in rates), sum(r["rejected"] for r in rates)) == (2, 0)
    assert dialogs == []
