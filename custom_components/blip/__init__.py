"""Blip: a voice learning companion for children, as an Assist conversation agent."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anthropic
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_CLOSE, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .agent.health import BackendHealth, TurnTimings
from .benchmark_action import async_setup_benchmark_action
from .brain.safety_model import try_load_safety_model
from .child_session import ChildSessions
from .const import (
    CONF_API_KEY,
    CONF_CLAUDE_BASE_URL,
    CONF_LOCAL_API,
    CONF_LOCAL_URL,
    DOMAIN,
    LOCAL_API_OPENAI,
    LOGGER,
)
from .device_api import (
    async_remove_device_entry,
    async_setup_device_api,
    async_setup_device_entry,
)
from .log_privacy import PrivateWordsFilter
from .progress import ProgressManager
from .school_words import SchoolWordLists
from .services import async_setup_services
from .validation import (
    BackendError,
    async_create_claude_client,
    async_validate_claude,
    normalize_local_url,
)

if TYPE_CHECKING:
    from .brain.safety_model import SafetyModel
    from .conversation import BlipAgentServices
    from .device_api.access import DeviceAccess
    from .timing_sensors import VoiceTurnTimer
    from .tts import BlipVoiceRuntime

# Platform.TTS adds "Blip voice" only when a Wyoming TTS server is configured (see tts.py);
# always forwarding it keeps unload right after the server is added or removed.
PLATFORMS: tuple[Platform, ...] = (
    Platform.BUTTON,
    Platform.CONVERSATION,
    Platform.SENSOR,
    Platform.STT,
    Platform.SWITCH,
    Platform.TTS,
)
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

type BlipConfigEntry = ConfigEntry[BlipRuntimeData]


@dataclass
class BlipRuntimeData:
    """What one Blip entry shares between its entities while loaded."""

    claude: anthropic.AsyncAnthropic | None
    local_base_url: str | None
    # Each child's learning progress, limits and pause state (progress.py).
    progress: ProgressManager
    # Each child's unfinished drill, offered back on any satellite (child_session.py).
    sessions: ChildSessions
    # Every turn's backend timings: the agent records them, the timing sensors follow them.
    timings: TurnTimings = field(default_factory=TurnTimings)
    # Which backends answer and which are resting after failures (the agent's, diagnostics).
    health: BackendHealth = field(default_factory=BackendHealth)
    # What each platform adds once it is set up (None before, or when it is not configured).
    agent: BlipAgentServices | None = None  # conversation platform
    stage_timer: VoiceTurnTimer | None = None  # sensor platform
    voice: BlipVoiceRuntime | None = None  # tts platform, with a Wyoming TTS server only
    # Keeps children's words and the family's secrets out of other libraries' DEBUG logs.
    log_privacy: PrivateWordsFilter = field(default_factory=PrivateWordsFilter)
    # This week's words from each child's school to-do list (school_words.py).
    school_lists: SchoolWordLists | None = None
    # The learned safety layer shared by the router; None when it failed to load (the rules
    # then check alone).
    safety_model: SafetyModel | None = None
    # The child-scoped devices paired with Blip (device_api/).
    devices: DeviceAccess | None = None


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up Blip (config entries only) and its actions."""
    async_setup_services(hass)
    async_setup_benchmark_action(hass)
    async_setup_device_api(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: BlipConfigEntry) -> bool:
    """Set up Blip from a config entry.

    An unreachable backend does not stop set-up: a child must still hear an answer from what
    works (the drill engine, the other backend, a fixed reply). Only a rejected API key stops
    it, so Home Assistant asks the family for a new one (reauth).
    """
    # First, so that even the key check's request is logged without the family's secrets.
    log_privacy = PrivateWordsFilter()
    log_privacy.hide_settings(
        entry.data, entry.options, *(subentry.data for subentry in entry.subentries.values())
    )
    entry.async_on_unload(log_privacy.async_attach(hass))

    claude: anthropic.AsyncAnthropic | None = None
    if api_key := entry.data.get(CONF_API_KEY):
        claude = await async_create_claude_client(
            hass, api_key, entry.data.get(CONF_CLAUDE_BASE_URL)
        )
        try:
            await async_validate_claude(claude)
        except BackendError as err:
            if err.reason == "invalid_auth":
                await claude.close()
                raise ConfigEntryAuthFailed("Anthropic rejected Blip's API key") from err
            LOGGER.warning("Claude is not reachable now; Blip will keep trying: %s", err)
        # Close the client's connection pool on unload and when Home Assistant shuts down
        # (shutdown does not unload entries).
        entry.async_on_unload(claude.close)
        entry.async_on_unload(
            hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, _close_claude(claude))
        )

    local_base_url = None
    if local_url := entry.data.get(CONF_LOCAL_URL):
        local_base_url = normalize_local_url(
            local_url, entry.data.get(CONF_LOCAL_API, LOCAL_API_OPENAI)
        )

    # The learned safety layer, loaded off the event loop before anything that needs undoing
    # (timers, stores) is set up; None when it fails to load (logged as an error): the rules
    # then check alone.
    safety_model = await hass.async_add_executor_job(try_load_safety_model, None, LOGGER)
    progress = ProgressManager(hass, entry)
    await progress.async_load()
    sessions = ChildSessions(hass, entry)
    await sessions.async_load()
    entry.runtime_data = BlipRuntimeData(
        claude=claude,
        local_base_url=local_base_url,
        progress=progress,
        sessions=sessions,
        log_privacy=log_privacy,
        safety_model=safety_model,
    )
    await async_setup_device_entry(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.runtime_data.school_lists = SchoolWordLists(hass, entry)
    entry.runtime_data.school_lists.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_update))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: BlipConfigEntry) -> bool:
    """Unload Blip; unsaved progress is written first."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        await entry.runtime_data.progress.async_unload()
        await entry.runtime_data.sessions.async_unload()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: BlipConfigEntry) -> None:
    """Blip is removed: remove every child's progress with it."""
    await ProgressManager(hass, entry).async_remove_all()
    await ChildSessions.async_remove(hass)
    await async_remove_device_entry(hass, entry)


def _close_claude(claude: anthropic.AsyncAnthropic) -> Callable[[Event], Coroutine[Any, Any, None]]:
    async def close(_: Event) -> None:
        await claude.close()

    return close


async def _async_reload_on_update(hass: HomeAssistant, entry: BlipConfigEntry) -> None:
    """Options or children changed: reload so every entity sees the new settings."""
    await hass.config_entries.async_reload(entry.entry_id)
