"""Blip's paired-device endpoint in a real Home Assistant: pairing, tokens, turns with streamed
audio from Blip voice (the project's Wyoming TTS server, real piper voice), loopback Claude.

Recorded questions go through the project's real Wyoming STT server (whisper), set up through
Home Assistant's own wyoming integration, as a family has it.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.blip.progress_model import GOODBYES
from tests import device_helpers, voice_fixtures
from tests.agent_helpers import blip_entry
from tests.device_helpers import BASE, pair, recording, start_pairing, take_turn, use_wyoming_stt
from tests.llm_servers import FakeAnthropic
from tests.voice_fixtures import ffmpeg_decode, rms_level, setup_blip_with_voice
from tests.wyoming_fixtures import ServerAddress, ServerProcess

blip_tts_engine = voice_fixtures.blip_tts_engine
stt_server = device_helpers.stt_server
tts_server = voice_fixtures.tts_server

THINKING_SECONDS = 1.0
MP3_RATE = 22050


@pytest.fixture
async def slow_claude(anthropic_server: FakeAnthropic) -> FakeAnthropic:
    anthropic_server.script.first_token_delay = THINKING_SECONDS
    return anthropic_server


async def _setup(hass: HomeAssistant, claude: FakeAnthropic, address: ServerAddress) -> Any:
    assert await async_setup_component(hass, "assist_pipeline", {})
    return await setup_blip_with_voice(hass, address, blip_entry(claude))


def _mp3_seconds(data: bytes) -> tuple[float, float]:
    frames = ffmpeg_decode(data, "mp3", MP3_RATE, 1)
    return len(frames) / MP3_RATE, rms_level(frames)


async def test_pairing_then_a_spelling_turn_streams_text_and_blips_voice(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    tts_server: ServerAddress,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The parent's action gives a code and a QR code; the device trades it for a token; a
    spelling question is answered by the child's own agent (drill engine) with text and MP3."""
    entry = await _setup(hass, anthropic_server, tts_server)
    client = await hass_client_no_auth()

    started = await start_pairing(hass, entry.entry_id, name="Ada's tablet")
    assert len(started["code"]) == 6 and started["url"].endswith(f"{BASE}/?code={started['code']}")
    notifications = hass.states.async_all("persistent_notification") or []
    from homeassistant.components.persistent_notification import (
        _async_get_or_create_notifications,
    )

    [note] = _async_get_or_create_notifications(hass).values()
    assert started["code"] in note["message"] and "data:image/svg+xml" in note["message"]
    assert notifications == []  # notifications are not states any more; the store has it

    token = await pair(client, started["code"])
    hello = await client.get(f"{BASE}/hello", headers={"Authorization": f"Bearer {token}"})
    assert (await hello.json()) == {"child": "Ada", "device": "Ada's tablet", "paused": False}

    turn = await take_turn(client, token, text="how do you spell cat")
    assert turn.status == 200
    kinds = [event["type"] for _, event in turn.events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "text" in kinds
    assert "C, A, T" in turn.done["text"] and turn.done["text"] == turn.shown_text
    assert turn.done["napping"] is None
    assert anthropic_server.chat_requests == []  # the drill engine answered
    timing = entry.runtime_data.timings.last
    assert (timing.activity, timing.answered_by) == ("spelling", "drill")

    seconds, level = _mp3_seconds(turn.audio)
    assert seconds > 1.5 and level > 0.02

    # The same device continues the same conversation (the drill state follows it).
    again = await take_turn(client, token, text="how do you spell dog")
    assert "D, O, G" in again.done["text"]


async def test_a_slow_question_gets_the_fillers_audio_before_claude_answers(
    hass: HomeAssistant,
    slow_claude: FakeAnthropic,
    tts_server: ServerAddress,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Claude takes a second: the filler's text and audio reach the device well before that,
    and Claude's answer follows in the same audio stream."""
    entry = await _setup(hass, slow_claude, tts_server)
    client = await hass_client_no_auth()
    token = await pair(client, (await start_pairing(hass, entry.entry_id))["code"])

    turn = await take_turn(client, token, text="why is the sky blue")
    assert turn.first_audio_at is not None
    assert turn.first_audio_at - turn.sent_at < THINKING_SECONDS / 2
    first_text = turn.of_type("text")[0]["text"]
    assert "blue" not in first_text.lower()  # a filler, not the answer
    assert "scatters blue light" in turn.done["text"]
    assert len(slow_claude.chat_requests) == 1
    seconds, level = _mp3_seconds(turn.audio)
    assert seconds > 4.0 and level > 0.02


async def test_wrong_revoked_and_foreign_tokens_get_a_clear_401(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    tts_server: ServerAddress,
    hass_client_no_auth: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A device token opens Blip's endpoint only; revoking it closes that too. Refusals are
    logged with their reason and never with the child's words."""
    assert await async_setup_component(hass, "api", {})  # Home Assistant's REST API
    entry = await _setup(hass, anthropic_server, tts_server)
    client = await hass_client_no_auth()
    token = await pair(client, (await start_pairing(hass, entry.entry_id))["code"])
    auth = {"Authorization": f"Bearer {token}"}

    # Nothing else in Home Assistant accepts it.
    assert (await client.get("/api/states", headers=auth)).status == 401
    assert (await client.get("/api/", headers=auth)).status == 401

    wrong = await client.post(
        f"{BASE}/turn", json={"text": "my secret words"}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await wrong.json()) == {"error": "unauthorized", "reason": "unknown_token"}
    assert (await client.post(f"{BASE}/turn", json={"text": "hi"})).status == 401

    listing = await hass.services.async_call(
        "blip", "list_devices", {}, blocking=True, return_response=True
    )
    [device] = listing["devices"]
    assert device["name"] == "Ada's tablet" and "token_hash" not in device
    await hass.services.async_call(
        "blip", "revoke_device", {"device_id": device["device_id"]}, blocking=True
    )
    revoked = await client.post(f"{BASE}/turn", json={"text": "my secret words"}, headers=auth)
    assert revoked.status == 401
    assert "my secret words" not in caplog.text and "refused (unknown_token)" in caplog.text

    # What is stored: a salted hash, never the token.
    await hass.config_entries.async_unload(entry.entry_id)
    stored = json.dumps(hass_storage[f"blip.devices.{entry.entry_id}"])
    assert token not in stored


async def test_pairing_codes_are_single_use_and_guessing_is_rate_limited(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    tts_server: ServerAddress,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The child's "Pair a device" button shows a code; it pairs once; guessing is stopped."""
    from homeassistant.components.persistent_notification import (
        _async_get_or_create_notifications,
    )

    await _setup(hass, anthropic_server, tts_server)
    client = await hass_client_no_auth()
    [button] = hass.states.async_entity_ids("button")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    [note] = _async_get_or_create_notifications(hass).values()
    code = re.search(r"\*\*(\d{6})\*\*", note["message"]).group(1)  # type: ignore[union-attr]
    await pair(client, code)
    reused = await client.post(f"{BASE}/pair", json={"code": code})
    assert reused.status == 401 and (await reused.json())["reason"] == "unknown_code"
    statuses = [
        (await client.post(f"{BASE}/pair", json={"code": f"{n:06d}"})).status for n in range(12)
    ]
    assert statuses[:9] == [401] * 9 and statuses[-1] == 429


async def test_a_paused_child_sees_blip_napping(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    tts_server: ServerAddress,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The pause switch reaches paired devices as it reaches satellites: a kind goodbye, spoken
    and shown, and the page is told Blip is napping."""
    entry = await _setup(hass, anthropic_server, tts_server)
    client = await hass_client_no_auth()
    token = await pair(client, (await start_pairing(hass, entry.entry_id))["code"])
    switch = next(
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == "switch"
    )
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)

    hello = await client.get(f"{BASE}/hello", headers={"Authorization": f"Bearer {token}"})
    assert (await hello.json())["paused"] is True

    turn = await take_turn(client, token, text="tell me a joke")
    assert turn.done["napping"] == "paused"
    assert turn.done["text"] == GOODBYES["paused"].format(name="Ada")
    seconds, _ = _mp3_seconds(turn.audio)
    assert seconds > 2.0
    assert anthropic_server.chat_requests == []


# -- recorded questions through the real STT server ---------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "codec", "container"),
    [
        ("audio/webm;codecs=opus", ["-c:a", "libopus"], "webm"),
        ("audio/mp4", ["-c:a", "aac"], "mp4"),
        ("audio/wav", [], "wav"),
    ],
)
async def test_a_recorded_question_is_heard_and_answered(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    tts_server: ServerAddress,
    stt_server: ServerProcess,
    hass_client_no_auth: ClientSessionGenerator,
    content_type: str,
    codec: list[str],
    container: str,
) -> None:
    """What Chrome (webm/opus), Safari (mp4/aac) and others (wav) record is decoded, heard by
    the STT engine of the child's pipeline and answered by the drill engine."""
    entry = await _setup(hass, anthropic_server, tts_server)
    await use_wyoming_stt(hass, stt_server)
    client = await hass_client_no_auth()
    token = await pair(client, (await start_pairing(hass, entry.entry_id))["code"])

    audio = recording("How do you spell cat?", codec, container)
    began = time.monotonic()
    turn = await take_turn(client, token, audio=audio, content_type=content_type)
    assert turn.status == 200, turn.events
    heard = turn.of_type("heard")[0]["text"].lower()
    assert "spell" in heard and "cat" in heard, heard
    assert "C, A, T" in turn.done["text"]
    assert time.monotonic() - began < 30
    seconds, level = _mp3_seconds(turn.audio)
    assert seconds > 1.5 and level > 0.02

    noise = await client.post(
        f"{BASE}/turn",
        data=b"this is not audio",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "audio/webm"},
    )
    assert noise.status == 422 and (await noise.json()) == {"error": "not_audio"}
