"""Blip's automation blueprints: each validates with Home Assistant's blueprint integration and
its automation runs on a real event or time change, against a real Blip where it uses one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.blip.brain import Activity, DrillResult
from custom_components.blip.const import DOMAIN, EVENT_MILESTONE, EVENT_SAFETY_SIGNAL
from tests.progress_fixtures import ADA, blip_entry, child_device, set_up

BLUEPRINT_SOURCE = Path(__file__).parent.parent / "blueprints" / "automation" / "blip"
BLUEPRINTS = sorted(path.name for path in BLUEPRINT_SOURCE.glob("*.yaml"))
ADA_SATELLITE = "assist_satellite.ada_room"


@pytest.fixture
async def blueprints(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[Path]:
    """Install Blip's blueprints the way a family would: in config/blueprints/automation/blip."""
    hass.config.config_dir = str(tmp_path)
    target = tmp_path / "blueprints" / "automation" / "blip"
    shutil.copytree(BLUEPRINT_SOURCE, target)
    yield target
    # Stopping Home Assistant leaves time triggers scheduled (the next morning's wake-up); turning
    # the automations off detaches them, as a family disabling them would.
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


async def automations(hass: HomeAssistant, *configs: tuple[str, dict[str, Any]]) -> None:
    """Set up one automation per (blueprint, inputs) and check each is on."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "id": f"blip_{index}",
                    "alias": f"blip {index}",
                    "use_blueprint": {"path": f"blip/{name}", "input": inputs},
                }
                for index, (name, inputs) in enumerate(configs)
            ]
        },
    )
    await hass.async_block_till_done()
    for index in range(len(configs)):
        state = hass.states.get(f"automation.blip_{index}")
        assert state is not None
        assert state.state == "on", state.attributes


def local(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A moment in Home Assistant's time zone in the first week of March 2026 (2 = Monday)."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=dt_util.get_default_time_zone())


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def test_the_blueprints_ship() -> None:
    """The blueprints the issues ask for are there."""
    assert BLUEPRINTS == [
        "bedtime.yaml",
        "celebrate_milestone.yaml",
        "daily_summary.yaml",
        "practice_reminder.yaml",
        "safety_alert.yaml",
    ]


@pytest.mark.parametrize("name", BLUEPRINTS)
async def test_blueprint_validates(hass: HomeAssistant, blueprints: Path, name: str) -> None:
    """Home Assistant's blueprint integration loads it; every input is named and described."""
    assert await async_setup_component(hass, "blueprint", {})
    blueprint = await async_get_blueprints(hass).async_get_blueprint(f"blip/{name}")
    assert blueprint.domain == "automation"
    metadata = blueprint.metadata
    assert metadata["name"].startswith("Blip - ")
    assert len(metadata["description"]) > 80
    for key, spec in blueprint.inputs.items():
        assert spec and spec.get("name"), key
        assert "selector" in spec, key


async def test_celebrate_milestone(
    hass: HomeAssistant, blueprints: Path, freezer: FrozenDateTimeFactory
) -> None:
    """A real milestone from Blip is announced on the child's satellite, with the scene."""
    freezer.move_to(local(2, 10, 0))
    progress = await set_up(
        hass, blip_entry({ADA: {"name": "Ada", "age": 7, "satellites": [ADA_SATELLITE]}})
    )
    announcements = async_mock_service(hass, "assist_satellite", "announce")
    scenes = async_mock_service(hass, "scene", "turn_on")
    await automations(
        hass,
        (
            "celebrate_milestone.yaml",
            {
                "child_name": "ada",
                "milestones": ["words_mastered"],
                "celebration_scene": "scene.party",
            },
        ),
    )

    for _day in range(2):
        progress.record_turn(ADA, Activity.SPELLING, None)
        progress.record_drill_results(ADA, [DrillResult("spelling", "cat", True, 0)] * 2)
        await tick(hass, freezer, timedelta(days=1))

    assert len(announcements) == 1
    assert announcements[0].data["entity_id"] == [ADA_SATELLITE]
    assert "cat" in announcements[0].data["message"]
    assert [call.data["entity_id"] for call in scenes] == [["scene.party"]]

    # Another child's milestone and a kind not chosen are not announced here.
    hass.bus.async_fire(
        EVENT_MILESTONE,
        {"child": "Bob", "milestone": "words_mastered", "value": 1, "announcement": "Bob!"},
    )
    hass.bus.async_fire(
        EVENT_MILESTONE,
        {"child": "Ada", "milestone": "streak", "value": 3, "announcement": "3 days!"},
    )
    await hass.async_block_till_done()
    assert len(announcements) == 1


async def test_safety_alert(hass: HomeAssistant, blueprints: Path) -> None:
    """A safety signal reaches the designated adult: who, what kind, when; never the words."""
    notes = async_mock_service(hass, "notify", "jamie")
    await automations(
        hass,
        (
            "safety_alert.yaml",
            {"notify_action": "notify.jamie", "categories": ["abuse", "self_harm"]},
        ),
    )
    hass.bus.async_fire(
        EVENT_SAFETY_SIGNAL,
        {"child": "Ada", "category": "bullying", "time": dt_util.utcnow().isoformat()},
    )
    await hass.async_block_till_done()
    assert notes == []

    moment = local(2, 16, 45)
    hass.bus.async_fire(
        EVENT_SAFETY_SIGNAL,
        {
            "child": "Ada",
            "category": "abuse",
            "time": dt_util.as_utc(moment).isoformat(),
            "satellite": ADA_SATELLITE,
        },
    )
    await hass.async_block_till_done()
    assert len(notes) == 1
    assert notes[0].data["title"] == "Blip needs a grown-up"
    message = notes[0].data["message"]
    assert "Ada" in message
    assert "at 16:45" in message
    assert "a possible disclosure of abuse" in message
    assert "kindly" in message


async def test_daily_summary(
    hass: HomeAssistant, blueprints: Path, freezer: FrozenDateTimeFactory
) -> None:
    """At the chosen time, the day's numbers from Blip's export action go to the adult."""
    freezer.move_to(local(2, 18, 0))
    progress = await set_up(hass, blip_entry({ADA: {"name": "Ada", "age": 7, "quiet_start": ""}}))
    notes = async_mock_service(hass, "notify", "jamie")
    progress.record_turn(ADA, Activity.SPELLING, None)
    progress.record_drill_results(
        ADA,
        [
            DrillResult("spelling", "cat", True, 0),
            DrillResult("spelling", "dog", False, 1),
            DrillResult("math", "2+3", True, 0, "add"),
        ],
    )
    freezer.move_to(local(2, 19, 29, 58))
    await automations(
        hass,
        (
            "daily_summary.yaml",
            {"child": child_device(hass), "notify_action": "notify.jamie", "at_time": "19:30:00"},
        ),
    )
    await tick(hass, freezer, timedelta(seconds=3))
    assert len(notes) == 1
    assert notes[0].data["title"] == "Ada's day with Blip"
    message = notes[0].data["message"]
    assert "in 1 session." in message
    assert "Spelling: 1 of 2 right." in message
    assert "Math: 1 of 1 right." in message
    assert "Streak: 1 day." in message

    # The next day Ada does not talk to Blip: nothing is sent.
    await tick(hass, freezer, timedelta(days=1))
    assert len(notes) == 1


async def test_bedtime(
    hass: HomeAssistant, blueprints: Path, freezer: FrozenDateTimeFactory
) -> None:
    """The pause switch goes on at bedtime on chosen nights and off every morning."""
    freezer.move_to(local(2, 19, 29, 58))  # Monday evening
    progress = await set_up(hass, blip_entry({ADA: {"name": "Ada", "age": 7, "quiet_start": ""}}))
    await automations(
        hass,
        (
            "bedtime.yaml",
            {
                "pause_switches": ["switch.blip_for_ada_paused"],
                "bedtime": "19:30:00",
                "wake_time": "07:00:00",
                "days": ["mon", "wed"],
            },
        ),
    )
    switch = "switch.blip_for_ada_paused"
    await tick(hass, freezer, timedelta(seconds=3))
    assert hass.states.get(switch).state == "on"
    assert progress.check_limits(ADA).reason == "paused"
    assert progress.check_limits(ADA, activity=Activity.SAFETY).allowed

    freezer.move_to(local(3, 6, 59, 58))  # Tuesday morning
    await tick(hass, freezer, timedelta(seconds=3))
    assert hass.states.get(switch).state == "off"

    freezer.move_to(local(3, 19, 29, 58))  # Tuesday is not a chosen night
    await tick(hass, freezer, timedelta(seconds=3))
    assert hass.states.get(switch).state == "off"
    assert DOMAIN in hass.config.components


async def test_practice_reminder(
    hass: HomeAssistant, blueprints: Path, freezer: FrozenDateTimeFactory
) -> None:
    """When words are due, the child's satellite asks at the chosen time; not in quiet hours,
    not when nothing is due."""
    freezer.move_to(local(2, 16, 0))
    progress = await set_up(
        hass,
        blip_entry(
            {ADA: {"name": "Ada", "age": 7, "satellites": [ADA_SATELLITE], "quiet_start": ""}}
        ),
    )
    asks = async_mock_service(hass, "assist_satellite", "start_conversation")
    await automations(
        hass,
        (
            "practice_reminder.yaml",
            {"words_due": "sensor.blip_for_ada_words_due_today", "remind_at": "16:30:00"},
        ),
        (
            "practice_reminder.yaml",
            {
                "words_due": "sensor.blip_for_ada_words_due_today",
                "remind_at": "21:00:00",
                "quiet_start": "20:00:00",
                "quiet_end": "07:00:00",
            },
        ),
    )
    # Nothing practised yet: nothing due, no reminder.
    await tick(hass, freezer, timedelta(minutes=31))
    assert asks == []

    # A word missed today is due again: the 21:00 reminder falls in its quiet hours...
    progress.record_drill_results(ADA, [DrillResult("spelling", "because", False, 2)])
    freezer.move_to(local(2, 20, 59, 58))
    await tick(hass, freezer, timedelta(seconds=3))
    state = hass.states.get("sensor.blip_for_ada_words_due_today")
    assert state is not None and int(state.state) >= 1
    assert asks == []
    # ...the next day's 16:30 reminder asks, once.
    freezer.move_to(local(3, 16, 29, 58))
    await tick(hass, freezer, timedelta(seconds=3))
    assert len(asks) == 1
    assert asks[0].data["entity_id"] == ADA_SATELLITE
    assert asks[0].data["start_message"].startswith("Hi Ada! It's spelling time")
    # Turned off, the automations leave no time triggers behind.
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
