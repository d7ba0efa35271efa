"""Supervising a submission's answer cells: a child process, the sandbox, the limits.

The answer cells run in a child process (``_harness.py``) in a fresh temporary folder,
inside the sandbox when there is one (`lessons_lib.check.sandbox`), after the exercise's
trusted setup code, under a per-cell and a total time limit, a memory limit, a process
limit and an output cap. Answers come back one JSON line at a time. When the process dies
inside a cell (a segfault, ``os._exit``, a cell that ignores its alarm), that cell is
marked and the others are run again without it, so one bad cell costs only its own
question. What comes back is plain data; `lessons_lib.check.judging` judges it.
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

from lessons_lib.check.reading import AnswerCell
from lessons_lib.check.sandbox import (
    Isolation,
    Limits,
    bwrap_command,
    child_environment,
    python_command,
    sandbox_uid,
    set_limits,
)
from lessons_lib.check.spec import TIMEOUT, Exercise

__all__ = ["CRASHED", "GRADED", "INVALID", "ChildRun", "Run", "run_answer_cells"]

GRADED, CRASHED, INVALID = "graded", "crashed", "invalid"  # and TIMEOUT, shared with questions
MAX_RESULT_BYTES = 64 * 1024 * 1024  # everything the child may send back
JOB_FILE = ".lessons-job.pickle"
GRACE_SECONDS = 2.0  # how long past its own alarm a cell may run before it is killed




@dataclass
class ChildRun:
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
               deadline: float) -> ChildRun:
    """Run the harness once on ``job``; kill it at ``deadline`` or when a cell overruns."""
    root = Path(tempfile.mkdtemp(prefix="lessons-check-"))
    run = ChildRun()
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


def _watch(process: subprocess.Popen, sink: queue.Queue, run: ChildRun,
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
class Run:
    """Everything the child processes reported about one submission."""

    outcomes: dict[int, dict] = field(default_factory=dict)  # cell index -> end event
    timed_out: bool = False
    crashed: bool = False
    setup_error: str = ""
    restarts: int = 0
    output_truncated: bool = False


def run_answer_cells(exercise: Exercise, cells: list[AnswerCell],
                     calls: dict[str, list[tuple[tuple, dict]]], limits: Limits,
                     isolation: Isolation) -> Run:
    """Run the answer cells after the exercise's setup, restarting past cells that kill it."""
    questions = {
        q.id: {"answer": q.answer, "kind": q.kind,
               "calls": [pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL)
                         for c in calls.get(q.id, [])]}
        for q in exercise.questions}
    budget = {c.index: limits.cell_seconds * (1 + sum(len(calls.get(q, [])) for q in c.qids))
              + GRACE_SECONDS for c in cells}
    deadline = time.monotonic() + limits.total_seconds
    result, skipped = Run(), set()
    while True:
        remaining = [c for c in cells if c.index not in skipped]
        job = {"setup": exercise.setup,
               "cells": [{"index": c.index, "qids": c.qids, "source": c.source}
                         for c in remaining],
               "questions": questions, "cell_seconds": limits.cell_seconds,
               "output_bytes": limits.output_bytes, "sandboxed": isolation.sandboxed,
               "uid": sandbox_uid() if isolation.privileged else None,
               "processes": limits.processes}
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
