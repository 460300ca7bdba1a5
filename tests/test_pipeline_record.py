"""Reading Home Assistant's record of its pipeline runs: the real record, the fallback when a
release changes it, and the silence Home Assistant waits for on a satellite."""

from __future__ import annotations

from datetime import timedelta
import logging

from homeassistant.components import assist_pipeline
from homeassistant.components.assist_pipeline.pipeline import (
    KEY_ASSIST_PIPELINE,
    PipelineEvent,
    PipelineEventType,
    PipelineInput,
    PipelineRun,
    PipelineStage,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    chat_session,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blip import pipeline_record
from custom_components.blip.pipeline_record import (
    DEFAULT_SILENCE_SECONDS,
    PipelineRunRecord,
    RunEvent,
    last_word_at,
    pipeline_runs,
    silence_seconds,
)


async def _text_run(hass: HomeAssistant, text: str) -> str:
    """One real Assist run of typed text through HA's own agent; its run id."""
    assert await async_setup_component(hass, "assist_pipeline", {})
    assert await async_setup_component(hass, "conversation", {})
    pipeline = assist_pipeline.async_get_pipeline(hass)
    events: list[PipelineEvent] = []
    with chat_session.async_get_chat_session(hass) as session:
        run = PipelineRun(
            hass,
            context=Context(),
            pipeline=pipeline,
            start_stage=PipelineStage.INTENT,
            end_stage=PipelineStage.INTENT,
            event_callback=events.append,
        )
        pipeline_input = PipelineInput(run=run, session=session, intent_input=text)
        await pipeline_input.validate()
        await pipeline_input.execute()
    assert events[-1].type is PipelineEventType.RUN_END
    return run.id


async def test_reads_the_runs_home_assistant_keeps(hass: HomeAssistant) -> None:
    run_id = await _text_run(hass, "what time is it")
    runs = {run.run_id: run for run in pipeline_runs(hass)}
    record = runs[run_id]
    assert record.pipeline_id == assist_pipeline.async_get_pipeline(hass).id
    types = [event.type for event in record.events]
    assert types[0] == "run-start" and types[-1] == "run-end"
    assert "intent-start" in types and "intent-end" in types
    assert record.last("intent-start").data["engine"]
    started, ended = record.stamp("intent-start"), record.stamp("intent-end")
    assert started is not None and ended is not None and started <= ended
    # Typed text: no end of speech, so no last word and no satellite.
    assert record.satellite_id is None
    assert last_word_at(hass, record) is None


async def test_no_runs_before_the_pipeline_is_set_up(hass: HomeAssistant) -> None:
    assert pipeline_runs(hass) == []


async def test_a_changed_record_gives_no_runs_and_one_warning(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release that reshapes the record loses Blip's timings, never a turn."""
    await _text_run(hass, "what time is it")
    monkeypatch.setattr(pipeline_record, "_warned", False)
    real = hass.data[KEY_ASSIST_PIPELINE]
    monkeypatch.setattr(real, "pipeline_debug", None)
    with caplog.at_level(logging.WARNING):
        assert pipeline_runs(hass) == []
        assert pipeline_runs(hass) == []
    warnings = [r for r in caplog.records if "pipeline debug record" in r.getMessage()]
    assert len(warnings) == 1
    # Events of an unknown shape (no type/timestamp) are a changed record too.
    monkeypatch.setattr(real, "pipeline_debug", {"p": {"r": type("Debug", (), {"events": [1]})}})
    assert pipeline_runs(hass) == []


async def test_silence_comes_from_the_satellites_finished_speaking_setting(
    hass: HomeAssistant,
) -> None:
    entry = MockConfigEntry(domain="wyoming")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("wyoming", "kids-room")}
    )
    registry = er.async_get(hass)
    satellite = registry.async_get_or_create(
        "assist_satellite", "wyoming", "kids-room", device_id=device.id, config_entry=entry
    )
    assert silence_seconds(hass, satellite.entity_id) == DEFAULT_SILENCE_SECONDS  # no select
    select = registry.async_get_or_create(
        "select", "wyoming", "kids-room-vad_sensitivity", device_id=device.id, config_entry=entry
    )
    hass.states.async_set(select.entity_id, "relaxed")
    assert silence_seconds(hass, satellite.entity_id) == 1.25
    hass.states.async_set(select.entity_id, "aggressive")
    assert silence_seconds(hass, satellite.entity_id) == 0.25
    hass.states.async_set(select.entity_id, "unavailable")
    assert silence_seconds(hass, satellite.entity_id) == DEFAULT_SILENCE_SECONDS
    assert silence_seconds(hass, None) == DEFAULT_SILENCE_SECONDS
    assert silence_seconds(hass, "assist_satellite.gone") == DEFAULT_SILENCE_SECONDS

    # The child's last word: HA's end-of-speech decision minus that silence.
    hass.states.async_set(select.entity_id, "relaxed")
    decided = pipeline_record.dt_util.utcnow()
    record = PipelineRunRecord(
        "p",
        "r",
        (
            RunEvent("run-start", {"satellite_id": satellite.entity_id}, decided),
            RunEvent("stt-vad-end", {"timestamp": 3000}, decided),
        ),
    )
    assert last_word_at(hass, record) == decided - timedelta(seconds=1.25)
