"""UI speed: opening a 20,000-word interview with 500 codings, and applying a code, in a real browser.

Usage: python bench/ui_speed.py [--runs 5]
Writes its figures into BENCHMARKS.md (section "ui"). Needs ../shared/benchmarks/stadtratwatch_magdeburg
and Debian's Chromium at /usr/bin/chromium (driven by Playwright; no browser is downloaded). Not part of
the test suite: it starts `streamlit run app.py` on a project it builds in a temporary folder.

What is measured, in the browser's own clock (performance.now()):
  open   from the click on the document in the picker until the transcript view holds every piece of
         the document (its last piece exists and the number of highlighted pieces is the expected
         one) and a requestAnimationFrame has fired after that;
  apply  from the click on "Zuweisen" until the new coding's highlight exists in the view, plus a frame.
Where the time goes: each WebSocket message's arrival is recorded too, so a run splits into "until
the transcript's data has arrived" (the server's script run and the transfer) and "after it" (the
browser: decoding, Streamlit's React tree, the component's DOM, layout, margin bars, paint); the
script run alone is timed in this process with Streamlit's AppTest, and the component's data with
transcript_data().
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.magdeburg import DATA, load_sessions, write_session  # noqa: E402
from bench.report import machine, write_section  # noqa: E402
from coding import auth  # noqa: E402
from coding.codebook import Code, Codebook  # noqa: E402
from coding.importing import import_paths  # noqa: E402
from coding.store import Project  # noqa: E402

# The browser-test helpers (Streamlit server, Chromium, mouse selection) live in the e2e conftest.
_spec = importlib.util.spec_from_file_location("codewerk_e2e_helpers", ROOT / "tests" / "e2e" / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

TARGET_WORDS = 20_000
CODINGS = 500
SEED = 20261121
PASSWORD = "bench-passwort-lang"
VIEWPORT = {"width": 1400, "height": 900}
CODES = [("Wohnen", "#4E79A7"), ("Arbeit", "#F28E2B"), ("Bildung", "#E15759"), ("Verkehr", "#76B7B2"),
         ("Finanzen", "#59A14F"), ("Verwaltung", "#EDC948"), ("Kultur", "#B07AA1"), ("Sport", "#FF9DA7"),
         ("Umwelt", "#9C755F"), ("Soziales", "#BAB0AC"), ("Sicherheit", "#1F77B4"), ("Beteiligung", "#2CA02C")]
APPLY_CODE = "Beteiligung"
SCREENSHOTS = ROOT / "bench" / "out"  # git-ignored

# Recorded in every page before Streamlit loads: clicks (pointer down) and WebSocket messages (time, bytes).
INSTRUMENT = """
window.__clicks = [];
window.__messages = [];
window.addEventListener("pointerdown", () => window.__clicks.push(performance.now()), true);
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (event) => {
      const d = event.data;
      window.__messages.push([performance.now(), d.byteLength ?? d.size ?? d.length ?? 0]);
    });
  }
};
"""

# The transcript component's shadow root (the session-cookie component is another isolated host).
ROOT_JS = """const cwRoot = () => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
  .map((h) => h.shadowRoot).find((r) => r && r.querySelector(".cw-body"));"""

# Starts watching (returns at once): window.__done becomes the time of the first frame after the view
# shows the whole document with `coded` highlighted pieces (open), or a coding id above `above` (apply).
WATCH = ROOT_JS + """
({lastStart, coded, above}) => {
  window.__done = null;
  const ready = () => {
    const root = cwRoot();
    if (!root || !root.querySelector(`.cw-piece[data-start="${lastStart}"]`)) return false;
    if (coded !== null && root.querySelectorAll(".cw-coded").length !== coded) return false;
    if (above !== null) {
      const ids = [...root.querySelectorAll("[data-codings]")].flatMap((e) => e.dataset.codings.split(" "));
      if (!ids.some((id) => Number(id) > above)) return false;
    }
    return true;
  };
  const check = () => {
    if (ready()) requestAnimationFrame(() => { window.__done = performance.now(); });
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}
"""


def build_project(folder: Path) -> dict:
    """A project with a short interview first and the ~20,000-word one second, 500 codings on the latter."""
    sessions = load_sessions()
    names = list(sessions)
    big_session = next(s for s in names if sum(len(t["text"].split()) for t in sessions[s]) >= TARGET_WORDS)
    turns, words = [], 0
    for turn in sessions[big_session]:
        turns.append(turn)
        words += len(turn["text"].split())
        if words >= TARGET_WORDS:
            break
    small_session = next(s for s in names if s != big_session)
    small = write_session(small_session, sessions[small_session][:6], folder, "txt", name="A_kurz")
    big = write_session(big_session, turns, folder, "txt", name="B_ratssitzung")
    path = folder / "ui.db"
    with Project.create(path) as project:
        import_paths(project, [small], user="bench")
        import_paths(project, [big], user="bench")
        project.save_codebook(Codebook(codes=[Code(id=f"C{i:02d}", name=name, color=color)
                                              for i, (name, color) in enumerate(CODES, start=1)]), "bench")
        auth.create_account(project, "kodiererin", "coder", PASSWORD, "bench")
        document = project.document("B_ratssitzung")
        text, doc_turns = document["text"], project.turns(document["id"])
        spans = _random_spans(text, doc_turns, CODINGS)
        for coder in ("kodiererin", "kollege"):
            project.add_codings([{"document_id": document["id"], "start": s, "end": e, "code_id": c}
                                 for s, e, c, who in spans if who == coder], coder)
        codings = project.codings(document["id"])
        codes = project.codes()
    return {"path": path, "id": document["id"], "text": text, "turns": doc_turns, "codings": codings,
            "codes": codes, "words": document["word_count"], "session": big_session}


def _random_spans(text: str, turns: list[dict], n: int) -> list[tuple[int, int, str, str]]:
    """n distinct spans of 5-60 whole words inside turns, seeded; codes and coders drawn at random."""
    rng = random.Random(SEED)
    words = [[(m.start() + t["start"], m.end() + t["start"]) for m in re.finditer(r"\S+", text[t["start"]:t["end"]])]
             for t in turns]
    words = [w for w in words if len(w) >= 5]
    spans: set[tuple[int, int, str, str]] = set()
    while len(spans) < n:
        turn = rng.choices(words, weights=[len(w) for w in words])[0]
        first = rng.randrange(len(turn) - 4)
        last = min(first + rng.randint(5, 60), len(turn)) - 1
        spans.add((turn[first][0], turn[last][1], f"C{rng.randint(1, len(CODES)):02d}",
                   rng.choice(("kodiererin", "kollege"))))
    return sorted(spans)


def _passages(text: str, turns: list[dict], count: int) -> list[tuple[str, int, str, int]]:
    """`count` passages of about ten words spread over the document, as (first word, its occurrence,
    last word, its occurrence): words of letters only, so that they are easy to find on the screen."""
    chosen = []
    for k in range(count):
        turn = turns[(k + 1) * len(turns) // (count + 1)]
        offset = turn["start"]
        words = [(m.group(), m.start() + offset) for m in re.finditer(r"\w{4,}", text[offset:turn["end"]])]
        for i in range(len(words) - 12):
            (first, at_first), (last, at_last) = words[i], words[i + 8]
            if first.isalpha() and last.isalpha() and text[at_first:at_last].count("\n") == 0:
                chosen.append((first, text.count(first, 0, at_first), last, text.count(last, 0, at_last)))
                break
    return chosen


def _quiet_streamlit() -> None:
    """Streamlit used outside a server (transcript_data, AppTest's session state) warns about a missing
    script context on every call; those warnings are noise here."""
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    if not any(isinstance(f, _NoContextWarning) for f in logger.filters):
        logger.addFilter(_NoContextWarning())


class _NoContextWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "missing ScriptRunContext" not in record.getMessage()


def _expected_view(project: dict) -> tuple[int, int]:
    """(start of the last piece, number of highlighted pieces) the component shows for the document."""
    _quiet_streamlit()
    from ui.components.transcript import transcript_data

    data = transcript_data(project["text"], project["turns"], project["codings"], project["codes"], height=720)
    rows = [row for block in data["blocks"] for row in block["pieces"]]
    return rows[-1][0], sum(1 for row in rows if row[2])


def _timed(page, click) -> dict[str, float]:
    """Run `click` with the watcher armed; the time from that click to the painted frame, and the split
    at the largest WebSocket message (the transcript's data) that arrived in between."""
    page.evaluate("() => { window.__clicks = []; window.__messages = []; }")
    wall = time.perf_counter()
    click()
    page.wait_for_function("() => window.__done !== null", timeout=120_000, polling=50)
    wall = time.perf_counter() - wall
    clicks, messages, done = page.evaluate("() => [window.__clicks, window.__messages, window.__done]")
    start = clicks[-1]
    inside = [(at, size) for at, size in messages if start <= at <= done]
    data_at, data_size = max(inside, key=lambda m: m[1]) if inside else (start, 0)
    return {"total": (done - start) / 1000, "until_data": (data_at - start) / 1000,
            "after_data": (done - data_at) / 1000, "bytes": data_size, "wall": wall}


def _open_document(page, name: str) -> None:
    page.get_by_role("combobox", name="Dokument", exact=True).click()
    page.get_by_role("option", name=name, exact=True).click()


def measure_browser(project: dict, runs: int) -> dict[str, list[dict]]:
    from playwright.sync_api import expect, sync_playwright

    last_start, coded = _expected_view(project)
    env = {"CODEWERK_PROJECT": str(project["path"]), "CODEWERK_ADMIN_PASSWORD": "admin-passwort-lang"}
    results: dict[str, list[dict]] = {"open": [], "apply": []}
    with e2e.streamlit_server("app.py", env) as url, sync_playwright() as playwright:
        browser = e2e.launch_chromium(playwright)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(60_000)
            page.add_init_script(INSTRUMENT)
            e2e.log_in(page, url, "kodiererin", PASSWORD)
            expect(page.get_by_role("combobox", name="Dokument", exact=True)).to_have_value("A_kurz")

            # (a) open: from the short interview to the long one, `runs` times
            for _ in range(runs):
                _open_document(page, "A_kurz")
                expect(page.locator(".cw-outside").first).to_contain_text("Stadtratssitzung")
                expect(page.locator(".cw-coded")).to_have_count(0)
                page.get_by_role("combobox", name="Dokument", exact=True).click()
                page.evaluate(WATCH, {"lastStart": last_start, "coded": coded, "above": None})
                option = page.get_by_role("option", name="B_ratssitzung", exact=True)
                results["open"].append(_timed(page, option.click))
                print("open", results["open"][-1], flush=True)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "ui_speed_long_document.png"))

            # (b) apply: select a passage with the mouse, pick a code, time the click on "Zuweisen"
            for first, nth_first, last, nth_last in _passages(project["text"], project["turns"], runs):
                e2e.select_words(page, first, last, nth_first=nth_first, nth_last=nth_last)
                picker = page.get_by_role("combobox", name="Codes zuweisen")
                picker.click()
                picker.press_sequentially(APPLY_CODE)
                picker.press("Enter")
                picker.press("Escape")
                button = page.get_by_role("button", name="Zuweisen")
                expect(button).to_be_enabled()
                with Project(project["path"]) as p:
                    above = max(c["id"] for c in p.codings(include_removed=True))
                page.evaluate(WATCH, {"lastStart": last_start, "coded": None, "above": above})
                results["apply"].append(_timed(page, button.click))
                print("apply", results["apply"][-1], flush=True)
            page.screenshot(path=str(SCREENSHOTS / "ui_speed_applied.png"))
        finally:
            browser.close()
    return results


def measure_server(project: dict, runs: int) -> dict[str, float]:
    """The Code page's script run for the long document, without a browser (AppTest), and its parts."""
    from streamlit.testing.v1 import AppTest

    from ui.components.transcript import transcript_data

    _quiet_streamlit()
    timings = []
    with Project(project["path"]) as p:
        session = auth.login(p, "kodiererin", PASSWORD)
    for _ in range(runs + 1):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["project_path"] = str(project["path"])
        at.session_state["session"] = session
        at.session_state["document_id"] = project["id"]
        start = time.perf_counter()
        at.run()
        timings.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    start = time.perf_counter()
    for _ in range(runs):
        data = transcript_data(project["text"], project["turns"], project["codings"], project["codes"], height=720)
    prepare = (time.perf_counter() - start) / runs
    payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
    with Project(project["path"]) as p:
        start = time.perf_counter()
        for _ in range(runs):
            p.document(project["id"]), p.codings(project["id"]), p.turns(project["id"]), p.codes()
        queries = (time.perf_counter() - start) / runs
    return {"script": statistics.median(timings[1:]), "script_first": timings[0], "prepare": prepare,
            "queries": queries, "payload": len(payload),
            "pieces": sum(len(b["pieces"]) for b in data["blocks"])}


def _row(label: str, runs: list[dict], target: float) -> str:
    totals = [r["total"] for r in runs]
    median = statistics.median(totals)
    verdict = "met" if median < target else "**missed**"
    return (f"| {label} | {median:.2f} s | {max(totals):.2f} s | {target:.0f} s ({verdict}) | "
            f"{statistics.median(r['until_data'] for r in runs):.2f} s | "
            f"{statistics.median(r['after_data'] for r in runs):.2f} s |\n")


def _larger(runs: list[dict]) -> str:
    server = statistics.median(r["until_data"] for r in runs)
    return "browser's" if statistics.median(r["after_data"] for r in runs) > server else "server's and transfer"


def report(project: dict, browser: dict[str, list[dict]], server: dict[str, float], runs: int) -> str:
    overlaps = sum(1 for a, b in zip(project["codings"], project["codings"][1:]) if b["start"] < a["end"])
    opened, applied = browser["open"], browser["apply"]
    body = (
        "## UI\n\nCommand: `python bench/ui_speed.py` (Playwright with Debian's Chromium, headless; "
        f"`streamlit run app.py` on the same machine). {machine()}.\n\n"
        f"One transcript of **{project['words']:,} words** ({len(project['turns'])} consecutive speech turns of "
        f"the Magdeburg council session {project['session']}, written as f4 text) with **{len(project['codings'])} "
        f"codings** (seeded random spans of 5-60 whole words inside turns, {len(CODES)} codes, two coders; "
        f"{overlaps} of them start inside the one before), which the view draws as {server['pieces']:,} pieces. "
        f"Times in the browser's clock, {runs} runs each:\n\n"
        "| step | median | max | target | until the data has arrived (median) | after it: browser (median) |\n"
        "|---|---|---|---|---|---|\n"
        + _row("open: click on the document in the picker until every piece and highlight is drawn and a "
               "frame has fired", opened, 2)
        + _row("apply: click on \"Zuweisen\" until the new highlight exists (and a frame has fired)", applied, 1)
        + "\n"
        f"Where the time goes: the whole Code page's script run for this document takes {server['script']:.2f} s "
        f"(median of {runs} AppTest runs, AppTest's own work included; the first in a process "
        f"{server['script_first']:.2f} s), of "
        f"which the database reads take {server['queries'] * 1000:.0f} ms and cutting the text into pieces "
        f"(`transcript_data`) {server['prepare'] * 1000:.0f} ms. \"Until the data has arrived\" runs from "
        "the click to the largest WebSocket message (the transcript's data: the script run up to the "
        "transcript view, and the transfer); \"after it\" is the browser's part: decoding, Streamlit's React "
        "update, building the component's DOM, layout and the margin bars. The transcript's data is "
        f"{server['payload'] / 1e6:.2f} MB of JSON; the first open sends it "
        f"({opened[0]['bytes'] / 1e6:.2f} MB message; that run {opened[0]['total']:.2f} s, "
        f"{opened[0]['until_data']:.2f} s of it until the data had arrived), later opens of the unchanged "
        "document get a reference into Streamlit's message cache in the browser "
        f"({statistics.median(r['bytes'] for r in opened[1:] or opened) / 1e3:.1f} kB). Applying a code "
        "changes the data, so the whole view is sent "
        f"({statistics.median(r['bytes'] for r in applied) / 1e6:.2f} MB) and rebuilt. "
        + " ".join(f"{name.capitalize()}: the {_larger(runs)} part is the larger one."
                   for name, runs in (("open", opened), ("apply", applied))) + "\n"
    )
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: the benchmark needs the shared folder beside the repository")
    if not e2e.CHROMIUM.exists():
        sys.exit(f"{e2e.CHROMIUM} is absent: make chromium (or apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        project = build_project(Path(tmp))
        print(f"{project['words']:,} words, {len(project['codings'])} codings", flush=True)
        browser = measure_browser(project, args.runs)
        server = measure_server(project, args.runs)
        print(json.dumps(server), flush=True)
        body = report(project, browser, server, args.runs)
    print(body)
    write_section("ui", body)


if __name__ == "__main__":
    main()
