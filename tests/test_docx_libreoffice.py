"""The demo project's synthesis and code report open in LibreOffice: converted to PDF, their text read back.

Slow (it builds the demo project and starts LibreOffice). It also renders the first pages to PNG in
tests/artifacts, so that a person can look at the layout.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from coding.demo import ensure_demo_project
from coding.embed.registry import get_embedder
from coding.export.code_report import write_code_report
from coding.export.docx_parts import code_path
from coding.export.synthesis import write_synthesis
from coding.store import Project
from coding.themes.from_project import start_run

ARTIFACTS = Path(__file__).parent / "artifacts"
pytestmark = pytest.mark.slow


def office() -> str:
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        pytest.skip("LibreOffice is not installed (no soffice on PATH); install it, e.g. apt-get install "
                    "libreoffice-writer, to check that the Word documents open")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed; install poppler-utils to read the converted PDF back")
    return binary


def to_pdf(binary: str, documents: list[Path], folder: Path) -> list[Path]:
    """Convert with LibreOffice in its own profile (so a LibreOffice the user has open does not interfere)."""
    profile = (folder / "lo-profile").as_uri()
    subprocess.run([binary, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir",
                    str(folder), *map(str, documents)], check=True, capture_output=True, timeout=300)
    pdfs = [folder / f"{d.stem}.pdf" for d in documents]
    assert all(p.exists() for p in pdfs), "LibreOffice did not write a PDF"
    return pdfs


def squeezed(text: str) -> str:
    """Text without white space, ligatures folded: how a phrase can be found across the PDF's line breaks."""
    return "".join(unicodedata.normalize("NFKC", text).replace("\u00ad", "").split())


def found(phrase: str, pdf_text: str, unhyphenated: str) -> bool:
    """Whether `phrase` is in the PDF text, also when LibreOffice hyphenated a word at a line end."""
    return squeezed(phrase) in pdf_text or squeezed(phrase) in unhyphenated


def test_demo_synthesis_and_code_report_open_in_libreoffice(tmp_path):
    binary = office()
    ensure_demo_project(tmp_path / "demo.db")
    with Project(tmp_path / "demo.db") as project:
        run_id = start_run(project, get_embedder("hashing"), "demo", name="Demo-Themen", seed=0)
        themes = project.theme_revision(run_id)["state"]["themes"]
        revision = project.rename_theme(run_id, 1, themes[0]["id"], "Wohnungsmarkt: Schufa & Mietobergrenzen",
                                        "demo")
        revision = project.accept_theme(run_id, revision, themes[0]["id"], "demo")
        project.discard_theme(run_id, revision, themes[-1]["id"], "demo")
        write_synthesis(project, run_id, tmp_path / "synthese.docx")
        write_code_report(project, tmp_path / "codebericht.docx")
        kept = [t for t in project.theme_revision(run_id)["state"]["themes"] if t["status"] != "discarded"]
        passages = {p["id"]: p["text"] for p in project.theme_run(run_id)["segments"]}
        codes = {c["id"]: c for c in project.codes()}
        used = {c["code_id"] for c in project.codings()}
        chapters = [code_path(codes, c["id"]) for c in codes.values() if c["codable"] or c["id"] in used]

    synthesis_pdf, report_pdf = to_pdf(binary, [tmp_path / "synthese.docx", tmp_path / "codebericht.docx"], tmp_path)
    raw = subprocess.run(["pdftotext", "-enc", "UTF-8", str(synthesis_pdf), "-"], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    text, unhyphenated = squeezed(raw), squeezed(re.sub(r"-\n", "", raw))
    missing_titles = [t["label"] for t in kept if not found(t["label"], text, unhyphenated)]
    assert not missing_titles
    quotes = [passages[r] for t in kept for r in t["representatives"]]
    assert len(quotes) >= 2 * len(kept)
    missing_quotes = [q[:60] for q in quotes if not found(q, text, unhyphenated)]
    assert not missing_quotes
    assert found("Intercoder-Übereinstimmung", text, unhyphenated)  # umlauts survive the round trip

    raw_report = subprocess.run(["pdftotext", "-enc", "UTF-8", str(report_pdf), "-"], check=True,
                                capture_output=True, text=True, timeout=120).stdout
    report_text = squeezed(raw_report)
    assert [c for c in chapters if squeezed(c) not in report_text] == []

    if shutil.which("pdftoppm"):  # pages for a person to look at; not part of what the test checks
        ARTIFACTS.mkdir(exist_ok=True)
        for pdf, name, last in ((synthesis_pdf, "synthesis", 8), (report_pdf, "code_report", 3)):
            subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", str(last), str(pdf),
                            str(ARTIFACTS / f"docx_{name}")], check=True, timeout=120)
