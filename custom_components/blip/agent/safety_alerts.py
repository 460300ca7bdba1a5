"""Tell the grown-ups when a child's turn needs their attention.

Minimal content only: which child, what kind of concern, when, and on which satellite. Never
the child's words: the alert's job is to make an adult go and listen, not to forward a
transcript to phones and logs. Disclosures of abuse or violence at home go only to the one
adult the family designated, because the person hurting a child may be another adult in the
house.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import logging
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from ..brain import SafetyCategory
from ..const import EVENT_SAFETY_SIGNAL

_LOGGER = logging.getLogger(__name__)

NOTIFY_TIMEOUT = 10.0

_CATEGORY_WORDS: dict[SafetyCategory, str] = {
    SafetyCategory.SELF_HARM: "wanting to hurt themselves",
    SafetyCategory.ABUSE: "someone hurting them",
    SafetyCategory.GROOMING: "someone asking them for secrets, pictures or personal details",
    SafetyCategory.BULLYING: "being bullied",
    SafetyCategory.VIOLENCE_AT_HOME: "fighting or violence at home",
    SafetyCategory.IMMEDIATE_DANGER: "being in danger right now",
    SafetyCategory.RUNNING_AWAY: "running away",
}


@dataclass(frozen=True)
class SafetySignal:
    """One safety turn, as much as an adult needs to know and no more."""

    child_id: str  # the child's subentry id
    child_name: str
    category: SafetyCategory | None
    designated_adult_only: bool
    satellite_id: str | None
    device_id: str | None

    def event_data(self, time_iso: str) -> dict[str, Any]:
        """The ``blip_safety_signal`` event's data."""
        return {
            "child": self.child_name,
            "child_id": self.child_id,
            "category": self.category.value if self.category else "unknown",
            "time": time_iso,
            "satellite": self.satellite_id or self.device_id,
        }


def alert_targets(
    signal: SafetySignal, notify_services: list[str], designated_adult: str | None
) -> list[str]:
    """Which notify services hear about this signal."""
    if signal.designated_adult_only:
        return [designated_adult] if designated_adult else []
    targets = list(dict.fromkeys(notify_services))
    if designated_adult and designated_adult not in targets:
        targets.append(designated_adult)
    return targets


def alert_message(hass: HomeAssistant, signal: SafetySignal, time_local: str) -> str:
    """The notification text: the child, the kind of concern, when and where."""
    concern = (
        _CATEGORY_WORDS.get(signal.category, "something worrying")
        if signal.category
        else ("something worrying")
    )
    where = ""
    if signal.satellite_id and (state := hass.states.get(signal.satellite_id)):
        where = f" on {state.name}"
    return (
        f"At {time_local}{where}, {signal.child_name} said something to Blip about {concern}. "
        f"Blip told {signal.child_name} to talk to a trusted grown-up. Please check in with "
        f"{signal.child_name} soon."
    )


async def async_send_safety_alerts(
    hass: HomeAssistant,
    signal: SafetySignal,
    notify_services: list[str],
    designated_adult: str | None,
    context: Context | None = None,
) -> None:
    """Fire ``blip_safety_signal`` and notify the adults for this category.

    Never raises: a missing or failing notify service is logged (without the child's words)
    and the other adults are still told.
    """
    now = dt_util.now()
    hass.bus.async_fire(EVENT_SAFETY_SIGNAL, signal.event_data(now.isoformat()), context=context)
    targets = alert_targets(signal, notify_services, designated_adult)
    if not targets:
        if signal.designated_adult_only:
            _LOGGER.warning(
                "A safety signal for a child needs the designated adult, but none is set in "
                "Blip's options; only the %s event was fired",
                EVENT_SAFETY_SIGNAL,
            )
        return
    message = alert_message(hass, signal, now.strftime("%H:%M"))
    for target in targets:
        domain, _, service = target.partition(".")
        if domain != "notify" or not service:
            _LOGGER.warning("Blip's safety alert target %s is not a notify service", target)
            continue
        try:
            async with asyncio.timeout(NOTIFY_TIMEOUT):
                await hass.services.async_call(
                    "notify",
                    service,
                    {"title": "Blip: please check in", "message": message},
                    blocking=True,
                    context=context,
                )
        except (HomeAssistantError, TimeoutError, ValueError) as err:
            _LOGGER.warning("Could not send Blip's safety alert to %s: %s", target, err)
        except Exception:
            _LOGGER.exception("Unexpected error sending Blip's safety alert to %s", target)
