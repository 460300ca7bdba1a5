"""What Home Assistant recorded of its Assist pipeline runs, read through one small adapter.

Home Assistant has no public Python API for the events of a pipeline run; the only record is the
one behind *Settings → Voice assistants → Debug* (``PipelineData.pipeline_debug``), an internal
that moved between the releases Blip supports:

- 2026.2: ``assist_pipeline.pipeline`` defines ``KEY_ASSIST_PIPELINE``, ``PipelineData`` and
  ``PipelineEvent``;
- 2026.10: they live in ``assist_pipeline.runtime`` and ``assist_pipeline.models``;
  ``assist_pipeline.pipeline`` still re-exports the key.

Everything Blip reads from there goes through :func:`pipeline_runs`, which copies the events
into Blip's own frozen records. If a release changes the shape, the reader returns no runs (one
warning in the log): Blip's timing sensors then lack the speech-to-text and first-audio figures,
and nothing else is affected (``tests/test_pipeline_record.py`` covers both the real record and
that fallback).

How long Home Assistant waits in silence before it ends the child's turn is public: the
satellite's *Finished speaking detection* select (``VadSensitivity``), 0.7 s when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import importlib
import logging
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

_LOGGER = logging.getLogger(__name__)

# Home Assistant's own default (``AudioSettings.silence_seconds``, ``VadSensitivity.DEFAULT``).
DEFAULT_SILENCE_SECONDS: Final = 0.7
# Where each supported release keeps the key of its pipeline data, newest first.
_KEY_MODULES: Final = (
    "homeassistant.components.assist_pipeline.runtime",
    "homeassistant.components.assist_pipeline.pipeline",
)

_warned = False


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One event of a run: its type (``stt-vad-end``…), data and wall-clock time."""

    type: str
    data: dict[str, Any]
    at: datetime | None


@dataclass(frozen=True, slots=True)
class PipelineRunRecord:
    """One run Home Assistant remembers, with its events so far."""

    pipeline_id: str
    run_id: str
    events: tuple[RunEvent, ...]

    def last(self, event_type: str) -> RunEvent | None:
        """The latest event of ``event_type``."""
        for event in reversed(self.events):
            if event.type == event_type:
                return event
        return None

    def stamp(self, event_type: str) -> datetime | None:
        """When the latest event of ``event_type`` happened."""
        event = self.last(event_type)
        return event.at if event is not None else None

    @property
    def satellite_id(self) -> str | None:
        """The satellite entity the run listens to, if any."""
        start = self.last("run-start")
        value = start.data.get("satellite_id") if start is not None else None
        return value if isinstance(value, str) else None


def pipeline_runs(hass: HomeAssistant) -> list[PipelineRunRecord]:
    """Every run Home Assistant keeps for its debug view; [] when it cannot be read."""
    if "assist_pipeline" not in hass.config.components:
        return []
    try:
        return _read_runs(hass)
    except (AttributeError, ImportError, TypeError, ValueError) as err:
        _warn_once(err)
        return []


def _read_runs(hass: HomeAssistant) -> list[PipelineRunRecord]:
    data = None
    for module_name in _KEY_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if (key := getattr(module, "KEY_ASSIST_PIPELINE", None)) is not None:
            data = hass.data.get(key)
            break
    else:
        raise ImportError("no KEY_ASSIST_PIPELINE in assist_pipeline")
    if data is None:
        return []
    return [
        PipelineRunRecord(
            pipeline_id=str(pipeline_id),
            run_id=str(run_id),
            events=tuple(_event(event) for event in list(debug.events)),
        )
        for pipeline_id, runs in list(data.pipeline_debug.items())
        for run_id, debug in list(runs.items())
    ]


def _event(event: Any) -> RunEvent:
    data = event.data
    stamp = event.timestamp
    return RunEvent(
        type=str(getattr(event.type, "value", event.type)),
        data=dict(data) if isinstance(data, dict) else {},
        at=dt_util.parse_datetime(stamp) if isinstance(stamp, str) else None,
    )


def _warn_once(err: Exception) -> None:
    global _warned  # noqa: PLW0603 - one warning per process is the point
    if not _warned:
        _warned = True
        _LOGGER.warning(
            "Cannot read Home Assistant's pipeline debug record (%s); Blip's speech-to-text "
            "and first-audio timings are unavailable on this release",
            err,
        )


def silence_seconds(hass: HomeAssistant, satellite_id: str | None) -> float:
    """How long Home Assistant waits in silence before ending a turn on this satellite."""
    from homeassistant.components.assist_pipeline import VadSensitivity

    if satellite_id is None:
        return DEFAULT_SILENCE_SECONDS
    registry = er.async_get(hass)
    satellite = registry.async_get(satellite_id)
    if satellite is None or satellite.device_id is None:
        return DEFAULT_SILENCE_SECONDS
    for entity in er.async_entries_for_device(registry, satellite.device_id):
        if entity.domain == "select" and entity.unique_id.endswith("-vad_sensitivity"):
            state = hass.states.get(entity.entity_id)
            try:
                return VadSensitivity.to_seconds(state.state if state else "default")
            except ValueError:
                return DEFAULT_SILENCE_SECONDS
    return DEFAULT_SILENCE_SECONDS


def last_word_at(hass: HomeAssistant, run: PipelineRunRecord) -> datetime | None:
    """When the child stopped talking: HA's end-of-speech decision minus the silence it waited.

    None when the run has no end-of-speech event (typed text, a provider that ends the turn
    itself).
    """
    ended = run.stamp("stt-vad-end")
    if ended is None:
        return None
    return ended - timedelta(seconds=silence_seconds(hass, run.satellite_id))
