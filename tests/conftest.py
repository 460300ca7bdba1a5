"""Shared fixtures: a real Home Assistant with Blip loadable, and loopback backend servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest.mock import PropertyMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

# Import the repository's custom_components package before any `hass` fixture runs: the plugin's
# Home Assistant puts its own testing_config/custom_components first on sys.path, and whichever
# `custom_components` is imported first is the one the loader scans.
import custom_components.blip  # noqa: F401
from tests.llm_servers import FakeAnthropic, FakeLocalModel, start_fake_server


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let the `hass` fixture load custom_components/blip."""


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Entities disabled by default (the per-backend timing medians) start enabled, as with
    core's fixture of the same name (the custom-component plugin has none)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture(autouse=True)
def allow_loopback_sockets(socket_enabled: None) -> None:
    """Real servers on loopback: sockets may be created; connects stay limited to 127.0.0.1."""


@pytest.fixture
async def hass(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[HomeAssistant]:
    """The real `hass` fixture with Home Assistant's core component set up.

    HA's TTS cache goes to the test's temp dir instead of the plugin's shared testing_config.
    """
    with patch("homeassistant.components.tts._init_tts_cache_dir", return_value=str(tmp_path)):
        assert await async_setup_component(hass, "homeassistant", {})
        yield hass


@pytest.fixture
async def anthropic_server() -> AsyncIterator[FakeAnthropic]:
    """A loopback server speaking Anthropic's Messages API."""
    fake = FakeAnthropic()
    async with start_fake_server(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture(params=["openai", "ollama"])
async def local_server(request: pytest.FixtureRequest) -> AsyncIterator[FakeLocalModel]:
    """A loopback blip-edu server, once per API flavour."""
    fake = FakeLocalModel(api=request.param)
    async with start_fake_server(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeLocalModel]:
    """A loopback OpenAI-compatible blip-edu server."""
    fake = FakeLocalModel(api="openai")
    async with start_fake_server(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake
