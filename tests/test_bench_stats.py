"""Benchmark statistics and the recommendation rules, on results whose figures are set by hand;
and the optional llm-judge over a loopback server."""

from __future__ import annotations

from datetime import UTC, datetime
import io
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from custom_components.blip.agent.backends import LocalModelClient
from custom_components.blip.bench.__main__ import ProgressBar, build_parser
from custom_components.blip.bench.benchmark import BenchOutcome, run, write_outputs
from custom_components.blip.bench.judge import LlmJudge
from custom_components.blip.bench.recommend import LATENCY_TIE_MS, recommend
from custom_components.blip.bench.report import PLOT_FILE, build_report
from custom_components.blip.bench.runner import CaseResult, ModelTarget
from custom_components.blip.bench.scoring import AnswerScore, Check
from custom_components.blip.bench.stats import Latency, cell_stats, percentile, summarise
from custom_components.blip.bench.testset import load_testset
from custom_components.blip.brain import Activity
from tests.bench_servers import Behaviour, serve_local
from tests.llm_servers import StreamScript

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("values", [[5.0], [1.0, 2.0], [3.0, 1.0, 2.0, 10.0], list(range(1, 21))])
@pytest.mark.parametrize("q", [0, 25, 50, 90, 95, 100])
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def _result(
    backend: str,
    activity: Activity,
    *,
    score: float = 1.0,
    ms: float = 10.0,
    error: str | None = None,
    declined: bool = False,
    words: int = 5,
) -> CaseResult:
    if error or declined:
        return CaseResult(
            "c",
            activity,
            backend,
            error=error,
            declined=declined,
            score=AnswerScore(0.0, False, (Check("answered", False),)),
        )
    return CaseResult(
        "c",
        activity,
        backend,
        answer="x " * words,
        first_token_ms=ms,
        total_ms=ms * 2,
        tokens=words,
        score=AnswerScore(score, score == 1.0, (Check("number", score == 1.0),)),
    )


def test_cell_counts_failures_as_zero_and_times_only_answers() -> None:
    results = [
        _result("local", Activity.MATH, ms=10),
        _result("local", Activity.MATH, ms=30, score=0.0),
        _result("local", Activity.MATH, error="timeout"),
        _result("local", Activity.MATH, error="server_error"),
    ]
    cell = cell_stats("local", Activity.MATH, results)
    assert (cell.cases, cell.answered, cell.passed, cell.errors) == (4, 2, 1, 2)
    assert cell.score == 0.25
    assert cell.error_kinds == {"timeout": 1, "server_error": 1}
    assert cell.failed_checks == {"number": 1, "answered": 2}
    assert cell.first_token_ms == Latency(mean=20.0, p50=20.0, p95=29.0, count=2)
    assert cell.latency("total_p50") == 40.0
    assert cell.tokens_total == 10 and cell.tokens_mean == 5.0
    with pytest.raises(ValueError, match="unknown latency metric"):
        cell.latency("total_p99")


def _cells(*rows: tuple[str, Activity, float, float]) -> list:
    """Cells of four results each with the given score and first-token latency."""
    results = [
        _result(backend, activity, score=score, ms=ms)
        for backend, activity, score, ms in rows
        for _ in range(4)
    ]
    return summarise(results)


def test_better_but_slower_loses_to_the_budget() -> None:
    cells = _cells(
        ("local", Activity.TRIVIA, 0.75, 300.0),
        ("claude", Activity.TRIVIA, 1.0, 2500.0),
    )
    tight = recommend(cells, budget_ms=1000)
    assert tight.routing == {"trivia": "local"}
    assert tight.choices[Activity.TRIVIA].reason == (
        "the only backend within the budget (claude over budget)"
    )
    loose = recommend(cells, budget_ms=3000)
    assert loose.routing == {"trivia": "claude"}
    assert loose.choices[Activity.TRIVIA].reason == "highest score within the budget"
    assert loose.choices[Activity.TRIVIA].latency_ms == 2500.0


def test_when_nothing_fits_the_fastest_is_recommended_and_marked() -> None:
    cells = _cells(
        ("local", Activity.CREATIVE, 0.5, 1500.0),
        ("claude", Activity.CREATIVE, 1.0, 2500.0),
    )
    recommendation = recommend(cells, budget_ms=1000)
    choice = recommendation.choices[Activity.CREATIVE]
    assert (choice.backend, choice.within_budget) == ("local", False)
    assert recommendation.as_dict()["choices"]["creative"]["within_budget"] is False


def test_ties_go_to_the_faster_then_to_the_cheaper() -> None:
    near = LATENCY_TIE_MS / 2
    cells = _cells(
        ("claude", Activity.SPELLING, 1.0, 1.0),
        ("local", Activity.SPELLING, 1.0, 1.0 + near),
        ("drill", Activity.SPELLING, 1.0, 1.0 + 2 * near - 0.01),
        ("claude", Activity.CHITCHAT, 1.0, 100.0),
        ("local", Activity.CHITCHAT, 1.0, 100.0 + 3 * LATENCY_TIE_MS),
    )
    recommendation = recommend(cells, budget_ms=1000)
    # Within the tolerance the drill engine (offline, free) wins; beyond it, speed wins.
    assert recommendation.routing == {"spelling": "drill", "chitchat": "claude"}


def test_drill_only_for_spelling_and_math_and_never_safety() -> None:
    cells = _cells(
        ("drill", Activity.CHITCHAT, 1.0, 0.1),
        ("local", Activity.CHITCHAT, 0.5, 500.0),
        ("drill", Activity.MATH, 1.0, 0.1),
        ("local", Activity.SAFETY, 1.0, 1.0),
    )
    recommendation = recommend(cells, budget_ms=1000)
    assert recommendation.routing == {"chitchat": "local", "math": "drill"}


def test_unanswered_activities_get_no_row_and_metric_matters() -> None:
    results = [_result("local", Activity.EMOTIONAL, error="unreachable") for _ in range(3)]
    results += [_result("local", Activity.TRIVIA, ms=400.0, score=1.0) for _ in range(2)]
    results += [_result("claude", Activity.TRIVIA, ms=300.0, score=1.0) for _ in range(2)]
    cells = summarise(results)
    assert recommend(cells, budget_ms=1000).routing == {"trivia": "claude"}
    # Total time is twice the first token here; 500 ms allows neither total, so the faster wins.
    by_total = recommend(cells, budget_ms=500, metric="total_p95")
    assert by_total.routing == {"trivia": "claude"}
    assert not by_total.choices[Activity.TRIVIA].within_budget
    with pytest.raises(ValueError, match="unknown latency metric"):
        recommend(cells, metric="vibes")
    with pytest.raises(ValueError, match="must be positive"):
        recommend(cells, budget_ms=0)


def test_progress_bar_draws_in_place() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10)
    bar(1, 4, _result("local", Activity.MATH))
    bar(4, 4, _result("claude", Activity.TRIVIA, error="timeout"))
    text = stream.getvalue()
    assert text.startswith("\r[##........] 1/4 local  math")
    assert "\r[##########] 4/4 claude trivia    errors 1" in text
    assert text.endswith("\n")


def test_cli_rejects_safety_and_unknown_activities() -> None:
    parser = build_parser()
    assert parser.parse_args(["--activities", "math, trivia"]).activities == [
        Activity.MATH,
        Activity.TRIVIA,
    ]
    for bad in ("safety", "cooking"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--activities", bad])


async def test_llm_judge_is_reported_apart_from_the_score() -> None:
    cases = load_testset(activities=[Activity.TRIVIA], limit_per_activity=2)
    answers = {
        c.prompt: "Bananas are yellow and taste sweet." for c in cases
    }  # off-topic: rubric 0.75
    async with (
        serve_local(Behaviour(answers=answers)) as answering,
        serve_local(Behaviour(answers={})) as judging,
        aiohttp.ClientSession() as session,
    ):
        judging.script = StreamScript(reply="4")

        def client(base_url: str) -> LocalModelClient:
            return LocalModelClient(
                session, base_url + "/v1", "openai", "m", connect_timeout=1, read_timeout=5
            )

        outcome = await run(
            cases,
            [ModelTarget(client(answering.base_url))],
            backends={},
            judge=LlmJudge(client(judging.base_url)),
            judge_name="local",
        )
    (cell,) = outcome.cells
    assert cell.score == 0.75  # the deterministic score, untouched by the judge
    assert cell.judge_mean == 0.75  # "4" on a 1-5 scale
    assert len(judging.chat_requests) == 2
    assert (
        "Bananas are yellow and taste sweet." in judging.chat_requests[0]["messages"][-1]["content"]
    )
    assert outcome.report["scoring"]["llm_judge"].startswith("llm-judge by local")
    assert outcome.report["cells"][0]["llm_judge"] == 0.75


def test_report_survives_a_plot_that_cannot_be_written(tmp_path: Path) -> None:
    """The plot is optional: a plot path that cannot be written leaves a note, not a crash."""
    cells = summarise([_result("local", Activity.MATH)])
    recommendation = recommend(cells)
    report = build_report([], cells, recommendation, backends={}, started_at=NOW, finished_at=NOW)
    outcome = BenchOutcome([], cells, recommendation, report)
    (tmp_path / PLOT_FILE).mkdir()  # a directory where the PNG should go
    write_outputs(outcome, tmp_path)
    assert outcome.report_path is not None and outcome.report_path.is_file()
    assert outcome.plot_path is None
    assert outcome.notes and outcome.notes[0].startswith("no plot:")
    assert outcome.summary()["notes"] == outcome.notes
