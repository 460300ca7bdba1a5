"""Helpers for the device endpoint's tests and benchmark: pair through the real HTTP views, take
a turn and read its NDJSON events and streamed audio as the kid's page does."""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import time
from typing import Any

from aiohttp import ClientSession
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.blip.const import DOMAIN

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


async def take_turn(
    client: ClientSession,
    token: str,
    *,
    text: str | None = None,
    audio: bytes | None = None,
    content_type: str = "audio/webm",
    fetch_audio: bool = True,
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
                if data and turn.first_audio_at is None:
                    turn.first_audio_at = time.monotonic()
                turn.audio += data

    turn.sent_at = time.monotonic()
    if text is not None:
        request = client.post(f"{BASE}/turn", json={"text": text}, headers=headers)
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
