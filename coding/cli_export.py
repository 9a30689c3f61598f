"""`codewerk export docx|xlsx|csv|qdpx|qdc` and `codewerk import-qdpx`: results leaving (and REFI-QDA
projects entering) a project from the command line; the parsers and commands `coding.cli` mounts."""
from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

from coding.errors import InputError, StoreError
from coding.store import Project


def code_list(value: str | None) -> list[str] | None:
    """Code ids from a comma-separated option ("H1,H4"); None when the option was not given."""
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


def add_export_parsers(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="write a Word synthesis or code report, spreadsheets, "
                                 "a REFI-QDA project or the codebook")
    formats = export.add_subparsers(dest="format", required=True, metavar="FORMAT")
    docx = formats.add_parser("docx", help="the Word synthesis of a theme run, or with --report the per-code report")
    docx.add_argument("--run", type=int, metavar="ID", help="theme run (default: the one the synthesis picks)")
    docx.add_argument("--report", action="store_true", help="write the per-code report instead of the synthesis")
    docx.add_argument("--codes", metavar="ID,ID", help="with --report: only these codes (default: every code)")
    xlsx = formats.add_parser("xlsx", help="coded segments, code x document, code x group and themes as one workbook")
    xlsx.add_argument("--attribute", metavar="NAME",
                      help="document attribute that groups the interviews (default: Stakeholdergruppe)")
    xlsx.add_argument("--run", type=int, metavar="ID", help="theme run of the themes table (default: as the synthesis)")
    csv = formats.add_parser("csv", help="the same tables as CSV files in a folder (UTF-8 with BOM)")
    csv.add_argument("--attribute", metavar="NAME",
                     help="document attribute that groups the interviews (default: Stakeholdergruppe)")
    csv.add_argument("--run", type=int, metavar="ID", help="theme run of the themes table (default: as the synthesis)")
    csv.add_argument("--delimiter", default=";", metavar="CHAR",
                     help="field separator: ; (default, what German Excel expects), , or tab")
    formats.add_parser("qdpx", help="the whole project as REFI-QDA .qdpx (MAXQDA, ATLAS.ti, NVivo, QualCoder)")
    formats.add_parser("qdc", help="the codebook as REFI-QDA .qdc")
    for name, sub in formats.choices.items():
        sub.add_argument("-o", "--output", required=True, metavar="DIR" if name == "csv" else "FILE",
                         help="folder for the CSV files" if name == "csv" else "the file to write")
        sub.add_argument("--force", action="store_true", help="overwrite files that are already there")
        if name in ("docx", "xlsx", "csv"):
            sub.add_argument("--language", choices=("de", "en"), default="de",
                             help="language of headings and labels (default de)")

    imp = commands.add_parser("import-qdpx", help="import a REFI-QDA project (.qdpx) into this project")
    imp.add_argument("file", metavar="FILE", help="the .qdpx file")
    # Its own dest: a subcommand's default would otherwise overwrite the global --user.
    imp.add_argument("--user", dest="import_user", metavar="NAME",
                     help="who is recorded as importing (default: the global --user)")


def _check_target(path: Path, force: bool) -> None:
    """Refuse to overwrite a file unless asked to (checked before any work is done)."""
    if path.is_dir():
        raise InputError(path, "is a folder", "give the name of the file to write")
    if path.exists() and not force:
        raise InputError(path, "is already there; nothing was written", "add --force to overwrite it")


def _write(path: Path, build) -> None:
    """Build a file in memory, then put it in place in one step: a failed export leaves no half file."""
    buffer = io.BytesIO()
    data = build(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_bytes(buffer.getvalue() if data is None else data)
    os.replace(part, path)


def _export_docx(args: argparse.Namespace, project, out: Path) -> str:
    if args.report:
        if args.run is not None:
            raise InputError("--run", "chooses the theme run of the synthesis; the code report (--report) "
                             "covers codes", "leave out --run, or --report")
        from coding.export.code_report import write_code_report

        codes = code_list(args.codes)
        _write(out, lambda buffer: write_code_report(project, buffer, codes=codes, language=args.language))
        return f"wrote the code report to {out}"
    if args.codes:
        raise InputError("--codes", "chooses the codes of the code report", "add --report")
    from coding.export.synthesis import default_theme_run, write_synthesis

    run = args.run if args.run is not None else default_theme_run(project)
    if run is None:
        raise StoreError(f"{project.path}: there is no theme run yet, so there is no synthesis to write "
                         "(a team lead makes one on the Themen page; --report writes the per-code report)")
    _write(out, lambda buffer: write_synthesis(project, run, buffer, language=args.language))
    return f"wrote the synthesis of theme run {run} to {out}"


def _export_tables(args: argparse.Namespace, project):
    from coding.export.tables import export_tables

    tables = export_tables(project, run_id=args.run, attribute=args.attribute, language=args.language)
    if tables.theme_run is None:
        print("note: the project has no theme run yet, so there is no themes table")
    return tables


def _export_xlsx(args: argparse.Namespace, project, out: Path) -> str:
    from coding.export.spreadsheets import write_xlsx

    tables = _export_tables(args, project)
    _write(out, lambda buffer: write_xlsx(tables, buffer))
    return f"wrote {len(tables.tables)} sheet(s) to {out}: " + ", ".join(t.title for t in tables.tables)


def _export_csv(args: argparse.Namespace, project, folder: Path) -> str:
    from coding.export.spreadsheets import check_delimiter, csv_bytes, csv_name
    from coding.export.tables import TABLE_NAMES

    delimiter = check_delimiter(args.delimiter)
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, "is a file", "-o names the folder for the CSV files")
    for name in TABLE_NAMES:
        _check_target(folder / f"{name}.csv", args.force)
    tables = _export_tables(args, project)
    written = []
    for table in tables.tables:
        path = folder / csv_name(table)
        _write(path, lambda _, table=table: csv_bytes(table, delimiter))
        written.append(path.name)
    for name in TABLE_NAMES:
        stale = folder / f"{name}.csv"
        if stale.name not in written and stale.exists():
            print(f"note: {stale} is from an earlier export and was left as it is")
    return f"wrote {', '.join(written)} to {folder}"


def _export_qdpx(args: argparse.Namespace, project, out: Path) -> str:
    from coding.export.qdpx import export_qdpx

    _write(out, lambda buffer: export_qdpx(project, buffer))
    return f"wrote the project as REFI-QDA to {out}"


def _export_qdc(args: argparse.Namespace, project, out: Path) -> str:
    from coding.codebook import export_qdc

    codebook = project.codebook()
    _write(out, lambda _: export_qdc(codebook))
    return f"wrote {len(codebook.codes)} codes to {out}"


EXPORTS = {"docx": _export_docx, "xlsx": _export_xlsx, "csv": _export_csv, "qdpx": _export_qdpx, "qdc": _export_qdc}


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if args.format != "csv":  # the CSV export checks each of its files
        _check_target(out, args.force)
    with Project(args.project) as project:
        message = EXPORTS[args.format](args, project, out)
    print(message)
    return 0


def cmd_import_qdpx(args: argparse.Namespace) -> int:
    from coding.export.qdpx import import_qdpx

    if not Path(args.file).is_file():
        raise InputError(args.file, "no such file", "give the path of a REFI-QDA project (.qdpx)")
    with Project(args.project) as project:
        result = import_qdpx(project, args.file, user=args.import_user or args.user)
    print(result.summary("en"))
    return 0
