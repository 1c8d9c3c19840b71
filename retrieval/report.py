"""A shareable evaluation report: the measures, a hit@k chart and the per-question table.

HTML (one self-contained file, the chart as inline SVG) or Markdown (the chart as text
bars), chosen by the file's suffix. Everything user-provided is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from retrieval.evaluation import HIT_KS, EvalRun, QuestionResult

MEASURE_ORDER = (
    "questions",
    "answerable",
    *(f"hit@{k}" for k in HIT_KS),
    "mrr@10",
    "answer_accuracy",
    "no_answer_accuracy",
    "answerable_refused",
    "ms_per_question",
    "index_seconds",
    "chunks",
)
SNIPPET_CHARS = 160


def format_measure(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1 else f"{value:.1f}"
    return str(value)


def write_report(path: Path, runs: Sequence[EvalRun], source_name: str, primary: int = 0) -> None:
    """Write the report of `runs` (the measures side by side; the questions of runs[primary])."""
    text = markdown_report(runs, source_name, primary) if path.suffix.lower() in {".md", ".markdown"} else html_report(
        runs, source_name, primary
    )
    path.write_text(text, encoding="utf-8")


def _status(result: QuestionResult) -> str:
    if not result.case.answerable:
        return "거절 ✓" if not result.answered else "답함 ✗"
    if result.correct:
        return "정답"
    return "거절" if not result.answered else "오답"


def _snippet(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def _title(source_name: str) -> str:
    return f"qabot 평가 보고서 — {source_name}"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- HTML --------------------------------------------------------------------------------


def hit_chart_svg(runs: Sequence[EvalRun], width: int = 560, height: int = 240) -> str:
    """Grouped bars: hit@k for each k, one colour per run."""
    colours = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
    left, bottom, top = 40, 30, 10
    plot_h = height - bottom - top
    group_w = (width - left) / len(HIT_KS)
    bar_w = max(4.0, (group_w - 16) / max(len(runs), 1))
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20 * len(runs)}" role="img" '
            'aria-label="hit@k chart" font-family="sans-serif" font-size="11">'
        )
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
    for group, k in enumerate(HIT_KS):
        x0 = left + group * group_w + 8
        for index, run in enumerate(runs):
            value = run.summary.get(f"hit@{k}") or 0.0
            bar_h = plot_h * value
            x = x0 + index * bar_w
            colour = colours[index % len(colours)]
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w - 2:.1f}" height="{bar_h:.1f}" '
                f'fill="{colour}"><title>{html.escape(run.name)} hit@{k} = {value:.3f}</title></rect>'
            )
        parts.append(f'<text x="{x0 + group_w / 2 - 8:.1f}" y="{height - 10}" text-anchor="middle">hit@{k}</text>')
    for index, run in enumerate(runs):
        y = height + 14 + 20 * index - 10
        colour = colours[index % len(colours)]
        parts.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{left + 18}" y="{y + 10}">{html.escape(run.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(runs: Sequence[EvalRun], source_name: str, primary: int = 0) -> str:
    esc = html.escape
    run = runs[primary]
    head = "".join(f"<th>{esc(r.name)}</th>" for r in runs)
    rows = "".join(
        f"<tr><th>{esc(m)}</th>" + "".join(f"<td>{format_measure(r.summary.get(m))}</td>" for r in runs) + "</tr>"
        for m in MEASURE_ORDER
    )
    questions = []
    for result in run.results:
        top = result.passages[0] if result.passages else None
        questions.append(
            "<tr>"
            f"<td>{esc(str(result.case.id))}</td>"
            f"<td>{esc(result.case.question)}</td>"
            f"<td>{esc(' | '.join(result.case.answers))}</td>"
            f"<td>{result.hit_rank if result.hit_rank is not None else '–'}</td>"
            f"<td>{esc(_status(result))}</td>"
            f"<td>{esc(_snippet(result.answer))}</td>"
            f"<td>{esc(_snippet(top.text) if top else '')}</td>"
            f"<td>{esc(', '.join(top.matched) if top else '')}</td>"
            "</tr>"
        )
    return f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{esc(_title(source_name))}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 13px; }}
td:nth-child(n+2) {{ max-width: 28em; }}
</style></head><body>
<h1>{esc(_title(source_name))}</h1>
<p>{esc(_stamp())} · 질문 {run.summary["questions"]}개 · 설정 {esc(run.name)}</p>
<h2>지표</h2>
<table><tr><th></th>{head}</tr>{rows}</table>
<h2>hit@k</h2>
{hit_chart_svg(runs)}
<h2>질문별 결과 ({esc(run.name)})</h2>
<table><tr><th>id</th><th>질문</th><th>정답</th><th>적중 순위</th><th>판정</th><th>답변</th><th>1위 구절</th><th>일치한 말</th></tr>
{"".join(questions)}</table>
</body></html>
"""


# --- Markdown ----------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(runs: Sequence[EvalRun], source_name: str, primary: int = 0) -> str:
    run = runs[primary]
    lines = [f"# {_title(source_name)}", "", f"{_stamp()} · 질문 {run.summary['questions']}개 · 설정 {run.name}", ""]
    lines += ["## 지표", "", "| | " + " | ".join(_md(r.name) for r in runs) + " |", "|---" * (len(runs) + 1) + "|"]
    for measure in MEASURE_ORDER:
        lines.append(f"| {measure} | " + " | ".join(format_measure(r.summary.get(measure)) for r in runs) + " |")
    lines += ["", "## hit@k", "", "```"]
    for r in runs:
        for k in HIT_KS:
            value = r.summary.get(f"hit@{k}") or 0.0
            lines.append(f"{r.name[:20]:<20} hit@{k:<2} {'█' * round(value * 40):<40} {value:.3f}")
    lines += ["```", "", f"## 질문별 결과 ({run.name})", ""]
    lines += ["| id | 질문 | 정답 | 적중 순위 | 판정 | 답변 | 1위 구절 |", "|---|---|---|---|---|---|---|"]
    for result in run.results:
        top = result.passages[0] if result.passages else None
        lines.append(
            f"| {_md(str(result.case.id))} | {_md(result.case.question)} | {_md(' / '.join(result.case.answers))} | "
            f"{result.hit_rank if result.hit_rank is not None else '–'} | {_status(result)} | "
            f"{_md(_snippet(result.answer))} | {_md(_snippet(top.text) if top else '')} |"
        )
    return "\n".join(lines) + "\n"
