"""Export figures: speed and size of every export of the demo project, REFI-QDA samples imported, a qdpx round trip.

Usage: python bench/export_figures.py [--no-write]
Writes the section "export" of BENCHMARKS.md. Builds the demo project with an e5 theme run (a few minutes).
LibreOffice (soffice) and poppler (pdfinfo) give the PDF figures, ../shared/refi/samples the import figures;
each part is skipped with its reason when they are absent.
"""
from __future__ import annotations

import argparse
import io
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine, write_section  # noqa: E402
from coding.codebook import export_qdc  # noqa: E402
from coding.demo import DEMO_USER, ensure_demo_project  # noqa: E402
from coding.embed import get_embedder  # noqa: E402
from coding.export.code_report import write_code_report  # noqa: E402
from coding.export.qdpx import export_qdpx, import_qdpx  # noqa: E402
from coding.export.qdpx.positions import at_word_boundary  # noqa: E402
from coding.export.spreadsheets import csv_zip, write_xlsx  # noqa: E402
from coding.export.synthesis import default_theme_run, write_synthesis  # noqa: E402
from coding.export.tables import export_tables  # noqa: E402
from coding.store import Project  # noqa: E402
from coding.themes.from_project import start_run  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "refi" / "samples"
RUNS = 5  # timed runs after one warm-up
PDF_RUNS = 3  # LibreOffice conversions are slow: median of three after one warm-up
CODES = "codes (id, name, colour, parent, definition, memo)"
CODINGS = "codings (document, start, end, code, coder; quote, memo)"


def median_seconds(work: Callable[[], object], runs: int = RUNS) -> tuple[float, object]:
    """Median wall time of `runs` calls after one warm-up call, and the warm-up's result."""
    result = work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def in_memory(write: Callable[[io.BytesIO], None]) -> Callable[[], bytes]:
    """An export that writes into a file object, as a function returning the file's bytes."""
    def run() -> bytes:
        buffer = io.BytesIO()
        write(buffer)
        return buffer.getvalue()
    return run


# -- the demo project and its exports ---------------------------------------------------------------

def demo_project(folder: Path) -> tuple[Path, dict]:
    """The demo project built fresh, with an e5 theme run over the default selection and the theme of
    widest stakeholder reach (groups reached, then cross-stakeholder score, then size) accepted."""
    db = folder / "demo.db"
    ensure_demo_project(db)
    with Project(db) as project:
        start = time.perf_counter()
        run_id = start_run(project, get_embedder("e5"), DEMO_USER, name="Demo-Themen")
        seconds = time.perf_counter() - start
        themes = project.theme_revision(run_id)["state"]["themes"]
        widest = max(themes, key=lambda t: (t["groups_reached"], t["cross_stakeholder"], len(t["members"])))
        project.accept_theme(run_id, 1, widest["id"], DEMO_USER)
        return db, {"documents": len(project.documents()), "codings": len(project.codings()),
                    "codes": len(project.codes()), "passages": len(project.theme_run(run_id)["segments"]),
                    "themes": len(themes), "accepted": widest, "seconds": seconds}


def exports(project: Project) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """Each export as `codewerk export` makes it (tables built anew each time), into memory."""
    run = default_theme_run(project)
    return {
        "Word synthesis (`export docx`)": ("synthese.docx", in_memory(lambda b: write_synthesis(project, run, b))),
        "Word code report (`export docx --report`)": ("codebericht.docx",
                                                      in_memory(lambda b: write_code_report(project, b))),
        "Excel workbook (`export xlsx`)": ("tabellen.xlsx", in_memory(lambda b: write_xlsx(export_tables(project), b))),
        "CSV tables as zip (the app's download)": ("tabellen.zip", lambda: csv_zip(export_tables(project))),
        "REFI-QDA project (`export qdpx`)": ("projekt.qdpx", in_memory(lambda b: export_qdpx(project, b))),
        "REFI-QDA codebook (`export qdc`)": ("codebuch.qdc", lambda: export_qdc(project.codebook())),
    }


def time_exports(db: Path, folder: Path) -> list[dict]:
    """Wall time (median) and size of each export; the files are written to `folder` for LibreOffice."""
    rows = []
    with Project(db) as project:
        for title, (filename, make) in exports(project).items():
            seconds, data = median_seconds(make)
            (folder / filename).write_bytes(data)
            rows.append({"title": title, "file": folder / filename, "seconds": seconds, "bytes": len(data)})
    return rows


def pdf_pages(pdf: Path) -> int:
    """Pages of a PDF: pdfinfo's count, else the page objects in the file."""
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def convert_to_pdf(documents: list[Path], folder: Path) -> list[dict] | str:
    """Seconds (median) and pages of each Word file converted by LibreOffice; the reason when it cannot."""
    binary = shutil.which("soffice")
    if binary is None:
        return "LibreOffice is not installed (no `soffice` on PATH); install libreoffice-writer for these figures"
    profile = (folder / "lo-profile").as_uri()  # its own profile, so an open LibreOffice does not interfere
    out = folder / "pdf"
    rows = []
    for document in documents:
        command = [binary, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                   "--outdir", str(out), str(document)]
        seconds, _ = median_seconds(lambda command=command: subprocess.run(command, check=True, capture_output=True,
                                                                           timeout=600), PDF_RUNS)
        rows.append({"file": document.name, "seconds": seconds, "pages": pdf_pages(out / f"{document.stem}.pdf")})
    return rows


# -- REFI-QDA samples -------------------------------------------------------------------------------

def on_word_boundaries(project: Project) -> tuple[int, int, int, int]:
    """Codings with both edges on word boundaries and all codings; the same over distinct spans."""
    edges: list[tuple[tuple[int, int, int], bool]] = []
    for document in project.documents():
        text = project.document(document["id"])["text"]
        edges += [((document["id"], c["start"], c["end"]),
                   at_word_boundary(text, c["start"]) and at_word_boundary(text, c["end"]))
                  for c in project.codings(document["id"])]
    spans = dict(edges)
    return sum(on for _, on in edges), len(edges), sum(spans.values()), len(spans)


def import_sample(path: Path, folder: Path) -> dict:
    """One sample imported into fresh projects: the first import's counts, the median time of the next ones
    (only `import_qdpx` is timed, not making the empty project)."""
    times = []
    for k in range(RUNS + 1):
        with Project.create(folder / f"{path.stem}-{k}.db") as project:
            start = time.perf_counter()
            result = import_qdpx(project, path, user="bench")
            times.append(time.perf_counter() - start)
            if k == 0:
                first, boundaries = result, on_word_boundaries(project)
                coded = Counter(result.position_units[d["name"]] for d in project.documents()
                                if project.codings(d["id"]))
    return {"name": path.name, "result": first, "seconds": statistics.median(times[1:]), "boundaries": boundaries,
            "coded_units": coded}


def import_samples(folder: Path) -> list[dict] | str:
    """Every .qdpx and .qde of the shared samples; the reason when the folder is absent."""
    if not SAMPLES.is_dir():
        return f"{SAMPLES} is absent: the import figures need the shared REFI-QDA samples beside the repository"
    paths = sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in (".qdpx", ".qde"))
    return [import_sample(path, folder) for path in paths]


# -- round trip -------------------------------------------------------------------------------------

def snapshot(project: Project) -> dict[str, dict]:
    """What a round trip must keep, each keyed by what identifies it (an empty text and none count alike)."""
    documents = project.documents()
    names = {d["id"]: d["name"] for d in documents}
    return {
        CODES: {
            c["id"]: (c["name"], c["color"] or "", c["parent"] or "", c["definition"] or "", c["memo"] or "")
            for c in project.codes()},
        CODINGS: {
            (names[c["document_id"]], c["start"], c["end"], c["code_id"], c["coder"]): (c["quote"], c["memo"] or "")
            for c in project.codings()},
        "document attributes": {d["name"]: d["attributes"] for d in documents},
        "document texts": {d["name"]: project.document(d["id"])["text"] for d in documents},
    }


def differences(before: dict, after: dict) -> int:
    """Items missing on either side or with different values."""
    return len(before.keys() ^ after.keys()) + sum(before[k] != after[k] for k in before.keys() & after.keys())


def round_trip(db: Path, folder: Path) -> dict:
    """Export the project as qdpx, import it into a fresh empty project, compare the two."""
    archive = folder / "roundtrip.qdpx"
    with Project(db) as project:
        export_qdpx(project, archive)
        before = snapshot(project)
    with Project.create(folder / "roundtrip.db") as project:
        start = time.perf_counter()
        result = import_qdpx(project, archive, user="bench")
        seconds = time.perf_counter() - start
        after = snapshot(project)
    codes, codings = before[CODES].values(), before[CODINGS]
    return {"seconds": seconds, "warnings": result.warnings, "code_memos": sum(bool(c[4]) for c in codes),
            "coding_memos": sum(bool(memo) for _, memo in codings.values()),
            "coders": sorted({key[4] for key in codings}),
            "kinds": {kind: (len(before[kind]), differences(before[kind], after[kind])) for kind in before}}


# -- the report -------------------------------------------------------------------------------------

def report_exports(demo: dict, rows: list[dict], pdf: list[dict] | str) -> str:
    theme = demo["accepted"]
    intro = (f"### Exports of the demo project\n\nThe demo project built fresh ({demo['documents']} interviews, "
             f"{demo['codes']} codes, {demo['codings']} codings after the acceptance), a theme run with e5 over the "
             f"default selection ({demo['passages']} passages, {demo['themes']} themes; made in "
             f"{demo['seconds']:.0f} s, not part of the figures) and its theme of widest stakeholder reach accepted "
             f"(\"{theme['label']}\": {theme['groups_reached']} groups, cross-stakeholder score "
             f"{theme['cross_stakeholder']:.2f}, {len(theme['members'])} passages). Each export is made into memory "
             f"as the command line makes it (the tables anew for every spreadsheet); median wall time of {RUNS} "
             "runs after one warm-up, and the size of the file.\n")
    lines = [intro, "| export | wall time | size |", "|---|---:|---:|"]
    lines += [f"| {r['title']} | {r['seconds']:.3f} s | {r['bytes'] / 1024:,.1f} kB |" for r in rows]
    if isinstance(pdf, str):
        return "\n".join([*lines, "", f"LibreOffice conversion skipped: {pdf}.", ""])
    convert = ("The two Word files converted to PDF by LibreOffice (`soffice --headless --convert-to pdf`, one "
               f"call per file, LibreOffice's start included; median of {PDF_RUNS} after one warm-up) and the "
               "pages of the PDF (pdfinfo):")
    lines += ["", convert, "", "| file | conversion | pages |", "|---|---:|---:|"]
    lines += [f"| {r['file']} | {r['seconds']:.1f} s | {r['pages']} |" for r in pdf]
    return "\n".join([*lines, ""])


def _units(units: Counter) -> str:
    return ", ".join(f"{unit} ({n})" for unit, n in sorted(units.items())) or "–"


def _share(on: int, total: int) -> str:
    return f"{on}/{total} ({on / total:.1%})" if total else "–"


def report_samples(samples: list[dict] | str) -> str:
    head = "### REFI-QDA samples imported\n\n"
    if isinstance(samples, str):
        return head + f"Skipped: {samples}.\n"
    intro = (head + "Every .qdpx and .qde in `shared/refi/samples` (the .qdc there is a codebook, not a project), "
             "each imported into a fresh project: the counts `import_qdpx` reports (documents and codings stored, "
             "codes taken over, memos and variable values kept, warnings about what it left out), the unit it "
             "detected for the positions (number of stored sources per unit), the median import time of "
             f"{RUNS} after one warm-up, and the codings whose start and end both lie on a word boundary of the "
             "stored text, also counted over distinct spans (a passage coded with several codes is one span). "
             "**A coding edge lies on a word boundary** when it is at the start or end of the text, or when the "
             "characters on its two sides are not both letters or digits, i.e. the edge touches white space or "
             "punctuation and cuts no word in two (`at_word_boundary` in `coding/export/qdpx/positions.py`).\n")
    header = ("| sample | documents | codes | codings | memos | variables | warnings | positions counted in | import "
              "| codings on word boundaries | distinct spans on word boundaries |")
    lines = [intro, header, "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for s in samples:
        r, (on, total, on_spans, spans) = s["result"], s["boundaries"]
        lines.append(f"| {s['name']} | {r.documents} | {r.codes} | {r.codings} | {r.memos} | {r.variables} | "
                     f"{len(r.warnings)} | {_units(Counter(r.position_units.values()))} | {s['seconds']:.2f} s | "
                     f"{_share(on, total)} | {_share(on_spans, spans)} |")
    lines += ["", ("A source is read in UTF-16 units only when it has characters beyond U+FFFF (emoji) and its "
                   "selections fit that reading better; a source without such characters counts alike in both "
                   "units and, like a source without selections, is listed under code points.")]
    nvivo = next((s for s in samples if "nvivo-win-12.6" in s["name"]), None)
    if nvivo:
        on, total = nvivo["boundaries"][:2]
        met = "met" if total and on / total >= 0.95 else "missed"
        lines += ["", (f"**NVivo 12.6** (Windows): the sources holding its codings were read in "
                       f"{_units(nvivo['coded_units'])}; {_share(on, total)} of its codings lie on word boundaries. "
                       f"Target at least 95 %: **{met}**.")]
    lines += ["", "What the imports left out, as `import_qdpx` words it:", ""]
    for s in samples:
        warnings = [w.removeprefix("Warning: ") for w in s["result"].summary("en").splitlines()
                    if w.startswith("Warning: ")]
        lines += [f"- {s['name']}:" + ("" if warnings else " nothing")] + [f"  - {w}" for w in warnings]
    return "\n".join([*lines, ""])


def report_round_trip(trip: dict) -> str:
    intro = ("### Round trip through REFI-QDA\n\nThe demo project above (with its accepted theme) exported as qdpx "
             f"and imported into a fresh empty project ({trip['seconds']:.2f} s, {len(trip['warnings'])} warnings), "
             "then compared with the original item by item: codes by id, codings by document name, start, end, code "
             "and coder, attributes and texts by document name. A difference is an item missing on one side or "
             "with another value in one of the fields named (an empty field and none count alike). "
             f"{trip['code_memos']} of the codes and {trip['coding_memos']} of the codings carry a memo; the codings "
             f"are by {len(trip['coders'])} coder(s) ({', '.join(trip['coders'])}).\n")
    lines = [intro, "| compared | items | result |", "|---|---:|---|"]
    for kind, (items, diff) in trip["kinds"].items():
        lines.append(f"| {kind} | {items:,} | {'identical' if not diff else f'**{diff} differences**'} |")
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, demo = demo_project(folder)
        rows = time_exports(db, folder)
        pdf = convert_to_pdf([r["file"] for r in rows if r["file"].suffix == ".docx"], folder)
        if isinstance(pdf, str):
            print(f"skipped the LibreOffice figures: {pdf}", file=sys.stderr)
        samples = import_samples(folder)
        if isinstance(samples, str):
            print(f"skipped the REFI-QDA samples: {samples}", file=sys.stderr)
        trip = round_trip(db, folder)
    body = (f"## Export (`bench/export_figures.py`)\n\nCommand: `python bench/export_figures.py`. {machine()}.\n\n"
            + report_exports(demo, rows, pdf) + "\n" + report_samples(samples) + "\n" + report_round_trip(trip)
            + f"\nWhole run: {(time.perf_counter() - started) / 60:.1f} min.\n")
    print(body)
    if not args.no_write:
        write_section("export", body)


if __name__ == "__main__":
    main()
