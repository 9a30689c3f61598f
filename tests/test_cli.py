"""The codewerk command: init, import, documents, turns, codebook; errors as one line, never a traceback."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coding.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_import_documents_turns(capsys, tmp_path, f4_file):
    db = str(tmp_path / "p.db")
    assert run(capsys, "-p", db, "init")[0] == 0
    code, out, _ = run(capsys, "-p", db, "-u", "alice", "import", str(f4_file), "--attr", "Stakeholdergruppe=Kommune")
    assert code == 0 and "imported 1 document(s): T01" in out
    code, out, _ = run(capsys, "-p", db, "documents")
    assert code == 0 and "T01" in out and "Stakeholdergruppe=Kommune" in out
    code, out, _ = run(capsys, "-p", db, "documents", "--json")
    assert json.loads(out.splitlines()[0])["turns"] == 4
    code, out, _ = run(capsys, "-p", db, "turns", "T01")
    assert code == 0
    assert "[00:01:02] B (respondent): Also (.) seit 2022" in out
    assert "#00:" not in out


@pytest.mark.parametrize("args, message", [
    (["turns", "K99"], "no document 'K99'"),
    (["import", "missing.txt"], "missing.txt: no such file or folder"),
    (["import", "x.txt", "--attr", "novalue"], "KEY=VALUE"),
])
def test_errors_are_one_clear_line_and_a_nonzero_exit(capsys, tmp_path, args, message):
    db = str(tmp_path / "p.db")
    run(capsys, "-p", db, "init")
    code, out, err = run(capsys, "-p", db, *args)
    assert code == 1 and message in err and "Traceback" not in err
    assert err.startswith("codewerk: error:")


def test_using_a_project_that_does_not_exist_says_how_to_create_it(capsys, tmp_path):
    code, _, err = run(capsys, "-p", str(tmp_path / "none.db"), "documents")
    assert code == 1 and "codewerk --project" in err and "init" in err


def test_codebook_validate_reports_problems_with_lines(capsys, tmp_path):
    bad = tmp_path / "cb.yaml"
    bad.write_text("name: t\ncodes:\n  - id: H1\n    name: Wohnen\n  - id: H1\n    name: Doppelt\n", encoding="utf-8")
    code, _, err = run(capsys, "codebook", "validate", str(bad))
    assert code == 1 and "line 5" in err and "H1" in err


def test_codebook_import_and_export_through_the_project(capsys, tmp_path):
    db = str(tmp_path / "p.db")
    source = tmp_path / "cb.yaml"
    source.write_text("name: t\ncodes:\n  - id: H1\n    name: Wohnen\n    color: '#1F77B4'\n"
                      "    definition: Zugang zu Wohnungen.\n", encoding="utf-8")
    run(capsys, "-p", db, "init")
    code, out, _ = run(capsys, "-p", db, "-u", "lead", "codebook", "import", str(source))
    assert code == 0 and "imported 1 codes" in out
    for target in ("out.yaml", "out.qdc"):
        code, out, _ = run(capsys, "-p", db, "codebook", "export", str(tmp_path / target))
        assert code == 0
        code, out, _ = run(capsys, "codebook", "validate", str(tmp_path / target))
        assert code == 0 and "valid, 1 codes" in out


def test_console_script_and_python_m_both_work(tmp_path):
    for command in ([str(Path(sys.executable).parent / "codewerk")], [sys.executable, "-m", "coding"]):
        done = subprocess.run(command + ["-p", str(tmp_path / "x.db"), "documents"], capture_output=True, text=True)
        assert done.returncode == 1 and "no Codewerk project" in done.stderr and "Traceback" not in done.stderr


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"codewerk {command}" in readme or f"`{command}`" in readme, command
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(subparsers.choices) == set(COMMANDS)
