"""Benchmark: a paired device's turn over HTTP, from the end of its request to the first audio byte.

    .venv/bin/python benchmarks/device_turn.py [--turns 5] [--thinking 2.0] [--format wav]

A real Home Assistant (the test harness's, in-process) serves Blip's device views on a loopback
HTTP port; the real Blip agent answers (drill engine, or a loopback Claude whose first token comes
after ``--thinking`` seconds) and Blip voice speaks through the project's Wyoming TTS server (real
piper voice). The client is what the kid's page does: POST the turn, read the NDJSON ``start``
event, GET its audio URL and read until the first audio byte.

Milliseconds from the request's end to
- ``first_audio_ms``: the first audio byte (past the container header) at the device: WAV, what
  the kid's page plays with Web Audio, or MP3 (``--format mp3``, the audio-element fallback),
- ``first_text_ms``: the first text event (filler or answer),
- ``stall_ms`` (WAV): how far the audio fell behind playing it from its first byte (0: the
  child hears one unbroken reply),
for
- ``drill_listed_word``: "how do you spell <word>" for words of the child's grade list, which
  Blip voice spoke ahead at start-up (the cost of that is reported: wall and CPU seconds, bytes);
- ``drill_unlisted_word``: the same for words in no list, which open with a short cached
  sentence ("Good one! Let's spell it.") while piper makes the spelled one; and
  ``drill_unlisted_no_opening``: without that opening, piper's first sentence is the first audio
  (the route as it was, measured in the same run);
- ``practice_correct`` / ``practice_gave_up``: in a spelling practice, the child spells the asked
  word (or says "I don't know") once the question has played (the client waits for the question's
  audio to have played, as a child listens); ``*_not_ahead`` is the same with the question's
  replies not spoken ahead (the baseline, same run);
- ``slow_route_filler``: a slow-route question with a filler (Claude);
- ``baseline_*_whole_answer``: the obvious endpoint without streaming, measured in the same run:
  ``conversation.async_converse`` for the whole answer, then Blip voice on the whole text (first
  audio byte read in-process, so the baseline is even spared the HTTP hop).
Medians and ranges of ``--turns`` turns after one warm-up turn each; the load average is
recorded. The last line printed is one JSON object with all figures and the goal checks.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import itertools
import json
import os
from pathlib import Path
import re
import resource
import sys
import time
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestClient, TestServer
from homeassistant.components import conversation, tts
from homeassistant.core import Context, HomeAssistant

from benchmarks.blip_harness import BLIP_VOICE, QUESTION, blip_with_voice, median, spread
from custom_components.blip.brain.drills import grade_for_age, word_lists
from tests.agent_helpers import AGENT_ID
from tests.device_helpers import DeviceTurn, pair, start_pairing, take_turn
from tests.voice_fixtures import payload_offset, voice_runtime

CHILD_AGE = 7  # tests.agent_helpers.blip_entry's child
# In no word list, and each asked once (with the default 5 turns): the TTS server's own cache of
# recent sentences would answer a word asked before.
UNLISTED_WORDS = (
    *("zebra", "pizza", "banana", "wizard", "robot", "jacket", "lemon", "candle", "violin"),
    *("muffin", "button", "cactus", "pepper", "hamster", "pickle", "waffle", "noodle", "puppet"),
    *("ladder", "walrus", "parrot", "tomato", "ribbon", "mitten", "goblin", "lizard", "comet"),
)
GOAL_FIRST_AUDIO_MS = 150.0
_ASKED_WORD = re.compile(r"spell (\w+)\?", re.IGNORECASE)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _figures(turn: DeviceTurn, audio_format: str) -> dict[str, float | None]:
    if turn.status != 200 or turn.first_audio_at is None:
        raise RuntimeError(f"device turn failed: {turn.status} {turn.events[:2]}")
    first_text = turn.first_text_at()
    return {
        "first_audio_ms": (turn.first_audio_at - turn.sent_at) * 1000,
        "first_text_ms": ((first_text or turn.sent_at) - turn.sent_at) * 1000,
        "stall_ms": turn.stall_ms() if audio_format == "wav" else None,
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


async def _scenario(
    turns: int, run_turn: Callable[[], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    await run_turn()  # warm-up
    measured = [await run_turn() for _ in range(turns)]
    figures: dict[str, Any] = {}
    for key in measured[0]:
        values = [turn[key] for turn in measured]
        if all(isinstance(value, bool) for value in values):
            figures[key] = sum(values)
            continue
        figures[key] = median(values)
        if key in ("first_audio_ms", "stall_ms"):
            figures[f"{key}_range"] = spread(values)
    return figures


class _Practice:
    """A spelling practice over the device, answered the moment the question has played."""

    def __init__(self, client: TestClient, token: str, audio_format: str, answer: str) -> None:
        self.client, self.token, self.audio_format = client, token, audio_format
        self.answer = answer  # "spell" or "gave_up"
        self.last: DeviceTurn | None = None

    async def _ask(self, text: str) -> DeviceTurn:
        return await take_turn(self.client, self.token, text=text, audio_format=self.audio_format)  # type: ignore[arg-type]

    async def turn(self) -> dict[str, Any]:
        if self.last is None or not (asked := _ASKED_WORD.search(self.last.done["text"])):
            self.last = await self._ask("let's practice spelling")
            asked = _ASKED_WORD.search(self.last.done["text"])
            if asked is None:
                raise RuntimeError("the practice did not ask for a word")
        # The child listens to the whole question before answering.
        assert self.last.first_audio_at is not None
        played_at = self.last.first_audio_at + self.last.wav_seconds()
        await asyncio.sleep(max(0.0, played_at - time.monotonic()))
        word = asked.group(1).lower()
        self.last = await self._ask(" ".join(word) if self.answer == "spell" else "I don't know")
        return _figures(self.last, self.audio_format)


async def run(turns: int, thinking: float, audio_format: str) -> dict[str, Any]:
    """Every scenario over HTTP and the baselines, in one Home Assistant."""
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    listed = itertools.cycle(word_lists()[grade_for_age(CHILD_AGE)])
    unlisted = itertools.cycle(UNLISTED_WORDS)  # 27 words: unique for up to 8 turns
    async with blip_with_voice(thinking, http=True) as harness:
        hass, entry = harness.hass, harness.entry
        prewarmer = voice_runtime(entry).prewarmer
        assert prewarmer is not None
        started, cpu = time.monotonic(), _cpu_seconds()
        await prewarmer.async_wait_idle()  # the grade list, spoken ahead at start-up
        results["word_list_ahead"] = {
            "wall_s": round(time.monotonic() - started, 1),
            "cpu_s": round(_cpu_seconds() - cpu, 1),
            "bytes": prewarmer.held_bytes,
            "sentences": len(prewarmer._added),
        }
        client = TestClient(TestServer(hass.http.app))
        await client.start_server()
        try:
            code = (await start_pairing(hass, entry.entry_id))["code"]
            token = await pair(client, code)  # type: ignore[arg-type]

            async def device(text: str) -> dict[str, Any]:
                turn = await take_turn(client, token, text=text, audio_format=audio_format)  # type: ignore[arg-type]
                return _figures(turn, audio_format)

            results["drill_listed_word"] = await _scenario(
                turns, lambda: device(f"how do you spell {next(listed)}")
            )
            results["drill_unlisted_word"] = await _scenario(
                turns, lambda: device(f"how do you spell {next(unlisted)}")
            )
            with patch(
                "custom_components.blip.drill_prewarm.with_cached_opening",
                side_effect=lambda _entry, decision: decision,
            ):
                results["drill_unlisted_no_opening"] = await _scenario(
                    turns, lambda: device(f"how do you spell {next(unlisted)}")
                )
            for answer in ("spell", "gave_up"):
                name = "practice_correct" if answer == "spell" else "practice_gave_up"
                # Not spoken ahead first: what that run synthesizes cannot help the other one.
                with patch("custom_components.blip.drill_prewarm.expect_answer"):
                    results[f"{name}_not_ahead"] = await _scenario(
                        turns, _Practice(client, token, audio_format, answer).turn
                    )
                results[name] = await _scenario(
                    turns, _Practice(client, token, audio_format, answer).turn
                )
            await device("stop")  # end the practice
            results["slow_route_filler"] = await _scenario(turns, lambda: device(QUESTION))
            results["baseline_drill_whole_answer"] = await _scenario(
                turns,
                lambda: _baseline_turn(hass, f"how do you spell {next(unlisted)}", audio_format),
            )
            results["baseline_slow_route_whole_answer"] = await _scenario(
                turns, lambda: _baseline_turn(hass, QUESTION, audio_format)
            )
        finally:
            await client.close()
    results["goals"] = _goals(results)
    results["settings"] = {
        "turns": turns,
        "thinking_s": thinking,
        "format": audio_format,
        "load_average_before": [round(load, 1) for load in load_before],
        "load_average_after": [round(load, 1) for load in os.getloadavg()],
    }
    return results


def _goals(results: dict[str, Any]) -> dict[str, Any]:
    def within(name: str) -> bool:
        value = results[name]["first_audio_ms"]
        return value is not None and value <= GOAL_FIRST_AUDIO_MS

    def ratio(baseline: str, name: str) -> float | None:
        value = results[name]["first_audio_ms"]
        return round(results[baseline]["first_audio_ms"] / value, 1) if value else None

    checks: dict[str, Any] = {
        f"{name}_first_audio_within_150ms": within(name)
        for name in (
            "drill_listed_word",
            "practice_correct",
            "practice_gave_up",
            "slow_route_filler",
            "drill_unlisted_word",
            "drill_unlisted_no_opening",
        )
    }
    checks["listed_word_sooner_than_no_opening"] = ratio(
        "drill_unlisted_no_opening", "drill_listed_word"
    )
    checks["unlisted_opening_sooner_than_no_opening"] = ratio(
        "drill_unlisted_no_opening", "drill_unlisted_word"
    )
    checks["gave_up_sooner_than_not_ahead"] = ratio(
        "practice_gave_up_not_ahead", "practice_gave_up"
    )
    checks["slow_route_ratio_to_baseline"] = ratio(
        "baseline_slow_route_whole_answer", "slow_route_filler"
    )
    checks["all_met"] = all(
        checks[f"{name}_first_audio_within_150ms"]
        for name in (
            "drill_listed_word",
            "drill_unlisted_word",
            "practice_correct",
            "practice_gave_up",
            "slow_route_filler",
        )
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
    print(f"{'scenario':34} {'first audio':>12} {'range':>16} {'stall':>8} {'first text':>11}")
    for name, figures in results.items():
        if "first_audio_ms" not in figures:
            continue
        print(
            f"{name:34} {figures['first_audio_ms']!s:>12} {figures.get('first_audio_ms_range')!s:>16}"
            f" {figures.get('stall_ms')!s:>8} {figures['first_text_ms']!s:>11}"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
