"""How fast the checker grades: one exercise notebook, and a batch of 200 submissions.

Prints a table, sandbox on and off: the median time to grade one solution notebook (over
several runs, each a fresh child process, timed with ``timeit``), and the wall time of a
batch of 200 submissions (100 copies of the solution, 100 of the untouched exercise, each
with its own learner so every one is graded on its own data when the exercise varies)
graded with ``--jobs 2``, also reported per 10 submissions. ``BENCH_ALL=1`` adds one row
per exercise: the median time to grade its solution.
The exercise is ``$BENCH_EXERCISE`` (01_potential_outcomes unless set), else the first one
with checks, an exercise notebook and a solution, else the checker's own test exercise. Not a test: run it with
``python benchmarks/bench_checker.py``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

from lessons_lib.check.cli import grade_all
from lessons_lib.check.runner import Grader
from lessons_lib.check.sandbox import choose_isolation

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
BATCH = 200
EXERCISE = os.environ.get("BENCH_EXERCISE", "01_potential_outcomes")


def pick_exercise() -> tuple[Path, Path, Path]:
    """(checks folder, solution notebook, exercise notebook)."""
    checks = ROOT / "exercises" / "checks"
    candidates = sorted(checks.glob("[0-9][0-9]_*.py"), key=lambda p: p.stem != EXERCISE)
    for path in candidates:
        solution = ROOT / "solutions" / f"{path.stem}.ipynb"
        exercise = ROOT / "exercises" / f"{path.stem}.ipynb"
        if solution.is_file() and exercise.is_file():
            return checks, solution, exercise
    sys.path.insert(0, str(ROOT / "tests" / "corpus"))
    import hostile_corpus

    folder = Path(tempfile.mkdtemp(prefix="bench-checker-"))
    for name, answers in (("solution", hostile_corpus.SOLUTION), ("exercise", hostile_corpus.STUB)):
        (folder / f"{name}_99_corpus.ipynb").write_text(hostile_corpus._text(hostile_corpus.notebook(answers)))
    return hostile_corpus.CHECKS, folder / "solution_99_corpus.ipynb", folder / "exercise_99_corpus.ipynb"


def main() -> None:
    checks, solution, exercise = pick_exercise()
    rows = []
    for no_sandbox in (False, True):
        isolation = choose_isolation(no_sandbox)
        if not no_sandbox and not isolation.sandboxed:
            rows.append((str(isolation), float("nan"), float("nan"), float("nan"), float("nan"),
                         ""))
            continue
        grader = Grader(checks, isolation=isolation)
        times, cpu = [], []
        for _ in range(RUNS):
            used = _children_cpu()
            times.append(timeit.timeit(lambda g=grader: _must_pass(g.grade(solution)), number=1))
            cpu.append(_children_cpu() - used)
        with tempfile.TemporaryDirectory(prefix="bench-checker-batch-") as folder:
            paths = []
            for i in range(BATCH):
                source = solution if i % 2 == 0 else exercise
                notebook = json.loads(source.read_text())
                notebook["metadata"]["lessons"]["learner"] = f"student{i:03d}@example.org"
                paths.append(Path(folder) / f"student{i:03d}_{source.name}")
                paths[-1].write_text(json.dumps(notebook))
            started = time.perf_counter()
            results = grade_all(grader, paths, jobs=2, progress=False)
            batch = time.perf_counter() - started
        statuses = {r.status for r in results}
        rows.append((str(isolation).split(" (")[0], statistics.median(times), min(times),
                     statistics.median(cpu), batch, ",".join(sorted(statuses))))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Grading {solution.relative_to(ROOT) if solution.is_relative_to(ROOT) else solution.name}"
          f" ({os.cpu_count()} cores, load average {load:.1f})")
    print(f"{'isolation':<22}{'one notebook, median':>22}{'fastest':>10}{'CPU':>9}"
          f"{f'batch of {BATCH}, --jobs 2':>26}{'per 10':>9}  statuses")
    for kind, median, fastest, cpu, batch, statuses in rows:
        # Inside bwrap's pid namespace the child's CPU time never reaches our rusage.
        shown = f"{cpu:>7.2f} s" if kind != "bubblewrap" else f"{'n/a':>9}"
        print(f"{kind:<22}{median:>20.2f} s{fastest:>8.2f} s{shown}{batch:>24.1f} s"
              f"{batch / BATCH * 10:>7.1f} s  {statuses}")
    print("CPU: the child processes' user + system time for one notebook (about the wall time "
          "on an idle core); not measurable through bwrap's pid namespace.")
    if os.environ.get("BENCH_ALL"):
        per_exercise()


def _must_pass(result) -> None:
    assert result.all_passed, [q.feedback() for q in result.questions]


def per_exercise() -> None:
    """The median time to grade each exercise's solution (sandboxed when possible)."""
    checks = ROOT / "exercises" / "checks"
    grader = Grader(checks)
    print(f"\nPer exercise ({grader.isolation.kind}): median of {RUNS} gradings of the solution")
    medians = []
    for path in sorted(checks.glob("[0-9][0-9]_*.py")):
        solution = ROOT / "solutions" / f"{path.stem}.ipynb"
        if not solution.is_file():
            continue
        grader.grade(solution)  # the checks load once, as in a batch
        runs = [timeit.timeit(lambda s=solution: _must_pass(grader.grade(s)), number=1)
                for _ in range(RUNS)]
        medians.append(statistics.median(runs))
        print(f"  {path.stem:<32}{medians[-1]:>7.2f} s  (fastest {min(runs):.2f} s)")
    if medians:
        print(f"  {'median over exercises':<32}{statistics.median(medians):>7.2f} s  "
              f"(slowest {max(medians):.2f} s)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
