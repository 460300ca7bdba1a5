"""Benchmark Blip's agent: end-to-end turn latency per route, and Blip's own overhead.

    .venv/bin/python benchmarks/turn_latency.py [--turns 20] [--local-delay 0.15] [--claude-delay 0.4]

A real Home Assistant (the test harness's, in-process) runs the Blip agent against loopback
servers that speak the real wire formats with fixed delays: blip-edu (OpenAI-compatible SSE) and
Anthropic's streaming Messages API. Each turn goes through ``conversation.async_converse`` inside
a chat log with a delta listener, the way the Assist pipeline runs it, so the figures are the
moments text is handed to TTS:

- ``filler_ms``: turn start to the filler (slow routes only),
- ``first_token_ms``: turn start to the answer's first text,
- ``total_ms``: turn start to the result.

Baselines are measured in the same run against the same servers: a direct streaming call with
no Blip in between (raw aiohttp for blip-edu, the anthropic SDK for Claude) and, for drills,
the router called directly. ``overhead_ms`` is Blip's median minus the baseline's median.
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import Any
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import anthropic  # noqa: E402
from homeassistant import loader  # noqa: E402
from homeassistant.core import HomeAssistant  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import async_test_home_assistant  # noqa: E402

from custom_components.blip.brain import Router  # noqa: E402
from custom_components.blip.const import CONF_SAFETY_NOTIFY  # noqa: E402
from tests.agent_helpers import blip_entry, converse, setup_blip  # noqa: E402
from tests.llm_servers import (  # noqa: E402
    VALID_KEY,
    FakeAnthropic,
    FakeLocalModel,
    start_fake_server,
)

ROUTES: dict[str, str] = {
    "drill": "how do you spell cat",
    "local": "do you like dogs",
    "claude": "why is the sky blue",
    "safety": "I want to hurt myself",
}
CHUNK_DELAY = 0.01  # seconds between streamed chunks, both servers


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


async def _time_agent_turn(hass: HomeAssistant, text: str) -> dict[str, float | None]:
    started = time.monotonic()
    turn = await converse(hass, text)
    total = (time.monotonic() - started) * 1000
    contents = turn.deltas_with_content()
    filler_ms = first_ms = None
    first_answer_index = 0
    if len(contents) > 1 and contents[0][1]["content"] in _FILLERS:
        filler_ms = (contents[0][0] - started) * 1000
        first_answer_index = 1
    if len(contents) > first_answer_index:
        first_ms = (contents[first_answer_index][0] - started) * 1000
    return {"filler_ms": filler_ms, "first_token_ms": first_ms, "total_ms": total}


_FILLERS: set[str] = set()


async def _direct_local(session: aiohttp.ClientSession, base_url: str) -> dict[str, float]:
    """A bare streaming request to blip-edu: first content chunk and end of stream."""
    started = time.monotonic()
    first = None
    body = {
        "model": "blip-edu",
        "messages": [{"role": "user", "content": ROUTES["local"]}],
        "stream": True,
    }
    async with session.post(f"{base_url}/v1/chat/completions", json=body) as response:
        async for raw in response.content:
            line = raw.decode().strip()
            if line == "data: [DONE]":
                break
            if (
                first is None
                and line.startswith("data:")
                and json.loads(line[5:])["choices"][0]["delta"].get("content")
            ):
                first = time.monotonic()
    end = time.monotonic()
    return {"first_token_ms": ((first or end) - started) * 1000, "total_ms": (end - started) * 1000}


async def _direct_claude(client: anthropic.AsyncAnthropic) -> dict[str, float]:
    """The anthropic SDK's own streaming call: first text delta and end of stream."""
    started = time.monotonic()
    first = None
    stream = await client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=200,
        messages=[{"role": "user", "content": ROUTES["claude"]}],
        stream=True,
    )
    async for event in stream:
        if first is None and event.type == "content_block_delta":
            first = time.monotonic()
    end = time.monotonic()
    return {"first_token_ms": ((first or end) - started) * 1000, "total_ms": (end - started) * 1000}


async def _direct_router() -> dict[str, float]:
    router = Router()
    started = time.monotonic()
    decision = router.decide(ROUTES["drill"], [], None, 7)
    end = time.monotonic()
    assert decision.drill_reply is not None
    return {"first_token_ms": (end - started) * 1000, "total_ms": (end - started) * 1000}


async def _repeat(
    turns: int, measure: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    await measure()  # warm-up: connection pools, imports, caches
    for _ in range(turns):
        for key, value in (await measure()).items():
            if value is not None:
                samples.setdefault(key, []).append(value)
    return samples


async def run(turns: int, local_delay: float, claude_delay: float) -> dict[str, Any]:
    from custom_components.blip.agent.fillers import FillerPicker

    _FILLERS.update(FillerPicker().all_fillers)
    local = FakeLocalModel(api="openai")
    local.script.first_token_delay = local_delay
    local.script.chunk_delay = CHUNK_DELAY
    claude = FakeAnthropic()
    claude.script.first_token_delay = claude_delay
    claude.script.chunk_delay = CHUNK_DELAY

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        async with (
            start_fake_server(local.app()) as local_url,
            start_fake_server(claude.app()) as claude_url,
            async_test_home_assistant() as hass,
        ):
            local.base_url, claude.base_url = local_url, claude_url
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # let custom_components/blip load
            with patch("homeassistant.components.tts._init_tts_cache_dir", return_value=cache_dir):
                assert await async_setup_component(hass, "homeassistant", {})
                hass.services.async_register("notify", "parent", _noop_service)
                entry = blip_entry(claude, local, options={CONF_SAFETY_NOTIFY: ["notify.parent"]})
                services = await setup_blip(hass, entry, deadlines=None)
                services.health.slow_first_token_s = 10.0  # keep the local route filler-free

                agent: dict[str, dict[str, list[float]]] = {}
                for route, text in ROUTES.items():
                    agent[route] = await _repeat(
                        turns, lambda text=text: _time_agent_turn(hass, text)
                    )

                session = aiohttp.ClientSession()
                sdk = anthropic.AsyncAnthropic(
                    api_key=VALID_KEY, base_url=claude_url, max_retries=0
                )
                try:
                    baseline = {
                        "drill": await _repeat(turns, _direct_router),
                        "local": await _repeat(turns, lambda: _direct_local(session, local_url)),
                        "claude": await _repeat(turns, lambda: _direct_claude(sdk)),
                    }
                    baseline["safety"] = baseline["claude"]
                finally:
                    await session.close()
                    await sdk.close()
                await hass.config_entries.async_unload(entry.entry_id)

    for route in ROUTES:
        figures = {key: _median(values) for key, values in agent[route].items()}
        base = {key: _median(values) for key, values in baseline[route].items()}
        overhead = {
            f"{key}_overhead_ms": round(figures[key] - base[key], 2)
            for key in ("first_token_ms", "total_ms")
            if figures.get(key) is not None and base.get(key) is not None
        }
        results[route] = {
            "median": figures,
            "p90_total_ms": round(statistics.quantiles(agent[route]["total_ms"], n=10)[-1], 2),
            "baseline_median": base,
            **overhead,
        }
    return results


async def _noop_service(_call: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20, help="measured turns per route")
    parser.add_argument("--local-delay", type=float, default=0.15, help="blip-edu first token (s)")
    parser.add_argument("--claude-delay", type=float, default=0.4, help="Claude first token (s)")
    args = parser.parse_args()
    results = asyncio.run(run(args.turns, args.local_delay, args.claude_delay))
    print(
        f"{'route':8} {'filler':>8} {'first':>8} {'total':>8} {'base 1st':>9} {'base tot':>9}"
        f" {'ovh 1st':>8} {'ovh tot':>8}   (ms, medians of {args.turns} turns)"
    )
    for route, figures in results.items():
        median, base = figures["median"], figures["baseline_median"]
        print(
            f"{route:8} {median.get('filler_ms') or '-':>8} {median.get('first_token_ms'):>8}"
            f" {median.get('total_ms'):>8} {base.get('first_token_ms'):>9}"
            f" {base.get('total_ms'):>9} {figures.get('first_token_ms_overhead_ms'):>8}"
            f" {figures.get('total_ms_overhead_ms'):>8}"
        )
    print(
        json.dumps(
            {
                "benchmark": "turn_latency",
                "turns_per_route": args.turns,
                "server_delays_s": {
                    "local_first_token": args.local_delay,
                    "claude_first_token": args.claude_delay,
                    "between_chunks": CHUNK_DELAY,
                },
                "routes": results,
            }
        )
    )


if __name__ == "__main__":
    main()
