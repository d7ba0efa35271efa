"""Reading a submission: the notebook file, which exercise and learner it is, its answer cells.

Every step turns bad input into `InvalidSubmission` (the message says why), never a crash:

1. **Read** the file (`read_notebook`): size-capped, parsed as JSON, old formats converted
   to version 4 by ``nbformat``. A directory, a dangling link, an empty, truncated or
   non-JSON file, or a format that cannot be converted makes the submission ``invalid``.
2. **Identify** the exercise (`identify_exercise`): the notebook's metadata
   ``lessons.exercise``, else a known exercise id in the file name, else ``invalid``; and
   the learner (`identify_learner`): the metadata ``lessons.learner`` that
   ``python -m lessons_lib.release`` wrote, else none (the shared variant).
3. **Collect** the code cells tagged ``answer-<qid>`` (`answer_cells`), in notebook order.
   Nothing else of the submission runs: its setup and ``check(...)`` cells are untrusted
   and ignored. A question without an answer cell is ``missing``; duplicated cells all
   run, in order, and the last one is the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lessons_lib.check.spec import Exercise

__all__ = ["MAX_NOTEBOOK_BYTES", "AnswerCell", "InvalidSubmission", "answer_cells",
           "identify_exercise", "identify_learner", "read_notebook"]

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_LEARNER_CHARS = 320  # an e-mail address is at most 320 characters


class InvalidSubmission(ValueError):
    """A file that cannot be graded as a notebook (the message says why)."""


@dataclass
class AnswerCell:
    """A code cell tagged ``answer-<qid>`` (one cell may answer several questions)."""

    index: int  # position among the notebook's cells
    qids: list[str]
    source: str




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


def _lessons(notebook: dict) -> dict:
    metadata = notebook.get("metadata")
    lessons = metadata.get("lessons") if isinstance(metadata, dict) else None
    return lessons if isinstance(lessons, dict) else {}


def identify_learner(notebook: dict) -> str | None:
    """The learner named in the metadata ``lessons.learner``, or None (the shared variant).

    Read by the checker from the file itself, never from anything the submission's code
    says at run time. Anything but a non-empty string of at most 320 characters is ignored.
    """
    learner = _lessons(notebook).get("learner")
    if isinstance(learner, str) and learner.strip() and len(learner) <= MAX_LEARNER_CHARS:
        return learner.strip()
    return None


def identify_exercise(notebook: dict, path: str | Path, known: list[str]) -> str:
    """The exercise id from the metadata ``lessons.exercise``, else from the file name."""
    claimed = _lessons(notebook).get("exercise")
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
