"""Blip voice learns the satellites' audio formats through one adapter, with a fallback."""

from __future__ import annotations

from dataclasses import dataclass, field
import sys
from typing import Any

from homeassistant.components.assist_satellite.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
import pytest

from custom_components.blip.tts import BlipVoiceRuntime, satellite_tts_options

WYOMING = {
    "preferred_format": "wav",
    "preferred_sample_rate": 16000,
    "preferred_sample_channels": 1,
    "preferred_sample_bytes": 2,
}


@dataclass
class _Satellite:
    tts_options: dict[str, Any] | None


@dataclass
class _Component:
    entities: list[_Satellite] = field(default_factory=list)


async def test_no_satellite_component_means_no_formats(hass: HomeAssistant) -> None:
    assert satellite_tts_options(hass) == []


async def test_satellites_formats_are_read_once_each_and_only_audio_options(
    hass: HomeAssistant,
) -> None:
    # The shape assist_satellite keeps under its typed key on 2026.2 and 2026.10.
    hass.data[DATA_COMPONENT] = _Component(  # type: ignore[assignment]
        [_Satellite({**WYOMING, "voice": "x"}), _Satellite(dict(WYOMING)), _Satellite(None)]
    )
    assert satellite_tts_options(hass) == [WYOMING]


async def test_a_changed_internal_falls_back_to_nothing(hass: HomeAssistant) -> None:
    hass.data[DATA_COMPONENT] = object()  # type: ignore[assignment]
    assert satellite_tts_options(hass) == []


class _ComponentThatBreaks:
    @property
    def entities(self) -> list[_Satellite]:
        raise RuntimeError("a release changed how satellites are kept")


async def test_an_internal_that_breaks_when_read_falls_back_to_nothing(
    hass: HomeAssistant,
) -> None:
    hass.data[DATA_COMPONENT] = _ComponentThatBreaks()  # type: ignore[assignment]
    assert satellite_tts_options(hass) == []


async def test_a_release_that_moves_the_key_falls_back_to_nothing(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The typed key's module gone (renamed by a release): no formats, and no error."""
    hass.data[DATA_COMPONENT] = _Component([_Satellite(dict(WYOMING))])  # type: ignore[assignment]
    monkeypatch.setitem(sys.modules, "homeassistant.components.assist_satellite.const", None)
    assert satellite_tts_options(hass) == []


def test_formats_requests_came_with_are_learned() -> None:
    runtime = BlipVoiceRuntime.__new__(BlipVoiceRuntime)
    runtime.learned_formats = []
    runtime.learn_format({**WYOMING, "voice": "en_US-joe-medium"})
    runtime.learn_format(dict(WYOMING))
    runtime.learn_format({"voice": "only a voice"})
    assert runtime.learned_formats == [WYOMING]
