"""Turn an f4-convention plain-text transcript into the Word file a transcription office delivers.

Used once to make the demo corpus: the interviews were written as text and saved as .docx with
bold speaker labels, as f4transkript exports them. Usage: python f4_to_docx.py IN.txt OUT.docx
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import docx
from docx.shared import Pt

LABEL = re.compile(r"^(I|B|B\d|I\d|IP):\s")


def convert(source: Path, target: Path) -> None:
    lines = source.read_text(encoding="utf-8").split("\n")
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    in_header = True
    for number, line in enumerate(lines):
        if not line.strip():
            in_header = False
            document.add_paragraph()
            continue
        paragraph = document.add_paragraph()
        if number == 0:
            paragraph.add_run(line).bold = True
            continue
        label = LABEL.match(line)
        if label and not in_header:
            paragraph.add_run(label.group(0).rstrip()).bold = True
            paragraph.add_run(" " + line[label.end():])
        else:
            paragraph.add_run(line)
    document.core_properties.title = lines[0]
    document.core_properties.author = "Transkription Projektteam Ankunftsquartiere"
    document.save(target)


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
