"""Blip's actions: reset or export a child's progress, start a drill on a satellite."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceNotFound, ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import voluptuous as vol

from .const import (
    ATTR_CHILD,
    ATTR_KIND,
    ATTR_PARTS,
    ATTR_SATELLITE,
    DOMAIN,
    SERVICE_EXPORT_PROGRESS,
    SERVICE_RESET_PROGRESS,
    SERVICE_START_DRILL,
)
from .progress_model import KIND_MATH, KIND_SPELLING, RESET_PARTS

if TYPE_CHECKING:
    from .child_session import ChildSessions
    from .progress import ProgressManager

DRILL_KINDS: Final = (KIND_SPELLING, KIND_MATH)
# Spoken by the satellite before it listens; the child's answer then reaches Blip's agent, which
# finds the request in the child's session state (child_session.py) and starts the drill.
DRILL_START_MESSAGES: Final = {
    KIND_SPELLING: "Hi {name}! It's spelling time with Blip. Are you ready for your first word?",
    KIND_MATH: "Hi {name}! It's math time with Blip. Are you ready for your first question?",
}

RESET_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CHILD): cv.string,
        vol.Optional(ATTR_PARTS, default=list(RESET_PARTS)): vol.All(
            cv.ensure_list, [vol.In(RESET_PARTS)]
        ),
    }
)
EXPORT_SCHEMA: Final = vol.Schema({vol.Optional(ATTR_CHILD): cv.string})
START_DRILL_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CHILD): cv.string,
        vol.Required(ATTR_KIND): vol.In(DRILL_KINDS),
        vol.Optional(ATTR_SATELLITE): cv.entity_domain("assist_satellite"),
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register Blip's actions (once, when the integration is set up)."""

    async def reset_progress(call: ServiceCall) -> None:
        manager, child_id = _child_from_call(hass, call.data[ATTR_CHILD])
        manager.reset(child_id, call.data[ATTR_PARTS])

    async def export_progress(call: ServiceCall) -> ServiceResponse:
        if ATTR_CHILD in call.data:
            manager, child_id = _child_from_call(hass, call.data[ATTR_CHILD])
            child_ids = [child_id]
        else:
            manager = _manager(hass)
            child_ids = manager.child_ids
        return {"children": {child_id: _export(hass, manager, child_id) for child_id in child_ids}}

    async def start_drill(call: ServiceCall) -> None:
        manager, child_id = _child_from_call(hass, call.data[ATTR_CHILD])
        name = manager.child_name(child_id) or ""
        verdict = manager.check_limits(child_id)
        if not verdict.allowed:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="child_resting",
                translation_placeholders={"child": name, "reason": str(verdict.reason)},
            )
        satellite = call.data.get(ATTR_SATELLITE) or manager.satellite_for(child_id)
        if not satellite:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_satellite",
                translation_placeholders={"child": name},
            )
        kind = call.data[ATTR_KIND]
        _sessions(hass).request_drill(child_id, kind)
        try:
            await hass.services.async_call(
                "assist_satellite",
                "start_conversation",
                {
                    ATTR_ENTITY_ID: satellite,
                    "start_message": DRILL_START_MESSAGES[kind].format(name=name),
                },
                blocking=True,
                context=call.context,
            )
        except ServiceNotFound as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="no_satellite",
                translation_placeholders={"child": name},
            ) from err

    hass.services.async_register(DOMAIN, SERVICE_RESET_PROGRESS, reset_progress, RESET_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_PROGRESS,
        export_progress,
        EXPORT_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(DOMAIN, SERVICE_START_DRILL, start_drill, START_DRILL_SCHEMA)


def _manager(hass: HomeAssistant) -> ProgressManager:
    entries: list[Any] = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    return entries[0].runtime_data.progress


def _sessions(hass: HomeAssistant) -> ChildSessions:
    return hass.config_entries.async_loaded_entries(DOMAIN)[0].runtime_data.sessions


def _export(hass: HomeAssistant, manager: ProgressManager, child_id: str) -> dict[str, Any]:
    """Everything Blip stores about a child: their settings, the progress file, the unfinished
    drill kept in blip.child_sessions and the paired devices (never a token's hash)."""
    entry = hass.config_entries.async_loaded_entries(DOMAIN)[0]
    runtime = entry.runtime_data
    subentry = entry.subentries.get(child_id)
    return {
        **manager.export(child_id),
        "settings": dict(subentry.data) if subentry is not None else {},
        "unfinished_drill": runtime.sessions.export(child_id),
        "paired_devices": runtime.devices.book.listing(child_id) if runtime.devices else [],
    }


def _child_from_call(hass: HomeAssistant, child: str) -> tuple[ProgressManager, str]:
    """The progress manager and child id behind a child's device, or one of their entities.

    Entities are accepted so a dashboard button can name the child by an entity id it shows.
    """
    manager = _manager(hass)
    child_ids = set(manager.child_ids)
    entity = er.async_get(hass).async_get(child)
    if entity is not None and entity.config_subentry_id in child_ids:
        return manager, entity.config_subentry_id
    device = dr.async_get(hass).async_get(child)
    if device is not None:
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier in child_ids:
                return manager, identifier
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_child",
        translation_placeholders={"device": child},
    )
