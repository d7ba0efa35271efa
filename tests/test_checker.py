"""The exercise checker's grader and command line, against a corpus of hostile submissions.

The corpus (tests/corpus/hostile_corpus.py) is graded in one batch by the real command
line, in the sandbox when bubblewrap works here. Every case must get exactly its listed status, every
question its listed status; the batch exits 1, writes one CSV row per submission, and no
file outside the submissions' temporary folders changes. Attacks on files and the network
are only run (and only safe) inside the sandbox: without it they are skipped, saying why.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from lessons_lib.check import checker, cli
from lessons_lib.check.reading import (
    InvalidSubmission,
    answer_cells,
    identify_exercise,
    read_notebook,
)
from lessons_lib.check.sandbox import PACKAGE_DIR, detect_isolation

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import hostile_corpus as corpus  # noqa: E402

LIMITS = ["--timeout", "20", "--cell-timeout", "3", "--memory", "1024", "--jobs", "2"]
ISOLATION = detect_isolation()
needs_sandbox = pytest.mark.skipif(
    not ISOLATION.sandboxed,
    reason=f"the bubblewrap sandbox does not work here ({ISOLATION}); attacks on files and "
           "the network are only run inside it")


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lessons_lib.check", *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def snapshot(*folders_or_files: Path) -> dict[str, tuple[str, int]]:
    """Hash and mtime of every file under the given paths."""
    seen = {}
    for top in folders_or_files:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            seen[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(),
                               path.stat().st_mtime_ns)
    return seen


def grade_corpus(top: Path) -> dict:
    """Write the corpus (plus the attacks, when sandboxed) into ``top`` and grade it in one
    command; return everything the tests look at, as JSON-ready data."""
    checks = top / "checks"
    shutil.copytree(corpus.CHECKS, checks)
    submissions = top / "submissions"
    expected = corpus.write_corpus(submissions)
    canary = submissions / "canary.txt"
    canary.write_text("the instructor's file\n")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    repo_checks = ROOT / "exercises" / "checks"
    if ISOLATION.sandboxed:
        targets = {"checks": checks / "99_corpus.py", "sibling": submissions / "solution.ipynb",
                   "canary": canary, "package": PACKAGE_DIR, "repo_checks": repo_checks}
        for name, (text, status, questions) in corpus.hostile_cases(
                targets, listener.getsockname()[1]).items():
            (submissions / name).write_text(text)
            expected[name] = (status, questions)
    # Exactly what the attacks aim at. (The repository's exercises/checks may change while
    # this runs, as authors add exercises: it is checked by what an attack would leave.)
    watched = [checks, submissions, PACKAGE_DIR / "check"]
    repo_before = sorted(p.name for p in repo_checks.glob("*.py"))
    before = snapshot(*watched)
    listing_before = sorted(os.listdir(submissions))
    csv_path = top / "grades.csv"
    proc = run_cli(str(submissions), "--json", "--csv", str(csv_path), "--checks-dir",
                   str(checks), *LIMITS, env={corpus.SECRET: "instructor-only"})
    try:
        listener.accept()[0].close()
        connected = True
    except BlockingIOError:
        connected = False
    listener.close()
    assert proc.stdout.startswith("{"), proc.stderr[-3000:]
    return {
        "returncode": proc.returncode, "stderr": proc.stderr, "expected": expected,
        "checks": str(checks), "submissions": str(submissions), "csv": str(csv_path),
        "results": {Path(s["path"]).name: s for s in json.loads(proc.stdout)["submissions"]},
        "before": before, "after": snapshot(*watched), "listing_before": listing_before,
        "listing_after": sorted(os.listdir(submissions)), "repo_checks": str(repo_checks),
        "repo_before": repo_before, "connected": connected}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The corpus graded once per test session, even when pytest-xdist runs several workers."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the session's folder, common to all workers
    saved = shared / "checker-batch" / "batch.json"
    with open(shared / "checker-batch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.exists():
            saved.parent.mkdir(exist_ok=True)
            saved.write_text(json.dumps(grade_corpus(saved.parent)))
        data = json.loads(saved.read_text())
    for key in ("checks", "submissions", "csv", "repo_checks"):
        data[key] = Path(data[key])
    data["repo_before"] = set(data["repo_before"])
    return SimpleNamespace(**data)


CASE_NAMES = sorted([*corpus.CASES, *corpus.SPECIAL,
                     *(corpus.FORK_CASES if ISOLATION.sandboxed else ())])


@pytest.mark.parametrize("name", CASE_NAMES)
def test_corpus_case_gets_its_exact_grade(batch, name):
    status, questions = batch.expected[name]
    result = batch.results[name]
    assert result["status"] == status, result
    if questions is None:
        assert result["questions"] == [] and result["message"], result
    else:
        assert {q["id"]: q["status"] for q in result["questions"]} == questions, result


def test_batch_has_one_row_per_submission_and_exits_1(batch):
    assert batch.returncode == 1
    assert set(batch.results) == set(batch.expected)
    with open(batch.csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(batch.expected)
    assert list(rows[0])[:10] == ["path", "learner", "exercise", "status", "score", "max_score",
                                  *(f"99_corpus:{q}" for q in corpus.QIDS)]
    by_name = {Path(r["path"]).name: r for r in rows}
    assert by_name["solution.ipynb"]["score"] == "6" and by_name["untouched.ipynb"]["score"] == "0"
    assert [by_name["partial.ipynb"][f"99_corpus:{q}"] for q in corpus.QIDS] == ["1", "1", "2", "1"]
    assert by_name["not_json.ipynb"]["status"] == "invalid"


def test_json_has_the_contract_fields(batch):
    for result in batch.results.values():
        assert {"path", "exercise", "status", "score", "max_score", "questions"} <= set(result)
        assert result["status"] in {"graded", "timeout", "crashed", "invalid"}
        assert result["isolation"] == str(ISOLATION)
        for q in result["questions"]:
            assert {"id", "status", "points", "max_points", "message", "hint"} <= set(q)
            assert q["status"] in {"pass", "fail", "error", "missing", "timeout"}


def test_feedback_names_the_misconception_and_never_the_answer(batch):
    q1 = batch.results["naive.ipynb"]["questions"][0]
    assert q1["status"] == "fail" and "naive difference" in q1["misconception"]
    assert q1["message"] == "1 of 2 checks passed"
    assert q1["hint"] == ""  # a batch gives no hints unless --hints asks
    assert "2.0" not in json.dumps(q1)  # the expected value is never shown
    partial = batch.results["partial.ipynb"]["questions"][3]
    assert partial["points"] == 1 and partial["max_points"] == 2


def test_summary_and_progress_go_to_stderr(batch):
    err = batch.stderr
    n = len(batch.expected)
    assert f"{n}/{n}" in err
    assert f"Summary of {n} submissions" in err
    assert "naive difference in observed means" in err  # the most common misconception of q1


def test_a_bad_submission_does_not_change_another_grade(batch, tmp_path):
    for name in ("solution.ipynb", "naive.ipynb"):
        shutil.copy(batch.submissions / name, tmp_path / name)
    proc = run_cli(str(tmp_path), "--json", "--checks-dir", str(batch.checks), *LIMITS)
    alone = {Path(s["path"]).name: s for s in json.loads(proc.stdout)["submissions"]}
    for name in alone:
        keep = ("status", "score", "max_score")
        assert {k: alone[name][k] for k in keep} == {k: batch.results[name][k] for k in keep}
        assert alone[name]["questions"] == batch.results[name]["questions"]


def test_the_solution_alone_exits_0(batch):
    proc = run_cli(str(batch.submissions / "solution.ipynb"), "--checks-dir", str(batch.checks),
                   *LIMITS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "q4 ✓ pass: 2 of 2 checks passed (2/2 points)" in proc.stdout


def test_output_is_capped(batch):
    assert "printed output was cut" in batch.results["print_flood.ipynb"]["message"]


def test_nothing_outside_the_temporary_folders_changed(batch):
    assert batch.after == batch.before
    assert batch.listing_after == batch.listing_before
    repo_after = {p.name for p in batch.repo_checks.glob("*.py")}
    assert batch.repo_before <= repo_after and "00_pwned.py" not in repo_after
    for path in batch.repo_checks.glob("*.py"):
        assert "EXERCISE = None" not in path.read_text()


@needs_sandbox
def test_the_sandbox_held_every_attack(batch):
    hostile = ["edits_checks.ipynb", "writes_outside.ipynb", "reads_others.ipynb",
               "deletes_files.ipynb", "network.ipynb", "fills_disk.ipynb"]
    for name in hostile:  # q1 passes only when every attack in its cell failed
        assert batch.results[name]["questions"][0]["status"] == "pass", batch.results[name]
    assert not batch.connected, "a submission reached a port on the instructor's machine"
    assert not (PACKAGE_DIR / "check" / "_pwned.py").exists()


@needs_sandbox
def test_a_fork_bomb_costs_its_question_and_leaves_nothing_running(batch):
    bomb = batch.results["fork_bomb.ipynb"]["questions"][1]
    assert "BlockingIOError" in bomb["message"] and "too many processes" in bomb["message"]
    assert batch.results["fork_counted.ipynb"]["score"] == 6  # the limit bound under 100
    assert batch.results["fork_bomb_swallowed.ipynb"]["seconds"] < 30
    assert "process-count limit" in batch.results["fork_bomb.ipynb"]["isolation"]


@pytest.mark.parametrize("args, message", [
    (["does/not/exist.ipynb"], "no such file or folder"),
    (["--jobs", "0", "tests/corpus"], "--jobs must be at least 1"),
    (["--no-such-flag", "tests/corpus"], "unrecognized arguments"),
    (["--checks-dir", "no/such/folder", "tests/corpus"], "does not exist"),
    (["tests/corpus/checks"], "no notebooks"),
    (["--memory", "10", "tests/corpus"], "too small"),
])
def test_wrong_usage_exits_2(args, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    try:
        status = cli.main(args)
    except SystemExit as exc:  # argparse's own exit on a bad flag
        status = exc.code
    assert status == 2
    assert message in capsys.readouterr().err


def test_without_the_sandbox_it_says_so_and_still_enforces_limits(batch, tmp_path):
    for name in ("solution.ipynb", "infinite_loop.ipynb"):
        shutil.copy(batch.submissions / name, tmp_path / name)
    proc = run_cli(str(tmp_path), "--json", "--no-sandbox", "--checks-dir", str(batch.checks),
                   *LIMITS)
    results = {Path(s["path"]).name: s for s in json.loads(proc.stdout)["submissions"]}
    assert proc.returncode == 1
    assert results["solution.ipynb"]["isolation"] == (
        "process limits only (sandbox turned off with --no-sandbox; no process-count limit)")
    assert results["solution.ipynb"]["score"] == 6
    assert results["infinite_loop.ipynb"]["status"] == "timeout"


# ---- the pieces, without a child process -----------------------------------------------


def test_read_notebook_refuses_what_is_not_a_notebook(tmp_path):
    cases = {"empty.ipynb": "", "list.ipynb": "[]", "text.ipynb": "hello",
             "future.ipynb": '{"nbformat": 99, "nbformat_minor": 0}'}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InvalidSubmission):
            read_notebook(tmp_path / name)
    (tmp_path / "binary.ipynb").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidSubmission, match="not UTF-8"):
        read_notebook(tmp_path / "binary.ipynb")
    with pytest.raises(InvalidSubmission, match="directory"):
        read_notebook(tmp_path)


def test_read_notebook_caps_the_size(tmp_path, monkeypatch):
    import lessons_lib.check.reading as reading

    monkeypatch.setattr(reading, "MAX_NOTEBOOK_BYTES", 1000)
    path = tmp_path / "big.ipynb"
    path.write_text(corpus._text(corpus.notebook(corpus.SOLUTION)))
    with pytest.raises(InvalidSubmission, match="larger than"):
        read_notebook(path)


def test_cells_are_found_by_their_tags_only():
    from lessons_lib.check import load_exercise

    exercise = load_exercise("99_corpus", corpus.CHECKS)
    nb = corpus.notebook({**corpus.SOLUTION, "q1": ["ate = 1", "ate = 2"]},
                         tags={"q2": "answer-q9"}, order=["q4", "q3", "q2", "q1"])
    cells = answer_cells(nb, exercise)
    assert [c.qids for c in cells] == [["q4"], ["q3"], ["q1"], ["q1"]]
    assert [c.source for c in cells][-2:] == ["ate = 1", "ate = 2"]
    assert all(nb.cells[c.index].metadata["tags"][0].startswith("answer-") for c in cells)
    known = ["99_corpus", "01_potential_outcomes"]
    assert identify_exercise(nb, "x.ipynb", known) == "99_corpus"
    nb.metadata.pop("lessons")
    assert identify_exercise(nb, "alice_01_potential_outcomes.ipynb", known) == \
        "01_potential_outcomes"
    with pytest.raises(InvalidSubmission, match="does not say which exercise"):
        identify_exercise(nb, "alice.ipynb", known)


def test_in_notebook_check_gives_the_same_verdicts(capsys):
    check = checker("99_corpus", corpus.CHECKS)
    check("q1", 8.0)
    check("q1", None)
    check("q2", "att")

    def stub(data):
        raise NotImplementedError

    check("q3", stub)
    out = capsys.readouterr().out
    assert "q1 ✗ fail: 1 of 2 checks passed" in out and "naive difference" in out
    assert "not answered yet: `ate` is still None" in out
    assert "q2 ✓ pass" in out
    assert "`diff_in_means` still raises NotImplementedError" in out


def test_the_grader_never_unpickles_what_a_submission_sends():
    sources = {name: (PACKAGE_DIR / "check" / f"{name}.py").read_text()
               for name in ("reading", "supervising", "judging", "plain")}
    assert not any("pickle.load" in text for text in sources.values())
    assert "pickle.dump" in sources["supervising"]
    runner = (PACKAGE_DIR / "check" / "runner.py").read_text()
    # The grader unpickles only the inputs it pickled itself, from its own checks.
    assert runner.count("pickle.loads(") == 1 and "self._calls[key]" in runner


def test_no_checker_module_is_over_400_lines_and_each_has_all():
    for path in (PACKAGE_DIR / "check").glob("*.py"):
        text = path.read_text()
        assert len(text.splitlines()) <= 400, path.name
        if not path.name.startswith("_"):
            assert "__all__" in text, path.name
