"""The transcript view in a real browser: mouse selections come back as exact code-point offsets,
overlapping codes are drawn, and transcript text or code names are never run as HTML."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

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
    ({"start": 6, "end": 13, "quote": "Hallo, "}, "TranscriptEvent(selection=(5, 11, 'Hallo,'), clicked=None)"),
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path):
    """A Streamlit server running a one-component script; yields its URL."""
    data = json.dumps({"text": TEXT, "turns": TURNS, "codings": CODINGS, "codes": CODES, "long_text": LONG_TEXT,
                       "long_turns": LONG_TURNS, "long_codings": LONG_CODINGS})
    script = tmp_path / "transcript_app.py"
    script.write_text(textwrap.dedent(APP.format(data=data)), encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    pytest.fail("the Streamlit server did not start")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=20)


# The bounding box of a word in the transcript (not the legend) inside the component's shadow root
# (the Range API counts UTF-16 units, which is fine here: it is the browser measuring its own text).
WORD_BOX = """
([word, nth]) => {
  const host = document.querySelector('[data-testid="stBidiComponentIsolated"]');
  const root = host.shadowRoot.querySelector(".cw-body");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let seen = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let at = node.data.indexOf(word);
    while (at !== -1) {
      if (seen++ === nth) {
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + word.length);
        const r = range.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
      }
      at = node.data.indexOf(word, at + 1);
    }
  }
  return null;
}
"""


@pytest.mark.e2e
def test_a_mouse_selection_after_emoji_returns_python_offsets_and_nothing_runs_as_html(app_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download "
                                   "needed: the test uses Debian's /usr/bin/chromium)")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium); the browser test needs it")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(app_url)
            expect = sync_api.expect
            expect(page.get_by_text("selection: null")).to_be_visible(timeout=30_000)
            expect(page.locator(".cw-piece").first).to_be_visible(timeout=30_000)

            # Transcript text and code names are text, never markup.
            expect(page.get_by_text("<img src=x onerror=alert(1)>").first).to_be_visible()
            expect(page.get_by_text("<script>", exact=True)).to_be_visible()
            assert page.locator(".cw img, .cw script, .cw b").count() == 0

            # Drag from "passt" to "Miete", across the three overlapping codings. Before it stand 😀,
            # the family emoji and 😀 again: 5 UTF-16 units more than code points.
            first = page.evaluate(WORD_BOX, ["passt", 0])
            last = page.evaluate(WORD_BOX, ["Miete", 0])
            y_first = (first["top"] + first["bottom"]) / 2
            y_last = (last["top"] + last["bottom"]) / 2
            page.mouse.move(first["left"] + 1, y_first)
            page.mouse.down()
            page.mouse.move((first["left"] + last["right"]) / 2, y_last, steps=5)
            page.mouse.move(last["right"] - 1, y_last, steps=5)
            page.mouse.up()
            expect(page.get_by_text(re.compile(r"^selection: \["))).to_be_visible(timeout=20_000)
            start, end, quote = json.loads(page.get_by_text(re.compile(r"^selection: ")).inner_text()[11:])
            assert (start, end) == (TEXT.index("passt"), TEXT.index("Miete") + len("Miete"))
            assert quote == TEXT[start:end] == "passt oft nicht, äh, und die Miete"
            page.screenshot(path=str(ARTIFACTS / "transcript_selection.png"), full_page=True)

            # A click on a highlight names the codings under the pointer and where it was.
            steigt = page.evaluate(WORD_BOX, ["steigt", 0])
            page.mouse.click(steigt["left"] + 3, (steigt["top"] + steigt["bottom"]) / 2)
            expect(page.get_by_text(re.compile(r"^clicked: \["))).to_be_visible(timeout=20_000)
            coding_ids, offset = json.loads(page.get_by_text(re.compile(r"^clicked: ")).inner_text()[9:])
            assert sorted(coding_ids) == [2, 3]
            assert TEXT.index("steigt") <= offset <= TEXT.index("steigt") + 1
            page.screenshot(path=str(ARTIFACTS / "transcript_component.png"), full_page=True)
            assert dialogs == []
        finally:
            browser.close()


@pytest.mark.e2e
def test_a_coding_opened_from_elsewhere_is_emphasised_and_scrolled_into_view(app_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium); the browser test needs it")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.goto(app_url + "?long=1")
            focus = page.locator(".cw-focus")
            sync_api.expect(focus).to_have_count(1, timeout=30_000)
            assert focus.inner_text().startswith("Absatz 55")
            assert page.locator(".cw-bar-focus").count() == 1
            inside = page.evaluate("""() => {
              const root = document.querySelector('[data-testid="stBidiComponentIsolated"]').shadowRoot;
              const body = root.querySelector(".cw-body").getBoundingClientRect();
              const focus = root.querySelector(".cw-focus").getBoundingClientRect();
              return focus.top >= body.top && focus.bottom <= body.bottom;
            }""")
            assert inside
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "transcript_focus.png"), full_page=True)
        finally:
            browser.close()
