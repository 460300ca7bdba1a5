"""Diagnostics for Blip: settings and health, with secrets and children's names redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from . import BlipConfigEntry
from .const import (
    CONF_API_KEY,
    CONF_AREAS,
    CONF_CHILD_NAME,
    CONF_CLAUDE_BASE_URL,
    CONF_DESIGNATED_ADULT,
    CONF_FILLERS,
    CONF_LOCAL_URL,
    CONF_SAFETY_NOTIFY,
    CONF_SATELLITES,
    CONF_VOICE_HOST,
)

# Secrets, where the family's servers are (URLs may carry credentials), who is alerted (notify
# services are often named after people), the rooms and satellites (where a child sleeps), the
# family's own filler lines and the children's names. Whether each is set is still visible.
TO_REDACT = {
    CONF_API_KEY,
    CONF_CLAUDE_BASE_URL,
    CONF_LOCAL_URL,
    CONF_VOICE_HOST,
    CONF_SAFETY_NOTIFY,
    CONF_DESIGNATED_ADULT,
    CONF_SATELLITES,
    CONF_AREAS,
    CONF_FILLERS,
    CONF_CHILD_NAME,
    "title",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BlipConfigEntry
) -> dict[str, Any]:
    """Settings, children (by id, not name) and the runtime health other parts record."""
    runtime = entry.runtime_data
    diagnostics: dict[str, Any] = {
        "data": async_redact_data(dict(entry.data), TO_REDACT),
        "options": async_redact_data(dict(entry.options), TO_REDACT),
        "children": {
            subentry_id: async_redact_data({"title": subentry.title, **subentry.data}, TO_REDACT)
            for subentry_id, subentry in entry.subentries.items()
        },
        "backends": {
            "claude": runtime.claude is not None,
            "local": runtime.local_base_url is not None,
        },
    }
    diagnostics["progress"] = runtime.progress.as_diagnostics()
    diagnostics["timings"] = runtime.timings.as_diagnostics()
    diagnostics["backend_health"] = runtime.health.as_diagnostics()
    if runtime.stage_timer is not None:
        diagnostics["stage_timings"] = runtime.stage_timer.as_diagnostics()
    if runtime.voice is not None:
        diagnostics["voice"] = runtime.voice.as_diagnostics()
    if runtime.devices is not None:
        diagnostics["paired_devices"] = runtime.devices.as_diagnostics()
    return diagnostics
