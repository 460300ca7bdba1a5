"""Benchmark what Claude's second opinion and the unfit-output check cost a child's turn.

    .venv/bin/python benchmarks/second_opinion.py [--turns 20] [--local-delay 0.15] [--verdict-delay 0.5]

1. Turn latency with the second opinion on and off, in the same run against the same loopback
   servers (blip-edu as OpenAI-compatible SSE, Anthropic's streaming Messages API), alternating
   turn by turn so both see the same machine load. The verdict is made slower than the local
   answer on purpose: if the answer waited for it, ``total_ms`` would grow by about that delay.
   The baseline is the same agent with the second opinion off.
2. The local model's output check per sentence: ``check_unfit`` (content unfit for a child)
   against the junk check it runs beside (``check_local_sentence``) as the baseline, over the
   same sentences.

The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
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

from homeassistant import loader  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import async_test_home_assistant  # noqa: E402

from custom_components.blip.agent.speech import check_local_sentence  # noqa: E402
from custom_components.blip.brain.output_check import check_unfit  # noqa: E402
from tests.agent_helpers import blip_entry, converse, setup_blip  # noqa: E402
from tests.llm_servers import FakeAnthropic, FakeLocalModel, start_fake_server  # noqa: E402

LOCAL_TURN = "do you like dogs"
CHUNK_DELAY = 0.01
# Sentences like the local model's answers (fit), with a few unfit ones mixed in.
SENTENCES = [
    "Dogs are wonderful friends, and they love to play fetch in the park.",
    "Three plus four is seven, great job counting!",
    "Be careful not to cut yourself with the scissors.",
    "The knight beat the dragon and everyone cheered.",
    "A killer whale is really a kind of dolphin that lives in the ocean.",
    "Let's spell cat together: C, A, T.",
    "What is your favourite animal, and why do you like it?",
    "Shooting stars are tiny rocks burning up high in the sky.",
    "You should kill yourself.",
    "This is our little secret, okay?",
]


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


async def _turn_ms(hass: Any) -> dict[str, float]:
    started = time.monotonic()
    turn = await converse(hass, LOCAL_TURN)
    total = (time.monotonic() - started) * 1000
    first = (turn.deltas_with_content()[0][0] - started) * 1000
    return {"first_token_ms": first, "total_ms": total}


async def turn_latency(turns: int, local_delay: float, verdict_delay: float) -> dict[str, Any]:
    local = FakeLocalModel(api="openai")
    local.script.first_token_delay = local_delay
    local.script.chunk_delay = CHUNK_DELAY
    claude = FakeAnthropic()
    claude.opinion_script.first_token_delay = verdict_delay
    samples: dict[str, dict[str, list[float]]] = {"on": {}, "off": {}}
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
                entry = blip_entry(claude, local)
                services = await setup_blip(hass, entry, deadlines=None)
                services.health.slow_first_token_s = 10.0  # keep the local route filler-free
                opinion = services.second_opinion
                assert opinion is not None
                await _turn_ms(hass)  # warm-up: connection pools, imports, caches
                await opinion.wait_idle()
                for _ in range(turns):
                    for mode in ("on", "off"):
                        services.second_opinion = opinion if mode == "on" else None
                        for key, value in (await _turn_ms(hass)).items():
                            samples[mode].setdefault(key, []).append(value)
                        await opinion.wait_idle()  # the next turn starts from quiet
                verdicts = len(claude.opinion_requests)
                await hass.config_entries.async_unload(entry.entry_id)
    on = {key: _median(values) for key, values in samples["on"].items()}
    off = {key: _median(values) for key, values in samples["off"].items()}
    return {
        "second_opinion_on_median": on,
        "baseline_off_median": off,
        "total_ms_ratio_on_vs_off": round(on["total_ms"] / off["total_ms"], 3),
        "total_ms_overhead_ms": round(on["total_ms"] - off["total_ms"], 2),
        "verdict_requests": verdicts,
    }


def output_check(rounds: int) -> dict[str, Any]:
    def per_sentence_us(check: Any) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(rounds):
                for sentence in SENTENCES:
                    check(sentence)
            best = min(best, time.perf_counter() - started)
        return round(best / (rounds * len(SENTENCES)) * 1e6, 2)

    unfit_us = per_sentence_us(check_unfit)
    junk_us = per_sentence_us(check_local_sentence)
    return {
        "check_unfit_us_per_sentence": unfit_us,
        "baseline_junk_check_us_per_sentence": junk_us,
        "ratio_vs_junk_check": round(unfit_us / junk_us, 2),
        "unfit_found": sum(check_unfit(s) is not None for s in SENTENCES),
        "sentences": len(SENTENCES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20, help="measured turns per mode")
    parser.add_argument("--local-delay", type=float, default=0.15, help="blip-edu first token (s)")
    parser.add_argument("--verdict-delay", type=float, default=0.5, help="Claude's verdict (s)")
    args = parser.parse_args()
    latency = asyncio.run(turn_latency(args.turns, args.local_delay, args.verdict_delay))
    checks = output_check(200)
    print(
        f"local turn, second opinion on:  {latency['second_opinion_on_median']} "
        f"(verdict takes {args.verdict_delay * 1000:.0f} ms)"
    )
    print(f"local turn, second opinion off: {latency['baseline_off_median']}")
    print(
        f"unfit check: {checks['check_unfit_us_per_sentence']} us/sentence "
        f"(junk check {checks['baseline_junk_check_us_per_sentence']} us)"
    )
    print(
        json.dumps(
            {
                "benchmark": "second_opinion",
                "turns_per_mode": args.turns,
                "server_delays_s": {
                    "local_first_token": args.local_delay,
                    "verdict": args.verdict_delay,
                    "between_chunks": CHUNK_DELAY,
                },
                "turn_latency": latency,
                "output_check": checks,
            }
        )
    )


if __name__ == "__main__":
    main()
