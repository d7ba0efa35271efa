"""Grading one submission notebook: read it safely, run its answer cells apart, judge here.

The steps, each of which turns bad input into a status rather than a crash:

1. **Read** the file (`read_notebook`): size-capped, parsed as JSON, old formats converted
   to version 4 by ``nbformat``. A directory, a dangling link, an empty, truncated or
   non-JSON file, or a format that cannot be converted makes the submission ``invalid``.
2. **Identify** the exercise (`identify_exercise`): the notebook's metadata
   ``lessons.exercise``, else a known exercise id in the file name, else ``invalid``.
3. **Collect** the code cells tagged ``answer-<qid>`` (`answer_cells`), in notebook order.
   Nothing else of the submission runs: its setup and ``check(...)`` cells are untrusted
   and ignored. A question without an answer cell is ``missing``; duplicated cells all
   run, in order, and the last one is the answer.
4. **Run** them in a child process (``_harness.py``) in a fresh temporary folder, inside the
   sandbox when there is one (`lessons_lib.check.sandbox`), after the exercise's trusted
   setup code, under a per-cell and a total time limit, a memory limit and an output cap.
   Answers come back one JSON line at a time. When the process dies inside a cell (a
   segfault, ``os._exit``, a cell that ignores its alarm), that cell is marked and the
   others are run again without it, so one bad cell costs only its own question.
5. **Judge** the plain data in this process with `lessons_lib.check.spec.judge`.

Statuses: a submission is ``graded``, ``timeout`` (a cell or the whole ran out of time),
``crashed`` (its process died, or the setup failed) or ``invalid``; a question is ``pass``,
``fail``, ``error``, ``missing`` or ``timeout``. See ``python -m lessons_lib.check --help``.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lessons_lib.check.exercises import available_exercises, default_checks_dir, load_exercise
from lessons_lib.check.plain import from_plain
from lessons_lib.check.sandbox import (
    Isolation,
    Limits,
    bwrap_command,
    child_environment,
    choose_isolation,
    python_command,
    set_limits,
)
from lessons_lib.check.spec import (
    ERROR,
    MISSING,
    PASS,
    TIMEOUT,
    Call,
    Exercise,
    Question,
    QuestionResult,
    judge,
)

GRADED, CRASHED, INVALID = "graded", "crashed", "invalid"  # and TIMEOUT, shared with questions
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_RESULT_BYTES = 64 * 1024 * 1024  # everything the child may send back
JOB_FILE = ".lessons-job.pickle"
GRACE_SECONDS = 2.0  # how long past its own alarm a cell may run before it is killed


class InvalidSubmission(ValueError):
    """A file that cannot be graded as a notebook (the message says why)."""


class ChecksError(RuntimeError):
    """The instructor's checks cannot be used (a missing or broken checks file)."""


@dataclass
class AnswerCell:
    """A code cell tagged ``answer-<qid>`` (one cell may answer several questions)."""

    index: int  # position among the notebook's cells
    qids: list[str]
    source: str


@dataclass
class SubmissionResult:
    """The verdict on one submission, as ``--json`` reports it."""

    path: str
    exercise: str | None
    status: str
    questions: list[QuestionResult] = field(default_factory=list)
    max_score: float = 0.0
    isolation: str = ""
    message: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return float(sum(q.points for q in self.questions))

    @property
    def all_passed(self) -> bool:
        return self.status == GRADED and all(q.status == PASS for q in self.questions)

    def to_dict(self) -> dict:
        return {
            "path": self.path, "exercise": self.exercise, "status": self.status,
            "score": self.score, "max_score": self.max_score,
            "questions": [q.to_dict() | {
                "misconception": q.misconception,
                "checks": [{"name": n, "passed": ok, "note": note} for n, ok, note in q.details]}
                for q in self.questions],
            "isolation": self.isolation, "message": self.message,
            "seconds": round(self.seconds, 2),
        }


# ---------------------------------------------------------------------------------------
# 1-3. Reading a submission


def read_notebook(path: str | Path) -> dict:
    """The notebook at ``path`` as nbformat 4, or `InvalidSubmission` saying why not.

    A version-4 notebook is plain JSON, read as it is (every later step checks each field
    it uses). Older versions go through ``nbformat.reads(..., as_version=4)``, imported
    only then: importing nbformat (jsonschema and its format checkers) costs seconds.
    """
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise InvalidSubmission("is a dangling symbolic link: the file it points to is gone")
    if path.is_dir():
        raise InvalidSubmission("is a directory, not a notebook file")
    if not path.is_file():
        raise InvalidSubmission("is not a regular file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise InvalidSubmission(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise InvalidSubmission(f"is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    if not data.strip():
        raise InvalidSubmission("is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission("is not UTF-8 text, so not a notebook") from None
    try:
        notebook = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidSubmission("is not valid JSON (is it truncated, or not a notebook?)") from None
    if not isinstance(notebook, dict):
        raise InvalidSubmission("is JSON but not a notebook (not a JSON object)")
    version = notebook.get("nbformat")
    if isinstance(version, int) and not isinstance(version, bool) and version > 4:
        raise InvalidSubmission(f"has nbformat {version}, newer than this grader reads (4)")
    if version != 4:
        notebook = _convert_old_notebook(text)
    if not isinstance(notebook.get("cells"), list):
        raise InvalidSubmission("has no list of cells, so it is not a notebook")
    return notebook


def _convert_old_notebook(text: str) -> dict:
    import nbformat

    try:
        notebook = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds on odd input
        raise InvalidSubmission(
            f"is an old or unknown notebook format that could not be converted to "
            f"nbformat 4 ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(notebook, dict):
        raise InvalidSubmission("could not be converted to nbformat 4")
    return notebook


def identify_exercise(notebook: dict, path: str | Path, known: list[str]) -> str:
    """The exercise id from the metadata ``lessons.exercise``, else from the file name."""
    metadata = notebook.get("metadata")
    lessons = metadata.get("lessons") if isinstance(metadata, dict) else None
    claimed = lessons.get("exercise") if isinstance(lessons, dict) else None
    if isinstance(claimed, str) and claimed in known:
        return claimed
    in_name = [k for k in known if k in Path(path).name]
    if in_name:
        return max(in_name, key=len)
    said = (f"its metadata names an unknown exercise {claimed!r}" if claimed is not None
            else "its metadata has no lessons.exercise")
    raise InvalidSubmission(
        f"does not say which exercise it is: {said}, and its file name contains no known "
        f"exercise id (known: {', '.join(known) or 'none'})")


def answer_cells(notebook: dict, exercise: Exercise) -> list[AnswerCell]:
    """The code cells tagged ``answer-<qid>`` for the exercise's questions, in order."""
    qids = {q.id for q in exercise.questions}
    cells = []
    for index, cell in enumerate(notebook.get("cells") or []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata")
        tags = metadata.get("tags") if isinstance(metadata, dict) else None
        if not isinstance(tags, list):
            continue
        answered = [t[len("answer-"):] for t in tags
                    if isinstance(t, str) and t.startswith("answer-") and t[len("answer-"):] in qids]
        if not answered:
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            source = ""
        cells.append(AnswerCell(index, list(dict.fromkeys(answered)), source))
    return cells


# ---------------------------------------------------------------------------------------
# 4. Running the answer cells in a child process


@dataclass
class _ChildRun:
    """What one run of the harness sent back, and how it ended."""

    setup: dict | None = None
    ends: dict[int, dict] = field(default_factory=dict)
    done: dict | None = None
    current: int | None = None  # the cell running when the process ended
    killed_for: str | None = None  # "total", "cell" or "output"
    restart_after: int | None = None  # a cell after which the harness asked for a new process
    returncode: int | None = None


def _read_lines(fd: int, sink: queue.Queue) -> None:
    """Reader thread: the child's result pipe, line by line, at most MAX_RESULT_BYTES."""
    buffer, total = b"", 0
    with open(fd, "rb", buffering=0, closefd=True) as pipe:
        while True:
            try:
                chunk = pipe.read(65536)
            except OSError:
                break
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_RESULT_BYTES:
                sink.put(("overflow", None))
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                sink.put(("line", line))
    sink.put(("eof", None))


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        process.kill()
    except OSError:
        pass


def _run_child(job: dict, cell_budget: dict[int, float], limits: Limits, isolation: Isolation,
               deadline: float) -> _ChildRun:
    """Run the harness once on ``job``; kill it at ``deadline`` or when a cell overruns."""
    root = Path(tempfile.mkdtemp(prefix="lessons-check-"))
    run = _ChildRun()
    try:
        workdir = root / "work"
        workdir.mkdir()
        job_file = workdir / JOB_FILE  # in the sandbox: a read-only copy in its own folder
        host_job = root / JOB_FILE if isolation.sandboxed else job_file
        with open(host_job, "wb") as handle:
            pickle.dump(job, handle, protocol=pickle.HIGHEST_PROTOCOL)
        read_fd, write_fd = os.pipe()
        inner = python_command(str(job_file), write_fd)
        command = (bwrap_command(inner, workdir, {host_job: job_file}) if isolation.sandboxed
                   else inner)
        with open(root / "output.txt", "wb") as output:
            try:
                process = subprocess.Popen(
                    command, cwd=workdir, env=child_environment(workdir),
                    stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                    pass_fds=(write_fd,), start_new_session=True, close_fds=True,
                    preexec_fn=lambda: set_limits(limits))
            except OSError as exc:
                os.close(read_fd)
                run.setup = {"status": "error", "error": f"the grader could not start Python ({exc})"}
                return run
            finally:
                os.close(write_fd)
        sink: queue.Queue = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(read_fd, sink), daemon=True)
        reader.start()
        _watch(process, sink, run, cell_budget, deadline)
        _kill(process)  # whatever is left of its process group
        run.returncode = process.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return run


def _watch(process: subprocess.Popen, sink: queue.Queue, run: _ChildRun,
           cell_budget: dict[int, float], deadline: float) -> None:
    """Collect the child's events until it finishes, or kill it when a limit is reached."""
    cell_deadline, exited_at = None, None
    while True:
        try:
            kind, line = sink.get(timeout=0.05)
        except queue.Empty:
            kind, line = None, None
        if kind == "eof":  # the harness closed its end: let the process end by itself
            try:
                process.wait(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                pass
            return
        if kind == "overflow":
            run.killed_for = "output"
            return
        if kind == "line":
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):
                event = None
            if isinstance(event, dict):
                name = event.get("event")
                if name == "setup":
                    run.setup = event
                elif name == "start" and isinstance(event.get("cell"), int):
                    run.current = event["cell"]
                    cell_deadline = time.monotonic() + cell_budget.get(run.current, 0.0)
                elif name == "end" and isinstance(event.get("cell"), int):
                    run.ends[event["cell"]] = event
                    run.current, cell_deadline = None, None
                elif name == "done":
                    run.done = event
                elif name == "restart" and isinstance(event.get("cell"), int):
                    run.restart_after = event["cell"]
        now = time.monotonic()
        if now > deadline:
            run.killed_for = "total"
            return
        if cell_deadline is not None and now > cell_deadline:
            run.killed_for = "cell"
            return
        if process.poll() is not None:  # exited; give its last lines a moment to arrive
            exited_at = exited_at or now
            if now - exited_at > 1.0:
                return


def _exit_reason(returncode: int | None, sandboxed: bool) -> str:
    """'killed by SIGSEGV (segmentation fault)' or 'exited with status 3'."""
    if returncode is None:
        return "ended"
    signum = -returncode if returncode < 0 else (returncode - 128 if sandboxed and
                                                 128 < returncode < 160 else 0)
    if signum:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        what = {"SIGSEGV": " (the interpreter crashed: segmentation fault)",
                "SIGABRT": " (the interpreter aborted)",
                "SIGKILL": " (killed, perhaps for using too much memory)",
                "SIGXCPU": " (it used up its CPU time)"}.get(name, "")
        return f"was killed by {name}{what}"
    return f"exited with status {returncode} (for example through os._exit)"


@dataclass
class _Run:
    """Everything the child processes reported about one submission."""

    outcomes: dict[int, dict] = field(default_factory=dict)  # cell index -> end event
    timed_out: bool = False
    crashed: bool = False
    setup_error: str = ""
    restarts: int = 0
    output_truncated: bool = False


def run_answer_cells(exercise: Exercise, cells: list[AnswerCell],
                     calls: dict[str, list[tuple[tuple, dict]]], limits: Limits,
                     isolation: Isolation) -> _Run:
    """Run the answer cells after the exercise's setup, restarting past cells that kill it."""
    questions = {
        q.id: {"answer": q.answer, "kind": q.kind,
               "calls": [pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL)
                         for c in calls.get(q.id, [])]}
        for q in exercise.questions}
    budget = {c.index: limits.cell_seconds * (1 + sum(len(calls.get(q, [])) for q in c.qids))
              + GRACE_SECONDS for c in cells}
    deadline = time.monotonic() + limits.total_seconds
    result, skipped = _Run(), set()
    while True:
        remaining = [c for c in cells if c.index not in skipped]
        job = {"setup": exercise.setup,
               "cells": [{"index": c.index, "qids": c.qids, "source": c.source}
                         for c in remaining],
               "questions": questions, "cell_seconds": limits.cell_seconds,
               "output_bytes": limits.output_bytes}
        run = _run_child(job, budget, limits, isolation, deadline)
        for index, event in run.ends.items():
            result.outcomes[index] = event
            result.timed_out |= event.get("status") == TIMEOUT
        if run.done:
            result.output_truncated = bool(run.done.get("output_truncated"))
            return result
        if run.killed_for == "total":
            result.timed_out = True
            return result
        if run.setup is None or run.setup.get("status") != "ok":
            result.crashed = True
            why = (run.setup or {}).get("error") or (
                f"its process {_exit_reason(run.returncode, isolation.sandboxed)}")
            result.setup_error = f"the exercise's setup code failed in the grader: {why}"
            return result
        if run.restart_after is not None and run.current is None and not run.killed_for:
            stopped = run.restart_after  # ran out of memory: go on in a fresh process
        elif run.current is None:  # died between cells, or flooded the result pipe
            result.crashed = True
            return result
        elif run.killed_for == "cell":
            result.timed_out = True
            result.outcomes[run.current] = {
                "status": TIMEOUT, "error": "it ignored its time limit and was stopped"}
        else:  # the process died inside the cell
            result.crashed = True
            what = ("sent back more than 64 MB of results" if run.killed_for == "output" else
                    f"ended the Python process: it {_exit_reason(run.returncode, isolation.sandboxed)}")
            result.outcomes[run.current] = {"status": CRASHED, "error": what}
        if run.current is not None:
            stopped = run.current
        if stopped in skipped or stopped not in budget:  # a bogus event: do not loop on it
            result.crashed = True
            return result
        skipped.add(stopped)
        result.restarts += 1
        if not any(c.index not in skipped and c.index > stopped for c in cells):
            return result


# ---------------------------------------------------------------------------------------
# 5. Judging


def _verdict(question: Question, status: str, message: str) -> QuestionResult:
    return QuestionResult(id=question.id, status=status, points=0.0,
                          max_points=question.max_points, message=message, hint=question.hint)


def _judge_answer(question: Question, answer: object,
                  calls: list[tuple[tuple, dict]]) -> QuestionResult:
    """Judge one extracted answer (plain data from the child) against its question."""
    if not isinstance(answer, dict) or not answer.get("defined"):
        return _verdict(question, ERROR,
                        f"your answer cell ran but did not define `{question.answer}`")
    if answer.get("error"):
        return _verdict(question, ERROR,
                        f"your answer could not be sent to the checker: {answer['error']}")
    try:
        if question.kind == "function":
            if not answer.get("callable"):
                return _verdict(question, ERROR, f"expected a function `{question.answer}`, "
                                                 f"found {answer.get('type', 'something else')}")
            sent = answer.get("calls")
            if not isinstance(sent, list) or len(sent) != len(calls):
                return _verdict(question, ERROR, "the calls of your function did not come back")
            seen = [Call(args=args, kwargs=kwargs, output=from_plain(c.get("output")),
                         error=c.get("error"), not_implemented=bool(c.get("not_implemented")),
                         timed_out=bool(c.get("timed_out")))
                    for (args, kwargs), c in zip(calls, sent, strict=True)]
        else:
            seen = from_plain(answer.get("plain"))
    except Exception as exc:  # noqa: BLE001 - plain data from an untrusted process
        return _verdict(question, ERROR, f"your answer could not be read back ({exc!r:.200})")
    try:
        return judge(question, seen)
    except Exception as exc:  # noqa: BLE001 - report, never crash the batch
        return _verdict(question, ERROR, f"the checker could not judge this answer ({exc!r:.200})")


def judge_question(question: Question, cells: list[AnswerCell], run: _Run, limits: Limits,
                   calls: list[tuple[tuple, dict]]) -> QuestionResult:
    """The verdict on one question from the outcome of its (last) answer cell."""
    mine = [c for c in cells if question.id in c.qids]
    if not mine:
        return _verdict(question, MISSING,
                        f"no cell tagged answer-{question.id} in the notebook (was it deleted, "
                        "or its tag changed?)")
    outcome = run.outcomes.get(mine[-1].index)
    if outcome is None:
        if run.setup_error:
            return _verdict(question, ERROR, "not graded: " + run.setup_error)
        if run.timed_out:
            return _verdict(question, TIMEOUT, "not graded: the submission used up its "
                                               f"{limits.total_seconds:g} seconds before this cell ran")
        return _verdict(question, ERROR, "not graded: the submission's process ended before "
                                         "this cell ran")
    status, error = outcome.get("status"), str(outcome.get("error") or "")[:600]
    if status == "ok":
        answers = outcome.get("answers")
        answer = answers.get(question.id) if isinstance(answers, dict) else None
        return _judge_answer(question, answer, calls)
    if status == TIMEOUT:
        more = f" ({error})" if error else ""
        return _verdict(question, TIMEOUT, f"this answer cell ran past its limit of "
                                           f"{limits.cell_seconds:g} seconds{more}")
    if status == "exit":
        return _verdict(question, ERROR, f"your answer cell called {error}; the grader does not "
                                         "stop there: remove it")
    if status == "memory":
        return _verdict(question, ERROR, f"your answer cell ran out of memory (the limit is "
                                         f"{limits.memory_mb:,} MB)")
    if status == CRASHED:
        return _verdict(question, ERROR, f"this answer cell {error}")
    return _verdict(question, ERROR, f"your answer cell raised {error}")


# ---------------------------------------------------------------------------------------
# The grader


class Grader:
    """Grades submission notebooks against the checks in ``checks_dir``.

    >>> grader = Grader()                                        # doctest: +SKIP
    >>> result = grader.grade("submissions/alice.ipynb")         # doctest: +SKIP
    >>> result.status, result.score, result.max_score            # doctest: +SKIP
    ('graded', 4.0, 5.0)

    Safe to share between threads: each `grade` call runs its own child process.
    """

    def __init__(self, checks_dir: str | Path | None = None, limits: Limits | None = None,
                 isolation: Isolation | None = None) -> None:
        self.checks_dir = Path(checks_dir) if checks_dir else default_checks_dir()
        if not self.checks_dir.is_dir():
            raise ChecksError(f"the checks folder {self.checks_dir} does not exist")
        self.known = available_exercises(self.checks_dir)
        self.limits = limits or Limits()
        self.isolation = isolation or choose_isolation()
        self._exercises: dict[str, Exercise] = {}
        self._lock = threading.Lock()

    def exercise(self, exercise_id: str) -> Exercise:
        """The exercise's checks, loaded once (a broken checks file is a `ChecksError`)."""
        with self._lock:
            if exercise_id not in self._exercises:
                try:
                    exercise = load_exercise(exercise_id, self.checks_dir)
                    for question in exercise.questions:  # inputs must survive the trip
                        if question.kind == "function":
                            pickle.dumps(question.calls())
                except Exception as exc:
                    raise ChecksError(f"the checks of exercise {exercise_id} cannot be used: "
                                      f"{type(exc).__name__}: {exc}") from exc
                self._exercises[exercise_id] = exercise
            return self._exercises[exercise_id]

    def grade(self, path: str | Path) -> SubmissionResult:
        """Grade one notebook. Never raises for anything the submission does."""
        started = time.monotonic()
        result = SubmissionResult(path=str(path), exercise=None, status=INVALID,
                                  isolation=str(self.isolation))
        try:
            notebook = read_notebook(path)
            result.exercise = identify_exercise(notebook, path, self.known)
        except InvalidSubmission as exc:
            result.message = f"{Path(path).name} {exc}"
            named = [k for k in self.known if k in Path(path).name]
            if result.exercise is None and named:  # still say whose 0 points these are
                result.exercise = max(named, key=len)
            if result.exercise:
                result.max_score = self.exercise(result.exercise).max_score
            result.seconds = time.monotonic() - started
            return result
        exercise = self.exercise(result.exercise)
        result.max_score = exercise.max_score
        cells = answer_cells(notebook, exercise)
        calls = {q.id: q.calls() for q in exercise.questions if q.kind == "function"}
        run = (run_answer_cells(exercise, cells, calls, self.limits, self.isolation)
               if cells else _Run())
        result.questions = [judge_question(q, cells, run, self.limits, calls.get(q.id, []))
                            for q in exercise.questions]
        timed_out = run.timed_out or any(q.status == TIMEOUT for q in result.questions)
        result.status = TIMEOUT if timed_out else CRASHED if run.crashed else GRADED
        notes = []
        if run.setup_error:
            notes.append(run.setup_error)
        if run.restarts:
            notes.append(f"the process was restarted {run.restarts} time(s) to grade the "
                         "cells after one that crashed, hung or ran out of memory")
        if run.output_truncated:
            notes.append(f"printed output was cut at {self.limits.output_bytes:,} bytes")
        if not cells:
            notes.append("no answer cells found (cells are found by their answer-qN tags)")
        result.message = "; ".join(notes)
        result.seconds = time.monotonic() - started
        return result


def grade_notebook(path: str | Path, *, checks_dir: str | Path | None = None,
                   limits: Limits | None = None, no_sandbox: bool = False) -> SubmissionResult:
    """Grade one notebook with a fresh `Grader` (see `Grader` for batches)."""
    grader = Grader(checks_dir, limits, choose_isolation(no_sandbox))
    return grader.grade(path)
