"""The benchmark's outputs: a terminal table, a JSON report, a score-vs-latency plot (PNG).

The JSON report holds everything (per cell and per case) so a run can be read later without
re-running it; the summary (``summary``) is the short form the CLI prints as its last line and
the Home Assistant action puts in its event. The plot needs matplotlib (the ``bench`` extra);
without it the rest of the report is still written and the plot is reported as skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
import json
from pathlib import Path
from typing import Any, Final

from ..brain import Activity
from .recommend import Recommendation
from .runner import CaseResult
from .stats import CellStats

REPORT_KIND: Final = "blip-backend-benchmark"
REPORT_SCHEMA: Final = 1
REPORT_FILE: Final = "report.json"
PLOT_FILE: Final = "score-vs-latency.png"


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed, so no plot is drawn."""


def build_report(
    results: Sequence[CaseResult],
    cells: Sequence[CellStats],
    recommendation: Recommendation,
    *,
    backends: Mapping[str, Mapping[str, Any]],
    started_at: datetime,
    finished_at: datetime,
    judge: str | None = None,
) -> dict[str, Any]:
    """The full JSON report. ``backends`` describes each backend (URL, model; never a key)."""
    activities = sorted({cell.activity for cell in cells}, key=list(Activity).index)
    return {
        "kind": REPORT_KIND,
        "schema": REPORT_SCHEMA,
        "started_at": started_at.astimezone(UTC).isoformat(timespec="seconds"),
        "finished_at": finished_at.astimezone(UTC).isoformat(timespec="seconds"),
        "duration_s": round((finished_at - started_at).total_seconds(), 2),
        "backends": {name: dict(info) for name, info in backends.items()},
        "activities": [activity.value for activity in activities],
        "cases": len({result.case_id for result in results}),
        "runs": len(results),
        "errors": sum(1 for result in results if result.error is not None),
        "scoring": {
            "spelling": "exact: the word's letters in order, no wrong spelling",
            "math": "exact: the right number, in digits or words",
            "rubric": "length fit for speech, no markdown, age-appropriate words, answers the question (keywords)",
            "llm_judge": f"llm-judge by {judge}, reported apart and never in the score"
            if judge
            else "off",
        },
        "cells": [cell.as_dict() for cell in cells],
        "recommendation": recommendation.as_dict(),
        "results": [result.as_dict() for result in results],
    }


def summary(
    report: Mapping[str, Any], *, report_path: str | None = None, plot_path: str | None = None
) -> dict[str, Any]:
    """The short form: recommendation, and per backend and activity score and latency."""
    scores: dict[str, dict[str, Any]] = {}
    for cell in report["cells"]:
        scores.setdefault(cell["backend"], {})[cell["activity"]] = {
            "score": cell["score"],
            "passed": cell["passed"],
            "cases": cell["cases"],
            "errors": cell["errors"],
            "first_token_p95_ms": (cell["first_token_ms"] or {}).get("p95"),
            "total_p50_ms": (cell["total_ms"] or {}).get("p50"),
        }
    recommendation = report["recommendation"]
    return {
        "kind": REPORT_KIND,
        "recommended": recommendation["routing"],
        "budget_ms": recommendation["budget_ms"],
        "budget_metric": recommendation["metric"],
        "over_budget": sorted(
            activity
            for activity, choice in recommendation["choices"].items()
            if not choice["within_budget"]
        ),
        "cases": report["cases"],
        "runs": report["runs"],
        "errors": report["errors"],
        "scores": scores,
        "report": report_path,
        "plot": plot_path,
    }


def write_report(report: Mapping[str, Any], path: Path) -> None:
    """Write the JSON report (atomically: a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    temporary.replace(path)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def format_table(cells: Sequence[CellStats], recommendation: Recommendation) -> str:
    """A fixed-width table for the terminal, the recommended backend of each activity marked."""
    header = (
        "activity",
        "backend",
        "score",
        "passed",
        "errors",
        "ttft mean/p50/p95 ms",
        "total mean/p50/p95 ms",
        "words",
        "",
    )
    has_judge = any(cell.judge_mean is not None for cell in cells)
    if has_judge:
        header = (*header[:-1], "llm-judge", "")
    rows: list[tuple[str, ...]] = [header]
    for cell in cells:
        choice = recommendation.choices.get(cell.activity)
        picked = choice is not None and choice.backend == cell.backend
        mark = (
            ("<- recommended" if choice and choice.within_budget else "<- fastest (over budget)")
            if picked
            else ""
        )
        ttft, total = cell.first_token_ms, cell.total_ms
        row = (
            cell.activity.value,
            cell.backend,
            f"{cell.score:.2f}",
            f"{cell.passed}/{cell.cases}",
            str(cell.errors) + (f" ({cell.declined} declined)" if cell.declined else ""),
            "/".join(_ms(getattr(ttft, s) if ttft else None) for s in ("mean", "p50", "p95")),
            "/".join(_ms(getattr(total, s) if total else None) for s in ("mean", "p50", "p95")),
            f"{cell.tokens_mean:.0f}",
        )
        if has_judge:
            row = (*row, "-" if cell.judge_mean is None else f"{cell.judge_mean:.2f}")
        rows.append((*row, mark))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * max(len(line) for line in lines))
    lines.append("")
    lines.append(
        f"Recommended routing (budget {recommendation.budget_ms:.0f} ms on {recommendation.metric};"
        " safety always goes to Claude):"
    )
    for activity, choice in recommendation.choices.items():
        lines.append(f"  {activity.value:<10} {choice.backend:<7} {choice.reason}")
    return "\n".join(lines)


_BACKEND_STYLES: Final = {
    "drill": ("s", "#2ca02c"),
    "local": ("o", "#1f77b4"),
    "claude": ("D", "#d62728"),
}
_OTHER_STYLE: Final = ("^", "#7f7f7f")


def write_plot(
    cells: Sequence[CellStats],
    path: Path,
    recommendation: Recommendation | None = None,
    metric: str | None = None,
) -> None:
    """Score against latency: one panel per activity, one point per backend, the budget as a
    dashed line and the recommended backend ringed. Raises PlotUnavailableError without
    matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as err:
        raise PlotUnavailableError("matplotlib is not installed (pip install '.[bench]')") from err
    metric = metric or (recommendation.metric if recommendation else "total_p50")
    activities = [a for a in Activity if any(cell.activity is a for cell in cells)]
    columns = min(3, max(1, len(activities)))
    rows = max(1, -(-len(activities) // columns))
    # A Figure with its own Agg canvas, not pyplot: no global state, safe in a worker thread.
    figure = Figure(figsize=(4 * columns, 3.2 * rows + 0.8), dpi=100)
    FigureCanvasAgg(figure)
    # The drill engine answers in microseconds: latencies are floored for the log axis.
    latencies = [max(v, 0.01) for cell in cells if (v := cell.latency(metric)) is not None]
    log_axis = bool(latencies) and max(latencies) / min(latencies) > 20
    axes_list = figure.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    for index, axes in enumerate(axes_list.flat):
        if index >= len(activities):
            axes.set_visible(False)
            continue
        activity = activities[index]
        chosen = recommendation.choices.get(activity) if recommendation else None
        for cell in cells:
            latency = cell.latency(metric)
            if cell.activity is not activity or latency is None:
                continue
            latency = max(latency, 0.01)
            marker, colour = _BACKEND_STYLES.get(cell.backend, _OTHER_STYLE)
            picked = chosen is not None and chosen.backend == cell.backend
            axes.scatter(
                latency,
                cell.score,
                marker=marker,
                color=colour,
                s=140 if picked else 70,
                edgecolors="black" if picked else "none",
                linewidths=2 if picked else 0,
                zorder=3,
            )
            axes.annotate(
                f"{cell.backend} {cell.passed}/{cell.cases}",
                (latency, cell.score),
                textcoords="offset points",
                xytext=(6, -12 if cell.backend == "claude" else 6),
                fontsize=8,
            )
        if recommendation is not None and metric == recommendation.metric:
            axes.axvline(recommendation.budget_ms, color="grey", linestyle="--", linewidth=1)
        axes.set_title(activity.value, fontsize=10)
        axes.grid(True, alpha=0.3)
        if log_axis:
            axes.set_xscale("log")
        axes.set_ylim(-0.05, 1.1)
    for axes in axes_list[-1]:
        axes.set_xlabel(f"{metric.replace('_', ' ')} (ms)", fontsize=8)
    for axes in axes_list[:, 0]:
        axes.set_ylabel("score (0-1)", fontsize=8)
    handles = [
        Line2D([], [], marker=marker, linestyle="", color=colour, label=backend)
        for backend, (marker, colour) in _BACKEND_STYLES.items()
        if any(cell.backend == backend for cell in cells)
    ]
    if recommendation is not None:
        handles.append(Line2D([], [], linestyle="--", color="grey", label="latency budget"))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    figure.suptitle("Blip backends: score vs latency per activity (ringed: recommended)")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
