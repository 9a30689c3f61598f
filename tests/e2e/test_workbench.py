"""The workbench as a person uses it, in a real browser: log in, open an interview, select a passage
with the mouse, apply a code; two coders at once; hostile text stays text; logging out ends the session.

One project and one `streamlit run app.py` for the whole module; each test logs in in its own browser
context (its own cookies) and works on its own interview, so the tests do not depend on each other.
Screenshots go to tests/artifacts/workbench_*.png.
"""
from __future__ import annotations

import pytest

from coding import auth
from coding.codebook import Code, Codebook
from coding.importing import import_paths
from coding.store import Project
from tests.e2e.conftest import settled_word_box

pytestmark = pytest.mark.e2e

PASSWORD = "ein-langes-passwort"
TIMEOUT = 30_000  # ms; a first script run on a cold server takes a few seconds
VIEWPORT = {"width": 1400, "height": 900}

INTERVIEWS = {
    # The first document: the Code page opens it when nothing else was chosen, also after a reload.
    "A01": ("Interview A01 – Nordstadt\nDatum: 01.04.2026\n\n"
            "I: Wie wohnen Sie heute?\n\n"
            "B: Die Wohnung ist klein, aber die Nachbarn sind freundlich und hilfsbereit. "
            "Die Miete steigt jedes Jahr, äh, das macht uns Sorgen.\n\n"
            "I: Und im Quartier?\n\n"
            "B: Im Quartierstreff gibt es Sprachcafés, da gehen wir gern hin.\n"),
    "B02": ("Interview B02 – Südhafen\n\n"
            "I: Was war am Anfang schwierig?\n\n"
            "B: Die Behörden antworten langsam, manchmal erst nach Wochen. "
            "Der Sprachkurs beginnt erst im Herbst, vorher können wir nur warten.\n"),
    "C03": ("Interview C03 – Weststadt\n\n"
            "I: Wie kommen die Kinder zur Schule?\n\n"
            "B: Der Schulbus fährt nur zweimal am Tag, deshalb bringen die Eltern ihre Kinder mit dem Fahrrad.\n"),
    "X01": ("Interview X01 – Testort\n\n"
            "I: Was stand auf dem Zettel?\n\n"
            "B: Da stand <img src=x onerror=alert(1)> und sonst nichts. Wirklich nichts Besonderes.\n"),
}
HOSTILE_CODE = "<script>alert(2)</script>"
HOSTILE_DEFINITION = "Markdown **fett** und <b>HTML</b> bleiben Text."
HOSTILE_TEXT = "<img src=x onerror=alert(1)>"
CODES = [Code(id="W1", name="Wohnen", color="#4E79A7"),
         Code(id="N1", name="Nachbarschaft", color="#59A14F"),
         Code(id="B1", name="Behördenkontakt", color="#F28E2B"),
         Code(id="S1", name="Sprache", color="#B07AA1"),
         Code(id="XS", name=HOSTILE_CODE, color="#E15759", definition=HOSTILE_DEFINITION)]
CODERS = ("anna", "ben", "cara", "dora", "emil")

# Every element in the page and in every open shadow root (the components live in shadow roots).
ALL_ELEMENTS = """(selector) => {
  const found = [];
  const visit = (root) => {
    found.push(...root.querySelectorAll(selector));
    for (const node of root.querySelectorAll("*")) if (node.shadowRoot) visit(node.shadowRoot);
  };
  visit(document);
  return found.map((node) => node.outerHTML);
}"""


@pytest.fixture(scope="module")
def workbench(tmp_path_factory, serve):
    """(url, database path): three interviews, a codebook with a hostile code name, five coders."""
    folder = tmp_path_factory.mktemp("workbench")
    path = folder / "project.db"
    for name, text in INTERVIEWS.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    with Project.create(path) as project:
        import_paths(project, [folder / f"{name}.txt" for name in INTERVIEWS], user="setup")
        project.save_codebook(Codebook(codes=CODES), "setup")
        for name in CODERS:
            auth.create_account(project, name, "coder", PASSWORD, "setup")
        x01 = project.document("X01")
        start = x01["text"].index("sonst nichts")
        project.add_coding(x01["id"], start, start + len("sonst nichts"), "XS", "setup")
    url = serve("app.py", {"CODEWERK_PROJECT": str(path), "CODEWERK_ADMIN_PASSWORD": "admin-passwort-lang"})
    return url, path


@pytest.fixture
def open_page(browser):
    """`open_page() -> (page, dialogs)`: a page in a fresh browser context; dialogs it opened are listed."""
    contexts = []

    def open_():
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        return page, dialogs

    yield open_
    for context in contexts:
        context.close()


def _expect():
    from playwright.sync_api import expect

    return expect


def _open_document(page, name: str) -> None:
    """Pick an interview in the document picker and wait until the transcript view shows it."""
    picker = page.get_by_role("combobox", name="Dokument", exact=True)
    picker.click()
    page.get_by_role("option", name=name, exact=True).click()
    _expect()(picker).to_have_value(name)
    _expect()(page.locator(".cw-outside").first).to_contain_text(f"Interview {name}")


def _apply_code(page, code_name: str, *, click: bool = True) -> None:
    """With a passage selected: type the code's name in the picker, Enter, then "Zuweisen"."""
    picker = page.get_by_role("combobox", name="Codes zuweisen")
    _expect()(picker).to_be_visible()
    picker.click()
    picker.press_sequentially(code_name)
    picker.press("Enter")
    picker.press("Escape")
    _expect()(page.get_by_test_id("stMultiSelect").get_by_text(code_name)).to_be_visible()
    button = page.get_by_role("button", name="Zuweisen")
    _expect()(button).to_be_enabled()
    if click:
        button.click()


def _coded_text(page) -> str:
    """The text of all highlighted pieces, in order."""
    return "".join(page.locator(".cw-coded").all_text_contents())


def _session_cookie(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "codewerk_session"), None)


def _wait_for_session_cookie(page, seconds: float = 10) -> str:
    """The session token, once the page's script has written the cookie (just after the login)."""
    for _ in range(int(seconds * 10)):
        token = _session_cookie(page.context)
        if token:
            return token
        page.wait_for_timeout(100)
    raise AssertionError(f"no session cookie {seconds} s after the login")


def test_a_coder_selects_a_passage_with_the_mouse_codes_it_and_finds_it_again_after_a_reload(
        workbench, open_page, log_in, select_words, artifacts):
    url, path = workbench
    page, dialogs = open_page()
    log_in(page, url, "anna", PASSWORD)
    _expect()(page.get_by_test_id("stSidebar")).to_contain_text("Angemeldet als anna (Kodierer*in)")
    _expect()(page.locator(".cw-outside").first).to_contain_text("Interview A01")
    assert page.locator(".cw-coded").count() == 0

    select_words(page, "Nachbarn", "hilfsbereit")
    _expect()(page.get_by_text("Nachbarn sind freundlich und hilfsbereit", exact=True)).to_be_visible()
    _apply_code(page, "Nachbarschaft")
    highlight = page.locator(".cw-coded").first
    _expect()(highlight).to_be_visible()
    _expect()(page.locator(".cw-legend")).to_contain_text("Nachbarschaft")
    assert _coded_text(page) == "Nachbarn sind freundlich und hilfsbereit"
    page.screenshot(path=str(artifacts / "workbench_coded.png"), full_page=True)

    page.reload()
    _expect()(page.get_by_test_id("stSidebar")).to_contain_text("Angemeldet als anna")
    _expect()(page.locator(".cw-coded").first).to_be_visible()
    assert _coded_text(page) == "Nachbarn sind freundlich und hilfsbereit"
    assert page.get_by_role("button", name="Anmelden").count() == 0
    page.screenshot(path=str(artifacts / "workbench_after_reload.png"), full_page=True)

    with Project(path) as project:
        document = project.document("A01")
        text = document["text"]
        codings = project.codings(document["id"])
    start, end = text.index("Nachbarn"), text.index("hilfsbereit") + len("hilfsbereit")
    assert [(c["start"], c["end"], c["quote"], c["code_id"], c["coder"], c["origin"]) for c in codings] == [
        (start, end, text[start:end], "N1", "anna", "human")]
    assert text[start:end] == "Nachbarn sind freundlich und hilfsbereit"
    assert page.locator(f'.cw-coded[data-start="{start}"]').count() == 1
    assert dialogs == []


def test_two_coders_code_the_same_interview_at_the_same_time_and_see_each_others_work(
        workbench, open_page, log_in, select_words, artifacts):
    url, path = workbench
    (ben, _), (cara, _) = open_page(), open_page()
    log_in(ben, url, "ben", PASSWORD)
    log_in(cara, url, "cara", PASSWORD)
    _open_document(ben, "B02")
    _open_document(cara, "B02")

    select_words(ben, "Behörden", "Wochen")
    select_words(cara, "Sprachkurs", "Herbst")
    _apply_code(ben, "Behördenkontakt", click=False)
    _apply_code(cara, "Sprache", click=False)
    # Both click "Zuweisen" within a few milliseconds: two script runs write at the same time.
    ben.get_by_role("button", name="Zuweisen").click()
    cara.get_by_role("button", name="Zuweisen").click()
    _expect()(ben.locator(".cw-legend")).to_contain_text("Behördenkontakt")
    _expect()(cara.locator(".cw-legend")).to_contain_text("Sprache")

    with Project(path) as project:
        document = project.document("B02")
        text = document["text"]
        codings = {c["coder"]: c for c in project.codings(document["id"])}
    assert sorted(codings) == ["ben", "cara"]
    expected = {"ben": ("Behörden antworten langsam, manchmal erst nach Wochen", "B1"),
                "cara": ("Sprachkurs beginnt erst im Herbst", "S1")}
    for coder, (quote, code_id) in expected.items():
        coding = codings[coder]
        assert (coding["start"], coding["end"]) == (text.index(quote), text.index(quote) + len(quote))
        assert (coding["quote"], coding["code_id"]) == (quote, code_id)

    # A rerun (showing only one's own codings, then all again) brings in the other's coding.
    for page in (ben, cara):
        page.get_by_text("meine", exact=True).click()
        _expect()(page.locator(".cw-legend-item")).to_have_count(1)
        page.get_by_text("alle", exact=True).click()
        for coding in codings.values():
            _expect()(page.locator(f'.cw-coded[data-codings~="{coding["id"]}"]').first).to_be_visible()
        _expect()(page.locator(".cw-legend")).to_contain_text("Behördenkontakt")
        _expect()(page.locator(".cw-legend")).to_contain_text("Sprache")
    assert _coded_text(ben) == _coded_text(cara) == (
        "Behörden antworten langsam, manchmal erst nach WochenSprachkurs beginnt erst im Herbst")
    ben.screenshot(path=str(artifacts / "workbench_two_coders_ben.png"), full_page=True)
    cara.screenshot(path=str(artifacts / "workbench_two_coders_cara.png"), full_page=True)


def test_transcript_text_and_code_names_are_shown_as_text_never_run(
        workbench, open_page, log_in, select_words, artifacts):
    url, path = workbench
    page, dialogs = open_page()
    log_in(page, url, "emil", PASSWORD)
    _open_document(page, "X01")

    # In the transcript, and the code name in the legend.
    _expect()(page.locator(".cw-piece", has_text=HOSTILE_TEXT)).to_be_visible()
    _expect()(page.locator(".cw-legend-name")).to_have_text([HOSTILE_CODE])
    # In the code picker (typed to search), then applied: in the recent-codes button and the rules.
    select_words(page, "Wirklich", "Besonderes")
    picker = page.get_by_role("combobox", name="Codes zuweisen")
    picker.click()
    picker.press_sequentially("script")
    _expect()(page.get_by_role("option", name=f"XS · {HOSTILE_CODE}", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / "workbench_hostile_picker.png"), full_page=True)
    picker.press("Enter")
    picker.press("Escape")
    page.get_by_role("button", name="Zuweisen").click()
    _expect()(page.locator(".cw-legend-count")).to_have_text(["2"])
    _expect()(page.get_by_role("button", name=f"1 · {HOSTILE_CODE}")).to_be_visible()
    _expect()(page.get_by_test_id("stExpander")).to_contain_text(f"Kodierregeln: {HOSTILE_CODE}")
    _expect()(page.get_by_test_id("stExpander")).to_contain_text(HOSTILE_DEFINITION)
    # A click on a highlight lists its codings, code name included.
    page.locator(".cw-coded", has_text="sonst nichts").click()
    _expect()(page.get_by_text(f"{HOSTILE_CODE} · setup", exact=False)).to_be_visible()
    page.screenshot(path=str(artifacts / "workbench_hostile.png"), full_page=True)

    # The codebook shows the name as text, too.
    page.get_by_role("link", name="Codebuch").click()
    page.get_by_role("combobox", name="Code", exact=True).click()
    page.get_by_role("option", name=f"XS · {HOSTILE_CODE}", exact=True).click()
    _expect()(page.get_by_role("heading", name=HOSTILE_CODE, exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / "workbench_hostile_codebook.png"), full_page=True)

    page.wait_for_timeout(300)  # time for an injected onerror or script to fire, had there been one
    assert dialogs == []
    assert page.evaluate(ALL_ELEMENTS, 'img[src="x"]') == []
    assert [html for html in page.evaluate(ALL_ELEMENTS, "script") if "alert(" in html] == []
    with Project(path) as project:
        document = project.document("X01")
        quotes = sorted(c["quote"] for c in project.codings(document["id"]))
    assert quotes == ["Wirklich nichts Besonderes", "sonst nichts"]


def test_logging_out_ends_the_session_for_good(workbench, open_page, log_in, browser, artifacts):
    url, path = workbench
    page, _ = open_page()
    log_in(page, url, "dora", PASSWORD)
    token = _wait_for_session_cookie(page)
    with Project(path) as project:
        assert auth.session_from_token(project, token).user == "dora"

    page.get_by_test_id("stSidebar").get_by_role("button", name="Abmelden").click()
    _expect()(page.get_by_role("button", name="Anmelden")).to_be_visible()
    page.reload()
    _expect()(page.get_by_role("button", name="Anmelden")).to_be_visible()
    _expect()(page.get_by_label("Benutzername")).to_be_visible()
    assert page.get_by_text("Angemeldet als").count() == 0
    assert _session_cookie(page.context) is None
    page.screenshot(path=str(artifacts / "workbench_logged_out.png"), full_page=True)
    with Project(path) as project:
        assert auth.session_from_token(project, token) is None

    # The old token, put back into a browser by hand, does not open the workbench either.
    thief = browser.new_context(viewport=VIEWPORT)
    try:
        thief.add_cookies([{"name": "codewerk_session", "value": token, "url": url}])
        stolen = thief.new_page()
        stolen.goto(url)
        _expect()(stolen.get_by_role("button", name="Anmelden")).to_be_visible(timeout=TIMEOUT)
        assert stolen.get_by_text("Angemeldet als").count() == 0
    finally:
        thief.close()


def test_a_click_into_an_answer_makes_its_passage_the_one_to_code_and_a_question_does_not(
        workbench, open_page, log_in, artifacts):
    url, path = workbench
    page, dialogs = open_page()
    log_in(page, url, "dora", PASSWORD)
    _open_document(page, "C03")
    answer = "Der Schulbus fährt nur zweimal am Tag, deshalb bringen die Eltern ihre Kinder mit dem Fahrrad."

    question = settled_word_box(page, "Schule?")
    page.mouse.click(question["left"] + 5, (question["top"] + question["bottom"]) / 2)
    page.wait_for_timeout(1000)
    _expect()(page.get_by_text("Markieren Sie eine Textstelle")).to_be_visible()
    assert page.get_by_role("heading", name="Passage am Cursor").count() == 0  # questions are not coded

    word = settled_word_box(page, "zweimal")
    page.mouse.click(word["left"] + 5, (word["top"] + word["bottom"]) / 2)
    _expect()(page.get_by_role("heading", name="Passage am Cursor")).to_be_visible()
    _expect()(page.get_by_test_id("stText").get_by_text(answer, exact=True)).to_be_visible()
    _apply_code(page, "Behördenkontakt")
    _expect()(page.locator(".cw-legend")).to_contain_text("Behördenkontakt")
    page.screenshot(path=str(artifacts / "workbench_cursor_passage.png"), full_page=True)

    with Project(path) as project:
        document = project.document("C03")
        (coding,) = project.codings(document["id"])
    start = document["text"].index(answer)
    assert (coding["start"], coding["end"], coding["quote"], coding["coder"]) == (
        start, start + len(answer), answer, "dora")
    assert dialogs == []
