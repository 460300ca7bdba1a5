"""Voice turn timings: the pure store, and the sensors and diagnostics in a real Home Assistant.

Turns go through HA's real Assist pipeline (text in, Blip voice out through the project's TTS
server) or through ``conversation.process``; the loopback Claude thinks for a set time, so the
first-token and first-audio figures can be checked against it. The full voice path (wake word
and STT) is in test_end_to_end.py.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest

from custom_components.blip.agent.health import TurnTiming, TurnTimings
from custom_components.blip.diagnostics import async_get_config_entry_diagnostics
from custom_components.blip.stage_timings import (
    STAGE_FIRST_TOKEN,
    STAGE_ROUTING,
    STAGE_STT,
    STAGE_TTS_FIRST_AUDIO,
    StageSample,
    StageTimings,
)
from tests import voice_fixtures
from tests.agent_helpers import AGENT_ID, blip_entry, converse, setup_blip
from tests.llm_servers import FakeAnthropic
from tests.voice_fixtures import WYOMING_SATELLITE, run_pipeline, setup_blip_with_voice
from tests.wyoming_fixtures import ServerAddress

blip_tts_engine = voice_fixtures.blip_tts_engine
tts_server = voice_fixtures.tts_server

BLIP_VOICE = "tts.blip_voice"
THINKING_SECONDS = 0.8
SENSOR = "sensor.blip_performance_"
LATEST = {
    STAGE_STT: SENSOR + "speech_to_text_time",
    STAGE_ROUTING: SENSOR + "routing_time",
    STAGE_FIRST_TOKEN: SENSOR + "time_to_first_token",
    STAGE_TTS_FIRST_AUDIO: SENSOR + "time_to_first_audio",
}


def median_sensor(stage_sensor: str, backend: str) -> str:
    name = stage_sensor.removeprefix(SENSOR)
    names = {"drill": "drill_engine", "local": "local_model", "claude": "claude"}
    return f"{SENSOR}median_{name}_{names[backend]}"


def state_of(hass: HomeAssistant, entity_id: str) -> tuple[str, dict[str, Any]]:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state, dict(state.attributes)


# -- the pure store -----------------------------------------------------------------------------


def test_store_keeps_latest_and_rolling_median_per_backend() -> None:
    timings = StageTimings(keep=3)
    for ms in (10, 20, 30, 1000):  # the first falls out of the window of three
        timings.record(STAGE_ROUTING, "drill", ms)
    timings.record(STAGE_ROUTING, "claude", 5)
    assert timings.latest(STAGE_ROUTING) == StageSample(STAGE_ROUTING, "claude", 5.0)
    assert timings.median(STAGE_ROUTING, "drill") == 30.0
    assert timings.medians(STAGE_ROUTING) == {"claude": 5.0, "drill": 30.0}
    assert timings.count(STAGE_ROUTING) == 4 and timings.count(STAGE_ROUTING, "drill") == 3
    assert timings.median(STAGE_STT, "drill") is None and timings.latest(STAGE_STT) is None
    diagnostics = timings.as_diagnostics()
    assert diagnostics[STAGE_ROUTING]["latest"] == {
        "stage": STAGE_ROUTING,
        "backend": "claude",
        "ms": 5.0,
    }
    assert diagnostics[STAGE_STT] == {"latest": None, "median_ms": {}, "samples": {}}


def test_store_refuses_unknown_stages_and_survives_broken_listeners() -> None:
    timings = StageTimings()
    heard: list[StageSample] = []

    def broken(_: StageSample) -> None:
        raise RuntimeError("a sensor broke")

    timings.add_listener(broken)
    stop = timings.add_listener(heard.append)
    with pytest.raises(ValueError, match="unknown stage"):
        timings.record("thinking", "drill", 1)
    timings.record(STAGE_STT, "drill", -3)  # a clock step never shows as negative time
    stop()
    timings.record(STAGE_STT, "drill", 4)
    assert heard == [StageSample(STAGE_STT, "drill", 0.0)]
    with pytest.raises(ValueError):
        StageTimings(keep=0)


def test_turn_timings_listener_failure_does_not_lose_the_turn() -> None:
    turns = TurnTimings()
    seen: list[TurnTiming] = []
    turns.add_listener(lambda _: (_ for _ in ()).throw(RuntimeError("boom")))
    stop = turns.add_listener(seen.append)
    timing = TurnTiming("spelling", "drill", 0.4, None, 1.0, 1.2)
    turns.record(timing)
    stop()
    turns.record(timing)
    assert seen == [timing] and len(turns) == 2


# -- in Home Assistant ---------------------------------------------------------------------------


# The per-backend medians are disabled by default (rarely needed); enabled here.
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors_follow_turns_through_the_assist_pipeline(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, tts_server: ServerAddress
) -> None:
    """A Claude turn and a drill turn through Assist with Blip voice: routing, first token and
    first audio per backend; the filler's audio is timed, and comes before Claude's first token;
    no STT figure without speech."""
    anthropic_server.script.first_token_delay = THINKING_SECONDS
    assert await async_setup_component(hass, "assist_pipeline", {})
    entry = await setup_blip_with_voice(hass, tts_server, blip_entry(anthropic_server))
    registry = er.async_get(hass)
    for entity_id in LATEST.values():
        entity = registry.async_get(entity_id)
        assert entity is not None and entity.entity_category == "diagnostic"
        assert state_of(hass, entity_id)[0] == "unknown"

    claude = await run_pipeline(
        hass,
        "why is the sky blue",
        agent_id=AGENT_ID,
        tts_engine=BLIP_VOICE,
        tts_options=WYOMING_SATELLITE,
    )
    assert claude.stream_closed and claude.errors == []
    value, attributes = state_of(hass, LATEST[STAGE_TTS_FIRST_AUDIO])
    first_audio = float(value)
    first_token = float(state_of(hass, LATEST[STAGE_FIRST_TOKEN])[0])
    assert attributes["backend"] == "claude"
    assert first_token >= THINKING_SECONDS * 1000
    assert 0 < first_audio < first_token  # the filler was heard while Claude was thinking
    assert state_of(hass, LATEST[STAGE_STT])[0] == "unknown"  # typed, not spoken

    drill = await run_pipeline(
        hass,
        "how do you spell cat",
        agent_id=AGENT_ID,
        tts_engine=BLIP_VOICE,
        tts_options=WYOMING_SATELLITE,
    )
    assert "C, A, T" in drill.speech and drill.stream_closed
    value, attributes = state_of(hass, LATEST[STAGE_TTS_FIRST_AUDIO])
    assert attributes["backend"] == "drill" and float(value) < first_token
    assert set(attributes["median_ms"]) == {"claude", "drill"}
    routing, attributes = state_of(hass, LATEST[STAGE_ROUTING])
    assert attributes["backend"] == "drill" and 0 <= float(routing) < 500
    timings = entry.runtime_data.timings
    assert float(routing) == pytest.approx(timings.last.routing_ms, abs=0.1)

    value, attributes = state_of(hass, median_sensor(LATEST[STAGE_FIRST_TOKEN], "claude"))
    assert float(value) == first_token and attributes["samples"] == 1
    assert state_of(hass, median_sensor(LATEST[STAGE_FIRST_TOKEN], "local"))[0] == "unknown"

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    stages = diagnostics["stage_timings"]
    assert stages[STAGE_TTS_FIRST_AUDIO]["samples"] == {"claude": 1, "drill": 1}
    assert stages[STAGE_FIRST_TOKEN]["median_ms"]["claude"] == first_token


# The per-backend medians are disabled by default (rarely needed); enabled here.
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_turn_outside_the_pipeline_times_the_agent_only(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """``conversation.process`` (no Assist run, no Blip voice): routing and first token, and
    nothing is made up for STT or audio."""
    entry = blip_entry(anthropic_server)
    await setup_blip(hass, entry)
    await converse(hass, "how do you spell cat")
    await converse(hass, "why is the sky blue")
    assert state_of(hass, LATEST[STAGE_ROUTING])[1]["backend"] == "claude"
    assert float(state_of(hass, median_sensor(LATEST[STAGE_ROUTING], "drill"))[0]) >= 0
    assert state_of(hass, LATEST[STAGE_STT])[0] == "unknown"
    assert state_of(hass, LATEST[STAGE_TTS_FIRST_AUDIO])[0] == "unknown"
    stages = (await async_get_config_entry_diagnostics(hass, entry))["stage_timings"]
    assert stages[STAGE_ROUTING]["samples"] == {"claude": 1, "drill": 1}


async def test_timing_sensors_stop_listening_when_blip_unloads(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    entry = blip_entry(anthropic_server)
    await setup_blip(hass, entry)
    """After unload, a late turn record reaches neither the old collector nor its sensors."""
    entry = blip_entry(anthropic_server)
    await setup_blip(hass, entry)
    turn_timings: TurnTimings = entry.runtime_data.timings
    assert entry.runtime_data.stage_timer is not None
    stage_timings: StageTimings = entry.runtime_data.stage_timer.timings
    turn_timings.record(TurnTiming("spelling", "drill", 0.5, None, 1.0, 1.0))
    assert stage_timings.count(STAGE_ROUTING) == 1
    assert await hass.config_entries.async_unload(entry.entry_id)
    turn_timings.record(TurnTiming("spelling", "drill", 0.5, None, 1.0, 1.0))
    assert stage_timings.count(STAGE_ROUTING) == 1


async def test_per_backend_medians_are_disabled_by_default(hass: HomeAssistant) -> None:
    """The four latest-turn timing sensors are on; the twelve per-backend medians (for tuning,
    rarely needed) are registered but disabled until a family enables them."""
    entry = blip_entry(local_url="http://127.0.0.1:9")
    await setup_blip(hass, entry)
    registry = er.async_get(hass)
    timing = [
        e
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.unique_id.startswith(f"{entry.entry_id}_")
    ]
    medians = [e for e in timing if "_median_" in e.unique_id]
    latest = [e for e in timing if e.unique_id.endswith("_latest")]
    # Five stages (end-of-turn wait, STT, routing, first token, first audio) x three backends.
    assert len(medians) == 15 and len(latest) == 5
    assert all(e.disabled_by is er.RegistryEntryDisabler.INTEGRATION for e in medians)
    assert all(e.disabled_by is None for e in latest)
    assert await hass.config_entries.async_unload(entry.entry_id)
