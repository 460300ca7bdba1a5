"""One whole benchmark run, shared by the CLI and the Home Assistant action.

``run`` replays and scores (async, no file I/O); ``write_outputs`` writes the JSON report and
the plot (blocking: Home Assistant calls it in an executor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .recommend import DEFAULT_BUDGET_METRIC, DEFAULT_BUDGET_MS, Recommendation, recommend
from .report import (
    PLOT_FILE,
    REPORT_FILE,
    PlotUnavailableError,
    build_report,
    summary,
    write_plot,
    write_report,
)
from .runner import (
    DEFAULT_CASE_TIMEOUT,
    AnswerJudge,
    BenchTarget,
    CaseResult,
    ProgressCallback,
    run_benchmark,
)
from .stats import CellStats, summarise
from .testset import BenchCase


@dataclass
class BenchOutcome:
    """Everything one run produced."""

    results: list[CaseResult]
    cells: list[CellStats]
    recommendation: Recommendation
    report: dict[str, Any]
    report_path: Path | None = None
    plot_path: Path | None = None
    notes: list[str] = field(default_factory=list)  # e.g. why there is no plot

    def summary(self) -> dict[str, Any]:
        """The short form (CLI's last line, the action's event)."""
        data = summary(
            self.report,
            report_path=str(self.report_path) if self.report_path else None,
            plot_path=str(self.plot_path) if self.plot_path else None,
        )
        if self.notes:
            data["notes"] = list(self.notes)
        return data


async def run(
    cases: Sequence[BenchCase],
    targets: Sequence[BenchTarget],
    *,
    backends: Mapping[str, Mapping[str, Any]],
    budget_ms: float = DEFAULT_BUDGET_MS,
    metric: str = DEFAULT_BUDGET_METRIC,
    case_timeout: float = DEFAULT_CASE_TIMEOUT,
    on_progress: ProgressCallback | None = None,
    judge: AnswerJudge | None = None,
    judge_name: str | None = None,
) -> BenchOutcome:
    """Replay, score, summarise and recommend."""
    started = datetime.now(UTC)
    results = await run_benchmark(
        cases, targets, case_timeout=case_timeout, on_progress=on_progress, judge=judge
    )
    finished = datetime.now(UTC)
    cells = summarise(results)
    recommendation = recommend(cells, budget_ms, metric)
    report = build_report(
        results,
        cells,
        recommendation,
        backends=backends,
        started_at=started,
        finished_at=finished,
        judge=judge_name if judge is not None else None,
    )
    return BenchOutcome(results, cells, recommendation, report)


def write_outputs(outcome: BenchOutcome, out_dir: Path) -> None:
    """Write ``report.json`` and ``score-vs-latency.png`` into ``out_dir`` (blocking)."""
    outcome.report_path = out_dir / REPORT_FILE
    write_report(outcome.report, outcome.report_path)
    plot_path = out_dir / PLOT_FILE
    try:
        write_plot(outcome.cells, plot_path, outcome.recommendation)
    except PlotUnavailableError as err:
        outcome.notes.append(f"no plot: {err}")
    except (OSError, ValueError, RuntimeError) as err:
        # The plot is a picture of the report; failing to draw it must not lose the report.
        outcome.notes.append(f"no plot: {type(err).__name__}: {err}")
    else:
        outcome.plot_path = plot_path
