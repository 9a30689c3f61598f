"""Import speed: 30 interview-sized files in mixed formats, and the 72 Magdeburg council sessions.

Usage: python bench/import_speed.py [--skip-council]
Writes its figures into BENCHMARKS.md. Needs ../shared/benchmarks/stadtratwatch_magdeburg.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.magdeburg import DATA, FORMATS, interview_sized, load_sessions, paragraphs, write_session  # noqa: E402
from bench.report import machine, write_section  # noqa: E402
from coding import read_transcript, split_segments  # noqa: E402
from coding.importing import import_paths  # noqa: E402
from coding.store import NewDocument, Project  # noqa: E402


def _timed_import(folder: Path, db: Path) -> float:
    with Project.create(db) as project:
        start = time.perf_counter()
        import_paths(project, [folder], user="bench")
        return time.perf_counter() - start


def _phases(files: list[Path], db: Path) -> dict[str, float]:
    """The three steps of an import timed one after another: read, segment, store."""
    start = time.perf_counter()
    transcripts = [read_transcript(f) for f in files]
    read = time.perf_counter() - start
    start = time.perf_counter()
    segments = [split_segments(t) for t in transcripts]
    segment = time.perf_counter() - start
    documents = [NewDocument(f.stem, f.name, t, s, {}, f.stat().st_size) for f, t, s in zip(files, transcripts, segments)]
    with Project.create(db) as project:
        start = time.perf_counter()
        project.add_documents(documents, "bench")
        store = time.perf_counter() - start
    return {"read": read, "segment": segment, "store": store}


def _faithful(session_turns: list[dict], path: Path) -> bool:
    """The file reads back with the same speakers and the same words per turn as the source."""
    transcript = read_transcript(path)
    got = [(t.speaker, " ".join(transcript.turn_text(t).split())) for t in transcript.turns]
    want: list[tuple[str, str]] = []
    for r in session_turns:
        words = " ".join(" ".join(paragraphs(r)).split())
        if path.suffix in (".vtt", ".srt") and want and want[-1][0] == r["speaker"]:
            want[-1] = (r["speaker"], want[-1][1] + " " + words)  # cues of one speaker form one turn
        else:
            want.append((r["speaker"], words))
    return got == want


def bench_interviews(sessions, work: Path, runs: int = 5) -> str:
    folder = work / "interviews"
    folder.mkdir()
    excerpts = interview_sized(sessions, 30, 2000)
    files = [write_session(s, turns, folder, FORMATS[i % 4], name=f"I{i + 1:02d}")
             for i, (s, turns) in enumerate(excerpts)]
    words = sum(len(t["text"].split()) for _, turns in excerpts for t in turns)
    times = [_timed_import(folder, work / f"i{k}.db") for k in range(runs)]
    phases = _phases(files, work / "phases.db")
    faithful = sum(_faithful(turns, f) for (s, turns), f in zip(excerpts, files))
    cold, warm = times[0], statistics.median(times[1:])
    return (
        f"30 files of about 2,000 words ({words:,} words in all), {', '.join(FORMATS)} in turn, cut from real "
        f"council sessions; each run imports the folder into a fresh project (read, segment, store in one "
        f"transaction).\n\n"
        f"| run | wall time | documents/s |\n|---|---|---|\n"
        f"| first in the process (includes loading spaCy) | {cold:.2f} s | {30 / cold:.1f} |\n"
        f"| median of the next {runs - 1} | {warm:.2f} s | {30 / warm:.1f} |\n\n"
        f"The steps of a warm import, timed one after another: reading {phases['read']:.2f} s, segmenting "
        f"{phases['segment']:.2f} s, storing {phases['store']:.2f} s. "
        f"Files that read back with the source's speakers and words per turn: {faithful}/30. Target: under 10 s.\n"
    )


def bench_demo_corpus(work: Path, runs: int = 5) -> str:
    """The shipped demo corpus: 30 written interviews, 20 .docx, 5 cp1252 .txt, 5 .vtt, with metadata.csv."""
    from coding.demo import DEMO_CORPUS

    times = [_timed_import(DEMO_CORPUS, work / f"demo{k}.db") for k in range(runs)]
    with Project(work / "demo0.db") as p:
        words = sum(d["word_count"] for d in p.documents())
    return (f"The demo corpus `corpora/ankunftsquartiere` (30 interviews, {words:,} words; 20 docx, 5 txt, 5 vtt; "
            f"with its metadata.csv), imported into a fresh project {runs} times in this process: median "
            f"**{statistics.median(times):.2f} s** ({30 / statistics.median(times):.1f} documents/s), "
            f"slowest {max(times):.2f} s.\n")


def bench_council(sessions, work: Path) -> str:
    folder = work / "council"
    folder.mkdir()
    files = [write_session(s, turns, folder, FORMATS[i % 4]) for i, (s, turns) in enumerate(sessions.items())]
    words = sum(len(t["text"].split()) for turns in sessions.values() for t in turns)
    db = work / "council.db"
    seconds = _timed_import(folder, db)
    with Project(db) as p:
        p.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        docs = p.documents()
    size = db.stat().st_size
    faithful = sum(_faithful(turns, f) for (s, turns), f in zip(sessions.items(), files))
    return (
        f"All 72 sessions, one file each ({', '.join(FORMATS)} in turn; {words:,} words, "
        f"{sum(d['turns'] for d in docs):,} turns, {sum(d['segments'] for d in docs):,} segments), imported as "
        f"one folder into a fresh project: **{seconds:.1f} s** ({words / seconds:,.0f} words/s), database "
        f"**{size / 1e6:.1f} MB** ({size / sum(f.stat().st_size for f in files):.2f} x the files). "
        f"Sessions that read back with the source's speakers and words per turn: {faithful}/72.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-council", action="store_true", help="only the 30-file benchmark")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: the benchmark needs the shared folder beside the repository")
    sessions = load_sessions()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        body = "## Import\n\nCommand: `make bench` (`python bench/import_speed.py`). " + machine() + ".\n\n"
        body += "### 30 interview-sized files\n\n" + bench_interviews(sessions, work)
        body += "\n" + bench_demo_corpus(work)
        print(body)
        if not args.skip_council:
            council = "\n### The 72 council sessions (1.9 million words)\n\n" + bench_council(sessions, work)
            print(council)
            body += council
    write_section("import", body)


if __name__ == "__main__":
    main()
