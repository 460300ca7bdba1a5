"""Diagnostics and the DEBUG logs of the libraries Blip uses keep a family's secrets and a
child's words to themselves: a real Blip on loopback Claude and local-model servers, with
debug logging on for the Anthropic SDK, httpx and Home Assistant's conversation."""

from __future__ import annotations

import logging
import re

from homeassistant.core import HomeAssistant
import pytest

from custom_components.blip.const import (
    CONF_AREAS,
    CONF_DESIGNATED_ADULT,
    CONF_FILLERS,
    CONF_SAFETY_NOTIFY,
    CONF_SATELLITES,
    CONF_VOICE_HOST,
)
from custom_components.blip.diagnostics import TO_REDACT, async_get_config_entry_diagnostics
from custom_components.blip.log_privacy import REDACTED, WATCHED_LOGGERS, PrivateWordsFilter
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import VALID_KEY, FakeAnthropic, FakeLocalModel

CLAUDE_PASSWORD = "claude-proxy-pass-7781"
LOCAL_PASSWORD = "local-model-pass-9932"
MUMS_PHONE = "notify.mobile_app_mums_phone"
AUNT = "notify.mobile_app_aunt_josephine"
SATELLITE = "assist_satellite.adas_bedroom_speaker"
AREA = "adas_bedroom"
FILLER = "Let me have a really good think about that one, my clever friend, hold on."
# What Ada says: a chat turn (local model) and a story (Claude).
CHAT_WORDS = "my hamster Pipkin ate a blueberry today"
STORY_WORDS = "tell me a story about my hamster Pipkin and the moon"


def _with_credentials(url: str, user: str, password: str) -> str:
    return url.replace("http://", f"http://{user}:{password}@", 1)


def _contains(text: str, secret: str) -> bool:
    """As a word ("Ada" is not in "Adapters")."""
    return re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", text) is not None


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Debug logging on, as a family turns it on to report a problem."""
    caplog.set_level(logging.DEBUG)
    for name in (*WATCHED_LOGGERS, "homeassistant.components.conversation"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


async def test_debug_logs_and_diagnostics_keep_secrets_and_words(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    """Neither the API key, the credentials in the URLs, notify targets, satellites, areas,
    the family's filler, the child's name nor her words reach a third-party DEBUG record or
    the diagnostics; Blip's own records above DEBUG never hold her words either."""
    entry = blip_entry(
        claude_url=_with_credentials(anthropic_server.base_url, "blip", CLAUDE_PASSWORD),
        local=openai_server,
        local_url=_with_credentials(openai_server.base_url, "edu", LOCAL_PASSWORD),
        options={
            CONF_SAFETY_NOTIFY: [MUMS_PHONE],
            CONF_DESIGNATED_ADULT: AUNT,
            CONF_FILLERS: FILLER,
        },
        child={CONF_SATELLITES: [SATELLITE], CONF_AREAS: [AREA]},
    )
    await setup_blip(hass, entry)
    chat = await converse(hass, CHAT_WORDS)
    story = await converse(hass, STORY_WORDS, chat.conversation_id)
    assert chat.speech and story.speech
    assert openai_server.chat_requests and anthropic_server.chat_requests  # both answered

    private = [
        VALID_KEY,
        CLAUDE_PASSWORD,
        LOCAL_PASSWORD,
        MUMS_PHONE,
        AUNT,
        SATELLITE,
        AREA,
        FILLER,
        "Ada",
        CHAT_WORDS,
        STORY_WORDS,
    ]
    third_party = [r for r in debug_logs.records if not r.name.startswith("custom_components")]
    messages = {r.name: [] for r in third_party}
    for record in third_party:
        messages[record.name].append(record.getMessage())
        for secret in private:
            assert not _contains(record.getMessage(), secret), (record.name, record.msg)
    # Not hollow: the records that would have given Ada away were logged, redacted.
    request_dumps = [
        m
        for m in messages["anthropic._base_client"]
        if m.startswith("Request options") and "/v1/messages" in m
    ]
    assert request_dumps and all(REDACTED in m for m in request_dumps)
    assert any(
        m.startswith("Processing in en: ") and REDACTED in m
        for m in messages["homeassistant.components.conversation.agent_manager"]
    )
    for record in debug_logs.records:
        if record.name.startswith("custom_components") and record.levelno > logging.DEBUG:
            for words in (CHAT_WORDS, STORY_WORDS):
                assert words not in record.getMessage(), (record.name, record.msg)

    diagnostics = repr(await async_get_config_entry_diagnostics(hass, entry))
    for secret in [*private, anthropic_server.base_url, openai_server.base_url]:
        assert not _contains(diagnostics, secret), secret
    assert CONF_VOICE_HOST in TO_REDACT  # the voice server's host goes like the URLs

    # Unloaded, Blip stops filtering other libraries' logs.
    log_privacy = entry.runtime_data.log_privacy
    assert all(log_privacy in logging.getLogger(name).filters for name in WATCHED_LOGGERS)
    assert await hass.config_entries.async_unload(entry.entry_id)
    for name in WATCHED_LOGGERS:
        assert log_privacy not in logging.getLogger(name).filters


def test_filter_redacts_longest_first_and_leaves_other_records_alone() -> None:
    """A child's sentence goes whole; a record without anything private is untouched."""
    private = PrivateWordsFilter()
    private.hide_settings({"name": "Ada", "claude_base_url": "https://me:pw-123@proxy.lan"})
    private.hide_turn("Ada likes cats")
    record = logging.LogRecord("httpx", logging.DEBUG, "", 0, "sent %s via %s", None, None)
    record.args = ("Ada likes cats, Ada said", "https://me:pw-123@proxy.lan/v1")
    assert private.filter(record)
    assert (
        record.getMessage()
        == f"sent {REDACTED}, {REDACTED} said via https://{REDACTED}@proxy.lan/v1"
    )
    other = logging.LogRecord("httpx", logging.DEBUG, "", 0, "GET %s", ("/health",), None)
    assert private.filter(other)
    assert other.msg == "GET %s" and other.args == ("/health",)
