"""Write a benchmark's section into BENCHMARKS.md, replacing the previous run of the same benchmark."""
from __future__ import annotations

import platform
import re
from datetime import date
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
HEAD = "# Benchmarks\n\nFigures measured on this project's machine by the scripts in `bench/`; each section says its command.\n"


def machine() -> str:
    import os

    return f"{platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}, measured {date.today()}"


def write_section(name: str, body: str) -> None:
    """Replace (or add) the section between this benchmark's markers."""
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else HEAD
    start, end = f"<!-- bench:{name} start -->", f"<!-- bench:{name} end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")
