"""Voice turn timings as sensors: latest and rolling median per backend, for each stage.

Every voice figure counts from the child's last word, the moment the child starts waiting.
``VoiceTurnTimer`` gathers each turn's stage times from where they are measured:
- routing and time to first token from Blip's agent (``TurnTimings``, recorded at the turn's
  end, while Home Assistant's Assist pipeline is still in its intent stage);
- end of turn and speech to text from that pipeline run's own events, read through
  ``pipeline_record`` (the data behind Settings → Voice assistants → Debug): the child's last
  word is HA's end-of-speech decision (``stt-vad-end``) minus the silence HA waits for on that
  satellite (its *Finished speaking detection*, 0.7 s by default). End of turn is that wait;
  speech to text runs from the decision to the transcript;
- time to first audio from Blip voice, which reports its first audio of a stream; the stream is
  matched to the latest pipeline run speaking through it, and timed from the child's last word
  (from the intent stage's start when the run has no end of speech, e.g. typed text).

A turn outside the Assist pipeline (``conversation.process``) has no STT or audio sample. Two
satellites speaking at the very same moment could swap their audio samples; the medians shrug.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .agent.health import TurnTiming
from .const import DOMAIN
from .pipeline_record import PipelineRunRecord, last_word_at, pipeline_runs
from .stage_timings import (
    STAGE_END_OF_TURN,
    STAGE_FIRST_TOKEN,
    STAGE_ROUTING,
    STAGE_STT,
    STAGE_TTS_FIRST_AUDIO,
    STAGES,
    StageSample,
    StageTimings,
)

if TYPE_CHECKING:
    from . import BlipConfigEntry
    from .stt import ListenedTurn

# Backends with their own median sensors; the rarer answers (safe or fixed replies, limits)
# appear in the latest sensors' attributes.
MEDIAN_BACKENDS: Final = ("drill", "local", "claude")
BACKEND_NAMES: Final = {"drill": "drill engine", "local": "local model", "claude": "Claude"}
# Pipeline runs remembered for matching Blip voice's audio to its turn.
REMEMBERED_RUNS: Final = 32
# A stream's first audio is matched only to a turn that started this recently.
AUDIO_MATCH_WINDOW: Final = timedelta(seconds=120)


@dataclass(slots=True)
class _RunMatch:
    """What is known of one pipeline run's turn."""

    intent_started: datetime
    # When the child stopped talking (None: no end of speech in the run, e.g. typed text), and
    # when the turn was judged over (HA's end of speech, or Blip listening's early end).
    last_word: datetime | None = None
    decided: datetime | None = None
    backend: str | None = None
    first_audio_ms: float | None = None  # waiting for the turn's backend
    audio_claimed: bool = False

    @property
    def waiting_since(self) -> datetime:
        """Where the child's wait for Blip's voice starts."""
        return self.last_word or self.intent_started


class VoiceTurnTimer:
    """Collects each turn's stage times into ``StageTimings`` (see the module docstring)."""

    def __init__(self, hass: HomeAssistant, entry: BlipConfigEntry) -> None:
        """Time the turns of ``entry``'s agents."""
        self.hass = hass
        self.entry = entry
        self.timings = StageTimings()
        self._runs: OrderedDict[str, _RunMatch] = OrderedDict()
        self._listened: dict[str, ListenedTurn] = {}  # Blip listening's last turn, per entity

    @callback
    def turn_listened(self, stt_entity_id: str, turn: ListenedTurn) -> None:
        """Blip listening heard a turn end: the exact last word and end-of-turn decision."""
        self._listened[stt_entity_id] = turn

    @callback
    def turn_recorded(self, timing: TurnTiming) -> None:
        """The agent finished a turn: its own stages, then the pipeline's STT, then audio."""
        backend = timing.answered_by
        self.timings.record(STAGE_ROUTING, backend, timing.routing_ms)
        if timing.first_token_ms is not None:
            self.timings.record(STAGE_FIRST_TOKEN, backend, timing.first_token_ms)
        run = self._current_turn_run()
        if run is None:
            return
        match = self._remember(run)
        if match is None:
            return
        match.backend = backend
        if match.last_word is not None and match.decided is not None:
            self.timings.record(STAGE_END_OF_TURN, backend, _ms(match.decided - match.last_word))
        if (stt_ms := _stt_ms(run, match.decided)) is not None:
            self.timings.record(STAGE_STT, backend, stt_ms)
        if match.first_audio_ms is not None:
            self.timings.record(STAGE_TTS_FIRST_AUDIO, backend, match.first_audio_ms)
            match.first_audio_ms = None

    @callback
    def tts_first_audio(self, tts_entity_id: str) -> None:
        """Blip voice produced a stream's first audio now."""
        now = dt_util.utcnow()
        run = self._latest_run_speaking_through(tts_entity_id, now)
        if run is None:
            return
        match = self._remember(run)
        if match is None or match.audio_claimed:
            return
        match.audio_claimed = True
        ms = _ms(now - match.waiting_since)
        if match.backend is not None:
            self.timings.record(STAGE_TTS_FIRST_AUDIO, match.backend, ms)
        else:  # the filler is out before the turn ends; its backend is known at the end
            match.first_audio_ms = ms

    def as_diagnostics(self) -> dict[str, Any]:
        """The stage timings (no child text)."""
        return self.timings.as_diagnostics()

    # -- reading Home Assistant's record of its pipeline runs ---------------------------------

    def _remember(self, run: PipelineRunRecord) -> _RunMatch | None:
        match = self._runs.get(run.run_id)
        if match is None:
            if (started := run.stamp("intent-start")) is None:
                return None
            match = self._runs[run.run_id] = _RunMatch(intent_started=started)
            if (listened := self._listened_for(run)) is not None:
                match.last_word, match.decided = listened.last_word, listened.decided
            else:
                match.last_word, match.decided = (
                    last_word_at(self.hass, run),
                    run.stamp("stt-vad-end"),
                )
            while len(self._runs) > REMEMBERED_RUNS:
                self._runs.popitem(last=False)
        return match

    def _listened_for(self, run: PipelineRunRecord) -> ListenedTurn | None:
        """Blip listening's record of this run's turn, when it listened to it."""
        start = run.last("stt-start")
        if start is None or start.at is None:
            return None
        turn = self._listened.get(str(start.data.get("engine")))
        ended = run.stamp("stt-end")
        if turn is None or turn.decided < start.at or (ended and turn.decided > ended):
            return None
        return turn

    def _current_turn_run(self) -> PipelineRunRecord | None:
        """The run whose intent stage is one of this entry's agents, still answering."""
        agents = self._agent_entity_ids()
        candidates = [
            (started, run)
            for run in pipeline_runs(self.hass)
            if (start := run.last("intent-start")) is not None
            and start.data.get("engine") in agents
            and run.last("intent-end") is None
            and (started := start.at) is not None
            and (run.run_id not in self._runs or self._runs[run.run_id].backend is None)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda candidate: candidate[0])[1]

    def _latest_run_speaking_through(
        self, tts_entity_id: str, now: datetime
    ) -> PipelineRunRecord | None:
        """The latest run whose pipeline speaks through ``tts_entity_id`` and whose reply is
        being spoken (streaming started or TTS stage started), not yet matched to audio."""
        pipelines = _pipelines_speaking_through(self.hass, tts_entity_id)
        candidates = [
            (started, run)
            for run in pipeline_runs(self.hass)
            if run.pipeline_id in pipelines
            and (started := run.stamp("intent-start")) is not None
            and now - started <= AUDIO_MATCH_WINDOW
            and _speaking(run)
            and not (run.run_id in self._runs and self._runs[run.run_id].audio_claimed)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda candidate: candidate[0])[1]

    def _agent_entity_ids(self) -> set[str]:
        registry = er.async_get(self.hass)
        return {
            entity.entity_id
            for entity in er.async_entries_for_config_entry(registry, self.entry.entry_id)
            if entity.domain == "conversation"
        }


def _pipelines_speaking_through(hass: HomeAssistant, tts_entity_id: str) -> set[str]:
    if "assist_pipeline" not in hass.config.components:
        return set()
    from homeassistant.components import assist_pipeline

    return {
        pipeline.id
        for pipeline in assist_pipeline.async_get_pipelines(hass)
        if pipeline.tts_engine == tts_entity_id
    }


def _ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000


def _speaking(run: PipelineRunRecord) -> bool:
    return run.last("tts-start") is not None or any(
        event.type == "intent-progress" and event.data.get("tts_start_streaming")
        for event in run.events
    )


def _stt_ms(run: PipelineRunRecord, decided: datetime | None) -> float | None:
    """From the end of the turn (HA's VAD or Blip listening; else the stage's start) to the
    transcript."""
    ended = run.stamp("stt-end")
    started = decided or run.stamp("stt-start")
    if ended is None or started is None:
        return None
    return _ms(ended - started)


# -- sensors ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StageSensorDescription(SensorEntityDescription):
    """A stage timing sensor: the latest sample, or one backend's rolling median."""

    stage: str
    backend: str | None = None  # None: the latest sample, whichever backend answered


def _descriptions() -> list[StageSensorDescription]:
    common: dict[str, Any] = {
        "device_class": SensorDeviceClass.DURATION,
        "native_unit_of_measurement": UnitOfTime.MILLISECONDS,
        "state_class": SensorStateClass.MEASUREMENT,
        "entity_category": EntityCategory.DIAGNOSTIC,
        "suggested_display_precision": 0,
    }
    descriptions = [
        StageSensorDescription(
            key=f"{stage}_latest", translation_key=f"{stage}_latest", stage=stage, **common
        )
        for stage in STAGES
    ]
    descriptions += [
        StageSensorDescription(
            key=f"{stage}_median_{backend}",
            translation_key=f"{stage}_median",
            entity_registry_enabled_default=False,  # per-backend medians: for tuning, rarely
            stage=stage,
            backend=backend,
            **common,
        )
        for stage in STAGES
        for backend in MEDIAN_BACKENDS
    ]
    return descriptions


async def async_setup_timing_sensors(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Start timing turns and add the timing sensors (called from the sensor platform)."""
    timer = entry.runtime_data.stage_timer = VoiceTurnTimer(hass, entry)
    entry.async_on_unload(entry.runtime_data.timings.add_listener(timer.turn_recorded))
    async_add_entities(
        [
            BlipStageTimingSensor(entry, timer.timings, description)
            for description in _descriptions()
        ]
    )


class BlipStageTimingSensor(SensorEntity):
    """Milliseconds one stage of Blip's voice turns takes."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: StageSensorDescription

    def __init__(
        self,
        entry: BlipConfigEntry,
        timings: StageTimings,
        description: StageSensorDescription,
    ) -> None:
        """One stage's figure, on Blip's performance device."""
        self.entity_description = description
        self._timings = timings
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        if description.backend is not None:
            self._attr_translation_placeholders = {
                "backend": BACKEND_NAMES.get(description.backend, description.backend)
            }
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}-performance")},
            name="Blip performance",
            manufacturer="Blip",
            model="Voice turn timings",
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def native_value(self) -> float | None:
        """The latest sample, or the backend's rolling median."""
        stage, backend = self.entity_description.stage, self.entity_description.backend
        if backend is not None:
            return self._timings.median(stage, backend)
        latest = self._timings.latest(stage)
        return latest.ms if latest is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which backend the latest turn took and every backend's median; or the sample count."""
        stage, backend = self.entity_description.stage, self.entity_description.backend
        if backend is not None:
            return {"samples": self._timings.count(stage, backend)}
        latest = self._timings.latest(stage)
        return {
            "backend": latest.backend if latest is not None else None,
            "median_ms": self._timings.medians(stage),
        }

    async def async_added_to_hass(self) -> None:
        """Follow new samples of this stage."""
        await super().async_added_to_hass()
        self.async_on_remove(self._timings.add_listener(self._sample_recorded))

    @callback
    def _sample_recorded(self, sample: StageSample) -> None:
        description = self.entity_description
        if sample.stage == description.stage and description.backend in (None, sample.backend):
            self.async_write_ha_state()
