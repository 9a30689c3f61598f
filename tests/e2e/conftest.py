"""What every browser test needs, in one place: a Streamlit server, Debian's Chromium, and the mouse.

Tests get these as fixtures (`browser`, `serve`, `word_box`, `select_words`, `log_in`, `artifacts`);
`bench/ui_speed.py` loads this file and calls the plain functions. Playwright drives the Chromium of
the system (/usr/bin/chromium, `make chromium`); no test ever downloads a browser.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots (git-ignored)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 60

# The bounding box of the nth occurrence of a word in the transcript text (not the legend, not the
# speaker column) inside the transcript component's shadow root (the session-cookie component is
# another isolated host). The pieces hold the document text in order, so `nth` is
# `text.count(word, 0, position)`. The Range API counts UTF-16 units, which is fine here: it is the
# browser measuring its own text.
WORD_BOX = """
([word, nth]) => {
  const root = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map((host) => host.shadowRoot && host.shadowRoot.querySelector(".cw-body")).find(Boolean);
  if (!root) return null;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: (node) =>
    node.parentElement.closest(".cw-piece") ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
  let seen = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let at = node.data.indexOf(word);
    while (at !== -1) {
      if (seen++ === nth) {
        node.parentElement.scrollIntoView({block: "nearest", behavior: "instant"});
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


# -- plain functions (also used by bench/ui_speed.py) ----------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(script: str | Path, env: Mapping[str, str] | None = None, *,
                     log: Path | None = None) -> Iterator[str]:
    """Run `streamlit run script` headless on a free local port; yields its URL once it is healthy.

    `env` is added to this process's environment (PYTHONPATH points at the repository); the server's
    output goes to `log` when given (read it when a test fails), else nowhere.
    """
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    try:
        deadline = time.time() + SERVER_START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the Streamlit server for {script} did not start"
                                       + (f"; see {log}" if log else "")) from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        if log:
            output.close()


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium through Playwright (raises FileNotFoundError when it is not installed)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is absent (make chromium, or apt-get install chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def word_box(page: Any, word: str, nth: int = 0) -> dict[str, float]:
    """The viewport box of the nth occurrence of `word` in the transcript view (scrolled into view)."""
    box = page.evaluate(WORD_BOX, [word, nth])
    if box is None:
        raise AssertionError(f"{word!r} (occurrence {nth}) is not in the transcript view")
    return box


SETTLED = """() => document.fonts.ready.then(
  () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))"""


def settled_word_box(page: Any, word: str, nth: int = 0) -> dict[str, float]:
    """word_box once the layout has settled (web fonts loaded, the box unchanged for 100 ms): a box
    measured before the transcript's serif font arrives is somewhere else by the time the mouse gets there."""
    page.evaluate(SETTLED)
    box = word_box(page, word, nth)
    for _ in range(30):
        page.wait_for_timeout(100)
        again = word_box(page, word, nth)
        if again == box:
            break
        box = again
    return box


def select_words(page: Any, first: str, last: str, *, nth_first: int = 0, nth_last: int = 0) -> None:
    """Drag the mouse from the start of `first` to the end of `last`, as a person selects a passage.
    Fails, saying what the browser selected instead, when the drag did not select that passage."""
    end = settled_word_box(page, last, nth_last)
    start = settled_word_box(page, first, nth_first)  # after `last`: scrolling to it may have moved `first`
    end = word_box(page, last, nth_last)
    y_start, y_end = (start["top"] + start["bottom"]) / 2, (end["top"] + end["bottom"]) / 2
    page.mouse.move(start["left"] + 1, y_start)
    page.mouse.down()
    page.mouse.move((start["left"] + end["right"]) / 2, (y_start + y_end) / 2, steps=5)
    page.mouse.move(end["right"] - 1, y_end, steps=5)
    page.mouse.up()
    selected = " ".join(page.evaluate("() => String(document.getSelection())").split())
    if not (selected.startswith(first) and selected.endswith(last)):
        raise AssertionError(f"dragging from {first!r} {start} to {last!r} {end} selected {selected!r}")


def log_in(page: Any, url: str, name: str, password: str, *, timeout: float = 30_000) -> None:
    """Open the app and log in on its login page; returns once the sidebar says who is logged in."""
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("Benutzername").fill(name)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_test_id("stSidebar").get_by_text("Angemeldet als")).to_be_visible(timeout=timeout)


@contextlib.contextmanager
def logged_in(browser: Any, url: str, name: str, password: str, *, viewport: Mapping[str, int],
              timeout: float = 30_000, **context_options: Any) -> Iterator[Any]:
    """A page in a fresh browser context (its own cookies), logged in as `name`; the context closes after."""
    context = browser.new_context(viewport=dict(viewport), **context_options)
    try:
        page = context.new_page()
        page.set_default_timeout(timeout)
        log_in(page, url, name, password)
        yield page
    finally:
        context.close()


# -- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module (each test opens its own contexts: separate cookies)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (make chromium, or apt-get install chromium); the browser tests need it")
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    """Start Streamlit servers for one test module: `serve(script, env) -> url`; all stop at its end.
    Each server's output is kept in a log file whose path a failed start names."""
    with contextlib.ExitStack() as stack:
        def start(script: str | Path, env: Mapping[str, str] | None = None) -> str:
            log = tmp_path_factory.mktemp("streamlit") / "server.log"
            return stack.enter_context(streamlit_server(script, env, log=log))

        yield start


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(name="word_box", scope="session")
def word_box_fixture():
    """`word_box(page, word, nth=0)`: where a word of the transcript view is on the screen."""
    return word_box


@pytest.fixture(name="select_words", scope="session")
def select_words_fixture():
    """`select_words(page, first, last)`: select a passage with a real mouse drag."""
    return select_words


@pytest.fixture(name="log_in", scope="session")
def log_in_fixture():
    """`log_in(page, url, name, password)`: log in through the login page."""
    return log_in
