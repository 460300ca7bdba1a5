"""The learned safety layer inside Home Assistant: loaded at set-up (off the event loop), shared
by the router, and a loud fall-back to the rules when it cannot load."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest

from custom_components.blip.brain import safety_model
from custom_components.blip.brain.safety_model import SafetyModel
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import FakeAnthropic, FakeLocalModel


async def test_the_model_is_loaded_at_set_up_and_shared_by_the_router(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    entry = blip_entry(anthropic_server, openai_server)
    services = await setup_blip(hass, entry)
    model = entry.runtime_data.safety_model
    assert isinstance(model, SafetyModel)
    assert services.router.safety.model is model
    # A disclosure only the learned layer catches reaches Claude, never the local model.
    await converse(hass, "we havent had food since saturday and mum is not answering her phone")
    assert openai_server.chat_requests == []


async def test_a_model_that_fails_to_load_leaves_the_rules_and_an_error(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: object) -> SafetyModel:
        raise OSError("model file unreadable")

    monkeypatch.setattr(safety_model, "load_safety_model", broken)
    entry = blip_entry(anthropic_server, openai_server)
    with caplog.at_level(logging.ERROR):
        services = await setup_blip(hass, entry)
    assert entry.runtime_data.safety_model is None
    assert services.router.safety.model is None
    assert "rules alone" in caplog.text
    await converse(hass, "i want to kill myself")
    assert openai_server.chat_requests == []
