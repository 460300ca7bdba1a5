"""This week's spelling words from school, kept in a Home Assistant to-do list.

A parent types the words into a ``todo`` entity (the list they already edit in the companion
app) chosen in the child's settings. Blip reads the unticked items, drills those words first
(``ProgressManager.school_words``), and ticks each one off the list when the scheduler says it
is mastered. Only the real ``todo`` actions are used: ``todo.get_items`` and
``todo.update_item``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.start import async_at_started

from .const import CONF_SCHOOL_WORDS, EVENT_ITEM_MASTERED, LOGGER, SUBENTRY_CHILD
from .progress_model import KIND_SPELLING, MAX_ITEM_LENGTH

if TYPE_CHECKING:
    from . import BlipConfigEntry

TODO_DOMAIN: Final = "todo"
NEEDS_ACTION: Final = "needs_action"
COMPLETED: Final = "completed"
# A list item is a word to spell when it is one word of letters (an apostrophe allowed).
_WORD = re.compile(r"^[a-z]+(?:'[a-z]+)?$")
MAX_SCHOOL_WORDS: Final = 50


def word_from_item(summary: Any) -> str | None:
    """ "Because " -> "because"; None for anything that is not one spelling word."""
    if not isinstance(summary, str):
        return None
    word = summary.strip().strip(".,!?;:").lower().replace("’", "'")
    if not word or len(word) > min(MAX_ITEM_LENGTH, 30) or not _WORD.match(word):
        return None
    return word


class SchoolWordLists:
    """Every child's school list for one Blip entry: read on start and on each edit."""

    def __init__(self, hass: HomeAssistant, entry: BlipConfigEntry) -> None:
        """Note which child uses which list; nothing is read until ``async_start``."""
        self.hass = hass
        self.entry = entry
        self._lists: dict[str, str] = {
            subentry.subentry_id: subentry.data[CONF_SCHOOL_WORDS]
            for subentry in entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_CHILD and subentry.data.get(CONF_SCHOOL_WORDS)
        }
        # child id -> word -> the list item's uid (or summary), to tick it off.
        self._items: dict[str, dict[str, str]] = {}

    @callback
    def async_start(self) -> None:
        """Read the lists once Home Assistant has started, then whenever one changes."""
        if not self._lists:
            return
        entry = self.entry
        entry.async_on_unload(async_at_started(self.hass, self._async_read_all))
        entry.async_on_unload(
            async_track_state_change_event(
                self.hass, sorted(set(self._lists.values())), self._async_list_changed
            )
        )
        entry.async_on_unload(self.hass.bus.async_listen(EVENT_ITEM_MASTERED, self._mastered))

    async def _async_read_all(self, _: HomeAssistant) -> None:
        for child_id in list(self._lists):
            await self.async_read(child_id)

    async def _async_list_changed(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        for child_id, list_id in list(self._lists.items()):
            if list_id == entity_id:
                await self.async_read(child_id)

    async def async_read(self, child_id: str) -> list[str]:
        """Read the child's unticked words into their practice; a missing list reads as none."""
        list_id = self._lists.get(child_id)
        if list_id is None:
            return []
        try:
            response = await self.hass.services.async_call(
                TODO_DOMAIN,
                "get_items",
                {ATTR_ENTITY_ID: list_id, "status": [NEEDS_ACTION]},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            LOGGER.warning("Blip could not read the school word list %s: %s", list_id, err)
            return []
        items = ((response or {}).get(list_id) or {}).get("items") or []
        words: dict[str, str] = {}
        for item in items:
            word = word_from_item(item.get("summary"))
            if word is not None and word not in words and len(words) < MAX_SCHOOL_WORDS:
                words[word] = str(item.get("uid") or item.get("summary"))
        self._items[child_id] = words
        self.entry.runtime_data.progress.set_school_words(child_id, list(words))
        # A word mastered before it was put on the list is ticked off at once.
        progress = self.entry.runtime_data.progress.progress(child_id)
        if progress is not None:
            for word in list(words):
                record = progress.words.get(word)
                if record is not None and record.mastered_on is not None:
                    await self._async_tick_off(child_id, word)
        return list(words)

    @callback
    def _mastered(self, event: Event) -> None:
        child_id = event.data.get("child_id")
        word = event.data.get("item")
        if (
            event.data.get("kind") == KIND_SPELLING
            and child_id in self._items
            and word in self._items[child_id]
        ):
            self.entry.async_create_task(
                self.hass, self._async_tick_off(child_id, word), name="blip_tick_off_school_word"
            )

    async def _async_tick_off(self, child_id: str, word: str) -> None:
        item = self._items.get(child_id, {}).pop(word, None)
        list_id = self._lists.get(child_id)
        if item is None or list_id is None:
            return
        try:
            await self.hass.services.async_call(
                TODO_DOMAIN,
                "update_item",
                {ATTR_ENTITY_ID: list_id, "item": item, "status": COMPLETED},
                blocking=True,
            )
        except HomeAssistantError as err:
            LOGGER.warning("Blip could not tick a mastered word off %s: %s", list_id, err)
