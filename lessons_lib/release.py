"""``python -m lessons_lib.release``: each learner's own copy of each exercise notebook.

::

    python -m lessons_lib.release --roster roster.csv --out release/ \\
        [--exercise 02_experiments ...] [--salt SALT]

The roster is a CSV file with a ``learner`` column (an id or an e-mail address; other
columns are ignored). For every learner and exercise it writes
``OUT/<learner>/<NN_slug>.ipynb``: the exercise notebook with the metadata
``lessons.exercise`` and ``lessons.learner``, and, for an exercise that varies (its checks
define ``make``), a setup cell (tagged ``setup``) that makes that learner's own data,
from a seed derived from the learner, the exercise and the salt
(`lessons_lib.check.variants`). ``OUT/manifest.csv`` lists what was written.

Keep the salt: the grader needs it to rebuild each learner's data
(``python -m lessons_lib.check --salt SALT ...``); without one, anyone who knows a
classmate's id can make the classmate's notebook. Exit status 0 when everything was
written, 2 on a bad roster (no ``learner`` column, an empty id, a learner listed twice),
an unknown exercise, or an exercise notebook whose setup cell is not its checks' SETUP.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from lessons_lib.check.exercises import (
    available_exercises,
    default_checks_dir,
    is_varied,
    load_exercise,
)
from lessons_lib.check.variants import normalise_learner, variant_for

__all__ = ["ReleaseError", "main", "read_roster", "release", "release_notebook"]

USAGE_ERROR = 2
ROOT = Path(__file__).resolve().parents[1]


class ReleaseError(ValueError):
    """A roster or an exercise that cannot be released (exit status 2)."""


def read_roster(path: str | Path) -> list[str]:
    """The learners of a roster CSV, in its order; `ReleaseError` saying what is wrong."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReleaseError(f"cannot read the roster {path}: {exc}") from None
    if not rows:
        raise ReleaseError(f"the roster {path} is empty: it needs a header row with a "
                           "'learner' column")
    header = [h.strip().lower() for h in rows[0]]
    if "learner" not in header:
        raise ReleaseError(f"the roster {path} has no 'learner' column (its columns: "
                           f"{', '.join(rows[0]) or 'none'}); add one holding each learner's "
                           "id or e-mail address")
    column = header.index("learner")
    learners, seen, problems = [], {}, []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        learner = row[column].strip() if column < len(row) else ""
        if not learner:
            problems.append(f"line {number}: empty learner id")
            continue
        key = normalise_learner(learner)
        if key in seen:
            problems.append(f"line {number}: {learner!r} is already on line {seen[key]} "
                            "(ids are compared without case)")
            continue
        if re.search(r"[/\\\x00-\x1f]", learner) or learner in (".", ".."):
            problems.append(f"line {number}: {learner!r} contains a slash or a control "
                            "character; use an id or an e-mail address")
            continue
        seen[key] = number
        learners.append(learner)
    if problems:
        raise ReleaseError(f"the roster {path} has {len(problems)} problem(s): "
                           + "; ".join(problems[:10]) + ("; ..." if len(problems) > 10 else ""))
    if not learners:
        raise ReleaseError(f"the roster {path} lists no learners")
    return learners


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def release_notebook(notebook: dict, exercise_id: str, learner: str, salt: str = "",
                     checks_dir: Path | None = None) -> dict:
    """A copy of the exercise notebook for ``learner``: metadata, and their own setup cell."""
    shared = load_exercise(exercise_id, checks_dir)
    result = copy.deepcopy(notebook)
    result.setdefault("metadata", {})["lessons"] = {"exercise": exercise_id, "learner": learner}
    setup_cells = [c for c in result.get("cells", []) if c.get("cell_type") == "code"
                   and "setup" in (c.get("metadata", {}).get("tags") or [])]
    if len(setup_cells) != 1:
        raise ReleaseError(f"{exercise_id}: the notebook needs exactly one code cell tagged "
                           f"'setup', it has {len(setup_cells)}")
    cell = setup_cells[0]
    source = _source(cell)
    if not source.startswith(shared.setup):
        raise ReleaseError(f"{exercise_id}: the notebook's setup cell does not start with its "
                           "checks' SETUP; re-create it from the checks file")
    if is_varied(exercise_id, checks_dir):
        variant = variant_for(exercise_id, learner, salt)
        mine = load_exercise(exercise_id, checks_dir, variant)
        rest = source[len(shared.setup):]
        call = f'checker("{exercise_id}")'
        if call not in rest:
            raise ReleaseError(f"{exercise_id}: the setup cell has no {call} line")
        rest = rest.replace(call, f'checker("{exercise_id}", seed={variant.seed})')
        cell["source"] = mine.setup + rest
    for c in result.get("cells", []):
        if c.get("cell_type") == "code":
            c["outputs"], c["execution_count"] = [], None
    return result


def _folder_name(learner: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]+", "_", learner).strip("._") or "learner"


def release(learners: Sequence[str], out: Path, exercises: Sequence[str], salt: str = "",
            notebooks_dir: Path | None = None, checks_dir: Path | None = None) -> list[dict]:
    """Write every learner's notebooks; return the manifest rows."""
    notebooks_dir = notebooks_dir or ROOT / "exercises"
    sources = {}
    for exercise_id in exercises:
        path = notebooks_dir / f"{exercise_id}.ipynb"
        try:
            sources[exercise_id] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReleaseError(f"cannot read the exercise notebook {path}: {exc}") from None
    folders: dict[str, str] = {}
    for learner in learners:
        name = _folder_name(learner)
        if name.lower() in folders:
            raise ReleaseError(f"learners {folders[name.lower()]!r} and {learner!r} would share "
                               f"the folder {name!r}; make their ids differ in letters or digits")
        folders[name.lower()] = learner
    rows = []
    for learner in learners:
        folder = out / _folder_name(learner)
        folder.mkdir(parents=True, exist_ok=True)
        for exercise_id, notebook in sources.items():
            mine = release_notebook(notebook, exercise_id, learner, salt, checks_dir)
            path = folder / f"{exercise_id}.ipynb"
            path.write_text(json.dumps(mine, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
            rows.append({"learner": learner, "exercise": exercise_id,
                         "notebook": str(path.relative_to(out)),
                         "own_data": "yes" if is_varied(exercise_id, checks_dir) else "no"})
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["learner", "exercise", "notebook", "own_data"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lessons_lib.release",
        description="Write each learner's own variant of each exercise notebook.")
    parser.add_argument("--roster", required=True, metavar="ROSTER.csv",
                        help="CSV with a 'learner' column (ids or e-mail addresses)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    parser.add_argument("--exercise", action="append", metavar="NN_slug",
                        help="an exercise to release (repeatable; default: all)")
    parser.add_argument("--salt", default="", help="a course salt to keep (default: none)")
    parser.add_argument("--exercises-dir", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--checks-dir", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    checks_dir = Path(args.checks_dir) if args.checks_dir else default_checks_dir()
    notebooks_dir = Path(args.exercises_dir) if args.exercises_dir else ROOT / "exercises"
    try:
        known = [e for e in available_exercises(checks_dir)
                 if (notebooks_dir / f"{e}.ipynb").is_file()]
        exercises = args.exercise or known
        unknown = [e for e in exercises if e not in known]
        if unknown:
            raise ReleaseError(f"unknown exercise(s) {', '.join(unknown)}; known: "
                               f"{', '.join(known) or 'none'}")
        learners = read_roster(args.roster)
        out = Path(args.out)
        rows = release(learners, out, exercises, args.salt, notebooks_dir, checks_dir)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    varied = sorted({r["exercise"] for r in rows if r["own_data"] == "yes"})
    print(f"wrote {len(rows)} notebooks for {len(learners)} learners into {out} "
          f"({len(varied)} of {len(exercises)} exercises with each learner's own data)")
    if not args.salt:
        print("note: no --salt given; anyone who knows a learner's id can rebuild their data",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
