"""Paired devices of one Blip entry: the pairing book in a Store, and each device's live state."""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
import time
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from ..const import DOMAIN
from .pairing import DeviceRecord, PairingBook

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0
# hass.data key: entry id -> DeviceAccess (the views find the loaded entry's devices here).
DATA_KEY: Final = f"{DOMAIN}_device_access"
# A turn's audio can be fetched (again, e.g. by Safari's range probe) for this long.
AUDIO_TURN_TTL: Final = 300.0
MAX_AUDIO_TURNS: Final = 32


@dataclass
class AudioTurn:
    """A turn's spoken answer, waiting to be fetched by the device that asked."""

    stream: Any  # homeassistant.components.tts.ResultStream
    device_id: str
    content_type: str
    created: float = field(default_factory=time.monotonic)


class DeviceAccess:
    """The pairing book of one entry, persisted; conversations and audio of paired devices."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Storage is per entry, so removing Blip removes its devices with it."""
        self.hass = hass
        self.entry_id = entry_id
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.devices.{entry_id}", private=True
        )
        self.book = PairingBook()
        # The conversation each device continues (Home Assistant's chat session id).
        self.conversations: dict[str, str] = {}
        self.audio_turns: dict[str, AudioTurn] = {}

    async def async_load(self) -> None:
        """Read the stored devices; drop those unused past their expiry."""
        data = await self._store.async_load()
        self.book = PairingBook(data)
        if expired := self.book.expire_unused():
            _LOGGER.info("%d paired Blip device(s) expired unused", len(expired))
        self.save()

    async def async_remove(self) -> None:
        """Blip was removed: forget every device."""
        await self._store.async_remove()

    async def async_flush(self) -> None:
        """Write now (unload), replacing any delayed save."""
        await self._store.async_save(self.book.as_dict())
        self.book.dirty = False

    @callback
    def save(self) -> None:
        """Write soon, if anything changed."""
        if self.book.dirty:
            self.book.dirty = False
            self._store.async_delay_save(self.book.as_dict, SAVE_DELAY)

    @callback
    def forget(self, record: DeviceRecord) -> None:
        """A device was revoked: drop its conversation and pending audio too."""
        self.conversations.pop(record.device_id, None)
        for turn_id in [t for t, a in self.audio_turns.items() if a.device_id == record.device_id]:
            del self.audio_turns[turn_id]
        self.save()

    @callback
    def add_audio_turn(self, turn_id: str, turn: AudioTurn) -> None:
        """Keep a turn's audio for the device to fetch; old ones go."""
        now = time.monotonic()
        for old in [t for t, a in self.audio_turns.items() if now - a.created > AUDIO_TURN_TTL]:
            del self.audio_turns[old]
        while len(self.audio_turns) >= MAX_AUDIO_TURNS:
            del self.audio_turns[next(iter(self.audio_turns))]
        self.audio_turns[turn_id] = turn

    @callback
    def audio_turn(self, turn_id: str) -> AudioTurn | None:
        """A turn's audio, while it is fresh."""
        turn = self.audio_turns.get(turn_id)
        if turn is None or time.monotonic() - turn.created > AUDIO_TURN_TTL:
            self.audio_turns.pop(turn_id, None)
            return None
        return turn

    def as_diagnostics(self) -> dict[str, Any]:
        """Counts per child id only: no names, tokens or hashes."""
        per_child: dict[str, int] = {}
        for record in self.book.devices.values():
            per_child[record.child_id] = per_child.get(record.child_id, 0) + 1
        return {"paired_devices": per_child, "audio_turns": len(self.audio_turns)}


@callback
def async_get_access(hass: HomeAssistant) -> DeviceAccess | None:
    """The loaded entry's device access (Blip has a single entry)."""
    accesses: dict[str, DeviceAccess] = hass.data.get(DATA_KEY, {})
    return next(iter(accesses.values()), None)
