"""Helpers for the device endpoint's tests and benchmark: pair through the real HTTP views, take
a turn and read its NDJSON events and streamed audio as the kid's page does."""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import subprocess
import time
from typing import Any

from aiohttp import ClientSession
from homeassistant.components import assist_pipeline
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blip.const import DOMAIN
from tests import wyoming_fixtures
from tests.agent_helpers import AGENT_ID
from tests.voice_fixtures import payload_offset
from tests.wyoming_fixtures import ServerProcess, default_voice

BASE = "/api/blip/device"


def child_device_id(hass: HomeAssistant, entry_id: str) -> str:
    """The HA device of the entry's (only) child."""
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    [child_id] = list(entry.subentries)
    [device] = {
        d.id: d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
        if (DOMAIN, child_id) in d.identifiers
    }
    return device


async def start_pairing(hass: HomeAssistant, entry_id: str, **data: Any) -> dict[str, Any]:
    """blip.start_pairing for the child, as a parent calls it."""
    response = await hass.services.async_call(
        DOMAIN,
        "start_pairing",
        {"child": child_device_id(hass, entry_id), **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def pair(client: ClientSession, code: str, name: str = "Ada's tablet") -> str:
    """Trade the code for a token over HTTP."""
    response = await client.post(f"{BASE}/pair", json={"code": code, "name": name})
    assert response.status == 200, await response.text()
    return str((await response.json())["token"])


@dataclass
class DeviceTurn:
    """What the page got for one turn."""

    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    audio: bytes = b""
    first_audio_at: float | None = None
    sent_at: float = 0.0
    status: int = 0
    # (arrival time, bytes received before this chunk) for every audio chunk.
    audio_chunks: list[tuple[float, int]] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for _, event in self.events if event["type"] == kind]

    @property
    def done(self) -> dict[str, Any]:
        [done] = self.of_type("done")
        return done

    @property
    def shown_text(self) -> str:
        return "".join(event["text"] for event in self.of_type("text"))

    def first_text_at(self) -> float | None:
        return next((at for at, event in self.events if event["type"] == "text"), None)

    def wav_seconds(self) -> float:
        """How long the streamed WAV plays."""
        offset, rate, frame_bytes = _wav_layout(self.audio)
        return (len(self.audio) - offset) / (rate * frame_bytes)

    def stall_ms(self) -> float:
        """How far the WAV fell behind playing it from its first byte on (0: never starved)."""
        offset, rate, frame_bytes = _wav_layout(self.audio)
        if self.first_audio_at is None:
            return 0.0
        late = 0.0
        for arrived, before in self.audio_chunks:
            due = self.first_audio_at + max(0, before - offset) / (rate * frame_bytes)
            late = max(late, arrived - due)
        return late * 1000


def _wav_layout(data: bytes) -> tuple[int, int, int]:
    """(header bytes, sample rate, bytes per frame) of a streamed WAV."""
    offset = payload_offset(data, "wav")
    assert offset is not None and data[12:16] == b"fmt ", "not a streamed WAV"
    rate = int.from_bytes(data[24:28], "little")
    frame_bytes = int.from_bytes(data[32:34], "little")
    return offset, rate, frame_bytes


async def take_turn(
    client: ClientSession,
    token: str,
    *,
    text: str | None = None,
    audio: bytes | None = None,
    content_type: str = "audio/webm",
    fetch_audio: bool = True,
    audio_format: str = "mp3",
) -> DeviceTurn:
    """POST a turn; read events as they come and fetch the audio the moment its URL arrives."""
    import asyncio

    turn = DeviceTurn()
    headers = {"Authorization": f"Bearer {token}"}
    reader: asyncio.Task[None] | None = None

    async def read_audio(url: str) -> None:
        async with client.get(url) as response:
            assert response.status == 200
            async for data in response.content.iter_any():
                turn.audio_chunks.append((time.monotonic(), len(turn.audio)))
                turn.audio += data
                # First audio: the first byte past the container's header.
                offset = payload_offset(turn.audio, audio_format)
                if turn.first_audio_at is None and offset is not None and len(turn.audio) > offset:
                    turn.first_audio_at = time.monotonic()

    turn.sent_at = time.monotonic()
    if text is not None:
        request = client.post(
            f"{BASE}/turn", json={"text": text, "format": audio_format}, headers=headers
        )
    else:
        request = client.post(
            f"{BASE}/turn", data=audio, headers={**headers, "Content-Type": content_type}
        )
    async with request as response:
        turn.status = response.status
        if response.status != 200:
            turn.events.append((time.monotonic(), {"type": "http", **await response.json()}))
            return turn
        async for line in response.content:
            if not line.strip():
                continue
            event = json.loads(line)
            turn.events.append((time.monotonic(), event))
            if event["type"] == "start" and event.get("audio") and fetch_audio:
                reader = asyncio.create_task(read_audio(event["audio"]))
    if reader is not None:
        await asyncio.wait_for(reader, 60)
    return turn


# -- the child's voice input: the project's STT server and recordings as browsers make them ------


stt_server = wyoming_fixtures.stt_server


async def use_wyoming_stt(hass: HomeAssistant, server: ServerProcess) -> str:
    """HA's wyoming integration on the STT server, in the pipeline that talks to Blip for Ada."""
    entry = MockConfigEntry(
        domain="wyoming",
        data={"host": server.address.host, "port": server.address.port},
        title="stt",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    [stt_entity] = [
        e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    ]
    pipeline = assist_pipeline.async_get_pipeline(hass)
    await assist_pipeline.async_update_pipeline(
        hass, pipeline, conversation_engine=AGENT_ID, stt_engine=stt_entity, stt_language="en"
    )
    return stt_entity


def speech_pcm(text: str, lead: float = 0.4, trail: float = 0.4) -> tuple[bytes, int]:
    """Piper saying ``text`` (the same audio every run) with silence around; (pcm, rate)."""
    from piper import SynthesisConfig

    voice = default_voice()
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=0.9)
    pcm = b"".join(c.audio_int16_bytes for c in voice.piper.synthesize(text, config))
    rate = voice.sample_rate
    return b"\0\0" * int(rate * lead) + pcm + b"\0\0" * int(rate * trail), rate


def recording(text: str, codec: list[str], container: str) -> bytes:
    """Piper saying ``text``, encoded as a browser records it (webm/opus, mp4/aac, wav)."""
    pcm, rate = speech_pcm(text)
    # An mp4 written to a pipe must be fragmented (as MediaRecorder's is).
    flags = ["-movflags", "frag_keyframe+empty_moov"] if container == "mp4" else []
    command = [
        *("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "s16le"),
        *("-ar", str(rate), "-ac", "1", "-i", "pipe:0"),
        *codec,
        *flags,
        *("-f", container, "pipe:1"),
    ]
    result = subprocess.run(command, input=pcm, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout
