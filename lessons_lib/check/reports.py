"""What a batch writes for people: the CSV of points, a gradebook, feedback pages, a report.

- `write_csv`: one row per submission (``path, learner, exercise, status, score,
  max_score``), then one column per question named ``exercise:qid`` (the union over the
  batch, in order of first appearance), so a batch mixing exercises never puts one
  exercise's points under another's question names; a cell is empty when the question is
  not in that submission's exercise.
- `write_gradebook`: one row per learner, one column per exercise (points), then ``total``:
  the CSV an LMS imports (Canvas and Moodle map the first column, the learner's id or
  e-mail, to their students). A learner's best submission of an exercise counts; a
  submission without a learner is listed under its file name.
- `write_feedback`: one self-contained HTML page per submission (no network, no scripts),
  to hand back: the score, then per question its status, message, checks, misconception
  and hint.
- `write_report`: the class at a glance, one self-contained HTML page: per exercise a
  chart of the score distribution (inline SVG) and, per question, the pass rate and the
  most common misconception.
"""

from __future__ import annotations

import csv
import html
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from lessons_lib.check.spec import PASS

__all__ = ["feedback_page", "score_chart", "write_csv", "write_feedback", "write_gradebook",
           "write_report"]

_STYLE = """body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a;line-height:1.45}h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.35rem;
text-align:left;vertical-align:top}.pass{color:#1b6e20}.fail,.error,.missing,.timeout{color:#a30000}
.box{border:1px solid #ccc;border-radius:.4rem;padding:.6rem .9rem;margin:.7rem 0}
.small{color:#555;font-size:.9rem}"""
_MARK = {"pass": "✓", "fail": "✗", "error": "!", "missing": "?", "timeout": "⏱"}


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_csv(results: Sequence, path: str | Path) -> None:
    """One row per submission; question columns are ``exercise:qid`` (see the module doc)."""
    columns = list(dict.fromkeys(f"{r.exercise}:{q.id}" for r in results for q in r.questions))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "learner", "exercise", "status", "score", "max_score", *columns])
        for r in results:
            points = {f"{r.exercise}:{q.id}": _fmt(q.points) for q in r.questions}
            writer.writerow([r.path, r.learner or "", r.exercise or "", r.status, _fmt(r.score),
                             _fmt(r.max_score), *(points.get(c, "") for c in columns)])


def _who(result) -> str:
    return result.learner or f"(no learner) {Path(result.path).name}"


def write_gradebook(results: Sequence, path: str | Path, id_column: str = "learner") -> None:
    """One row per learner, one column of points per exercise, then the total."""
    exercises = sorted({r.exercise for r in results if r.exercise})
    best: dict[str, dict[str, float]] = {}
    for r in results:
        row = best.setdefault(_who(r), {})
        if r.exercise:
            row[r.exercise] = max(row.get(r.exercise, 0.0), r.score)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([id_column, *exercises, "total"])
        for who in sorted(best):
            row = best[who]
            writer.writerow([who, *(_fmt(row[e]) if e in row else "" for e in exercises),
                             _fmt(sum(row.values()))])


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def feedback_page(result) -> str:
    """The page a learner gets back for one submission (HTML, self-contained)."""
    e = html.escape
    parts = [f"<h1>Feedback: {e(result.exercise or 'unknown exercise')}</h1>",
             f'<p><strong>{e(_who(result))}</strong> · score <strong>{_fmt(result.score)} of '
             f"{_fmt(result.max_score)}</strong> · {e(result.status)}</p>",
             f'<p class="small">{e(Path(result.path).name)}</p>']
    if result.message:
        parts.append(f'<p class="box">{e(result.message)}</p>')
    for q in result.questions:
        checks = "".join(f"<li>{'✓' if ok else '✗'} {e(name)}{': ' + e(note) if note else ''}</li>"
                         for name, ok, note in q.details)
        parts.append(
            f'<div class="box"><h2 class="{e(q.status)}">{e(q.id)} {_MARK.get(q.status, "?")} '
            f"{e(q.status)} · {_fmt(q.points)} of {_fmt(q.max_points)} points</h2>"
            f"<p>{e(q.message)}</p>" + (f"<ul>{checks}</ul>" if checks else "")
            + (f"<p><strong>Misconception:</strong> {e(q.misconception)}</p>"
               if q.misconception else "")
            + (f"<p><strong>Hint:</strong> {e(q.hint)}</p>"
               if q.hint and q.status != PASS else "") + "</div>")
    return _page(f"Feedback on {result.exercise or 'an exercise'}", "\n".join(parts))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@+-]+", "_", text).strip("._") or "submission"


def write_feedback(results: Sequence, folder: str | Path) -> list[Path]:
    """One page per submission in ``folder``, named ``<learner or file>_<exercise>.html``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = set()
    for r in results:
        stem = _safe(f"{r.learner or Path(r.path).stem}_{r.exercise or 'unknown'}")
        name, n = stem, 1
        while name in used:
            n += 1
            name = f"{stem}_{n}"
        used.add(name)
        written.append(folder / f"{name}.html")
        written[-1].write_text(feedback_page(r), encoding="utf-8")
    return written


def score_chart(fractions: Sequence[float], title: str) -> str:
    """An inline SVG histogram of scores (fractions of the maximum) in ten bins."""
    counts = [0] * 10
    for f in fractions:
        counts[min(9, max(0, int(f * 10)))] += 1
    width, height, left, bottom = 420, 180, 34, 28
    top = max(counts) or 1
    bar = (width - left - 8) / 10
    shapes = []
    for i, n in enumerate(counts):
        h = (height - bottom - 12) * n / top
        x, y = left + i * bar, height - bottom - h
        shapes.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                      f'fill="#3b6ea5"><title>{i * 10}-{i * 10 + 10}%: {n}</title></rect>')
        if n:
            shapes.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                          f'text-anchor="middle">{n}</text>')
    for i in range(0, 11, 2):
        shapes.append(f'<text x="{left + i * bar:.1f}" y="{height - bottom + 14}" font-size="10" '
                      f'text-anchor="middle">{i * 10}%</text>')
    shapes.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" '
                  f'y2="{height - bottom}" stroke="#333"/>')
    shapes.append(f'<text x="{width / 2}" y="{height - 2}" font-size="11" text-anchor="middle">'
                  "score, % of the maximum</text>")
    label = html.escape(f"{title}: " + ", ".join(f"{n} in {i * 10}-{i * 10 + 10}%"
                                                 for i, n in enumerate(counts) if n))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            + "".join(shapes) + "</svg>")


def write_report(results: Sequence, path: str | Path) -> None:
    """The class report: per exercise, the score chart and a table of the questions."""
    e = html.escape
    statuses = Counter(r.status for r in results)
    parts = ["<h1>Class report</h1>",
             f"<p>{len(results)} submissions: "
             + e(", ".join(f"{n} {s}" for s, n in statuses.most_common())) + "</p>"]
    by_exercise: dict[str, list] = {}
    for r in results:
        if r.exercise:
            by_exercise.setdefault(r.exercise, []).append(r)
    for exercise in sorted(by_exercise):
        group = by_exercise[exercise]
        top = max(r.max_score for r in group) or 1.0
        fractions = [r.score / (r.max_score or top) for r in group]
        mean = sum(fractions) / len(fractions)
        parts.append(f"<h2>{e(exercise)}</h2><p>{len(group)} submissions, mean score "
                     f"{mean:.0%} of {_fmt(top)} points</p>")
        parts.append(score_chart(fractions, f"Scores on {exercise}"))
        rows = []
        qids = list(dict.fromkeys(q.id for r in group for q in r.questions))
        for qid in qids:
            answers = [q for r in group for q in r.questions if q.id == qid]
            passed = sum(q.status == PASS for q in answers)
            ideas = Counter(q.misconception for q in answers if q.misconception)
            idea = (f"{e(ideas.most_common(1)[0][0])} ({ideas.most_common(1)[0][1]})"
                    if ideas else "–")
            rows.append(f"<tr><td>{e(qid)}</td><td>{passed} of {len(answers)} "
                        f"({passed / len(answers):.0%})</td><td>{idea}</td></tr>")
        parts.append("<table><tr><th>question</th><th>passed</th>"
                     "<th>most common misconception (how many)</th></tr>"
                     + "".join(rows) + "</table>")
    Path(path).write_text(_page("Class report", "\n".join(parts)), encoding="utf-8")
