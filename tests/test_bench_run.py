"""The benchmark end to end against loopback backends whose behaviour the test knows exactly.

One backend is fast and always right (the test set's reference answers); the other is slow (a
fixed first-token delay) and sometimes wrong: one misspelling, one wrong sum, one HTTP 500, one
answer with markdown, one off-topic answer, one unsuitable word. The report's scores, counts,
errors, latencies and the recommendation must be exactly what that implies.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import os
from pathlib import Path
import struct
import sys

import aiohttp
import anthropic
import pytest

from custom_components.blip.agent.backends import ClaudeClient, LocalModelClient
from custom_components.blip.bench.__main__ import main as bench_main
from custom_components.blip.bench.benchmark import BenchOutcome, run, write_outputs
from custom_components.blip.bench.recommend import recommend
from custom_components.blip.bench.report import PLOT_FILE, REPORT_FILE, format_table
from custom_components.blip.bench.runner import DrillTarget, ModelTarget
from custom_components.blip.bench.scoring import words_of
from custom_components.blip.bench.stats import CellStats
from custom_components.blip.bench.testset import BenchCase, load_testset
from custom_components.blip.brain import Activity
from tests.bench_servers import Behaviour, reference_answers, serve_anthropic, serve_local
from tests.llm_servers import VALID_KEY

REPO = Path(__file__).resolve().parents[1]
SLOW_DELAY = 0.15  # seconds before the slow backend's first token
BUDGET_MS = 100.0  # between the fast backend's latency and the slow one's
CASES_PER_ACTIVITY = 4


def _by_activity(cases: list[BenchCase]) -> dict[Activity, list[BenchCase]]:
    groups: dict[Activity, list[BenchCase]] = {}
    for case in cases:
        groups.setdefault(case.activity, []).append(case)
    return groups


def slow_and_sometimes_wrong(cases: list[BenchCase]) -> Behaviour:
    """Reference answers, except one known mistake per activity (creative stays right).

    Works on any subset of the shipped set's first cases per activity.
    """
    groups = _by_activity(cases)
    answers = reference_answers(cases)
    fail_prompts: dict[str, int] = {}
    if spelling := groups.get(Activity.SPELLING):
        assert spelling[1].word == "dog"
        answers[spelling[1].prompt] = "Dog is spelled D, O, O, G."  # a misspelling
    if math := groups.get(Activity.MATH):
        assert math[0].answer == 5
        answers[math[0].prompt] = "Two plus three is six."  # the wrong number
        if len(math) > 2:
            fail_prompts[math[2].prompt] = 500  # one server error
    if chitchat := groups.get(Activity.CHITCHAT):
        answers[chitchat[0].prompt] = "**Hi!** I'm doing great, thank you for asking."  # markdown
    if trivia := groups.get(Activity.TRIVIA):
        assert trivia[1].prompt == "How many legs does a spider have?"
        answers[trivia[1].prompt] = "I like turtles. Do you like turtles too?"  # off-topic
    if emotional := groups.get(Activity.EMOTIONAL):
        answers[emotional[0].prompt] = f"{emotional[0].reference} Moving away sucks."  # unsuitable
    return Behaviour(answers=answers, first_token_delay=SLOW_DELAY, fail_prompts=fail_prompts)


# What the slow backend's mistakes imply, per activity: (score, passed, errors, answered).
SLOW_EXPECTED = {
    Activity.SPELLING: (0.75, 3, 0, 4),
    Activity.MATH: (0.5, 2, 1, 3),
    Activity.CHITCHAT: (0.9375, 3, 0, 4),  # markdown: three of four rubric checks
    Activity.CREATIVE: (1.0, 4, 0, 4),
    Activity.TRIVIA: (0.9375, 3, 0, 4),
    Activity.EMOTIONAL: (0.9375, 3, 0, 4),
}
SLOW_FAILED_CHECKS = {
    Activity.SPELLING: {"letters": 1, "no_wrong_spelling": 1},
    Activity.MATH: {"number": 1, "answered": 1},
    Activity.CHITCHAT: {"no_markdown": 1},
    Activity.CREATIVE: {},
    Activity.TRIVIA: {"answers_question": 1},
    Activity.EMOTIONAL: {"age_appropriate": 1},
}


@contextlib.asynccontextmanager
async def head_to_head(
    cases: list[BenchCase], fast: str, local_api: str
) -> AsyncIterator[tuple[list[ModelTarget], dict[str, object], str, str]]:
    """Both backends on loopback; ``fast`` names the fast and right one."""
    right = Behaviour(answers=reference_answers(cases))
    wrong = slow_and_sometimes_wrong(cases)
    claude_behaviour, local_behaviour = (right, wrong) if fast == "claude" else (wrong, right)
    async with (
        serve_anthropic(claude_behaviour) as claude_server,
        serve_local(local_behaviour, api=local_api) as local_server,
        aiohttp.ClientSession() as session,
    ):
        client = anthropic.AsyncAnthropic(
            api_key=VALID_KEY, base_url=claude_server.base_url, max_retries=0
        )
        local_base = local_server.base_url + ("/v1" if local_api == "openai" else "")
        targets = [
            ModelTarget(
                LocalModelClient(
                    session,
                    local_base,
                    local_api,
                    "blip-edu",
                    connect_timeout=2,
                    read_timeout=5,
                )
            ),
            ModelTarget(ClaudeClient(client, "claude-haiku-4-5", connect_timeout=2)),
        ]
        try:
            yield targets, {"local": {"url": local_base}}, claude_server.base_url, local_base
        finally:
            await client.close()


def _cell(outcome: BenchOutcome, backend: str, activity: Activity) -> CellStats:
    (cell,) = [c for c in outcome.cells if c.backend == backend and c.activity is activity]
    return cell


@pytest.mark.parametrize(
    ("fast", "slow", "local_api"), [("local", "claude", "openai"), ("claude", "local", "ollama")]
)
async def test_report_is_exactly_what_the_servers_imply(
    fast: str, slow: str, local_api: str, tmp_path: Path
) -> None:
    cases = load_testset(limit_per_activity=CASES_PER_ACTIVITY)
    assert len(cases) == 6 * CASES_PER_ACTIVITY
    async with head_to_head(cases, fast, local_api) as (models, backends, _, _):
        outcome = await run(cases, [DrillTarget(), *models], backends=backends, budget_ms=BUDGET_MS)

    # Every (case, backend) pair ran once: drill only on spelling and math.
    assert len(outcome.results) == 2 * len(cases) + 2 * CASES_PER_ACTIVITY
    fast_words = {c.prompt: len(words_of(c.reference or "")) for c in cases}
    for activity in (a for a in Activity if a is not Activity.SAFETY):
        fast_cell = _cell(outcome, fast, activity)
        assert (fast_cell.score, fast_cell.passed, fast_cell.errors) == (1.0, 4, 0)
        assert fast_cell.answered == fast_cell.cases == 4
        assert fast_cell.failed_checks == {}
        expected_words = [fast_words[c.prompt] for c in cases if c.activity is activity]
        assert fast_cell.tokens_total == sum(expected_words)

        slow_cell = _cell(outcome, slow, activity)
        score, passed, errors, answered = SLOW_EXPECTED[activity]
        assert (slow_cell.score, slow_cell.passed, slow_cell.errors, slow_cell.answered) == (
            score,
            passed,
            errors,
            answered,
        ), activity
        assert slow_cell.failed_checks == SLOW_FAILED_CHECKS[activity], activity
        assert slow_cell.error_kinds == ({"server_error": 1} if errors else {})

        # The slow backend's latency reflects its delay; the fast one's is well below it.
        assert slow_cell.first_token_ms is not None and fast_cell.first_token_ms is not None
        assert slow_cell.first_token_ms.count == answered
        assert SLOW_DELAY * 1000 <= slow_cell.first_token_ms.p50 < SLOW_DELAY * 1000 + 250
        assert slow_cell.first_token_ms.mean >= SLOW_DELAY * 1000
        assert slow_cell.total_ms is not None and slow_cell.total_ms.p50 >= SLOW_DELAY * 1000
        assert fast_cell.first_token_ms.p95 < BUDGET_MS

    for activity in (Activity.SPELLING, Activity.MATH):
        drill = _cell(outcome, "drill", activity)
        assert (drill.score, drill.passed, drill.errors, drill.declined) == (1.0, 4, 0, 0)

    # The recommendation: the drill engine for spelling and math (as right as the fast model,
    # and faster), the fast model for the rest; the slow one is over budget; no safety row.
    recommendation = outcome.recommendation
    assert recommendation.routing == {
        "spelling": "drill",
        "math": "drill",
        "chitchat": fast,
        "creative": fast,
        "trivia": fast,
        "emotional": fast,
    }
    assert all(choice.within_budget for choice in recommendation.choices.values())
    assert "safety" not in recommendation.routing
    assert f"{slow} over budget" in recommendation.choices[Activity.CREATIVE].reason

    # With a budget the slow backend fits too, scores decide: creative is a tie on score
    # (both right), which goes to the faster backend.
    generous = recommend(outcome.cells, budget_ms=10_000)
    assert generous.routing == recommendation.routing
    assert "ties on score" in generous.choices[Activity.CREATIVE].reason
    # Without the fast backend, the slow one is recommended where it is the only model.
    only_slow = recommend([c for c in outcome.cells if c.backend != fast], budget_ms=BUDGET_MS)
    assert only_slow.routing["trivia"] == slow
    assert not only_slow.choices[Activity.TRIVIA].within_budget

    # The JSON report carries the same figures.
    write_outputs(outcome, tmp_path)
    report = json.loads((tmp_path / REPORT_FILE).read_text())
    assert report["errors"] == 1
    assert report["runs"] == len(outcome.results)
    assert report["recommendation"]["routing"] == recommendation.routing
    cells = {(c["backend"], c["activity"]): c for c in report["cells"]}
    assert cells[slow, "math"]["error_kinds"] == {"server_error": 1}
    assert cells[slow, "chitchat"]["score"] == 0.9375
    assert cells[fast, "trivia"]["passed"] == 4
    failed_math = [r for r in report["results"] if r["backend"] == slow and r["activity"] == "math"]
    assert [r["error"] for r in failed_math].count("server_error") == 1
    assert _png_size(tmp_path / PLOT_FILE) == (1200, 720)  # 3 x 2 panels, one per activity

    table, _, routing_lines = format_table(outcome.cells, recommendation).partition("\n\n")
    table = table.splitlines()
    (drill_row,) = [line for line in table if line.split()[:2] == ["spelling", "drill"]]
    assert drill_row.endswith("<- recommended")
    (slow_row,) = [line for line in table if line.split()[:2] == ["math", slow]]
    assert slow_row.split()[2:5] == ["0.50", "2/4", "1"]
    assert f"  chitchat   {fast}" in routing_lines


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    return {**env, "BLIP_PYTHON": sys.executable}


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_timeouts_and_unreachable_backends_are_counted_not_fatal() -> None:
    cases = load_testset(activities=[Activity.TRIVIA], limit_per_activity=2)
    stalled = Behaviour(answers=reference_answers(cases), first_token_delay=5.0)
    async with serve_local(stalled) as server, aiohttp.ClientSession() as session:
        slow = LocalModelClient(
            session, server.base_url + "/v1", "openai", "m", connect_timeout=1, read_timeout=10
        )
        # A port nobody listens on: bind one, note it, close it.
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        gone = LocalModelClient(
            session, f"http://127.0.0.1:{port}/v1", "openai", "m", connect_timeout=1, read_timeout=1
        )
        gone.name = "claude"  # stands in for a second backend in the report
        outcome = await run(
            cases,
            [ModelTarget(slow), ModelTarget(gone)],
            backends={},
            budget_ms=BUDGET_MS,
            case_timeout=0.3,
        )
    local = _cell(outcome, "local", Activity.TRIVIA)
    other = _cell(outcome, "claude", Activity.TRIVIA)
    assert (local.errors, local.error_kinds, local.answered, local.score) == (
        2,
        {"timeout": 2},
        0,
        0.0,
    )
    assert (other.errors, other.error_kinds) == (2, {"unreachable": 2})
    assert local.first_token_ms is None and local.total_ms is None
    # Nobody answered, so no row is recommended: importing keeps the current backend.
    assert outcome.recommendation.routing == {}


async def test_cli_against_loopback_backends(tmp_path: Path) -> None:
    """scripts/bench-backends end to end: table and JSON on stdout, progress on stderr."""
    cases = load_testset(activities=[Activity.SPELLING, Activity.TRIVIA], limit_per_activity=2)
    async with head_to_head(cases, "local", "openai") as (_, _, claude_url, local_url):
        process = await asyncio.create_subprocess_exec(
            str(REPO / "scripts" / "bench-backends"),
            "--claude-key",
            VALID_KEY,
            "--claude-base-url",
            claude_url,
            "--local-url",
            local_url.removesuffix("/v1"),
            "--local-api",
            "openai",
            "--local-model",
            "blip-edu",
            "--budget-ms",
            str(BUDGET_MS),
            "--activities",
            "spelling,trivia",
            "--limit",
            "2",
            "--out",
            str(tmp_path / "out"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_cli_env(),
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    lines = stdout.decode().strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["recommended"] == {"spelling": "drill", "trivia": "local"}
    assert summary["cases"] == 4
    assert summary["runs"] == 10  # 4 cases x 2 models + 2 spelling cases x drill
    assert summary["errors"] == 0
    assert summary["scores"]["claude"]["spelling"]["passed"] == 1  # the "D, O, O, G" case
    assert summary["scores"]["local"]["trivia"]["score"] == 1.0
    assert summary["scores"]["claude"]["trivia"]["first_token_p95_ms"] >= SLOW_DELAY * 1000
    assert Path(summary["report"]).is_file() and Path(summary["plot"]).is_file()
    assert any(line.split()[:2] == ["spelling", "drill"] for line in lines)
    progress = stderr.decode()
    assert "10/10" in progress and "[" + "#" * 30 + "]" in progress
    assert VALID_KEY not in stdout.decode() + progress
    assert VALID_KEY not in Path(summary["report"]).read_text()


async def test_cli_bad_input_exits_2_with_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "activity": "math", "prompt": "2+2", "age": 6}\n')
    process = await asyncio.create_subprocess_exec(
        str(REPO / "scripts" / "bench-backends"),
        "--testset",
        str(broken),
        "--out",
        str(tmp_path / "out"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"BLIP_PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert f"{broken}:1: math cases need 'answer'" in stderr.decode()
    assert json.loads(stdout.decode().strip().splitlines()[-1])["error"]
    assert not (tmp_path / "out").exists()


# The command line in process (the tests above run it as scripts/bench-backends does).


def test_cli_drill_only_run_writes_the_report_without_a_progress_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No model at all: the drill engine alone is benchmarked, offline; --no-progress is quiet."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    code = bench_main(
        ["--activities", "spelling", "--limit", "2", "--no-progress", "--out", str(tmp_path)]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""  # no progress bar
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["cases"] == 2 and summary["errors"] == 0
    assert summary["recommended"] == {"spelling": "drill"}
    assert (tmp_path / REPORT_FILE).is_file()


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--no-drill"], "no backend to benchmark: give --local-url and/or --claude-key"),
        (["--llm-judge", "claude"], "--llm-judge claude needs that backend configured"),
    ],
)
def test_cli_without_the_backend_asked_for_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    error: str,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    out = tmp_path / "out"
    code = bench_main([*argv, "--limit", "1", "--no-progress", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert f"bench-backends: {error}" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1]) == {"error": error}
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--activities", "safety"], "safety is not benchmarked: it always goes to Claude"),
        (["--activities", "juggling"], "unknown activity 'juggling'"),
        (["--activities", " , "], "no activities given"),
        (["--budget-ms", "fast"], "not a number: 'fast'"),
        (["--limit", "0"], "must be positive, got 0"),
    ],
)
def test_cli_arguments_that_are_not_valid_are_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        bench_main(argv)
    assert exited.value.code == 2
    assert error in capsys.readouterr().err
