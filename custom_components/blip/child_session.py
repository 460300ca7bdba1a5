"""State that follows the child: their unfinished practice session, from satellite to satellite.

Home Assistant's conversations are per satellite and forgotten on restart, so a drill kept with
the conversation is lost when the child walks to another room. Here it is kept per child, in
one store file (``.storage/blip.child_sessions``), and offered back on any satellite within the
family's window (``CONF_RESUME_MINUTES``): "We were on word four — ready for because?".

``blip.start_drill`` leaves its request here too: the next turn of that child, on whichever
satellite answers, starts (or resumes) the drill. Real conversation state, not a marker
smuggled through the model's system prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .brain.drills import DrillState
from .brain.resume import resume_offer, wants_to_resume
from .const import CONF_RESUME_MINUTES, DEFAULT_RESUME_MINUTES, DOMAIN, LOGGER

if TYPE_CHECKING:
    from . import BlipConfigEntry

STORAGE_VERSION: Final = 1
STORAGE_KEY: Final = f"{DOMAIN}.child_sessions"
SAVE_DELAY: Final = 5
# How long blip.start_drill's "Are you ready?" waits for the child's answer.
DRILL_REQUEST_WINDOW: Final = timedelta(minutes=3)


@dataclass(frozen=True)
class TurnStart:
    """How a turn begins: resume a saved drill (with what to say), or start a requested one."""

    resume: DrillState | None = None
    resume_text: str | None = None
    start_kind: str | None = None


@dataclass
class SavedSession:
    """A child's unfinished drill: where it was left, and when."""

    drill: DrillState
    conversation_id: str
    updated: datetime
    satellite: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "drill": self.drill.to_dict(),
            "conversation_id": self.conversation_id,
            "updated": self.updated.isoformat(),
            "satellite": self.satellite,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SavedSession:
        """Read a stored session; ValueError when it is not one."""
        if not isinstance(data, dict):
            raise ValueError("a saved session must be an object")
        updated = dt_util.parse_datetime(str(data.get("updated")))
        if updated is None or updated.tzinfo is None:
            raise ValueError("a saved session needs an aware time")
        satellite = data.get("satellite")
        return cls(
            drill=DrillState.from_dict(data.get("drill") or {}),
            conversation_id=str(data.get("conversation_id") or ""),
            updated=updated,
            satellite=satellite if isinstance(satellite, str) else None,
        )


class ChildSessions:
    """Every child's unfinished session for one Blip entry (``runtime_data.sessions``)."""

    def __init__(self, hass: HomeAssistant, entry: BlipConfigEntry) -> None:
        """Prepare; nothing is read until ``async_load``."""
        self.hass = hass
        self._store = Store[dict[str, Any]](hass, STORAGE_VERSION, STORAGE_KEY, atomic_writes=True)
        self._sessions: dict[str, SavedSession] = {}
        self._requests: dict[str, tuple[str, datetime]] = {}
        try:
            minutes = max(0, int(entry.options.get(CONF_RESUME_MINUTES, DEFAULT_RESUME_MINUTES)))
        except (TypeError, ValueError):
            minutes = DEFAULT_RESUME_MINUTES
        self.window = timedelta(minutes=minutes)
        self._child_ids = {subentry.subentry_id for subentry in entry.subentries.values()}

    async def async_load(self) -> None:
        """Read the saved sessions; a damaged one is dropped (a drill is cheap to restart)."""
        try:
            stored = await self._store.async_load() or {}
        except Exception:
            LOGGER.warning("Blip's saved drill sessions could not be read; starting afresh")
            stored = {}
        children = stored.get("children", {}) if isinstance(stored, dict) else {}
        for child_id, raw in children.items() if isinstance(children, dict) else ():
            if child_id not in self._child_ids:
                continue
            try:
                self._sessions[child_id] = SavedSession.from_dict(raw)
            except ValueError as err:
                LOGGER.warning("A saved drill session was damaged and is dropped: %s", err)

    async def async_unload(self) -> None:
        """Write what is pending now (a reload reads the file at once)."""
        await self._store.async_save(self._data())

    @staticmethod
    async def async_remove(hass: HomeAssistant) -> None:
        """Blip is removed: remove the saved sessions with it."""
        await Store[dict[str, Any]](hass, STORAGE_VERSION, STORAGE_KEY).async_remove()

    def export(self, child_id: str) -> dict[str, Any] | None:
        """The child's unfinished drill as stored, for the family's export (None: none kept)."""
        saved = self._sessions.get(child_id)
        return saved.to_dict() if saved is not None else None

    # --- the agent's API ----------------------------------------------------------------------

    def resumable(self, child_id: str, conversation_id: str) -> DrillState | None:
        """The child's unfinished drill from another conversation, within the window."""
        saved = self._sessions.get(child_id)
        if saved is None or saved.conversation_id == conversation_id:
            return None
        if dt_util.utcnow() - saved.updated > self.window:
            return None
        return saved.drill

    def follow(self, child_id: str, conversation_id: str, drill: DrillState) -> DrillState | None:
        """A conversation's drill as the child left it: moved on (or finished) on another
        satellite since this conversation last spoke, the child's latest state wins."""
        saved = self._sessions.get(child_id)
        if saved is None:
            return None  # finished elsewhere
        if saved.conversation_id == conversation_id:
            return drill
        saved.conversation_id = conversation_id
        return saved.drill

    @callback
    def save(
        self,
        child_id: str,
        conversation_id: str,
        drill: DrillState | None,
        satellite: str | None,
    ) -> None:
        """Keep the child's session as it stands after a turn (None: it finished)."""
        if drill is None:
            if self._sessions.pop(child_id, None) is None:
                return
        else:
            self._sessions[child_id] = SavedSession(
                drill, conversation_id, dt_util.utcnow(), satellite
            )
        self._store.async_delay_save(self._data, SAVE_DELAY)

    @callback
    def request_drill(self, child_id: str, kind: str) -> None:
        """blip.start_drill asked the child "Are you ready?": their answer starts ``kind``."""
        self._requests[child_id] = (kind, dt_util.utcnow())

    @callback
    def take_drill_request(self, child_id: str) -> str | None:
        """The drill kind blip.start_drill asked for, if it is recent; asked once."""
        request = self._requests.pop(child_id, None)
        if request is None or dt_util.utcnow() - request[1] > DRILL_REQUEST_WINDOW:
            return None
        return request[0]

    @callback
    def turn_start(self, child_id: str, conversation_id: str, text: str) -> TurnStart:
        """For a turn with no drill running in its conversation (and no safety concern): carry
        on the child's unfinished drill if they ask (or blip.start_drill asked for that kind),
        or start the drill blip.start_drill asked for."""
        requested = self.take_drill_request(child_id)
        saved = self.resumable(child_id, conversation_id)
        if saved is not None and (
            requested == saved.kind or (requested is None and wants_to_resume(text, saved))
        ):
            return TurnStart(resume=saved, resume_text=resume_offer(saved))
        return TurnStart(start_kind=requested)

    def _data(self) -> dict[str, Any]:
        return {
            "children": {child_id: saved.to_dict() for child_id, saved in self._sessions.items()}
        }
