"""The transcript view in a real browser: mouse selections come back as exact code-point offsets,
overlapping codes are drawn, and transcript text or code names are never run as HTML."""
from __future__ import annotations

import json
import re
import textwrap

import pytest

TEXT = ("Interview E2E – Testort\nDatum: 01.04.2026\n\n"
        "I: Grüß Gott 😀 und 👩\u200d👩\u200d👧! Was sagen Sie zu <img src=x onerror=alert(1)>?\n\n"
        "B: Die Größe der Wohnungen 😀 passt oft nicht, äh, und die Miete steigt jedes Jahr. Übrigens: café.")
SAID_I = TEXT.index("Grüß")
SAID_B = TEXT.index("Die Größe")
TURNS = [{"speaker": "I", "role": "interviewer", "start": SAID_I, "end": TEXT.index("\n\nB:"), "timestamp": 7.3},
         {"speaker": "B", "role": "respondent", "start": SAID_B, "end": len(TEXT), "timestamp": 62.0}]
CODES = [{"id": "c-script", "name": "<script>", "color": "#E15759"},
         {"id": "c-wohnen", "name": "Wohnen", "color": "#4E79A7"},
         {"id": "c-geld", "name": "Geld & Miete", "color": "#59A14F"}]
CODINGS = [  # three codings overlapping around "Miete"
    {"id": 1, "start": TEXT.index("Größe der"), "end": TEXT.index(", äh"), "code_id": "c-wohnen", "memo": ""},
    {"id": 2, "start": TEXT.index("passt"), "end": TEXT.index(" jedes"), "code_id": "c-script",
     "memo": "<b>memo</b>"},
    {"id": 3, "start": TEXT.index("die Miete"), "end": TEXT.index(". Übrigens"), "code_id": "c-geld", "memo": ""},
]

# A long interview (60 turns) with one coding near its end, opened as from the Retrieve page.
LONG_TEXT = "\n\n".join(f"B: Absatz {n}: " + "Wir reden über das Quartier und die Nachbarschaft. " * 4
                         for n in range(60))
LONG_TURNS = [{"speaker": "B", "role": "respondent", "start": m.start() + 3, "end": m.end(), "timestamp": None}
              for m in re.finditer(r"B: [^\n]+", LONG_TEXT)]
LONG_CODINGS = [{"id": 41, "start": LONG_TEXT.index("Absatz 55"), "end": LONG_TEXT.index("Absatz 56") - 5,
                 "code_id": "c-wohnen", "memo": ""}]

APP = """
import json, streamlit as st
from ui.components.transcript import transcript_view
data = json.loads({data!r})
if "long" in st.query_params:
    transcript_view(data["long_text"], data["long_turns"], data["long_codings"], data["codes"], key="long",
                    selected_coding=41, height=360)
    st.stop()
event = transcript_view(data["text"], data["turns"], data["codings"], data["codes"], key="transcript", height=360)
st.text("selection: " + json.dumps(event.selection if event else None, ensure_ascii=False))
st.text("clicked: " + json.dumps(event.clicked if event else None, ensure_ascii=False))
"""


def test_the_browser_gets_every_character_once_speaker_labels_hidden_and_the_header_dimmed():
    """Not a browser test: what transcript_view sends, which the selection arithmetic relies on."""
    from ui.components.transcript import transcript_data

    data = transcript_data(TEXT, TURNS, CODINGS, CODES)
    rows = [(block["kind"], row) for block in data["blocks"] for row in block["pieces"]]
    assert "".join(row[1] for _, row in rows) == TEXT
    assert [row[0] for _, row in rows] == sorted(row[0] for _, row in rows)
    shown = {kind: "".join(row[1] for k, row in rows if k == kind) for kind in ("outside", "hidden")}
    assert shown["outside"] == "Interview E2E – Testort\nDatum: 01.04.2026"
    assert shown["hidden"] == "\n\nI: \n\nB: "
    assert [b["time"] for b in data["blocks"] if b["kind"] == "turn"] == ["00:00:07", "00:01:02"]
    assert [entry["code"] for entry in data["legend"]] == ["c-script", "c-wohnen", "c-geld"]


VIEW = """
import streamlit as st
from ui.components.transcript import transcript_view
event = transcript_view({text!r}, [], [], [], key="t")
st.text(repr(event))
"""


@pytest.mark.parametrize(("sent", "expected"), [
    ({"start": 6, "end": 13, "quote": "Hallo, "}, "TranscriptEvent(selection=(5, 11, 'Hallo,'), clicked=None, cursor=None)"),
    ({"start": 6, "end": 13, "quote": "Tschüss"}, "None"),
])
def test_the_server_repairs_or_refuses_what_the_browser_sent(sent, expected):
    """Not a browser test: the view's Python side under AppTest, with a selection as a client counting
    UTF-16 units would send it (after one emoji: one too far), and one whose quote is not there."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(VIEW.format(text="B: 😀 Hallo, Welt"), default_timeout=30)
    at.session_state["t"] = {"selection": sent}
    at.run()
    assert not at.exception
    assert at.text[0].value == expected
    assert [w.value for w in at.warning] == ([] if expected != "None" else [
        "the selected text 'Tschüss' is not in the document near 6-13; the document may have changed since the "
        "page was loaded: reload it and select again"])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, serve):
    """A Streamlit server running a one-component script (one for the module); yields its URL."""
    data = json.dumps({"text": TEXT, "turns": TURNS, "codings": CODINGS, "codes": CODES, "long_text": LONG_TEXT,
                       "long_turns": LONG_TURNS, "long_codings": LONG_CODINGS})
    script = tmp_path_factory.mktemp("transcript_app") / "transcript_app.py"
    script.write_text(textwrap.dedent(APP.format(data=data)), encoding="utf-8")
    return serve(script)


@pytest.mark.e2e
def test_a_mouse_selection_after_emoji_returns_python_offsets_and_nothing_runs_as_html(
        app_url, browser, word_box, select_words, artifacts):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1100, "height": 800})
    try:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(app_url)
        expect(page.get_by_text("selection: null")).to_be_visible(timeout=30_000)
        expect(page.locator(".cw-piece").first).to_be_visible(timeout=30_000)

        # Transcript text and code names are text, never markup.
        expect(page.get_by_text("<img src=x onerror=alert(1)>").first).to_be_visible()
        expect(page.get_by_text("<script>", exact=True)).to_be_visible()
        assert page.locator(".cw img, .cw script, .cw b").count() == 0

        # Drag from "passt" to "Miete", across the three overlapping codings. Before it stand 😀,
        # the family emoji and 😀 again: 5 UTF-16 units more than code points.
        select_words(page, "passt", "Miete")
        expect(page.get_by_text(re.compile(r"^selection: \["))).to_be_visible(timeout=20_000)
        start, end, quote = json.loads(page.get_by_text(re.compile(r"^selection: ")).inner_text()[11:])
        assert (start, end) == (TEXT.index("passt"), TEXT.index("Miete") + len("Miete"))
        assert quote == TEXT[start:end] == "passt oft nicht, äh, und die Miete"
        page.screenshot(path=str(artifacts / "transcript_selection.png"), full_page=True)

        # A click on a highlight names the codings under the pointer and where it was.
        steigt = word_box(page, "steigt")
        page.mouse.click(steigt["left"] + 3, (steigt["top"] + steigt["bottom"]) / 2)
        expect(page.get_by_text(re.compile(r"^clicked: \["))).to_be_visible(timeout=20_000)
        coding_ids, offset = json.loads(page.get_by_text(re.compile(r"^clicked: ")).inner_text()[9:])
        assert sorted(coding_ids) == [2, 3]
        assert TEXT.index("steigt") <= offset <= TEXT.index("steigt") + 1
        page.screenshot(path=str(artifacts / "transcript_component.png"), full_page=True)
        assert dialogs == []
    finally:
        page.context.close()


@pytest.mark.e2e
def test_a_coding_opened_from_elsewhere_is_emphasised_and_scrolled_into_view(app_url, browser, artifacts):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1100, "height": 800})
    try:
        page.goto(app_url + "?long=1")
        focus = page.locator(".cw-focus")
        expect(focus).to_have_count(1, timeout=30_000)
        assert focus.inner_text().startswith("Absatz 55")
        assert page.locator(".cw-bar-focus").count() == 1
        inside = page.evaluate("""() => {
          const root = document.querySelector('[data-testid="stBidiComponentIsolated"]').shadowRoot;
          const body = root.querySelector(".cw-body").getBoundingClientRect();
          const focus = root.querySelector(".cw-focus").getBoundingClientRect();
          return focus.top >= body.top && focus.bottom <= body.bottom;
        }""")
        assert inside
        page.screenshot(path=str(artifacts / "transcript_focus.png"), full_page=True)
    finally:
        page.context.close()
