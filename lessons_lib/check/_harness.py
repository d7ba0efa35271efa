"""The trusted harness that runs one submission's answer cells in a child process.

Run by the grader (``lessons_lib.check.runner``) as::

    python -s -P -B _harness.py JOB_FILE RESULT_FD

``JOB_FILE`` is a pickle the grader put in the submission's temporary folder: the
exercise's trusted setup code, the submission's answer cells (only those), the questions
and the pickled inputs the checker chose for function questions. The harness reads it
(and deletes it where it can) before any submission code runs, then

1. runs the setup code,
2. runs each answer cell under a per-cell time limit (``SIGALRM``), catching everything a
   cell can throw at it (errors, ``sys.exit``, ``KeyboardInterrupt``, ``MemoryError``),
3. right after each answer cell, extracts that question's answer as plain data: the
   variable's value, or, for a function question, the function's outputs on the
   checker's inputs (each call under the same time limit),

Inside the sandbox it first becomes an unprivileged user (when it starts as root: the
grader's ``uid``), caps the number of processes, and after each cell kills every process
the cell left behind (its pid namespace holds nothing else). A process forked by a cell
never runs the harness's own code: it exits as soon as control comes back to it.

It streams one JSON line per event to ``RESULT_FD``, a pipe only the grader reads, so
the answers sent before a crash or a kill are kept. Nothing is ever unpickled on the
grader's side. Standard output and error are capped; the grader captures them in a file.

This process is untrusted once the first answer cell runs: a submission can break its own
grading, never the grader (which judges the plain data in its own process and enforces
time, memory and output limits from outside).
"""

from __future__ import annotations

import builtins
import faulthandler
import io
import json
import os
import pickle
import signal
import sys
import traceback
from pathlib import Path

# The package is found next to this file, never through the submission's folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lessons_lib.check.plain import to_plain  # noqa: E402

_ERROR_CHARS = 500
_MAIN_PID = os.getpid()


class _CellTimeout(BaseException):
    """Raised by the alarm when a cell (or a call) runs past its time limit."""


def _on_alarm(signum, frame):  # noqa: ARG001
    raise _CellTimeout()


class _CappedText(io.TextIOBase):
    """A text stream that writes at most ``cap`` bytes to ``fd`` and drops the rest."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, fd: int, cap: int) -> None:
        self._fd, self._left, self.truncated = fd, cap, False

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    def write(self, text: str) -> int:
        data = str(text).encode("utf-8", "replace")
        chunk = data[: max(self._left, 0)]
        if chunk:
            try:
                os.write(self._fd, chunk)
            except OSError:
                self._left = 0
            self._left -= len(chunk)
        if len(chunk) < len(data):
            self.truncated = True
        return len(text)

    def flush(self) -> None:
        pass


class _Results:
    """One JSON object per line on the grader's pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._dumps = json.dumps

    def send(self, **event: object) -> None:
        data = (self._dumps(event, allow_nan=False) + "\n").encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


def _describe(exc: BaseException, filename: str) -> str:
    """'ZeroDivisionError: division by zero (line 3)', the line counted within the cell."""
    try:
        detail = exc.msg if isinstance(exc, SyntaxError) else exc
        text = f"{type(exc).__name__}: {detail}"
    except Exception:  # an exception whose str() fails
        text = type(exc).__name__
    text = text.strip().rstrip(":")
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    if line:
        text += f" (line {line})"
    return text[:_ERROR_CHARS]


def _limited(action, seconds: float) -> tuple[str, object]:
    """Run ``action()`` under a time limit: ("ok", value) or (status, exception)."""
    try:
        try:
            if seconds:
                # Re-fire every 0.25 s so a submission that swallows the first alarm is hit again.
                signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
            return "ok", action()
        finally:
            if os.getpid() != _MAIN_PID:  # a copy forked by the submission: it is done
                os._exit(0)
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _CellTimeout as exc:
        return "timeout", exc
    except SystemExit as exc:
        return "exit", exc
    except KeyboardInterrupt as exc:
        return "exit", exc
    except MemoryError as exc:
        return "memory", exc
    except RecursionError as exc:
        return "error", exc
    except BaseException as exc:  # noqa: BLE001 - everything a cell throws is its result
        return "error", exc


def _value_answer(namespace: dict, name: str, seconds: float) -> dict:
    if name not in namespace:
        return {"defined": False}
    status, result = _limited(lambda: to_plain(namespace[name]), seconds)
    if status == "ok":
        return {"defined": True, "plain": result}
    return {"defined": True, "status": status, "error": _describe(result, "")}


def _function_answer(namespace: dict, name: str, calls: list[bytes], seconds: float) -> dict:
    if name not in namespace:
        return {"defined": False}
    function = namespace[name]
    if not callable(function):
        return {"defined": True, "callable": False, "type": type(function).__name__}
    results = []
    for blob in calls:
        if any(c["timed_out"] for c in results):  # one timeout is enough: do not wait again
            results.append({"output": None, "error": "not run after a call that timed out",
                            "not_implemented": False, "timed_out": True})
            continue
        args, kwargs = pickle.loads(blob)  # fresh copies: a call cannot spoil the next one
        status, result = _limited(lambda a=args, k=kwargs: to_plain(function(*a, **k)), seconds)
        call = {"output": None, "error": None, "not_implemented": False, "timed_out": False}
        if status == "ok":
            call["output"] = result
        elif status == "timeout":
            call["timed_out"] = True
            call["error"] = f"the call ran past the {seconds:g}-second limit"
        elif isinstance(result, NotImplementedError):
            call["not_implemented"] = True
            call["error"] = "NotImplementedError"
        else:
            call["error"] = _describe(result, "")
        results.append(call)
    return {"defined": True, "callable": True, "calls": results}


def _answer(namespace: dict, question: dict, seconds: float) -> dict:
    if question["kind"] == "function":
        return _function_answer(namespace, question["answer"], question["calls"], seconds)
    return _value_answer(namespace, question["answer"], seconds)


def _magic_note(source: str) -> str:
    lines = [ln.strip() for ln in source.splitlines()]
    if any(ln.startswith(("%", "!")) for ln in lines):
        return "; IPython magics and shell commands (% or !) are not run by the grader"
    return ""


def _become_unprivileged(uid: int | None, processes: int | None) -> None:
    """In the sandbox: drop root for ``uid`` (owning the working folder), cap the processes."""
    import resource

    if uid is not None and os.geteuid() == 0:
        os.chown(os.getcwd(), uid, uid)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)  # every capability goes with it
        if os.getuid() != uid or os.geteuid() != uid:
            raise RuntimeError("the harness could not drop its privileges")
    if processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def _kill_leftovers() -> None:
    """Kill what a cell left running (sandbox only: its pid namespace holds only the
    submission's processes, and kill(-1) spares this process and the namespace's init)."""
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        return  # nothing to kill
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except OSError:
            return


def main() -> None:
    job_path, result_fd = sys.argv[1], int(sys.argv[2])
    results = _Results(result_fd)
    if hasattr(signal, "SIGXFSZ"):  # a full output file is an error to write, not a kill
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, _on_alarm)
    faulthandler.enable(file=sys.__stderr__)

    with open(job_path, "rb") as handle:
        job = pickle.load(handle)
    try:
        os.remove(job_path)
    except OSError:  # in the sandbox it is a read-only mount
        pass
    sandboxed = bool(job.get("sandboxed"))
    if sandboxed:
        _become_unprivileged(job.get("uid"), job.get("processes"))

    out = _CappedText(1, int(job["output_bytes"]))
    sys.stdout = sys.stderr = out
    sys.stdin = io.StringIO("")
    seconds = float(job["cell_seconds"])
    questions = job["questions"]
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}

    status, result = _limited(
        lambda: exec(compile(job["setup"], "<setup>", "exec"), namespace), 0)
    if status != "ok":
        results.send(event="setup", status=status, error=_describe(result, "<setup>"))
        return
    results.send(event="setup", status="ok")

    for cell in job["cells"]:
        index, qids, source = cell["index"], cell["qids"], cell["source"]
        filename = f"<answer-{qids[0]}>"
        results.send(event="start", cell=index)
        event: dict = {"event": "end", "cell": index}
        try:
            status, result = _limited(
                lambda s=source, f=filename: exec(compile(s, f, "exec"), namespace), seconds)
            event["status"] = status
            if status == "ok":
                event["answers"] = {qid: _answer(namespace, questions[qid], seconds)
                                    for qid in qids}
            elif isinstance(result, SyntaxError):
                event["error"] = _describe(result, filename) + _magic_note(source)
            elif status == "exit":
                code = getattr(result, "code", None)
                event["error"] = (f"{type(result).__name__}"
                                  + (f"({code!r})" if code is not None else ""))
            elif status != "timeout":
                event["error"] = _describe(result, filename)
        except _CellTimeout:  # an alarm that fired between two statements of ours
            event = {"event": "end", "cell": index, "status": "timeout"}
        if sandboxed:
            _kill_leftovers()
        try:
            results.send(**event)
        except Exception as exc:  # noqa: BLE001 - e.g. a submission that patched json
            results.send(event="end", cell=index, status="error",
                         error=f"the answer could not be sent to the checker ({exc!r:.200})")
        if event.get("status") == "memory":
            # What filled the memory may still be referenced: ask for a fresh process.
            results.send(event="restart", cell=index)
            os._exit(0)

    results.send(event="done", output_truncated=out.truncated)


if __name__ == "__main__":
    main()
