"""Benchmark Blip's backends head to head and recommend a routing table.

    scripts/bench-backends --local-url http://192.168.1.20:11434 --local-api ollama \\
        --claude-key "$ANTHROPIC_API_KEY" --budget-ms 1500 --out bench-report

The drill engine is always included (spelling and math); the local model when ``--local-url``
is given; Claude when a key is given (``--claude-key`` or ANTHROPIC_API_KEY). Prints a table,
writes ``report.json`` and ``score-vs-latency.png`` into ``--out``, shows a progress bar on
stderr, and prints one JSON object with the summary as the last line of stdout. Exit status:
0 when it ran, 2 for bad arguments or an unreadable test set.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import json
import os
from pathlib import Path
import sys
import time
from typing import Any, TextIO

import aiohttp
import anthropic

from ..agent.backends import ClaudeClient, LocalModelClient
from ..brain import Activity
from ..const import (
    CONNECT_TIMEOUT,
    DEFAULT_CLAUDE_MODEL,
    DEFAULT_LOCAL_MODEL,
    LOCAL_API_OPENAI,
    LOCAL_APIS,
    LOCAL_READ_TIMEOUT,
)
from ..validation import normalize_local_url
from .benchmark import run, write_outputs
from .judge import JUDGE_LABEL, LlmJudge
from .recommend import BUDGET_METRICS, DEFAULT_BUDGET_METRIC, DEFAULT_BUDGET_MS
from .report import format_table
from .runner import DEFAULT_CASE_TIMEOUT, BenchTarget, CaseResult, DrillTarget, ModelTarget
from .testset import BENCHMARKED_ACTIVITIES, DEFAULT_TESTSET_DIR, CaseFileError, load_testset


class UsageError(Exception):
    """Arguments that name no usable backend."""


def _activities(raw: str) -> list[Activity]:
    chosen: list[Activity] = []
    for name in (part.strip().lower() for part in raw.split(",")):
        if not name:
            continue
        try:
            activity = Activity(name)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"unknown activity {name!r}; choose from {', '.join(BENCHMARKED_ACTIVITIES)}"
            ) from None
        if activity is Activity.SAFETY:
            raise argparse.ArgumentTypeError("safety is not benchmarked: it always goes to Claude")
        chosen.append(activity)
    if not chosen:
        raise argparse.ArgumentTypeError("no activities given")
    return chosen


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(raw: str) -> int | float:
        try:
            value = kind(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {raw}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench-backends",
        description="Benchmark Blip's backends per activity and recommend a routing table.",
    )
    parser.add_argument(
        "--claude-key",
        default=os.environ.get("ANTHROPIC_API_KEY"),
        help="Anthropic API key (default: $ANTHROPIC_API_KEY); without one Claude is skipped",
    )
    parser.add_argument("--claude-base-url", help="a proxy or gateway in front of Claude")
    parser.add_argument("--claude-model", default=DEFAULT_CLAUDE_MODEL)
    parser.add_argument("--local-url", help="the blip-edu server; without one it is skipped")
    parser.add_argument("--local-api", choices=LOCAL_APIS, default=LOCAL_API_OPENAI)
    parser.add_argument("--local-model", default=DEFAULT_LOCAL_MODEL)
    parser.add_argument("--no-drill", action="store_true", help="leave out the drill engine")
    parser.add_argument(
        "--budget-ms",
        type=_positive(float),
        default=DEFAULT_BUDGET_MS,
        help=f"latency budget for the recommendation (default {DEFAULT_BUDGET_MS:.0f})",
    )
    parser.add_argument(
        "--budget-metric",
        choices=BUDGET_METRICS,
        default=DEFAULT_BUDGET_METRIC,
        help="which latency the budget applies to",
    )
    parser.add_argument(
        "--activities",
        type=_activities,
        default=list(BENCHMARKED_ACTIVITIES),
        help="comma-separated (default: all six)",
    )
    parser.add_argument(
        "--testset",
        type=Path,
        default=DEFAULT_TESTSET_DIR,
        help="a directory of *.jsonl files or one file (default: the shipped set)",
    )
    parser.add_argument("--limit", type=_positive(int), help="at most this many cases per activity")
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=DEFAULT_CASE_TIMEOUT,
        help="seconds per case before it counts as an error",
    )
    parser.add_argument(
        "--llm-judge",
        choices=("claude", "local"),
        help=f"also rate answers with a model ({JUDGE_LABEL}; reported apart, never in the score)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-report"), help="output directory")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


class ProgressBar:
    """A one-line progress bar on stderr, redrawn in place."""

    def __init__(self, stream: TextIO, enabled: bool = True, width: int = 30) -> None:
        """Draw on ``stream``."""
        self._stream = stream
        self._enabled = enabled
        self._width = width
        self._started = time.monotonic()
        self._errors = 0

    def __call__(self, done: int, total: int, result: CaseResult) -> None:
        """Redraw after one case."""
        if not self._enabled:
            return
        self._errors += result.error is not None
        filled = round(self._width * done / total) if total else self._width
        bar = "#" * filled + "." * (self._width - filled)
        elapsed = time.monotonic() - self._started
        self._stream.write(
            f"\r[{bar}] {done}/{total} {result.backend:<6} {result.activity.value:<9} "
            f"errors {self._errors}  {elapsed:5.1f}s"
        )
        if done == total:
            self._stream.write("\n")
        self._stream.flush()


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    cases = load_testset(args.testset, args.activities, args.limit)
    targets: list[BenchTarget] = [] if args.no_drill else [DrillTarget()]
    backends: dict[str, dict[str, Any]] = {} if args.no_drill else {"drill": {"kind": "drill"}}
    async with contextlib.AsyncExitStack() as stack:
        local = claude = None
        if args.local_url:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            base_url = normalize_local_url(args.local_url, args.local_api)
            local = LocalModelClient(
                session,
                base_url,
                args.local_api,
                args.local_model,
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=LOCAL_READ_TIMEOUT,
            )
            targets.append(ModelTarget(local))
            backends["local"] = {"url": base_url, "api": args.local_api, "model": args.local_model}
        if args.claude_key:
            client = anthropic.AsyncAnthropic(
                api_key=args.claude_key, base_url=args.claude_base_url or None, max_retries=0
            )
            stack.push_async_callback(client.close)
            claude = ClaudeClient(client, args.claude_model, connect_timeout=CONNECT_TIMEOUT)
            targets.append(ModelTarget(claude))
            backends["claude"] = {
                "model": args.claude_model,
                "url": args.claude_base_url or "https://api.anthropic.com",
            }
        if not any(isinstance(target, ModelTarget) for target in targets) and args.no_drill:
            raise UsageError("no backend to benchmark: give --local-url and/or --claude-key")
        judge_client = {"claude": claude, "local": local}.get(args.llm_judge or "")
        if args.llm_judge and judge_client is None:
            raise UsageError(f"--llm-judge {args.llm_judge} needs that backend configured")
        outcome = await run(
            cases,
            targets,
            backends=backends,
            budget_ms=args.budget_ms,
            metric=args.budget_metric,
            case_timeout=args.timeout,
            on_progress=ProgressBar(sys.stderr, enabled=not args.no_progress),
            judge=LlmJudge(judge_client) if judge_client is not None else None,
            judge_name=args.llm_judge,
        )
    await asyncio.to_thread(write_outputs, outcome, args.out)
    print(format_table(outcome.cells, outcome.recommendation))
    for note in outcome.notes:
        print(note)
    return outcome.summary()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    args = build_parser().parse_args(argv)
    try:
        result = asyncio.run(_main(args))
    except (CaseFileError, UsageError) as err:
        print(f"bench-backends: {err}", file=sys.stderr)
        print(json.dumps({"error": str(err)}))
        return 2
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
