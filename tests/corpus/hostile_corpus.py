"""The hostile-submission corpus: broken and hostile notebooks, each with the grade it must get.

Notebooks are generated from one template (the `99_corpus` exercise in ``checks/``) so the
corpus stays small and readable: each case changes one thing of the solution. `CASES`
maps a file name to (how to make it, the submission status, each question's status);
`HOSTILE` holds the cases that attack files and the network, which only make sense (and
are only safe to run) inside the sandbox.

Used by tests/test_checker.py and benchmarks/bench_checker.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat import v3, v4

CHECKS = Path(__file__).resolve().parent / "checks"
EXERCISE = "99_corpus"
SETUP_CELL = ("import numpy as np\nimport pandas as pd\n\n"
              "from lessons_lib.check import checker\ncheck = checker(\"99_corpus\")")

SOLUTION = {
    "q1": 'ate = float((shoppers["Y1"] - shoppers["Y0"]).mean())',
    "q2": 'estimand = "ATT"',
    "q3": ("def diff_in_means(data):\n"
           "    if not set(np.unique(data[\"T\"])) <= {0, 1}:\n"
           "        raise ValueError(\"T must be 0/1\")\n"
           "    treated = data[\"T\"] == 1\n"
           "    return data.loc[treated, \"Y\"].mean() - data.loc[~treated, \"Y\"].mean()"),
    "q4": "weights = np.array([0.2, 0.3, 0.5])",
}
STUB = {
    "q1": "ate = None  # your answer",
    "q2": "estimand = None  # \"ATE\", \"ATT\" or \"ATU\"",
    "q3": "def diff_in_means(data):\n    raise NotImplementedError",
    "q4": "weights = None  # your answer",
}
QIDS = ["q1", "q2", "q3", "q4"]
SECRET = "LESSONS_CHECKER_TEST_SECRET"
ALL_PASS = dict.fromkeys(QIDS, "pass")


def notebook(answers: dict[str, str | list[str] | None], *, metadata: bool = True,
             tags: dict[str, str] | None = None, order: list[str] | None = None,
             check_cells: bool = True, setup: str = SETUP_CELL) -> nbformat.NotebookNode:
    """An exercise notebook: setup cell, then per question a prompt, answer cell(s), check cell.

    ``answers[qid]`` is the answer cell's source, a list of sources (duplicated cells), or
    None (the answer cell deleted). ``tags`` renames a question's answer tag.
    """
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    if metadata:
        nb.metadata["lessons"] = {"exercise": EXERCISE}
    nb.cells.append(v4.new_code_cell(setup, metadata={"tags": ["setup"]}))
    for qid in order or QIDS:
        nb.cells.append(v4.new_markdown_cell(f"**{qid}.** Answer the question."))
        sources = answers.get(qid)
        for source in ([sources] if isinstance(sources, str) else sources or []):
            tag = (tags or {}).get(qid, f"answer-{qid}")
            nb.cells.append(v4.new_code_cell(source, metadata={"tags": [tag]}))
        if check_cells:
            name = {"q1": "ate", "q2": "estimand", "q3": "diff_in_means", "q4": "weights"}[qid]
            nb.cells.append(v4.new_code_cell(f'check("{qid}", {name})'))
    return nb


def with_answers(**changes: str | list[str] | None) -> nbformat.NotebookNode:
    """The solution with some answer cells replaced."""
    return notebook({**SOLUTION, **changes})


def _text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb)


def _v3_notebook() -> str:
    """The solution written in the old nbformat 3 (worksheets), tags in cell metadata."""
    nb = v3.new_notebook(metadata={"lessons": {"exercise": EXERCISE}})
    sheet = v3.new_worksheet()
    sheet.cells.append(v3.new_code_cell(input=SETUP_CELL))
    for qid in QIDS:
        sheet.cells.append(v3.new_code_cell(input=SOLUTION[qid],
                                            metadata={"tags": [f"answer-{qid}"]}))
    nb.worksheets.append(sheet)
    return nbformat.writes(nb, version=3)


SWALLOWS_ALARM = """\
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
while True:
    pass"""

# name: (maker returning the file's text, submission status, question statuses or None)
CASES: dict[str, tuple[Callable[[], str], str, dict[str, str] | None]] = {
    "solution.ipynb": (lambda: _text(notebook(SOLUTION)), "graded", ALL_PASS),
    "untouched.ipynb": (lambda: _text(notebook(STUB)), "graded", dict.fromkeys(QIDS, "fail")),
    "naive.ipynb": (lambda: _text(with_answers(q1="ate = 8.0")), "graded",
                    {**ALL_PASS, "q1": "fail"}),
    "partial.ipynb": (lambda: _text(with_answers(q4="weights = np.array([1.0, 1.0, 1.0])")),
                      "graded", {**ALL_PASS, "q4": "fail"}),
    "infinite_loop.ipynb": (lambda: _text(with_answers(q2="while True:\n    pass")),
                            "timeout", {**ALL_PASS, "q2": "timeout"}),
    "ignores_alarm.ipynb": (lambda: _text(with_answers(q2=SWALLOWS_ALARM)),
                            "timeout", {**ALL_PASS, "q2": "timeout"}),
    "slow_function.ipynb": (lambda: _text(with_answers(
        q3="import time\ndef diff_in_means(data):\n    time.sleep(60)")),
        "timeout", {**ALL_PASS, "q3": "timeout"}),
    "memory_bomb.ipynb": (lambda: _text(with_answers(
        q1="blocks = []\nwhile True:\n    blocks.append(np.empty(12_500_000))  # 100 MB each")),
        "graded", {**ALL_PASS, "q1": "error"}),
    "sys_exit.ipynb": (lambda: _text(with_answers(q1="import sys\nsys.exit(0)")),
                       "graded", {**ALL_PASS, "q1": "error"}),
    "os_exit.ipynb": (lambda: _text(with_answers(q2="import os\nos._exit(3)")),
                      "crashed", {**ALL_PASS, "q2": "error"}),
    "segfault.ipynb": (lambda: _text(with_answers(q3="import ctypes\nctypes.string_at(0)")),
                       "crashed", {**ALL_PASS, "q3": "error"}),
    "print_flood.ipynb": (lambda: _text(with_answers(q4='while True:\n    print("spam " * 100)')),
                          "timeout", {**ALL_PASS, "q4": "timeout"}),
    "raises.ipynb": (lambda: _text(with_answers(q1="ate = 1 / 0")), "graded",
                     {**ALL_PASS, "q1": "error"}),
    "syntax_error.ipynb": (lambda: _text(with_answers(q2="%time estimand = 'ATT'")), "graded",
                           {**ALL_PASS, "q2": "error"}),
    "not_json.ipynb": (lambda: "this is not a notebook\n", "invalid", None),
    "truncated.ipynb": (lambda: _text(notebook(SOLUTION))[:700], "invalid", None),
    "empty.ipynb": (lambda: "", "invalid", None),
    "nbformat3.ipynb": (_v3_notebook, "graded", ALL_PASS),
    "nbformat2_broken.ipynb": (lambda: json.dumps({"nbformat": 2, "metadata": {}}),
                               "invalid", None),
    "deleted.ipynb": (lambda: _text(with_answers(q2=None)), "graded",
                      {**ALL_PASS, "q2": "missing"}),
    "duplicated.ipynb": (lambda: _text(with_answers(q1=["ate = 8.0", "ate = ate - 6"])),
                         "graded", ALL_PASS),
    "renamed_tag.ipynb": (lambda: _text(notebook(SOLUTION, tags={"q3": "answer-question3"})),
                          "graded", {**ALL_PASS, "q3": "missing"}),
    "moved.ipynb": (lambda: _text(notebook(SOLUTION, order=["q4", "q3", "q2", "q1"])),
                    "graded", ALL_PASS),
    "wrong_type.ipynb": (lambda: _text(with_answers(q1='ate = "two dollars"', q2="estimand = 2")),
                         "graded", {**ALL_PASS, "q1": "fail", "q2": "fail"}),
    "nan.ipynb": (lambda: _text(with_answers(q1='ate = float("nan")')), "graded",
                  {**ALL_PASS, "q1": "fail"}),
    "inf.ipynb": (lambda: _text(with_answers(q1="ate = np.inf", q4="weights = np.full(3, np.inf)")),
                  "graded", {**ALL_PASS, "q1": "fail", "q4": "fail"}),
    "huge.ipynb": (lambda: _text(with_answers(q4="weights = np.zeros(10_000_000)")), "graded",
                   {**ALL_PASS, "q4": "error"}),
    "undefined.ipynb": (lambda: _text(with_answers(q1="effect = 2.0")), "graded",
                        {**ALL_PASS, "q1": "error"}),
    "not_a_function.ipynb": (lambda: _text(with_answers(q3="diff_in_means = 1.5")), "graded",
                             {**ALL_PASS, "q3": "error"}),
    "redefines_check.ipynb": (lambda: _text(notebook(
        {**SOLUTION, "q1": "def check(*args):\n    print('q1 ✓ pass')\nate = 8.0"})),
        "graded", {**ALL_PASS, "q1": "fail"}),
    "patches_numpy.ipynb": (lambda: _text(with_answers(q1=(
        "import math\nnp.isclose = lambda *a, **k: True\nnp.allclose = lambda *a, **k: True\n"
        "math.isclose = lambda *a, **k: True\nate = 8.0"),
        q4="np.sum = lambda *a, **k: 1.0\nweights = np.array([1.0, 1.0, 1.0])")),
        "graded", {**ALL_PASS, "q1": "fail", "q4": "fail"}),
    "edited_setup.ipynb": (lambda: _text(notebook(SOLUTION, setup="shoppers = None\ncheck = print")),
                           "graded", ALL_PASS),
    # The grading command runs with SECRET set: a submission must see none of its environment.
    "reads_environment.ipynb": (lambda: _text(with_answers(q1=(
        "import os\nleaked = SECRET in os.environ or os.environ.get('HOME') != os.getcwd()\n"
        "ate = 999.0 if leaked else 2.0").replace("SECRET", repr(SECRET)))),
        "graded", ALL_PASS),
    "no_metadata_99_corpus.ipynb": (lambda: _text(notebook(SOLUTION, metadata=False)),
                                    "graded", ALL_PASS),
    "no_metadata_unknown.ipynb": (lambda: _text(notebook(SOLUTION, metadata=False)),
                                  "invalid", None),
}

# Cases that are not files: made by `write_corpus` itself.
SPECIAL = {
    "directory.ipynb": ("invalid", None),
    "dangling_link.ipynb": ("invalid", None),
}


def hostile_cases(targets: dict[str, Path], port: int) -> dict[str, tuple[str, str, dict]]:
    """Attacks on files and the network. Each hostile cell sets ``ate = 2.0`` (a pass) only
    when every attack of the cell failed, so a pass proves the sandbox held.

    ``targets``: "checks" (the checks file), "sibling" (another submission), "canary" (a
    file in the batch folder), "package" (the lessons_lib folder), "repo_checks" (the
    repository's exercises/checks folder).
    """
    def attempt(body: str) -> str:
        return ("ok = 0\n" + body + "\nate = 2.0 if ok == 0 else 999.0")

    def guarded(statement: str) -> str:
        return f"try:\n    {statement}\n    ok += 1\nexcept Exception:\n    pass"

    checks, sibling = str(targets["checks"]), str(targets["sibling"])
    canary, package = str(targets["canary"]), str(targets["package"])
    repo_checks = str(targets["repo_checks"])
    edits = "\n".join(guarded(s) for s in [
        f"open({checks!r}, 'a').write('\\nEXERCISE = None\\n')",
        f"open({package + '/check/_pwned.py'!r}, 'w').write('x = 1')",
        f"open({repo_checks + '/00_pwned.py'!r}, 'w').write('EXERCISE = None')",
    ])
    # '..' is outside the submission's folder but inside the grader's own temporary one (a
    # private tmpfs in the sandbox): allowed, not counted, and gone after grading.
    writes = "try:\n    open('../escaped.txt', 'w').write('x')\nexcept OSError:\n    pass\n"
    writes += "\n".join(guarded(s) for s in [
        f"open({canary!r}, 'w').write('overwritten')",
        f"open({str(Path(canary).parent / 'planted.py')!r}, 'w').write('x = 1')",
    ])
    reads = "\n".join(guarded(s) for s in [
        f"len(open({sibling!r}).read())",
        f"len(open({checks!r}).read())",
        f"__import__('os').listdir({str(Path(sibling).parent)!r})",
    ])
    deletes = "\n".join(guarded(s) for s in [
        f"__import__('os').remove({sibling!r})",
        f"__import__('os').remove({canary!r})",
        f"__import__('shutil').rmtree({str(Path(checks).parent)!r})",
    ])
    network = guarded(f"__import__('socket').create_connection(('127.0.0.1', {port}), timeout=2)")
    fills = "\n".join(guarded(s) for s in [  # 300 MB: more than the sandbox's 128 MB folders
        "[open(f'fill{i}.bin', 'wb').write(b'x' * 1_000_000) for i in range(300)]",
        "[open(f'/tmp/fill{i}.bin', 'wb').write(b'x' * 1_000_000) for i in range(300)]",
    ])
    cases = {
        "fills_disk.ipynb": fills,
        "edits_checks.ipynb": edits, "writes_outside.ipynb": writes,
        "reads_others.ipynb": reads, "deletes_files.ipynb": deletes,
        "network.ipynb": network,
    }
    made = {name: (_text(with_answers(q1=attempt(body))), "graded", ALL_PASS)
            for name, body in cases.items()}
    made.update(FORK_CASES)
    return made


# Fork bombs, in the sandbox only, where the process-count limit binds (the submission runs
# as an unprivileged user). FORK_COUNTED is the bounded check that came first: 2,000 forks
# whose children sleep, counted; it passes only if the limit stopped them under 100.
FORK_COUNTED = """\
import os, time
n = 0
for i in range(2000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(2)
        os._exit(0)
    n += 1
ate = 2.0 if n < 100 else 999.0"""
FORK_BOMB = "import os\nwhile True:\n    os.fork()"
FORK_BOMB_SWALLOWED = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
FORK_CASES = {
    "fork_counted.ipynb": (_text(with_answers(q1=FORK_COUNTED)), "graded", ALL_PASS),
    "fork_bomb.ipynb": (_text(with_answers(q2=FORK_BOMB)), "graded", {**ALL_PASS, "q2": "error"}),
    "fork_bomb_swallowed.ipynb": (_text(with_answers(q2=FORK_BOMB_SWALLOWED)), "timeout",
                                  {**ALL_PASS, "q2": "timeout"}),
}


def write_corpus(folder: Path) -> dict[str, tuple[str, dict[str, str] | None]]:
    """Write every case into ``folder``; return name -> (submission status, questions)."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (make, status, questions) in CASES.items():
        (folder / name).write_text(make(), encoding="utf-8")
        expected[name] = (status, questions)
    (folder / "directory.ipynb").mkdir(exist_ok=True)
    link = folder / "dangling_link.ipynb"
    if not os.path.lexists(link):
        link.symlink_to(folder / "gone.ipynb")
    expected.update(SPECIAL)
    return expected
