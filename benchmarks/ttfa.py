"""Benchmark: time to first audio on a kid's satellite, through Home Assistant's real pipeline.

    .venv/bin/python benchmarks/ttfa.py [--turns 3] [--thinking 3.0]

A real Home Assistant (the test harness's, in-process) runs its Assist pipeline from the intent
stage to TTS with the real Blip agent (conversation entity) answering from a loopback Claude
whose first token comes after ``--thinking`` seconds, and the project's Wyoming TTS server (real
piper voice) on loopback. The TTS stream is read the way Wyoming satellites read it
(``tts.async_get_stream(token).async_stream_result()``, started on ``tts_start_streaming``), in
the formats real satellites ask for: wav 22050 Hz mono, wav 16000 Hz mono, flac 48000 Hz stereo.

Per format, milliseconds from the intent stage's start to
- ``first_audio_ms``: the first audio bytes (past the container header) at the satellite,
- ``answer_audio_ms``: the first bytes of the answer's audio (after the filler's),
for (a) Blip voice with a filler, (b) Home Assistant's ``wyoming`` TTS on the same server with
the same filler, (c) Blip voice with fillers off for the child. Each scenario hears the same
sequence of fillers (a seeded picker): with stock Home Assistant, whether a filler plays early
depends on its length (its ffmpeg releases audio once it holds about five seconds of it). The
drill route (no model, no filler) is measured with Blip voice: the reply to a child's spelling in
a practice session, and "how do you spell <word>". Medians (and the spread of first audio) of
``--turns`` turns after one unmeasured warm-up turn per scenario. Every answer is a new sentence,
so piper really synthesizes it. The last line printed is one JSON object with all figures and
the goal checks.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
from pathlib import Path
import random
import re
import sys
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant.components.conversation.const import (
    DATA_COMPONENT as CONVERSATION_COMPONENT,
)
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from benchmarks.blip_harness import BLIP_VOICE, QUESTION, blip_with_voice, median
from custom_components.blip.agent.fillers import FillerPicker
from custom_components.blip.const import CONF_FILLER
from custom_components.blip.voice.speakable import split_sentences
from tests.agent_helpers import AGENT_ID
from tests.voice_fixtures import (
    SATELLITE_FORMATS,
    PipelineRecording,
    run_pipeline,
    voice_runtime,
)

VOICE = "en_US-joe-medium"
DRILL_WORDS = ("cat", "dog", "fish", "bird", "frog", "duck", "book", "tree", "milk", "sun")
# Where the answer starts: this much past the filler's last sample (resampling smears edges).
ANSWER_MARGIN_SECONDS = 0.03
FILLER_SEED = 7  # every scenario hears the same fillers in the same order
_ASKED_WORD = re.compile(r"spell (\w+)\?", re.IGNORECASE)

GOAL_FIRST_AUDIO_MS = 150.0
GOAL_SOONER_FACTOR = 10.0
GOAL_ANSWER_SLACK_MS = 200.0
GOAL_DRILL_FIRST_AUDIO_MS = 300.0


def _filler_frames(entry: MockConfigEntry, recording: PipelineRecording, rate: int) -> int:
    """Frames of the filler the agent chose, at the satellite's rate (from Blip voice's cache)."""
    cache = voice_runtime(entry).cache
    native = cache.native_format(VOICE)
    assert native is not None
    seconds = sum(
        native.duration(len(cache.get_now(VOICE, sentence, native) or b""))
        for sentence in split_sentences(recording.content_deltas[0][1])
    )
    return int((seconds + ANSWER_MARGIN_SECONDS) * rate)


async def _turn(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    engine: str,
    options: dict[str, Any],
    *,
    filler: bool,
    text: str = QUESTION,
    conversation_id: str | None = None,
) -> dict[str, float | None]:
    recording = await run_pipeline(
        hass,
        text,
        agent_id=AGENT_ID,
        tts_engine=engine,
        tts_options=options,
        tts_voice=VOICE,
        conversation_id=conversation_id,
        limit_seconds=120,
    )
    if recording.errors:
        raise RuntimeError(f"pipeline error: {recording.errors}")
    first_audio = recording.first_audio_at()
    if filler:
        rate = int(options["preferred_sample_rate"])
        answer_audio = recording.audio_after_frames_at(_filler_frames(entry, recording, rate))
        first_token = recording.answer_first_token_at()
    else:
        answer_audio = first_audio
        first_token = recording.content_deltas[0][0] if recording.content_deltas else None
    return {
        "first_audio_ms": recording.ms_after_intent(first_audio),
        "answer_audio_ms": recording.ms_after_intent(answer_audio),
        "answer_first_token_ms": recording.ms_after_intent(first_token),
        "streaming_started_ms": recording.ms_after_intent(recording.streaming_started),
    }


async def _scenario(hass: HomeAssistant, turns: int, run_turn: Any) -> dict[str, Any]:
    agent = hass.data[CONVERSATION_COMPONENT].get_entity(AGENT_ID)
    if agent is not None and hasattr(agent, "fillers"):
        agent.fillers = FillerPicker(rng=random.Random(FILLER_SEED))
    await run_turn()  # warm-up: first ffmpeg start, first synthesis of a new voice path
    measured = [await run_turn() for _ in range(turns)]
    figures: dict[str, Any] = {key: median([turn[key] for turn in measured]) for key in measured[0]}
    firsts = [turn["first_audio_ms"] for turn in measured if turn["first_audio_ms"] is not None]
    figures["first_audio_ms_range"] = [min(firsts), max(firsts)] if firsts else None
    return figures


async def _drill_answer_turn(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Start a spelling practice, then time Blip's reply to the child spelling the word."""
    start = await run_pipeline(
        hass,
        "let's practice spelling",
        agent_id=AGENT_ID,
        tts_engine=BLIP_VOICE,
        tts_options=SATELLITE_FORMATS["wav-22050-mono"],
        tts_voice=VOICE,
    )
    asked = _ASKED_WORD.search(start.speech)
    if asked is None:
        raise RuntimeError(f"the practice did not ask for a word: {start.speech!r}")
    return await _turn(
        hass,
        entry,
        BLIP_VOICE,
        SATELLITE_FORMATS["wav-22050-mono"],
        filler=False,
        text=" ".join(asked.group(1).lower()),
        conversation_id=start.conversation_id,
    )


async def _add_home_assistant_wyoming(hass: HomeAssistant, host: str, port: int) -> str:
    """Home Assistant's own Wyoming TTS integration on the same server; returns its entity."""
    result = await hass.config_entries.flow.async_init(
        "wyoming", context={"source": SOURCE_USER}, data={"host": host, "port": port}
    )
    await hass.async_block_till_done()
    assert result["type"] == "create_entry"
    return next(
        state.entity_id for state in hass.states.async_all("tts") if state.entity_id != BLIP_VOICE
    )


class HomeAssistantCacheHits:
    """How many of the pipeline's TTS requests Home Assistant's own TTS cache answered.

    Counted where Home Assistant looks a message up (``async_cache_message_in_memory``), so it
    tells whether any layer that fills Home Assistant's cache ever pays off for a turn.
    """

    def __init__(self) -> None:
        self.lookups = 0
        self.hits = 0

    def patch(self) -> Any:
        from homeassistant.components.tts import SpeechManager

        original = SpeechManager.async_cache_message_in_memory
        counter = self

        generate = SpeechManager._async_generate_tts_audio
        looking_up = [False]

        def counted(manager: Any, *args: Any, **kwargs: Any) -> Any:
            counter.lookups += 1
            counter.hits += 1  # taken back below if the engine has to speak after all
            looking_up[0] = True
            try:
                return original(manager, *args, **kwargs)
            finally:
                looking_up[0] = False

        def generated(manager: Any, *args: Any, **kwargs: Any) -> Any:
            # Called (to create the generator) inside the lookup when the cache had nothing.
            if looking_up[0]:
                counter.hits -= 1
            return generate(manager, *args, **kwargs)

        return patch.multiple(
            SpeechManager,
            async_cache_message_in_memory=counted,
            _async_generate_tts_audio=generated,
        )


async def run(turns: int, thinking: float) -> dict[str, Any]:
    """All scenarios; figures are medians in milliseconds from the intent stage's start."""
    ha_cache = HomeAssistantCacheHits()
    results: dict[str, Any] = {"formats": {}}
    with ha_cache.patch():
        async with blip_with_voice(thinking, answer_tail=" Isn't that amazing?") as harness:
            hass, entry, address = harness.hass, harness.entry, harness.tts_address
            await hass.async_block_till_done(wait_background_tasks=True)
            ha_cache.lookups = ha_cache.hits = 0  # only the pipeline's requests count
            wyoming_tts = await _add_home_assistant_wyoming(hass, address.host, address.port)
            for name, options in SATELLITE_FORMATS.items():
                results["formats"][name] = {
                    "a_blip_voice_filler": await _scenario(
                        hass,
                        turns,
                        lambda o=options: _turn(hass, entry, BLIP_VOICE, o, filler=True),
                    ),
                    "b_ha_wyoming_filler": await _scenario(
                        hass,
                        turns,
                        lambda o=options: _turn(hass, entry, wyoming_tts, o, filler=True),
                    ),
                }
            results["drill_answer_wav_22050"] = await _scenario(
                hass, turns, lambda: _drill_answer_turn(hass, entry)
            )
            drill_words = itertools.cycle(DRILL_WORDS)
            results["drill_spell_question_wav_22050"] = await _scenario(
                hass,
                turns,
                lambda: _turn(
                    hass,
                    entry,
                    BLIP_VOICE,
                    SATELLITE_FORMATS["wav-22050-mono"],
                    filler=False,
                    text=f"how do you spell {next(drill_words)}",
                ),
            )

            # (c): the same child with fillers off.
            [child] = entry.subentries.values()
            hass.config_entries.async_update_subentry(
                entry, child, data={**child.data, CONF_FILLER: False}
            )
            assert await hass.config_entries.async_reload(entry.entry_id)
            await hass.async_block_till_done(wait_background_tasks=True)
            for name, options in SATELLITE_FORMATS.items():
                results["formats"][name]["c_no_filler"] = await _scenario(
                    hass,
                    turns,
                    lambda o=options: _turn(hass, entry, BLIP_VOICE, o, filler=False),
                )
    results["home_assistant_tts_cache"] = {"lookups": ha_cache.lookups, "hits": ha_cache.hits}
    results["sooner_than_ha_wyoming_factor"] = {}  # a figure, not a goal: see _goals
    results["goals"] = _goals(results)
    results["settings"] = {"turns": turns, "thinking_s": thinking}
    results["load_average"] = [round(value, 2) for value in os.getloadavg()]
    return results


def _goals(results: dict[str, Any]) -> dict[str, Any]:
    """The goals (issue 16: the filler's first audio <= 150 ms in every satellite format; the
    earlier issues' checks that still hold), plus how much sooner than HA's own wyoming TTS.

    That last one is a figure, not a goal: HA 2026.10 streams its wyoming TTS too, so with the
    same filler it reaches first audio about as soon as Blip voice, by design.
    """
    checks: dict[str, Any] = {}
    for name, scenarios in results["formats"].items():
        a, b, c = (
            scenarios["a_blip_voice_filler"],
            scenarios["b_ha_wyoming_filler"],
            scenarios["c_no_filler"],
        )
        a_first, b_first = a["first_audio_ms"], b["first_audio_ms"]
        results["sooner_than_ha_wyoming_factor"][name] = (
            round(b_first / a_first, 2) if a_first and b_first is not None else None
        )
        checks[name] = {
            "first_audio_within_150ms": a_first is not None and a_first <= GOAL_FIRST_AUDIO_MS,
            "10x_sooner_than_no_filler": a_first is not None
            and c["first_audio_ms"] is not None
            and a_first * GOAL_SOONER_FACTOR <= c["first_audio_ms"],
            "answer_within_no_filler_plus_200ms": a["answer_audio_ms"] is not None
            and c["answer_audio_ms"] is not None
            and a["answer_audio_ms"] <= c["answer_audio_ms"] + GOAL_ANSWER_SLACK_MS,
        }
    drill_first = results["drill_answer_wav_22050"]["first_audio_ms"]
    checks["drill_first_audio_within_300ms"] = (
        drill_first is not None and drill_first <= GOAL_DRILL_FIRST_AUDIO_MS
    )
    checks["all_met"] = all(
        value if isinstance(value, bool) else all(value.values()) for value in checks.values()
    )
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=4, help="measured turns per scenario")
    parser.add_argument(
        "--thinking", type=float, default=3.0, help="Claude's time to first token (s)"
    )
    args = parser.parse_args()
    results = asyncio.run(run(args.turns, args.thinking))
    print(
        f"{'format':20} {'scenario':22} {'first audio':>12} {'answer audio':>13} {'1st token':>10}"
    )
    for name, scenarios in results["formats"].items():
        for scenario, figures in scenarios.items():
            print(
                f"{name:20} {scenario:22} {figures['first_audio_ms']!s:>12}"
                f" {figures['answer_audio_ms']!s:>13} {figures['answer_first_token_ms']!s:>10}"
            )
    for key, label in (
        ("drill_answer_wav_22050", "drill answer"),
        ("drill_spell_question_wav_22050", "how do you spell"),
    ):
        print(f"{'wav-22050-mono':20} {label:22} {results[key]['first_audio_ms']!s:>12}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
