"""The speed budget, measured: prints a table. Not a test (machines are shared and noisy).

    .venv/bin/python benchmarks/bench_book.py               # book builds, notebooks, checker
    .venv/bin/python benchmarks/bench_book.py --make-test   # also time a full `make test`

Targets on the 2-core reference machine: every notebook under 30 s, a warm rebuild under
30 s, a cold build with every notebook executed under 5 minutes, `make test` under 20
minutes, grading one exercise notebook under 5 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def execute(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def row(name: str, seconds: float, target: float | None) -> str:
    verdict = "" if target is None else ("ok" if seconds <= target else "OVER")
    limit = "" if target is None else f"{target:,.0f}"
    return f"| {name:<48} | {seconds:>9.1f} | {limit:>7} | {verdict:>4} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--make-test", action="store_true", help="also time `make test`")
    args = parser.parse_args()
    rows = []
    build = [str(BIN / "jupyter-book"), "build", ".", "--builder", "html"]

    with tempfile.TemporaryDirectory() as out:
        shutil.rmtree(ROOT / "_build" / ".jupyter_cache", ignore_errors=True)
        cold = timed(build + ["--all", "--path-output", out])
        warm = timed(build + ["--path-output", out])
    notebooks = sorted((ROOT / "chapters").glob("*.ipynb")) + sorted(
        (ROOT / "solutions").glob("*.ipynb"))
    executions = {nb.relative_to(ROOT).as_posix(): execute(nb) for nb in notebooks}
    total_execution = sum(executions.values())

    rows.append(row("cold book build (outputs committed)", cold, None))
    rows.append(row("cold book build + executing every notebook", cold + total_execution, 300))
    rows.append(row("warm rebuild (nothing changed)", warm, 30))
    for name, seconds in executions.items():
        rows.append(row(f"execute {name}", seconds, 30))

    for solution in sorted((ROOT / "solutions").glob("*.ipynb")):
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lessons_lib.check", str(solution)], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            runs.append(time.perf_counter() - start)
        rows.append(row(f"grade {solution.name} (median of 3)", sorted(runs)[1], 5))

    if args.make_test:
        rows.append(row("make test", timed(["make", "test"]), 1200))

    print("| what                                             |   seconds |  target |      |")
    print("|--------------------------------------------------|-----------|---------|------|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
