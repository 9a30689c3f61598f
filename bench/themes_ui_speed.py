"""Themes page speed with 5,000 coded passages, in a real browser (issue 6: "< 2 s to redraw after an action").

Usage: python bench/themes_ui_speed.py [--runs 5] [--passages 5000]
Writes its figures into BENCHMARKS.md (section "themes_ui") and a screenshot to
tests/artifacts/themes_5000.png. Needs ../shared/benchmarks/stadtratwatch_magdeburg and Debian's
Chromium at /usr/bin/chromium (driven by Playwright). Not part of the test suite.

The project: council sessions imported as interviews, each given a "Stakeholdergruppe" (five groups),
a codebook of six codes and 5,000 segments coded deterministically; a theme run made beforehand with
the hashing embedder (the clustering is benchmarked elsewhere; here only the page is measured).

What is measured, wall clock in this process from the click until the condition holds and the browser
has painted two more frames:
  open    the click on "Themen" in the sidebar until the map (a canvas or SVG in the first Vega-Lite
          chart) and the first theme card are visible and the script run has ended;
  rename  the click on "Umbenennen" until the new title is on the page, the caption shows the next
          revision, the map is drawn and the script run has ended;
  merge   the click on "Zusammenführen" likewise, the caption showing one theme fewer;
  undo    the click on "Rückgängig: …" likewise, the caption showing the theme count of before.
Every WebSocket message's arrival is recorded in the page, so each action splits into "until the last
message" (the server's script run and the transfer) and "after it" (the browser drawing).
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.magdeburg import load_sessions, write_session  # noqa: E402
from bench.report import machine, write_section  # noqa: E402
from bench.ui_speed import INSTRUMENT  # noqa: E402  (clicks and WebSocket messages, timed in the page)
from coding import auth  # noqa: E402
from coding.codebook import Code, Codebook  # noqa: E402
from coding.embed import HashingEmbedder  # noqa: E402
from coding.importing import import_paths  # noqa: E402
from coding.store import Project  # noqa: E402
from coding.themes.from_project import STAKEHOLDER, load_run, start_run  # noqa: E402

_spec = importlib.util.spec_from_file_location("codewerk_e2e_helpers", ROOT / "tests" / "e2e" / "conftest.py")
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

PASSWORD = "bench-passwort-lang"
ADMIN_PASSWORD = "admin-passwort-lang-genug"
VIEWPORT = {"width": 1400, "height": 1000}
GROUPS = ["Verwaltung", "Fraktion A", "Fraktion B", "Bürgerschaft", "Presse"]
CODES = [("Wohnen", "#4E79A7"), ("Verkehr", "#F28E2B"), ("Finanzen", "#E15759"), ("Bildung", "#76B7B2"),
         ("Umwelt", "#59A14F"), ("Kultur", "#EDC948")]
SCREENSHOT = e2e.ARTIFACTS / "themes_5000.png"


# Page ready: the script run has ended, the map holds a canvas/SVG, and `texts` are all on the page.
READY = """
([texts]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute("data-test-script-state") === "running") return false;
  if (document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')) return false;
  const chart = document.querySelector('[data-testid="stVegaLiteChart"]');
  if (!chart || !chart.querySelector("canvas, svg")) return false;
  const body = document.body.innerText;
  return texts.every((t) => body.includes(t));
}
"""
FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def build_project(folder: Path, passages: int) -> dict:
    sessions = load_sessions()
    files = folder / "sessions"
    files.mkdir()
    path = folder / "themes.db"
    with Project.create(path) as project:
        segments: list[tuple[int, dict]] = []
        for i, (session, turns) in enumerate(sessions.items()):
            file = write_session(session, turns, files, "txt", name=f"S{i:03d}_{session}")
            import_paths(project, [file], user="bench")
            doc = project.documents()[-1]
            project.set_attribute(doc["id"], STAKEHOLDER, GROUPS[i % len(GROUPS)], "bench")
            segments += [(doc["id"], s) for s in project.segments(doc["id"]) if len(s["text"].split()) >= 8]
            if len(segments) >= passages * 1.5 and i + 1 >= 2 * len(GROUPS):
                break
        project.save_codebook(Codebook(codes=[Code(id=f"C{i}", name=n, color=c)
                                              for i, (n, c) in enumerate(CODES, start=1)]), "bench")
        step = len(segments) / passages  # spread the coded passages evenly over the documents
        chosen = [segments[int(k * step)] for k in range(passages)]
        project.add_codings([{"document_id": d, "start": s["start"], "end": s["end"],
                              "code_id": f"C{(d * 7 + s['idx']) % len(CODES) + 1}"} for d, s in chosen], "bench")
        auth.create_account(project, "lead", "lead", PASSWORD, "bench")
        started = time.perf_counter()
        run_id = start_run(project, HashingEmbedder(), "lead", name="Bench")
        clustering = time.perf_counter() - started
        state = load_run(project, run_id).state
        documents = len(project.documents())
    return {"path": path, "run": run_id, "themes": state["themes"], "documents": documents,
            "passages": len(state["assignments"]), "clustering": clustering}


def _ready(page, texts: list[str]) -> None:
    page.wait_for_function(READY, arg=[texts], timeout=120_000, polling=20)


def _timed(page, click, texts: list[str]) -> dict[str, float]:
    page.evaluate("() => { window.__clicks = []; window.__messages = []; }")
    wall = time.perf_counter()
    click()
    page.wait_for_timeout(50)  # let the click reach the server before "not running" can count
    _ready(page, texts)
    done = page.evaluate(FRAMES)
    wall = time.perf_counter() - wall
    clicks, messages = page.evaluate("() => [window.__clicks, window.__messages]")
    start = clicks[-1] if clicks else None
    result = {"wall": wall}
    if start is not None:
        inside = [at for at, _ in messages if start <= at <= done]
        last = max(inside) if inside else start
        result.update(total=(done - start) / 1000, until_last_message=(last - start) / 1000,
                      after_last_message=(done - last) / 1000, messages=len(inside))
    return result


def _caption(page) -> str:
    return page.get_by_text(re.compile(r"Passagen, \d+ Themen")).first.inner_text()


def measure(project: dict, runs: int) -> dict[str, list[dict]]:
    from playwright.sync_api import expect, sync_playwright

    env = {"CODEWERK_PROJECT": str(project["path"]), "CODEWERK_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "CODEWERK_EMBEDDER": "hashing"}
    results: dict[str, list[dict]] = {"open": [], "rename": [], "merge": [], "undo": []}
    active = [th for th in project["themes"] if th["status"] == "active"]
    n_themes = len(active)
    log = Path(tempfile.gettempdir()) / "themes_ui_speed_server.log"
    with e2e.streamlit_server("app.py", env, log=log) as url, sync_playwright() as playwright:
        browser = e2e.launch_chromium(playwright)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(120_000)
            page.add_init_script(INSTRUMENT)
            e2e.log_in(page, url, "lead", PASSWORD)
            sidebar = page.get_by_test_id("stSidebar")
            first_card = f"{active[0]['id']} · {active[0]['label']}"

            # (a) open the page, from another page each time
            other = sidebar.get_by_role("link").filter(has_not_text="Themen").first
            for _ in range(runs):
                other.click()
                expect(page.get_by_role("heading", name="Themen", exact=True)).to_have_count(0)
                _ready_other = page.wait_for_function(
                    "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') !== 'running'")
                del _ready_other
                link = sidebar.get_by_role("link", name="Themen", exact=True)
                results["open"].append(_timed(page, link.click, ["Karte der Passagen", first_card]))
                print("open", results["open"][-1], flush=True)
            page.wait_for_timeout(1500)
            e2e.ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.set_viewport_size({"width": VIEWPORT["width"], "height": 4200})  # Streamlit scrolls inside
            page.wait_for_timeout(1500)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            page.set_viewport_size(VIEWPORT)
            page.wait_for_timeout(500)

            revision = int(re.search(r"Stand (\d+):", _caption(page)).group(1))
            for k in range(runs):
                # (b) rename: a card's "Bearbeiten" expander, a new title, "Umbenennen"
                theme = active[k % n_themes]
                card = page.locator(f".st-key-theme_card_{theme['id']}")
                title = card.get_by_label("Titel")
                if not title.is_visible():
                    card.get_by_text("Bearbeiten", exact=True).click()
                new_title = f"Bench Titel {k + 1} für {theme['id']}"
                title.fill(new_title)
                title.press("Enter")  # commits the field (one rerun, not timed)
                _ready(page, [])
                page.wait_for_timeout(300)
                revision += 1
                results["rename"].append(_timed(page, card.get_by_role("button", name="Umbenennen").click,
                                                [f"{theme['id']} · {new_title}", f"Stand {revision}:"]))
                print("rename", results["rename"][-1], flush=True)

                # (c) merge two active themes (a different pair each time, when there are enough)
                a, b = active[(2 * k + 1) % n_themes], active[(2 * k + 2) % n_themes]
                picker = page.get_by_role("combobox", name="Themen zusammenführen")
                for th in (a, b):
                    picker.click()
                    picker.press_sequentially(f"{th['id']} · ")
                    picker.press("Enter")
                    _ready(page, [])
                picker.press("Escape")
                _ready(page, [])
                page.wait_for_timeout(300)
                revision += 1
                results["merge"].append(_timed(page, page.get_by_role("button", name="Zusammenführen").click,
                                               [f"{n_themes - 1} Themen", f"Stand {revision}:"]))
                print("merge", results["merge"][-1], flush=True)
                if k == 0:
                    page.wait_for_timeout(1000)
                    page.screenshot(path=str(SCREENSHOT.with_name("themes_5000_merged.png")), full_page=True)

                # (d) undo the merge
                revision += 1
                undo = page.get_by_role("button", name=re.compile("^Rückgängig"))
                results["undo"].append(_timed(page, undo.click, [f"{n_themes} Themen", f"Stand {revision}:",
                                                                 "Rückgängig gemacht."]))
                print("undo", results["undo"][-1], flush=True)
        finally:
            browser.close()
    return results


def store_actions(project: dict, runs: int) -> dict[str, list[float]]:
    """The store calls behind the buttons, timed in this process (no Streamlit): where a click's server
    time goes. load_run is what every rerun of the page does besides drawing."""
    from coding.themes.from_project import merge_themes

    times: dict[str, list[float]] = {"load_run": [], "rename_theme": [], "merge_themes": [], "undo_themes": []}
    with Project(project["path"]) as p:
        run_id = project["run"]
        stored = p.theme_run(run_id)
        for k in range(runs):
            started = time.perf_counter()
            current = load_run(p, run_id, stored=stored)
            times["load_run"].append(time.perf_counter() - started)
            active = [th["id"] for th in current.state["themes"] if th["status"] == "active"]
            started = time.perf_counter()
            base = p.rename_theme(run_id, current.revision, active[0], f"Direkt {k}", "lead")
            times["rename_theme"].append(time.perf_counter() - started)
            started = time.perf_counter()
            base = merge_themes(p, run_id, base, active[1 + k % (len(active) - 2):][:2], "lead")
            times["merge_themes"].append(time.perf_counter() - started)
            started = time.perf_counter()
            p.undo_themes(run_id, base, "lead")
            times["undo_themes"].append(time.perf_counter() - started)
    return times


def _row(name: str, values: list[dict]) -> str:
    total = [v.get("total", v["wall"]) for v in values]
    server = [v["until_last_message"] for v in values if "until_last_message" in v]
    browser = [v["after_last_message"] for v in values if "after_last_message" in v]
    wall = [v["wall"] for v in values]
    med = statistics.median
    return (f"| {name} | {len(values)} | {med(total):.2f} | {max(total):.2f} | {med(wall):.2f} | "
            f"{med(server):.2f} | {med(browser):.2f} |")


def report(project: dict, results: dict, command: str, runs: int, direct: dict[str, list[float]]) -> str:
    themes = [th for th in project["themes"] if th["status"] == "active"]
    # The target is the redraw after an action; opening the page (first row) is reported beside it.
    worst = max(v.get("total", v["wall"]) for action, values in results.items() if action != "open" for v in values)
    verdict = "met" if worst < 2 else "**missed**"
    table = "\n".join(_row(name, values) for name, values in results.items())
    server = statistics.median(v["until_last_message"] for k in ("rename", "merge", "undo") for v in results[k])
    browser = statistics.median(v["after_last_message"] for k in ("rename", "merge", "undo") for v in results[k])
    direct_table = "\n".join(f"- `{name}`: {statistics.median(v):.2f} / {max(v):.2f}" for name, v in direct.items())
    dominant = ("the server's script run and the transfer (until the last WebSocket message)" if server > browser
                else "the browser drawing the page after the last message (Vega charts, React tree, layout)")
    return f"""## Themes page with {project['passages']:,} passages (issue 6)

Command: `{command}` · {machine()} · Chromium (Debian) through Playwright, viewport {VIEWPORT['width']}x{VIEWPORT['height']}.

Project: {project['documents']} council sessions of StadtratWatch Magdeburg as interviews in {len(GROUPS)} stakeholder
groups, {project['passages']:,} coded passages (six codes), one theme run with the hashing embedder
({len(themes)} themes; made beforehand in {project['clustering']:.1f} s, not part of the figures).
Times in seconds from the click (browser clock) until the page shows the result, the map has a canvas/SVG,
the script run has ended and two frames were painted; {runs} repetitions each (renames with different titles,
merges of different pairs, each merge undone). "wall" is the same measured in this process (includes
Playwright's polling); "server" is click → last WebSocket message (script run + transfer), "browser" the rest.

| action | n | median | max | wall median | server median | browser median |
|---|---|---|---|---|---|---|
{table}

Target: < 2 s to redraw after an action — {verdict} (worst action {worst:.2f} s). Median split over rename, merge and
undo: {server:.2f} s until the last message, {browser:.2f} s after it; dominant: {dominant}.

The store calls behind the buttons, timed in this process without Streamlit ({runs} times each; median / max s):
{direct_table}

Screenshot: tests/artifacts/themes_5000.png.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--passages", type=int, default=5000)
    args = parser.parse_args()
    command = "python bench/themes_ui_speed.py" + ("" if args.runs == 5 else f" --runs {args.runs}") \
        + ("" if args.passages == 5000 else f" --passages {args.passages}")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        project = build_project(Path(tmp), args.passages)
        print(f"project: {project['documents']} documents, {project['passages']} passages, "
              f"{len(project['themes'])} themes, built in {time.perf_counter() - started:.1f} s", flush=True)
        results = measure(project, args.runs)
        direct = store_actions(project, args.runs)
        print(direct, flush=True)
    body = report(project, results, command, args.runs, direct)
    write_section("themes_ui", body)
    print(body)


if __name__ == "__main__":
    main()
