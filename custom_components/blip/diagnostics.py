"""Diagnostics for Blip: settings and health, with secrets and children's names redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from . import BlipConfigEntry
from .const import CONF_API_KEY, CONF_CHILD_NAME, CONF_CLAUDE_BASE_URL

TO_REDACT = {CONF_API_KEY, CONF_CLAUDE_BASE_URL, CONF_CHILD_NAME, "title"}


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
    return diagnostics
