"""``python -m lessons_lib.check PATH...``: grade one notebook, several, or folders of them.

Exit status: 0 when every question of every submission passes; 1 when any does not, or a
submission timed out, crashed or was invalid; 2 when the command was used wrongly (a bad
flag, a path that does not exist, no notebooks found, an unknown or broken checks folder).

Output: each question's feedback (human mode), or ``--json``::

    {"submissions": [{"path", "exercise", "status", "score", "max_score",
                      "isolation", "message", "seconds",
                      "questions": [{"id", "status", "points", "max_points",
                                     "message", "hint", "misconception"}]}]}

and ``--csv FILE``: one row per submission (path, learner, exercise, status, score,
max_score, then one column of points per question, named ``exercise:qid``, so a batch may
mix exercises). ``--gradebook FILE`` (one row per learner, a column per exercise and the
total, for an LMS), ``--feedback DIR`` (a page per submission to hand back) and ``--report
FILE`` (the class report, HTML): see `lessons_lib.check.reports`.

A submission released for a learner (``python -m lessons_lib.release``) is graded on that
learner's own data (``--salt`` must be the release's salt). Hints are given only with
``--hints`` (their first step: the in-notebook check gives the later ones). A batch shows
its progress on standard error (a tqdm bar on a terminal; one line per submission
otherwise) and ends with a summary table: per question, how many passed and the most
common misconception.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from lessons_lib.check.exercises import available_exercises, default_checks_dir
from lessons_lib.check.reports import write_csv, write_feedback, write_gradebook, write_report
from lessons_lib.check.runner import ChecksError, Grader, SubmissionResult
from lessons_lib.check.sandbox import Limits, choose_isolation
from lessons_lib.check.spec import PASS

__all__ = ["USAGE_ERROR", "UsageError", "find_notebooks", "grade_all", "main", "summary",
           "write_csv"]

USAGE_ERROR = 2


class UsageError(Exception):
    """The command was used wrongly (exit status 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lessons_lib.check",
        description="Grade exercise notebooks against their trusted checks. Each submission "
                    "runs in its own process (inside the bubblewrap sandbox where it works) "
                    "with time, memory and output limits.",
        epilog="Exit status: 0 all questions pass, 1 some do not (or a submission timed out, "
               "crashed or was invalid), 2 wrong usage.")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="notebooks, or folders searched recursively for *.ipynb")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--csv", metavar="FILE", help="write one row per submission to FILE")
    parser.add_argument("--gradebook", metavar="FILE",
                        help="write one row per learner, a column per exercise, to FILE (CSV)")
    parser.add_argument("--feedback", metavar="DIR",
                        help="write one feedback page (HTML) per submission into DIR")
    parser.add_argument("--report", metavar="FILE", help="write the class report (HTML) to FILE")
    parser.add_argument("--hints", action="store_true",
                        help="attach each failed question's first hint (off by default)")
    parser.add_argument("--salt", default="", metavar="SALT",
                        help="the course salt the notebooks were released with (default: none)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                        help="submissions graded at once (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=Limits.total_seconds, metavar="S",
                        help="seconds for a whole submission (default: %(default)g)")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_seconds, metavar="S",
                        help="seconds for one answer cell or one call of a learner's "
                             "function (default: %(default)g)")
    parser.add_argument("--memory", type=int, default=Limits.memory_mb, metavar="MB",
                        help="memory limit of a submission's process (default: %(default)s)")
    parser.add_argument("--checks-dir", metavar="DIR",
                        help="folder of NN_slug.py checks (default: exercises/checks)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run without the bubblewrap sandbox (process limits only)")
    return parser


def find_notebooks(paths: Sequence[str]) -> list[Path]:
    """The notebooks named or found (recursively) under the folders named, in order.

    A folder or file named ``*.ipynb`` that is not a readable notebook (a directory, a
    dangling link) is still a submission: it will be graded ``invalid``.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(path):
            raise UsageError(f"{raw}: no such file or folder")
        if path.is_dir() and path.suffix != ".ipynb":
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [Path(root) / d for d in dirs if d.endswith(".ipynb")]
                dirs[:] = [d for d in dirs
                           if d != ".ipynb_checkpoints" and not d.endswith(".ipynb")]
                found += [Path(root) / f for f in sorted(files) if f.endswith(".ipynb")]
        else:
            found.append(path)
    unique = list(dict.fromkeys(found))
    if not unique:
        raise UsageError(f"no notebooks (*.ipynb) found in {', '.join(paths)}")
    return unique


class _Progress:
    """A tqdm bar on a terminal; one plain line per submission otherwise (logs, CI)."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.bar = total, 0, None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="notebook", file=sys.stderr, dynamic_ncols=True)

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        text = f"{Path(result.path).name}: {result.status} {result.score:g}/{result.max_score:g}"
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        else:
            print(f"{self.done}/{self.total} {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def grade_all(grader: Grader, notebooks: list[Path], jobs: int,
              progress: bool) -> list[SubmissionResult]:
    """Grade the notebooks with ``jobs`` worker threads (each drives one child process)."""
    results: dict[Path, SubmissionResult] = {}
    if len(notebooks) > 1:
        grader.prepare(notebooks)
    bar = _Progress(len(notebooks)) if progress else None
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grader.grade, path): path for path in notebooks}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if bar is not None:
                    bar.update(results[futures[future]])
    finally:
        if bar is not None:
            bar.close()
    return [results[path] for path in notebooks]


def _human(result: SubmissionResult) -> str:
    head = (f"== {result.path} · {result.exercise or 'unknown exercise'} · {result.status} · "
            f"{result.score:g}/{result.max_score:g} points · {result.isolation} · "
            f"{result.seconds:.1f} s")
    lines = [head]
    if result.message:
        lines.append(f"   {result.message}")
    lines += [q.feedback() for q in result.questions]
    return "\n".join(lines)


def summary(results: list[SubmissionResult]) -> str:
    """Per exercise and question: how many passed, and the most common misconception."""
    statuses = Counter(r.status for r in results)
    lines = [f"Summary of {len(results)} submissions: "
             + ", ".join(f"{n} {s}" for s, n in statuses.most_common())]
    by_exercise: dict[str, list[SubmissionResult]] = {}
    for r in results:
        if r.exercise and r.questions:
            by_exercise.setdefault(r.exercise, []).append(r)
    for exercise, group in by_exercise.items():
        lines.append(f"\n{exercise} ({len(group)} graded)")
        lines.append(f"  {'question':<9}{'passed':>10}  most common misconception")
        qids = list(dict.fromkeys(q.id for r in group for q in r.questions))
        for qid in qids:
            answers = [q for r in group for q in r.questions if q.id == qid]
            passed = sum(q.status == PASS for q in answers)
            ideas = Counter(q.misconception for q in answers if q.misconception)
            if ideas:
                idea, count = ideas.most_common(1)[0]
                text = f"{idea[:70]}{'...' if len(idea) > 70 else ''} ({count})"
            else:
                text = "-"
            lines.append(f"  {qid:<9}{passed:>5} of {len(answers):<3} {text}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits with status 2 on a bad flag
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        limits = Limits(total_seconds=args.timeout, cell_seconds=args.cell_timeout,
                        memory_mb=args.memory)
    except ValueError as exc:
        parser.error(str(exc))
    if os.name != "posix":
        print("error: the command-line grader needs Linux or macOS (it relies on POSIX process "
              "limits); the in-notebook check() works everywhere", file=sys.stderr)
        return USAGE_ERROR
    try:
        checks_dir = Path(args.checks_dir) if args.checks_dir else default_checks_dir()
        if not checks_dir.is_dir():
            raise UsageError(f"the checks folder {checks_dir} does not exist")
        if not available_exercises(checks_dir):
            raise UsageError(f"the checks folder {checks_dir} has no NN_slug.py checks")
        notebooks = find_notebooks(args.paths)
        grader = Grader(checks_dir, limits, choose_isolation(args.no_sandbox), salt=args.salt,
                        hints=args.hints)
        batch = len(notebooks) > 1
        results = grade_all(grader, notebooks, args.jobs, progress=batch)
    except (UsageError, ChecksError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if args.json:
        print(json.dumps({"submissions": [r.to_dict() for r in results]}, indent=2))
        if batch:
            print(summary(results), file=sys.stderr)
    else:
        print("\n\n".join(_human(r) for r in results))
        if batch:
            print("\n" + summary(results))
    try:
        if args.csv:
            write_csv(results, args.csv)
        if args.gradebook:
            write_gradebook(results, args.gradebook)
        if args.feedback:
            write_feedback(results, args.feedback)
        if args.report:
            write_report(results, args.report)
    except OSError as exc:
        print(f"error: cannot write the results: {exc}", file=sys.stderr)
        return USAGE_ERROR
    return 0 if all(r.all_passed for r in results) else 1
