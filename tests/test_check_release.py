"""Classes: per-learner variants (release), their grading both ways, stepped hints, and what a
batch writes for people (the mixed-exercise CSV, the gradebook, feedback pages, the report).

Everything runs on the checker's own test exercise (tests/corpus/checks/99_corpus.py), whose
shoppers gain a different effect for each learner.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from lessons_lib import release as release_cli
from lessons_lib.check import checker, cli, learner_seed, load_exercise, variant_for
from lessons_lib.check.runner import Grader
from lessons_lib.check.sandbox import Limits
from lessons_lib.check.spec import DIFFERENT_DATA

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
import hostile_corpus as corpus  # noqa: E402

LEARNERS = ["ada@example.org", "Grace.Hopper@example.org", "s1234567"]
LIMITS = Limits(total_seconds=30, cell_seconds=5, memory_mb=1024)


def _setup_cell(exercise) -> str:
    return exercise.setup + '\n\nfrom lessons_lib.check import checker\ncheck = checker("99_corpus")'


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A three-learner release of the corpus exercise, with a course salt."""
    top = tmp_path_factory.mktemp("release")
    exercises = top / "exercises"
    exercises.mkdir()
    shared = load_exercise("99_corpus", corpus.CHECKS)
    (exercises / "99_corpus.ipynb").write_text(
        corpus._text(corpus.notebook(corpus.STUB, setup=_setup_cell(shared))))
    roster = top / "roster.csv"
    roster.write_text("name,learner\nAda,ada@example.org\nGrace,Grace.Hopper@example.org\n"
                      "Sam,s1234567\n")
    status = release_cli.main(["--roster", str(roster), "--out", str(top / "out"),
                               "--salt", "course-secret", "--exercises-dir", str(exercises),
                               "--checks-dir", str(corpus.CHECKS)])
    assert status == 0
    return top


def _variant(learner):
    return load_exercise("99_corpus", corpus.CHECKS, variant_for("99_corpus", learner,
                                                                 "course-secret"))


def _truth(learner) -> float:
    exercise = _variant(learner)
    namespace: dict = {}
    exec(exercise.setup, namespace)
    shoppers = namespace["shoppers"]
    return float((shoppers["Y1"] - shoppers["Y0"]).mean())


def test_seeds_are_stable_and_depend_on_learner_exercise_and_salt():
    seed = learner_seed("ada@example.org", "99_corpus")
    assert seed == learner_seed("  ADA@example.org ", "99_corpus")
    assert len({seed, learner_seed("ada@example.org", "98_other"),
                learner_seed("ada@example.org", "99_corpus", "salt"),
                learner_seed("bob@example.org", "99_corpus")}) == 4
    assert 0 <= seed < 2**32


def test_release_writes_one_notebook_per_learner_with_their_own_setup(released):
    out = released / "out"
    rows = list(csv.DictReader(open(out / "manifest.csv")))
    assert [r["learner"] for r in rows] == LEARNERS and {r["own_data"] for r in rows} == {"yes"}
    setups = set()
    for learner in LEARNERS:
        nb = json.loads((out / re.sub(r"[^A-Za-z0-9._@+-]", "_", learner) / "99_corpus.ipynb")
                        .read_text())
        assert nb["metadata"]["lessons"] == {"exercise": "99_corpus", "learner": learner}
        setup = "".join(nb["cells"][0]["source"])
        assert nb["cells"][0]["metadata"]["tags"] == ["setup"]
        seed = variant_for("99_corpus", learner, "course-secret").seed
        assert setup.startswith(_variant(learner).setup)
        assert setup.endswith(f'check = checker("99_corpus", seed={seed})')
        setups.add(setup)
    assert len(setups) == 3  # three learners, three data sets (effects 1..5 in 0.5 steps)


@pytest.mark.parametrize("roster, message", [
    ("name,email\nAda,ada@example.org\n", "no 'learner' column"),
    ("learner\nada@example.org\n\n   \n", None),
    ("learner,name\nada@example.org,Ada\n,Bob\n", "line 3: empty learner id"),
    ("learner\nada@example.org\nADA@example.org\n", "already on line 2"),
    ("learner\n../evil\n", "slash"),
    ("", "is empty"),
])
def test_a_bad_roster_exits_2_and_says_why(tmp_path, capsys, roster, message):
    path = tmp_path / "roster.csv"
    path.write_text(roster)
    status = release_cli.main(["--roster", str(path), "--out", str(tmp_path / "out"),
                               "--exercise", "01_potential_outcomes"])
    if message is None:
        assert status == 0  # blank lines are skipped
        return
    assert status == 2
    assert message in capsys.readouterr().err


def test_an_unknown_exercise_exits_2(tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_text("learner\nada\n")
    assert release_cli.main(["--roster", str(path), "--out", str(tmp_path),
                             "--exercise", "77_nothing"]) == 2
    assert "unknown exercise" in capsys.readouterr().err


def _submission(released, learner, answers, folder) -> Path:
    """The learner's released notebook with some answer cells replaced."""
    src = released / "out" / re.sub(r"[^A-Za-z0-9._@+-]", "_", learner) / "99_corpus.ipynb"
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        for qid, source in answers.items():
            if f"answer-{qid}" in tags:
                cell["source"] = source
    path = folder / f"{re.sub(r'[^A-Za-z0-9]', '_', learner)}_{len(list(folder.iterdir()))}.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture(scope="module")
def graded(released, tmp_path_factory):
    """Every learner's notebook graded three ways: solved, untouched, and with q1 copied
    from the next learner's data; plus one without a learner (the shared variant)."""
    folder = tmp_path_factory.mktemp("submissions")
    paths = {}
    for i, learner in enumerate(LEARNERS):
        other = LEARNERS[(i + 1) % len(LEARNERS)]
        paths[learner, "solution"] = _submission(released, learner, corpus.SOLUTION, folder)
        paths[learner, "stub"] = _submission(released, learner, {}, folder)
        paths[learner, "copied"] = _submission(
            released, learner, {**corpus.SOLUTION, "q1": f"ate = {_truth(other)!r}"}, folder)
    shared = folder / "shared_99_corpus.ipynb"
    shared.write_text(corpus._text(corpus.notebook(corpus.SOLUTION)))
    paths[None, "solution"] = shared
    grader = Grader(corpus.CHECKS, LIMITS, salt="course-secret")
    grader.prepare(list(paths.values()))
    return {key: grader.grade(path) for key, path in paths.items()}


@pytest.mark.parametrize("learner", LEARNERS)
def test_the_solution_in_any_learners_notebook_scores_full_marks(graded, learner):
    result = graded[learner, "solution"]
    assert result.learner == learner and result.variant == "learner"
    assert result.all_passed and result.score == result.max_score, result.to_dict()


@pytest.mark.parametrize("learner", LEARNERS)
def test_the_untouched_notebook_scores_zero(graded, learner):
    result = graded[learner, "stub"]
    assert result.score == 0 and {q.status for q in result.questions} == {"fail"}


@pytest.mark.parametrize("learner", LEARNERS)
def test_a_value_copied_from_another_learner_fails_as_different_data(graded, learner):
    i = LEARNERS.index(learner)
    assert _truth(learner) != _truth(LEARNERS[(i + 1) % 3]), "pick learners with different data"
    q1 = graded[learner, "copied"].questions[0]
    assert q1.status == "fail" and q1.misconception == DIFFERENT_DATA
    assert "fits different data" in q1.misconception


def test_a_notebook_without_a_learner_is_graded_as_the_shared_variant(graded):
    result = graded[None, "solution"]
    assert result.learner is None and result.variant == "shared" and result.all_passed


def test_in_notebook_check_uses_the_seed_and_steps_its_hints(capsys):
    seed = variant_for("99_corpus", "ada@example.org").seed
    check = checker("99_corpus", corpus.CHECKS, seed=seed)
    for _ in range(5):
        check("q1", -100.0)  # wrong for every variant
    out = capsys.readouterr().out.split("q1 ")[1:]
    hints = [re.search(r"Hint: (.*)", block).group(1) for block in out]
    question = check.exercise.question("q1")
    assert hints[0].startswith(question.hints[0]) and hints[1].startswith(question.hints[0])
    assert hints[2].startswith(question.hints[1]) and hints[4] == question.hints[2]
    assert "more hints" in hints[0] and "more hints" not in hints[4]


def test_shared_checker_recognises_the_shared_value_in_a_learners_notebook(capsys):
    seed = next(s for s in (variant_for("99_corpus", f"l{i}").seed for i in range(50))
                if 1.0 + 0.5 * (s % 9) != 2.0)
    checker("99_corpus", corpus.CHECKS, seed=seed)("q1", 2.0)
    assert "fits different data" in capsys.readouterr().out


def _mixed_batch(tmp_path, released):
    """Submissions of two exercises (the corpus and a renamed copy with one question less)."""
    checks = tmp_path / "checks"
    shutil.copytree(corpus.CHECKS, checks)
    text = (checks / "99_corpus.py").read_text().replace('"99_corpus"', '"98_copy"')
    (checks / "98_copy.py").write_text(text)
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(_submission(released, "ada@example.org", corpus.SOLUTION, tmp_path),
                subs / "ada_99.ipynb")
    nb = corpus.notebook({**corpus.SOLUTION, "q4": "weights = np.ones(3)"})
    nb.metadata["lessons"] = {"exercise": "98_copy", "learner": "ada@example.org"}
    (subs / "ada_98.ipynb").write_text(corpus._text(nb))
    nb.metadata["lessons"]["learner"] = "s1234567"
    (subs / "sam_98.ipynb").write_text(corpus._text(nb))
    return checks, subs


def test_csv_gradebook_feedback_and_report_of_a_mixed_batch(tmp_path, released, capsys):
    checks, subs = _mixed_batch(tmp_path, released)
    out = tmp_path / "results"
    out.mkdir()
    status = cli.main([str(subs), "--checks-dir", str(checks), "--salt", "course-secret",
                       "--csv", str(out / "grades.csv"), "--gradebook", str(out / "book.csv"),
                       "--feedback", str(out / "feedback"), "--report", str(out / "report.html"),
                       "--hints", "--timeout", "30", "--cell-timeout", "5"])
    assert status == 1  # q4 fails in the 98 submissions
    rows = {Path(r["path"]).name: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["ada_99.ipynb"]["99_corpus:q4"] == "2" and rows["ada_99.ipynb"]["98_copy:q4"] == ""
    assert rows["ada_98.ipynb"]["98_copy:q4"] == "1" and rows["ada_98.ipynb"]["99_corpus:q1"] == ""
    book = list(csv.reader(open(out / "book.csv")))
    assert book[0] == ["learner", "98_copy", "99_corpus", "total"]
    assert book[1:] == [["ada@example.org", "5", "6", "11"], ["s1234567", "5", "", "5"]]
    pages = sorted(p.name for p in (out / "feedback").iterdir())
    assert pages == ["ada@example.org_98_copy.html", "ada@example.org_99_corpus.html",
                     "s1234567_98_copy.html"]
    page = (out / "feedback" / "s1234567_98_copy.html").read_text()
    assert "5 of 6" in page and "q4 ✗ fail" in page and "Hint:" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    report = (out / "report.html").read_text()
    assert report.count("<svg") == 2 and "98_copy" in report and "0 of 2 (0%)" in report
    assert "<script" not in report and "src=" not in report


def test_no_hints_in_a_batch_unless_asked(tmp_path, released, capsys):
    checks, subs = _mixed_batch(tmp_path, released)
    cli.main([str(subs), "--checks-dir", str(checks), "--json", "--timeout", "30"])
    results = json.loads(capsys.readouterr().out)["submissions"]
    failed = [q for r in results for q in r["questions"] if q["status"] != "pass"]
    assert failed and all(q["hint"] == "" for q in failed)
