"""This week's school words from a real to-do list (Home Assistant's shopping list todo entity):
read per child, drilled first, re-read when edited, ticked off when mastered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.blip.brain import DrillEngine, DrillResult
from custom_components.blip.const import CONF_SCHOOL_WORDS
from custom_components.blip.school_words import word_from_item
from tests.progress_fixtures import ADA, MORNING, blip_entry, set_up

LIST = "todo.shopping_list"


@pytest.fixture
async def school_list(hass: HomeAssistant, tmp_path: Path) -> str:
    """A real todo entity, filled the way a parent would in the companion app."""
    hass.config.config_dir = str(tmp_path)
    entry = MockConfigEntry(domain="shopping_list")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    for summary in ("Because", "friend", "milk and eggs", "because"):
        await hass.services.async_call(
            "todo", "add_item", {"entity_id": LIST, "item": summary}, blocking=True
        )
    return LIST


async def items(hass: HomeAssistant) -> dict[str, str]:
    response: Any = await hass.services.async_call(
        "todo", "get_items", {"entity_id": LIST}, blocking=True, return_response=True
    )
    return {item["summary"]: item["status"] for item in response[LIST]["items"]}


def test_only_single_words_are_spelling_words() -> None:
    assert word_from_item(" Because. ") == "because"
    assert word_from_item("they're") == "they're"
    for not_a_word in ("milk and eggs", "", "x" * 40, "r2d2", None, 7):
        assert word_from_item(not_a_word) is None


async def test_school_words_are_drilled_first_and_ticked_off_when_mastered(
    hass: HomeAssistant, school_list: str, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(MORNING)
    progress = await set_up(
        hass, blip_entry({ADA: {"name": "Ada", "age": 7, CONF_SCHOOL_WORDS: school_list}})
    )
    await hass.async_block_till_done()
    assert progress.school_words(ADA) == ["because", "friend"]

    picker = progress.practice_picker(ADA)
    reply = DrillEngine(random.Random(3)).start("spelling", 7, picker)
    assert reply.state is not None and reply.state.item == "because"

    # The parent adds a word: Blip reads the list again.
    await hass.services.async_call(
        "todo", "add_item", {"entity_id": LIST, "item": "school"}, blocking=True
    )
    await hass.async_block_till_done()
    assert progress.school_words(ADA) == ["because", "friend", "school"]

    # Ada practises "because" on spaced days until the scheduler calls it mastered.
    for day in range(40):
        progress.record_drill_results(ADA, [DrillResult("spelling", "because", True, 0)])
        await hass.async_block_till_done()
        if (await items(hass))["Because"] == "completed":
            break
        freezer.tick(timedelta(days=1 + day // 2))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    listed = await items(hass)
    assert listed["Because"] == "completed"
    assert listed["friend"] == "needs_action" and listed["milk and eggs"] == "needs_action"
    await hass.async_block_till_done()
    assert progress.school_words(ADA) == ["friend", "school"]


async def test_a_missing_list_reads_as_no_school_words(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A list that was deleted: a warning, ordinary practice, never a failed set-up."""
    freezer.move_to(MORNING)
    progress = await set_up(
        hass, blip_entry({ADA: {"name": "Ada", "age": 7, CONF_SCHOOL_WORDS: "todo.gone"}})
    )
    await hass.async_block_till_done()
    assert progress.school_words(ADA) == []
