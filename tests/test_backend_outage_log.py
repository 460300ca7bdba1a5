"""An outage is logged once when a backend stops answering and once when it is back
(log-when-unavailable), not at every failed turn."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest

from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import FakeAnthropic, FakeLocalModel


async def test_outage_and_recovery_are_logged_once_each(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Five failed turns: one warning; the first answer after the rest: one info line."""
    services = await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    caplog.set_level(logging.INFO, logger="custom_components.blip")
    openai_server.script.status = 500
    for _ in range(5):
        await converse(hass, "do you like dogs")
    down = [r for r in caplog.records if "is not answering" in r.getMessage()]
    assert len(down) == 1 and down[0].levelno == logging.WARNING
    assert "the local model" in down[0].getMessage()

    openai_server.script.status = None
    services.health.rest_s = 0  # the rest is over: the next chat turn tries it again
    await converse(hass, "do you like dogs")
    back = [r for r in caplog.records if "is answering again" in r.getMessage()]
    assert len(back) == 1 and back[0].levelno == logging.INFO
