"""What the voice benchmarks share: a real Home Assistant with Blip, Blip voice and a loopback Claude.

``blip_with_voice`` starts, in this process, the project's Wyoming TTS server (real piper voice,
its sentence cache in a temporary directory), a loopback Claude whose first token comes after
``thinking`` seconds and whose every answer is new (so no sentence cache answers it), and the test
harness's Home Assistant with ``assist_pipeline`` (and, for the device endpoint, ``http`` on a free
loopback port) and one Blip entry (child Ada) speaking with Blip voice. Used by ttfa.py and
device_turn.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass
import itertools
from pathlib import Path
import socket
import statistics
import sys
import tempfile
from typing import Any
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from homeassistant import loader  # noqa: E402
from homeassistant.core import HomeAssistant  # noqa: E402
from homeassistant.setup import async_setup_component  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from tests.agent_helpers import blip_entry  # noqa: E402
from tests.llm_servers import FakeAnthropic, start_fake_server  # noqa: E402
from tests.voice_fixtures import make_tts_engine, serve_tts, setup_blip_with_voice  # noqa: E402
from tests.wyoming_fixtures import ServerAddress  # noqa: E402

BLIP_VOICE = "tts.blip_voice"
QUESTION = "why is the sky blue"


def fresh_answers(tail: str = "") -> Callable[[dict[str, Any]], str]:
    """Claude's reply script: a new answer every turn, so no sentence cache can answer it."""
    numbers = itertools.count(1)

    def answer(_body: dict[str, Any]) -> str:
        return (
            f"Here is fact number {next(numbers)} for you. The sky looks blue because the air "
            f"scatters blue sunlight much more than red sunlight.{tail}"
        )

    return answer


def median(values: list[float | None]) -> float | None:
    """Median of the figures present, to 0.1 ms."""
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 1) if present else None


def spread(values: list[float | None]) -> list[float] | None:
    """[lowest, highest] of the figures present."""
    present = [value for value in values if value is not None]
    return [round(min(present), 1), round(max(present), 1)] if present else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Harness:
    """The running pieces."""

    hass: HomeAssistant
    entry: MockConfigEntry
    tts_address: ServerAddress
    claude: FakeAnthropic


@contextlib.asynccontextmanager
async def blip_with_voice(
    thinking: float, *, answer_tail: str = "", http: bool = False
) -> AsyncIterator[Harness]:
    """Home Assistant with Blip and Blip voice loaded (warm-up done); unloaded on exit."""
    claude = FakeAnthropic()
    claude.script.reply = fresh_answers(answer_tail)
    claude.script.first_token_delay = thinking
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
                    if http:
                        # HA binds its own port too: a free loopback one (8123 may be in use).
                        assert await async_setup_component(
                            hass,
                            "http",
                            {"http": {"server_host": ["127.0.0.1"], "server_port": _free_port()}},
                        )
                    assert await async_setup_component(hass, "assist_pipeline", {})
                    entry = await setup_blip_with_voice(hass, address, blip_entry(claude))
                    try:
                        yield Harness(hass, entry, address, claude)
                    finally:
                        await hass.config_entries.async_unload(entry.entry_id)
        finally:
            engine.close()
