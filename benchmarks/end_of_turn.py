"""How long a child waits after the last word, with Blip listening vs Home Assistant's own VAD.

    .venv/bin/python benchmarks/end_of_turn.py [--repeat 1] [--no-paused]

A real Home Assistant (the test harness's, in-process) runs its Assist pipeline from the STT
stage to TTS on a child's question streamed in real time (20 ms chunks on the clock, as a
satellite streams after its wake word; tests/listening_fixtures.py): Blip's agent answers (the
drill engine: no model), Blip voice speaks (the project's TTS server, real piper), the reply is
read as Wyoming satellites read it. Speech to text is the project's STT server (tiny.en) from its
command line, reached two ways in the same run, turn by turn interleaved:

- ``blip_listening``: Blip's STT entity, which ends the turn when the speculative transcript is a
  complete question (patience "normal": 0.3 s; unfinished questions wait 1.5 s);
- ``ha_default``: Home Assistant's own ``wyoming`` STT entity with HA's default end of speech
  (0.7 s of silence).

Figures: the child's last word (known to the sample from the synthesized audio) to the reply's
first audio byte, and to the transcript. ``complete``: whole questions. ``paused``: 30 questions
with a pause of 0.5-1.2 s mid-question ("how do you spell … elephant?"): a turn is cut off when
the transcript was decided before the second part began; its second part is missing when the
word after the pause is not in the transcript. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import os
from pathlib import Path
import re
import statistics
import sys
import tempfile
from typing import Any
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from homeassistant import loader  # noqa: E402
from homeassistant.components import stt  # noqa: E402
from homeassistant.config_entries import SOURCE_USER  # noqa: E402
from homeassistant.core import HomeAssistant  # noqa: E402
from homeassistant.helpers import entity_registry as er  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import async_test_home_assistant  # noqa: E402

from custom_components.blip.const import (  # noqa: E402
    CONF_LISTEN_PORT,
    CONF_VOICE_HOST,
    CONF_VOICE_PORT,
)
from custom_components.blip.stt import BlipListeningEntity  # noqa: E402
from tests.agent_helpers import AGENT_ID, blip_entry  # noqa: E402
from tests.listening_fixtures import HeardTurn, Question, ask, speak, use_pipeline  # noqa: E402
from tests.voice_fixtures import (  # noqa: E402
    WYOMING_SATELLITE,
    make_tts_engine,
    serve_tts,
    voice_runtime,
)
from tests.wyoming_fixtures import server_process  # noqa: E402

BLIP_VOICE = "tts.blip_voice"
COMPLETE = (
    "How do you spell cat?",
    "What is seven times eight?",
    "How do you spell dinosaur?",
    "Spell school.",
    "What is six plus nine?",
    "Can you spell friend?",
    "What's nine times three?",
    "How do you spell because?",
    "What is ten minus four?",
    "How do you spell rabbit?",
    "What is five times five?",
    "How do you spell water?",
)
PAUSED = (
    ("How do you spell", "elephant?"),
    ("How do you spell, um,", "dinosaur?"),
    ("What is seven times", "eight?"),
    ("What is six plus", "nine?"),
    ("Can you spell", "giraffe?"),
    ("How do you spell the word", "because?"),
    ("What is twelve minus", "five?"),
    ("Spell", "rabbit."),
    ("What's nine times", "three?"),
    ("How do you spell", "friend?"),
)
PAUSES = (0.5, 0.85, 1.2)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values) * 1000) if values else None


async def _turn(
    hass: HomeAssistant, stt_engine: str, question: Question, seed: int
) -> tuple[HeardTurn, Any]:
    await use_pipeline(hass, stt_engine=stt_engine, agent_id=AGENT_ID, tts_engine=BLIP_VOICE)
    spoken = speak(question, seed)
    turn = await ask(hass, spoken, WYOMING_SATELLITE)
    return turn, spoken


def _event_at(turn: HeardTurn, kind: str) -> float | None:
    return next((at for at, event in turn.events if event.type.value == kind), None)


def _stages(hass: HomeAssistant, stt_engine: str, turn: HeardTurn) -> dict[str, float]:
    """Where the wait went, in seconds, each stage from the end of the one before.

    Blip listening: ``silence_to_pause`` (the server's VAD lag and its speculate-after silence),
    ``decode`` (the speculative decode, to its partial reaching Blip), ``judged`` (partial to
    Blip's decision), ``transcript`` (AudioStop to Home Assistant's stt-end). HA's default:
    ``silence`` (to HA's stt-vad-end), ``transcript`` (to stt-end). Both: ``agent`` (to
    intent-end, or the first streamed text), ``tts`` (to the first audio byte).
    """
    last_word = turn.mic_started + turn.last_word
    marks: list[tuple[str, float | None]] = []
    entity = hass.data["stt"].get_entity(stt_engine)
    listened = entity.last_turn if isinstance(entity, BlipListeningEntity) else None
    if listened is not None:
        marks += [
            ("silence_to_pause", listened.paused and turn.monotonic(listened.paused)),
            ("decode", listened.heard and turn.monotonic(listened.heard)),
            ("judged", turn.monotonic(listened.decided)),
        ]
    else:
        marks.append(("silence", _event_at(turn, "stt-vad-end")))
    reply = _event_at(turn, "intent-end")
    streamed = _event_at(turn, "intent-progress")
    marks += [
        ("transcript", _event_at(turn, "stt-end")),
        ("agent", min(at for at in (reply, streamed) if at is not None) if reply else streamed),
        ("tts", turn.first_audio),
    ]
    stages: dict[str, float] = {}
    before = last_word
    for name, at in marks:
        if at is None:
            continue
        stages[name] = at - before
        before = at
    return stages


def _cut_off(hass: HomeAssistant, stt_engine: str, turn: HeardTurn, spoken: Any) -> bool:
    """The turn was decided before the question's second part began."""
    second_part = turn.mic_started + spoken.part_starts[-1]
    entity = hass.data["stt"].get_entity(stt_engine)
    if isinstance(entity, BlipListeningEntity):
        listened = entity.last_turn
        return listened is None or turn.monotonic(listened.decided) < second_part
    decided = [at for at, event in turn.events if event.type.value in ("stt-vad-end", "stt-end")]
    return not decided or decided[0] < second_part


def _second_part_heard(second_part: str, transcript: str) -> bool:
    """The word after the pause ("elephant?") is in the transcript."""
    word = re.sub(r"[^a-z']", "", second_part.lower())
    return word in re.findall(r"[a-z']+", transcript.lower())


@contextlib.asynccontextmanager
async def blip_home(
    stt_server: Any, ha_tts_cache: str
) -> AsyncIterator[tuple[HomeAssistant, dict]]:
    """A real Home Assistant with Blip (agent, Blip voice, Blip listening) and HA's own wyoming
    STT on the same STT server; yields it with ``{"blip_listening": id, "ha_default": id}``."""
    with tempfile.TemporaryDirectory() as server_cache:
        engine = await asyncio.to_thread(make_tts_engine, Path(server_cache))
        try:
            async with serve_tts(engine) as address, async_test_home_assistant() as hass:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # let custom_components load
                with patch(
                    "homeassistant.components.tts._init_tts_cache_dir", return_value=ha_tts_cache
                ):
                    assert await async_setup_component(hass, "homeassistant", {})
                    assert await async_setup_component(hass, "assist_pipeline", {})
                    entry = blip_entry()
                    entry.add_to_hass(hass)
                    hass.config_entries.async_update_entry(
                        entry,
                        data={
                            **entry.data,
                            CONF_VOICE_HOST: address.host,
                            CONF_VOICE_PORT: address.port,
                            CONF_LISTEN_PORT: stt_server.address.port,
                        },
                    )
                    assert await hass.config_entries.async_setup(entry.entry_id)
                    await hass.async_block_till_done()
                    await asyncio.wait_for(voice_runtime(entry).warmed_up.wait(), 120)
                    registry = er.async_get(hass)
                    blip_stt = registry.async_get_entity_id(
                        "stt", "blip", f"{entry.entry_id}-listening"
                    )
                    await add_wyoming(hass, stt_server.address)
                    stock_stt = next(
                        s.entity_id for s in hass.states.async_all("stt") if s.entity_id != blip_stt
                    )
                    yield hass, {"blip_listening": blip_stt, "ha_default": stock_stt}
        finally:
            engine.close()


async def add_wyoming(hass: HomeAssistant, address: Any) -> None:
    """Add a Wyoming service (a server or a satellite) through HA's own config flow."""
    flow = await hass.config_entries.flow.async_init(
        "wyoming",
        context={"source": SOURCE_USER},
        data={"host": address.host, "port": address.port},
    )
    await hass.async_block_till_done()
    assert flow["type"] == "create_entry", flow


def stt_server_process(logs: str, *args: str) -> Any:
    """The project's STT server from its command line (tiny.en, 2 threads)."""
    return server_process(
        "wyoming_servers.stt",
        "--cpu-threads",
        "2",
        *args,
        log_path=Path(logs) / "stt.log",
        env={"HF_HUB_OFFLINE": "1"},
    )


async def run(repeat: int, paused: bool = True, stt_args: tuple[str, ...] = ()) -> dict[str, Any]:
    results: dict[str, dict[str, list[float]]] = {}
    cut: dict[str, int] = {"blip_listening": 0, "ha_default": 0}
    missing: dict[str, int] = {"blip_listening": 0, "ha_default": 0}
    failures: list[str] = []
    # The machine may be shared: its load says how far the absolute figures are inflated.
    load_start = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory() as ha_tts_cache,
        tempfile.TemporaryDirectory() as logs,
        stt_server_process(logs, *stt_args) as stt_server,
    ):
        async with blip_home(stt_server, ha_tts_cache) as (hass, engines):
            seed = 0
            for _ in range(repeat):
                for index, text in enumerate(COMPLETE):
                    # Alternate who goes first: the second turn of a question finds its reply's
                    # audio already in the TTS caches.
                    order = list(engines.items())
                    for mode, stt_engine in order if index % 2 else order[::-1]:
                        seed += 1
                        turn, _ = await _turn(hass, stt_engine, Question((text,)), seed)
                        figures = results.setdefault(f"complete_{mode}", {})
                        if turn.errors or turn.waited is None:
                            failures.append(f"{mode} {text!r}: {turn.errors}")
                            continue
                        figures.setdefault("waited", []).append(turn.waited)
                        for stage, seconds in _stages(hass, stt_engine, turn).items():
                            figures.setdefault(f"stage_{stage}", []).append(seconds)
                        after = turn.transcript_after_last_word
                        figures.setdefault("transcript", []).append(after or 0.0)
                    print(f"complete {text!r} done", flush=True)
            for first, last in PAUSED if paused else ():
                for pause in PAUSES:
                    for mode, stt_engine in engines.items():
                        seed += 1
                        question = Question((first, last), (pause,))
                        turn, spoken = await _turn(hass, stt_engine, question, seed)
                        if _cut_off(hass, stt_engine, turn, spoken):
                            cut[mode] += 1
                            failures.append(
                                f"{mode} cut off: {question.text!r} ({pause} s) "
                                f"-> {turn.transcript!r}"
                            )
                        elif not _second_part_heard(last, turn.transcript):
                            # Not cut off, but the words after the pause are not in the
                            # transcript (a decode that stopped at the pause, or misheard).
                            missing[mode] += 1
                            failures.append(
                                f"{mode} second part missing: {question.text!r} ({pause} s) "
                                f"-> {turn.transcript!r}"
                            )
                print(f"paused {first!r} {last!r} done", flush=True)
    for line in failures:
        print(line, flush=True)
    summary: dict[str, Any] = {"benchmark": "end_of_turn"}
    for name, figures in results.items():
        summary[name] = {
            "turns": len(figures.get("waited", [])),
            "last_word_to_first_audio_median_ms": _median(figures.get("waited", [])),
            "last_word_to_transcript_median_ms": _median(figures.get("transcript", [])),
            "stage_median_ms": {
                key.removeprefix("stage_"): _median(values)
                for key, values in figures.items()
                if key.startswith("stage_")
            },
        }
    blip = summary.get("complete_blip_listening", {}).get("last_word_to_first_audio_median_ms")
    stock = summary.get("complete_ha_default", {}).get("last_word_to_first_audio_median_ms")
    summary["ratio_blip_vs_ha_default"] = round(blip / stock, 2) if blip and stock else None
    summary["paused_questions"] = len(PAUSED) * len(PAUSES) if paused else 0
    summary["paused_cut_off"] = cut
    summary["paused_second_part_missing"] = missing
    summary["home_assistant_replaces_vad"] = hasattr(stt, "SpeechAudioProcessing")
    summary["target_median_ms"] = 500
    summary["load_average_start_end"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the complete questions")
    parser.add_argument("--no-paused", action="store_true", help="complete questions only")
    parser.add_argument(
        "--stt-arg",
        action="append",
        default=[],
        help="extra STT server argument, e.g. --stt-arg=--speculate-after-ms=150 (repeatable)",
    )
    args = parser.parse_args()
    summary = asyncio.run(run(args.repeat, paused=not args.no_paused, stt_args=tuple(args.stt_arg)))
    summary["stt_server_args"] = args.stt_arg
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
