"""The `codewerk` command line (also `python -m coding`): a thin layer over the core library."""
from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import re
import sys
from pathlib import Path

from coding.cli_export import add_export_parsers, cmd_export, cmd_import_qdpx, code_list
from coding.errors import CodewerkError, InputError

DEFAULT_PROJECT = "codewerk.db"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codewerk", description="Qualitative interview coding and synthesis.")
    parser.add_argument("--project", "-p", default=os.environ.get("CODEWERK_PROJECT", DEFAULT_PROJECT),
                        help="project database file (default: $CODEWERK_PROJECT or ./codewerk.db)")
    parser.add_argument("--user", "-u", default=os.environ.get("CODEWERK_USER") or _login_name(),
                        help="who makes the changes (default: $CODEWERK_USER or your login name)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("init", help="create a new, empty project database")
    commands.add_parser("demo", help="create the demo project (study corpus and codebook) unless the file exists")

    imp = commands.add_parser("import", help="import transcripts (files or folders) into the project")
    imp.add_argument("paths", nargs="+", metavar="PATH", help=".txt, .docx, .vtt, .srt files or folders")
    imp.add_argument("--attr", action="append", default=[], metavar="KEY=VALUE",
                     help="an attribute for every imported document, e.g. stakeholder=Kommune (repeatable)")
    imp.add_argument("--metadata", metavar="CSV", help="CSV mapping file names to attributes "
                     "(a folder's metadata.csv is used by default)")
    imp.add_argument("--max-mb", type=float, metavar="MB", help="size limit per file (default 50 MB)")

    docs = commands.add_parser("documents", help="list the project's documents with their attributes")
    docs.add_argument("--json", action="store_true", help="one JSON object per line")

    turns = commands.add_parser("turns", help="show a document's speaker turns")
    turns.add_argument("document", metavar="DOC", help="document name or id")
    turns.add_argument("--json", action="store_true", help="one JSON object per line")

    codebook = commands.add_parser("codebook", help="validate, import or export a codebook (YAML or REFI-QDA .qdc)")
    cb = codebook.add_subparsers(dest="action", required=True, metavar="ACTION")
    cb.add_parser("validate", help="check a codebook file and list every problem").add_argument("file")
    cb.add_parser("import", help="load a codebook file into the project").add_argument("file")
    export = cb.add_parser("export", help="write the project's codebook (.yaml or .qdc by extension)")
    export.add_argument("file")

    suggest = commands.add_parser("suggest", help="rank codes for passages: JSON lines in (stdin), JSON lines out")
    suggest.add_argument("--codebook", required=True, metavar="CODEBOOK", help="codebook file (YAML or .qdc)")
    suggest.add_argument("--train", metavar="CODED.jsonl",
                         help='coded passages to learn from, one {"id", "text", "code"} object a line')
    suggest.add_argument("--top-k", type=int, default=3, metavar="K", help="codes per passage (default 3)")
    _suggest_options(suggest)
    suggest.add_argument("--reasons", action="store_true",
                         help="add each suggestion's reason (closest coded example, anchor or definition)")

    tune = commands.add_parser("tune", help="adapt the project's suggestion model to its codings (minutes), "
                               "or go back to the base model")
    tune.add_argument("--epochs", type=int, default=3, help="passes over the codings (default 3)")
    tune.add_argument("--reset", action="store_true", help="suggest with the base model again")

    themes = commands.add_parser("themes", help="cluster coded segments into cross-stakeholder themes: "
                                 "JSON lines in (stdin), one JSON object out")
    themes.add_argument("--n-themes", default="auto", metavar="N|auto",
                        help="how many themes: a number, auto (default), or finer/coarser than auto")
    themes.add_argument("--seed", type=int, default=0, help="seed of the randomised steps (default 0)")
    _theme_options(themes)

    evaluate = commands.add_parser("eval", help="measure code suggestions or themes on gold-coded data")
    targets = evaluate.add_subparsers(dest="target", required=True, metavar="TARGET")
    ev = targets.add_parser("suggest", help="cross-validate code suggestions and print accuracy, macro-F1, top-k")
    ev.add_argument("--data", required=True, metavar="CSV_OR_JSONL", help="gold-coded passages (.csv or .jsonl)")
    ev.add_argument("--codebook", metavar="CODEBOOK", help="codebook with the gold codes (default: bare code ids)")
    ev.add_argument("--text", default="text", metavar="FIELD", help="field with the passage (default text)")
    ev.add_argument("--fallback", default="title", metavar="FIELD",
                    help="field used when the text is empty (default title, if the data has it)")
    ev.add_argument("--label", default="code", metavar="FIELD", help="field with the gold code (default code)")
    ev.add_argument("--group", metavar="FIELD",
                    help="leave one group out (e.g. interview) instead of stratified k-fold")
    ev.add_argument("--folds", type=int, default=5, metavar="N", help="stratified folds (default 5)")
    ev.add_argument("--top-k", type=int, default=3, metavar="K", help="k of top-k accuracy (default 3)")
    ev.add_argument("--codebook-only", action="store_true", help="do not learn from the training folds")
    ev.add_argument("--seed", type=int, default=0, help="seed of the fold split (default 0)")
    ev.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    _suggest_options(ev)
    et = targets.add_parser("themes", help="cluster gold-labelled passages and print ARI and NMI against the labels")
    et.add_argument("--data", required=True, metavar="CSV_OR_JSONL", help="gold-labelled passages (.csv or .jsonl)")
    et.add_argument("--label", required=True, metavar="FIELD",
                    help="field with the gold label, or a pattern of one-hot columns such as 'level2_*'")
    et.add_argument("--group-by", metavar="FIELD", help="also cluster each group of this field on its own")
    et.add_argument("--text", default="text", metavar="FIELD[,FIELD]",
                    help="field(s) with the passage, joined with '. ' (default text; e.g. title,text)")
    et.add_argument("--n-themes", default="auto", metavar="N|auto", help="the engine's number of themes (default auto)")
    et.add_argument("--seed", type=int, default=0, help="seed of the randomised steps (default 0)")
    et.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    _theme_options(et)
    add_export_parsers(commands)
    return parser


def _theme_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--embedder", metavar="NAME", help="e5, e5-engine, use, st:MODEL_OR_FOLDER or hashing "
                        "(default: $CODEWERK_EMBEDDER, else e5)")
    parser.add_argument("--cache", action="store_true",
                        help="keep the vectors in the project's vector cache (--project), so no text is embedded twice")


def _suggest_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--embedder", default="e5", metavar="NAME",
                        help="e5 (default, offline), e5-engine, use, st:MODEL_OR_FOLDER or hashing (tests)")
    parser.add_argument("--codes", metavar="ID,ID", help="suggest only these codes (default: every codable code)")
    parser.add_argument("--cache", action="store_true",
                        help="keep the vectors in the project's vector cache (--project), so no text is embedded twice")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CodewerkError as e:
        print(f"codewerk: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("codewerk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # a bug: still one line, the traceback only on request
        if os.environ.get("CODEWERK_DEBUG"):
            raise
        print(f"codewerk: internal error: {type(e).__name__}: {e} (set CODEWERK_DEBUG=1 for details)", file=sys.stderr)
        return 2


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "codewerk"


def _open(args: argparse.Namespace):
    from coding.store import Project

    return Project(args.project)


def cmd_init(args: argparse.Namespace) -> int:
    from coding.store import Project

    Project.create(args.project).close()
    print(f"created project {args.project}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from coding.demo import ensure_demo_project

    if ensure_demo_project(args.project):
        print(f"created the demo project {args.project}")
    else:
        print(f"using the existing project {args.project}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from coding.importing import import_paths

    attributes = {}
    for item in args.attr:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(item, "an attribute must be written KEY=VALUE, e.g. stakeholder=Kommune")
        attributes[key.strip()] = value.strip()
    max_bytes = int(args.max_mb * 1024 * 1024) if args.max_mb else None
    with _open(args) as project:
        result = import_paths(project, args.paths, user=args.user, attributes=attributes,
                              metadata=args.metadata, max_bytes=max_bytes)
    print(f"imported {len(result.names)} document(s): {', '.join(result.names)}")
    if result.skipped:
        print(f"passed over {len(result.skipped)} file(s) that are not transcripts: "
              + ", ".join(p.name for p in result.skipped))
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    with _open(args) as project:
        documents = project.documents()
    if args.json:
        for d in documents:
            print(json.dumps(d, ensure_ascii=False))
        return 0
    if not documents:
        print("no documents yet (add some with: codewerk import FILES)")
        return 0
    print(f"{'id':>4}  {'name':<20} {'format':<6} {'words':>6} {'turns':>5} {'segm.':>5}  attributes")
    for d in documents:
        attrs = ", ".join(f"{k}={v}" for k, v in d["attributes"].items())
        print(f"{d['id']:>4}  {d['name'][:20]:<20} {d['format']:<6} {d['word_count']:>6} {d['turns']:>5} "
              f"{d['segments']:>5}  {attrs}")
    return 0


def cmd_turns(args: argparse.Namespace) -> int:
    from coding.timefmt import clock

    with _open(args) as project:
        document = project.document(args.document)
        turns = project.turns(document["id"])
    for t in turns:
        if args.json:
            print(json.dumps(t, ensure_ascii=False))
            continue
        stamp = f"[{clock(t['timestamp'])}] " if t["timestamp"] is not None else ""
        role = f" ({t['role']})" if t["role"] else ""
        print(f"{stamp}{t['speaker'] or '?'}{role}: {t['text']}\n")
    return 0


def cmd_codebook(args: argparse.Namespace) -> int:
    from coding.codebook import export_qdc, load_codebook, save_codebook

    if args.action == "validate":
        codebook = load_codebook(args.file)
        print(f"{args.file}: valid, {len(codebook.codes)} codes")
        return 0
    with _open(args) as project:
        if args.action == "import":
            codebook = load_codebook(args.file)
            changed = project.save_codebook(codebook, args.user)
            print(f"imported {len(codebook.codes)} codes from {args.file} ({changed} new or changed)")
            return 0
        codebook = project.codebook()
    if Path(args.file).suffix.lower() == ".qdc":
        Path(args.file).write_bytes(export_qdc(codebook))
    else:
        save_codebook(codebook, args.file)
    print(f"wrote {len(codebook.codes)} codes to {args.file}")
    return 0


def _embedder(name: str):
    from coding.embed.registry import get_embedder

    return get_embedder(name)


@contextlib.contextmanager
def _suggest_embedder(args: argparse.Namespace):
    embedder = _embedder(args.embedder)
    if not args.cache:
        yield embedder
        return
    from coding.embed.cache import ProjectCachedEmbedder

    with _open(args) as project:
        yield ProjectCachedEmbedder(project, embedder)



def _utf8_stdout() -> None:
    # The contract is UTF-8 whatever the console's locale says.
    if hasattr(sys.stdout, "reconfigure") and (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")


def cmd_suggest(args: argparse.Namespace) -> int:
    from coding.codebook import load_codebook
    from coding.suggest.data import json_lines, read_stdin_lines
    from coding.suggest.groups import GroupedSuggester

    if args.top_k < 1:
        raise InputError("--top-k", f"must be at least 1, not {args.top_k}")
    # Everything is read and checked before anything is written: a bad line gives no partial output.
    passages = [item for _, item in json_lines(read_stdin_lines(), "<stdin>", ("id", "text"))]
    codebook = load_codebook(args.codebook)
    with _suggest_embedder(args) as embedder:
        return _suggest(args, passages, GroupedSuggester(codebook, embedder, codes=code_list(args.codes)))


def _suggest(args: argparse.Namespace, passages: list[dict], suggester) -> int:
    from coding.suggest import Example
    from coding.suggest.data import json_lines, read_lines

    if args.train:
        examples = []
        for number, item in json_lines(read_lines(args.train), args.train, ("text", "code")):
            if item["code"] not in suggester.codes:
                raise InputError(args.train, f"line {number}: the code {item['code']!r} is not among the codes "
                                 f"of {args.codebook} that can be suggested", ", ".join(suggester.codes))
            item_id = str(item["id"]) if item.get("id") is not None else None
            examples.append(Example(item["text"], item["code"], item.get("context") or "", item_id))
        suggester.fit(examples)
    results = suggester.suggest([p["text"] for p in passages], k=args.top_k,
                                context=[p.get("context") for p in passages]) if passages else []
    _utf8_stdout()
    for passage, suggestions in zip(passages, results):
        out = []
        for s in suggestions:
            entry = {"code": s.code, "score": s.score}
            if args.reasons:
                entry["reason"] = s.reason.as_dict()
            out.append(entry)
        sys.stdout.write(json.dumps({"id": passage["id"], "suggestions": out}, ensure_ascii=False) + "\n")
    return 0


def _n_themes(value: str) -> int | str:
    from coding.themes import AUTO, COARSER, FINER

    value = value.strip().lower()
    if value in (AUTO, FINER, COARSER):
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise InputError("--n-themes", f"must be a number of at least 1, auto, finer or coarser, not {value!r}")


def cmd_tune(args: argparse.Namespace) -> int:
    from coding.embed import get_embedder
    from coding.embed.tune import TuningSettings
    from coding.suggest.adapt import forget_tuning, tune_project

    if args.epochs < 1:
        raise InputError("--epochs", f"must be at least 1, not {args.epochs}")
    with _open(args) as project:
        if args.reset:
            forget_tuning(project)
            print("suggestions use the base model again")
            return 0
        last = [-1]

        def progress(done: int, total: int) -> None:  # every 5 %; the app reads these lines (PROGRESS_LINE)
            percent = 100 * done // total
            if percent // 5 != last[0] // 5 or done == total:
                last[0] = percent
                print(progress_line(done, total), file=sys.stderr, flush=True)

        record = tune_project(project, get_embedder(), settings=TuningSettings(epochs=args.epochs), progress=progress)
    print(f"suggestions now use a model tuned on {record['codings']} codings in {record['seconds']} s "
          f"({record['file']})")
    return 0


PROGRESS_LINE = re.compile(r"^\s*\d+ % \((\d+) of (\d+) steps\)$")  # matches `progress_line`; the app reads it


def progress_line(done: int, total: int) -> str:
    """What `codewerk tune` prints on standard error as it goes, e.g. "  35 % (49 of 141 steps)"."""
    return f"  {100 * done // total} % ({done} of {total} steps)"


def cmd_themes(args: argparse.Namespace) -> int:
    import numpy as np

    from coding.suggest.data import read_stdin_lines
    from coding.themes import find_themes
    from coding.themes.data import read_segments

    n_themes = _n_themes(args.n_themes)
    # Every line is read and checked before anything is embedded or written.
    segments = read_segments(read_stdin_lines(), "<stdin>")
    if segments:
        with _suggest_embedder(args) as embedder:
            vectors = embedder.embed([s.text for s in segments])
            model_id = embedder.model_id
    else:
        vectors, model_id = np.zeros((0, 1)), None
    run = find_themes(segments, vectors, n_themes=n_themes, seed=args.seed, embedder=model_id)
    _utf8_stdout()
    sys.stdout.write(json.dumps(run.as_dict(), ensure_ascii=False, indent=1) + "\n")
    return 0


def _eval_themes(args: argparse.Namespace) -> int:
    from coding.themes.evaluate import evaluate_themes, format_report

    n_themes = _n_themes(args.n_themes)
    with _suggest_embedder(args) as embedder:
        report = evaluate_themes(args.data, embedder=embedder, label=args.label, group_by=args.group_by,
                                 text=args.text, n_themes=n_themes, seed=args.seed)
    _utf8_stdout()
    print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else format_report(report))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from coding.suggest.evaluate import evaluate_suggestions, format_metrics, format_reliability

    if args.target == "themes":
        return _eval_themes(args)

    with _suggest_embedder(args) as embedder:
        report = evaluate_suggestions(args.data, codebook=args.codebook, embedder=embedder, text=args.text,
                                      fallback=args.fallback, label=args.label, group=args.group,
                                      folds=args.folds, k=args.top_k, train=not args.codebook_only,
                                      codes=code_list(args.codes), seed=args.seed)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    print(report["description"])
    print(format_metrics(report["figures"], args.top_k))
    print()
    print(format_reliability(report["reliability"], report["ece"]))
    return 0


COMMANDS = {"init": cmd_init, "demo": cmd_demo, "import": cmd_import, "documents": cmd_documents, "turns": cmd_turns,
            "codebook": cmd_codebook, "suggest": cmd_suggest, "tune": cmd_tune, "themes": cmd_themes, "eval": cmd_eval,
            "export": cmd_export, "import-qdpx": cmd_import_qdpx}


if __name__ == "__main__":
    sys.exit(main())
