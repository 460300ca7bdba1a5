"""Benchmark: a paired device's turn over HTTP, from the end of its request to the first audio byte.

    .venv/bin/python benchmarks/device_turn.py [--turns 5] [--thinking 2.0] [--format mp3]

A real Home Assistant (the test harness's, in-process) serves Blip's device views on a loopback
HTTP port; the real Blip agent answers (drill engine, or a loopback Claude whose first token comes
after ``--thinking`` seconds) and Blip voice speaks through the project's Wyoming TTS server (real
piper voice). The client is what the kid's page does: POST the turn, read the NDJSON ``start``
event, GET its audio URL and read until the first audio byte.

Milliseconds from the request's end to
- ``first_audio_ms``: the first audio byte (past the container header) at the device: WAV, what
  the kid's page plays with Web Audio, or MP3 (``--format mp3``, the audio-element fallback),
- ``first_text_ms``: the first text event (filler or answer),
for (a) a drill turn ("how do you spell <word>", no model) and (b) a slow-route question with a
filler (Claude). The baseline, measured in the same run on the same Home Assistant, is the
obvious endpoint without streaming: ``conversation.async_converse`` for the whole answer, then
Blip voice on the whole text (first audio byte read from the TTS stream in-process, so the
baseline is even spared the HTTP hop). Medians of ``--turns`` turns after one warm-up turn each.
The last line printed is one JSON object with all figures and the goal checks.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from pathlib import Path
import socket
import statistics
import sys
import tempfile
import time
from typing import Any
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from homeassistant import loader  # noqa: E402
from homeassistant.components import conversation, tts  # noqa: E402
from homeassistant.core import Context, HomeAssistant  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import async_test_home_assistant  # noqa: E402

from tests.agent_helpers import AGENT_ID, blip_entry  # noqa: E402
from tests.device_helpers import pair, start_pairing, take_turn  # noqa: E402
from tests.llm_servers import FakeAnthropic, start_fake_server  # noqa: E402
from tests.voice_fixtures import (  # noqa: E402
    make_tts_engine,
    payload_offset,
    serve_tts,
    setup_blip_with_voice,
)

BLIP_VOICE = "tts.blip_voice"
QUESTION = "why is the sky blue"
DRILL_WORDS = ("cat", "dog", "fish", "bird", "frog", "duck", "book", "tree", "milk", "sun")
GOAL_FIRST_AUDIO_MS = 150.0

_answer_numbers = itertools.count(1)


def _fresh_answer(_body: dict[str, Any]) -> str:
    """A new answer every turn, so nothing is answered from a sentence cache."""
    number = next(_answer_numbers)
    return (
        f"Here is fact number {number} for you. The sky looks blue because the air "
        "scatters blue sunlight much more than red sunlight."
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def _device_turn(
    client: TestClient, token: str, text: str, audio_format: str
) -> dict[str, float]:
    turn = await take_turn(client, token, text=text, audio_format=audio_format)  # type: ignore[arg-type]
    if turn.status != 200 or turn.first_audio_at is None:
        raise RuntimeError(f"device turn failed: {turn.status} {turn.events[:2]}")
    first_text = turn.first_text_at()
    return {
        "first_audio_ms": (turn.first_audio_at - turn.sent_at) * 1000,
        "first_text_ms": ((first_text or turn.sent_at) - turn.sent_at) * 1000,
    }


async def _baseline_turn(hass: HomeAssistant, text: str, audio_format: str) -> dict[str, float]:
    """Whole answer first, then speak it: what a non-streaming endpoint would do."""
    started = time.monotonic()
    result = await conversation.async_converse(hass, text, None, Context(), agent_id=AGENT_ID)
    answered = time.monotonic()
    speech = result.response.speech["plain"]["speech"]
    stream = tts.async_create_stream(
        hass, BLIP_VOICE, None, {tts.ATTR_PREFERRED_FORMAT: audio_format}
    )
    stream.async_set_message(speech)
    first_audio = None
    audio = b""
    async for chunk in stream.async_stream_result():
        audio += chunk
        offset = payload_offset(audio, audio_format)
        if first_audio is None and offset is not None and len(audio) > offset:
            first_audio = time.monotonic()
    assert first_audio is not None
    return {
        "first_audio_ms": (first_audio - started) * 1000,
        "first_text_ms": (answered - started) * 1000,
    }


async def _scenario(turns: int, run_turn: Any) -> dict[str, Any]:
    await run_turn()  # warm-up
    measured = [await run_turn() for _ in range(turns)]
    firsts = [turn["first_audio_ms"] for turn in measured]
    return {
        "first_audio_ms": _median(firsts),
        "first_audio_ms_range": [round(min(firsts), 1), round(max(firsts), 1)],
        "first_text_ms": _median([turn["first_text_ms"] for turn in measured]),
    }


async def run(turns: int, thinking: float, audio_format: str) -> dict[str, Any]:
    """Both routes over HTTP and their non-streaming baselines."""
    claude = FakeAnthropic()
    claude.script.reply = _fresh_answer
    claude.script.first_token_delay = thinking
    results: dict[str, Any] = {}
    words = itertools.cycle(DRILL_WORDS)
    with (
        tempfile.TemporaryDirectory() as ha_tts_cache,
        tempfile.TemporaryDirectory() as server_cache,
    ):
        engine = await asyncio.to_thread(make_tts_engine, Path(server_cache))
        try:
            async with (
                start_fake_server(claude.app()) as claude_url,
                serve_tts(engine) as address,
                async_test_home_assistant() as hass,
            ):
                claude.base_url = claude_url
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # let custom_components load
                with patch(
                    "homeassistant.components.tts._init_tts_cache_dir", return_value=ha_tts_cache
                ):
                    assert await async_setup_component(hass, "homeassistant", {})
                    # HA binds its own port too: a free loopback one (8123 may be in use).
                    assert await async_setup_component(
                        hass,
                        "http",
                        {"http": {"server_host": ["127.0.0.1"], "server_port": _free_port()}},
                    )
                    assert await async_setup_component(hass, "assist_pipeline", {})
                    entry = await setup_blip_with_voice(hass, address, blip_entry(claude))
                    client = TestClient(TestServer(hass.http.app))
                    await client.start_server()
                    try:
                        code = (await start_pairing(hass, entry.entry_id))["code"]
                        token = await pair(client, code)  # type: ignore[arg-type]

                        async def device(text: str) -> dict[str, float]:
                            return await _device_turn(client, token, text, audio_format)

                        results["drill"] = await _scenario(
                            turns, lambda: device(f"how do you spell {next(words)}")
                        )
                        results["slow_route_filler"] = await _scenario(
                            turns, lambda: device(QUESTION)
                        )
                        results["baseline_drill_whole_answer"] = await _scenario(
                            turns,
                            lambda: _baseline_turn(
                                hass, f"how do you spell {next(words)}", audio_format
                            ),
                        )
                        results["baseline_slow_route_whole_answer"] = await _scenario(
                            turns, lambda: _baseline_turn(hass, QUESTION, audio_format)
                        )
                    finally:
                        await client.close()
                    await hass.config_entries.async_unload(entry.entry_id)
        finally:
            engine.close()
    results["goals"] = _goals(results)
    results["settings"] = {"turns": turns, "thinking_s": thinking, "format": audio_format}
    return results


def _goals(results: dict[str, Any]) -> dict[str, Any]:
    drill = results["drill"]["first_audio_ms"]
    slow = results["slow_route_filler"]["first_audio_ms"]
    checks: dict[str, Any] = {
        "drill_first_audio_within_150ms": drill is not None and drill <= GOAL_FIRST_AUDIO_MS,
        "slow_route_first_audio_within_150ms": slow is not None and slow <= GOAL_FIRST_AUDIO_MS,
        "slow_route_ratio_to_baseline": round(
            results["baseline_slow_route_whole_answer"]["first_audio_ms"] / slow, 1
        )
        if slow
        else None,
        "drill_ratio_to_baseline": round(
            results["baseline_drill_whole_answer"]["first_audio_ms"] / drill, 2
        )
        if drill
        else None,
    }
    checks["all_met"] = (
        checks["drill_first_audio_within_150ms"] and checks["slow_route_first_audio_within_150ms"]
    )
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=5, help="measured turns per scenario")
    parser.add_argument(
        "--thinking", type=float, default=2.0, help="Claude's time to first token (s)"
    )
    parser.add_argument("--format", default="wav", choices=("mp3", "wav"), help="audio format")
    args = parser.parse_args()
    results = asyncio.run(run(args.turns, args.thinking, args.format))
    print(f"{'scenario':34} {'first audio':>12} {'range':>16} {'first text':>11}")
    for name, figures in results.items():
        if name in ("goals", "settings"):
            continue
        print(
            f"{name:34} {figures['first_audio_ms']!s:>12} {figures['first_audio_ms_range']!s:>16}"
            f" {figures['first_text_ms']!s:>11}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
