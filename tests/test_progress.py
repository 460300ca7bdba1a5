"""Learning progress through a real Home Assistant: sensors, store, events, limits, services."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.blip.brain import Activity, DrillResult
from custom_components.blip.brain.drills import DrillState
from custom_components.blip.const import DOMAIN, EVENT_MILESTONE, EVENT_SESSION_ENDED
from custom_components.blip.progress import SAVE_DELAY, STORAGE_KEY_PREFIX
from custom_components.blip.progress_model import SESSION_IDLE_GAP
from tests.progress_fixtures import ADA, BOB, MORNING, blip_entry, child_device, set_up


def sensor(hass: HomeAssistant, key: str, child: str = "ada") -> str:
    state = hass.states.get(f"sensor.blip_for_{child}_{key}")
    assert state is not None, key
    return state.state


def spelled(word: str, correct: bool = True) -> DrillResult:
    return DrillResult(kind="spelling", item=word, correct=correct, hints_used=0)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.fixture
def morning(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    freezer.move_to(MORNING)
    return freezer


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A private config dir, so files Blip writes beside the store land in the test's temp dir."""
    hass.config.config_dir = str(tmp_path)
    (tmp_path / ".storage").mkdir()
    return tmp_path


async def test_drill_results_update_sensors(
    hass: HomeAssistant, morning: FrozenDateTimeFactory
) -> None:
    """Turns and drill results show up on the child's sensors at once (pushed, not polled)."""
    progress = await set_up(hass, blip_entry())
    assert sensor(hass, "spelling_accuracy") == "unknown"
    assert sensor(hass, "words_mastered") == "0"

    progress.record_turn(ADA, Activity.SPELLING, "assist_satellite.ada_room")
    progress.record_drill_results(ADA, [spelled("cat"), spelled("cat"), spelled("dog", False)])
    progress.record_drill_results(
        ADA,
        [
            DrillResult("math", "7x8", True, 0, "mul"),
            DrillResult("math", "3+4", False, 1, "add"),
        ],
    )
    await hass.async_block_till_done()
    assert float(sensor(hass, "spelling_accuracy")) == pytest.approx(66.7)
    assert float(sensor(hass, "math_accuracy")) == 50.0
    assert sensor(hass, "sessions_today") == "1"
    assert float(sensor(hass, "minutes_today")) == 0.2  # the first turn's credit: 15 s
    assert sensor(hass, "daily_streak") == "1"
    assert dt_util.parse_datetime(sensor(hass, "last_activity")) == dt_util.utcnow()
    math_state = hass.states.get("sensor.blip_for_ada_math_accuracy")
    assert math_state is not None
    assert math_state.attributes["by_operation"]["add"] == {
        "attempts": 1,
        "correct": 0,
        "hints_used": 1,
    }

    await advance(hass, morning, timedelta(days=1))
    progress.record_turn(ADA, Activity.SPELLING, None)
    progress.record_drill_results(ADA, [spelled("cat")])
    await hass.async_block_till_done()
    assert sensor(hass, "words_mastered") == "1"
    assert sensor(hass, "latest_mastered_word") == "cat"
    assert sensor(hass, "daily_streak") == "2"


async def test_sensor_metadata_for_long_term_statistics(hass: HomeAssistant) -> None:
    """State classes, device classes and units that let Home Assistant keep statistics."""
    await set_up(hass, blip_entry())
    expected = {
        "spelling_accuracy": ("measurement", None, "%"),
        "math_accuracy": ("measurement", None, "%"),
        "words_mastered": ("total", None, "words"),
        "daily_streak": ("measurement", None, "days"),
        "minutes_today": ("total_increasing", "duration", "min"),
        "sessions_today": ("total_increasing", None, None),
        "last_activity": (None, "timestamp", None),
        "latest_mastered_word": (None, None, None),
    }
    for key, (state_class, device_class, unit) in expected.items():
        state = hass.states.get(f"sensor.blip_for_ada_{key}")
        assert state is not None, key
        assert state.attributes.get("state_class") == state_class, key
        assert state.attributes.get("device_class") == device_class, key
        assert state.attributes.get("unit_of_measurement") == unit, key


async def test_progress_survives_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any], morning: FrozenDateTimeFactory
) -> None:
    """Saves are debounced, flushed on unload, and read back on the next start."""
    entry = blip_entry()
    progress = await set_up(hass, entry)
    progress.record_turn(ADA, Activity.SPELLING, None)
    progress.record_drill_results(ADA, [spelled("sun"), spelled("moon", False)])
    assert STORAGE_KEY_PREFIX + ADA not in hass_storage  # not written on every change

    await advance(hass, morning, timedelta(seconds=SAVE_DELAY + 1))
    stored = hass_storage[STORAGE_KEY_PREFIX + ADA]
    assert stored["version"] == 1
    assert set(stored["data"]["words"]) == {"sun", "moon"}

    progress.record_drill_results(ADA, [spelled("star")])
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert "star" in hass_storage[STORAGE_KEY_PREFIX + ADA]["data"]["words"]

    await set_up(hass, entry)
    assert float(sensor(hass, "spelling_accuracy")) == pytest.approx(66.7)
    exported = entry.runtime_data.progress.export(ADA)
    assert sorted(exported["spelling"]["words"]) == ["moon", "star", "sun"]
    assert exported["today"]["sessions"] == 1


async def test_pending_save_written_when_home_assistant_stops(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant's final write includes progress still waiting for its debounce."""
    progress = await set_up(hass, blip_entry())
    progress.record_drill_results(ADA, [spelled("tree")])
    assert STORAGE_KEY_PREFIX + ADA not in hass_storage
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert "tree" in hass_storage[STORAGE_KEY_PREFIX + ADA]["data"]["words"]


async def test_unparsable_file_is_set_aside_and_nothing_else_lost(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_dir: Path
) -> None:
    """A file that is not JSON: kept as a backup, a repair issue, a fresh start for that child.

    Bob's progress, in his own file, is untouched.
    """
    bob_words = {"cat": {"attempts": 3, "correct": 3, "mastered_on": "2026-03-01"}}
    hass_storage[STORAGE_KEY_PREFIX + BOB] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY_PREFIX + BOB,
        "data": {"words": bob_words, "paused": True},
    }
    ada_file = config_dir / ".storage" / (STORAGE_KEY_PREFIX + ADA)
    ada_file.write_text('{"version": 1, "data": {"words": {"cat": {"attem')

    progress = await set_up(
        hass, blip_entry({ADA: {"name": "Ada", "age": 7}, BOB: {"name": "Bob", "age": 9}})
    )

    assert not ada_file.exists()
    backups = list((config_dir / ".storage").glob(f"{STORAGE_KEY_PREFIX}{ADA}.corrupt.*"))
    assert len(backups) == 1
    assert backups[0].read_text().startswith('{"version": 1')
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"progress_unreadable_{ADA}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["child"] == "Ada"
    assert issue.translation_placeholders["backup"] == str(backups[0])

    assert sensor(hass, "words_mastered", "ada") == "0"
    assert sensor(hass, "words_mastered", "bob") == "1"
    assert hass.states.get("switch.blip_for_bob_paused").state == "on"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"progress_unreadable_{BOB}") is None
    # Ada's fresh progress is saved normally from now on.
    progress.record_drill_results(ADA, [spelled("dog")])
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert "dog" in hass_storage[STORAGE_KEY_PREFIX + ADA]["data"]["words"]


async def test_damaged_parts_start_fresh_and_the_rest_is_kept(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_dir: Path
) -> None:
    """Valid JSON with a damaged section: that section starts fresh, a backup and an issue."""
    words = {
        "cat": {"attempts": 3, "correct": 3, "mastered_on": "2026-03-01"},
        "dog": {"attempts": -4},
    }
    hass_storage[STORAGE_KEY_PREFIX + ADA] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY_PREFIX + ADA,
        "data": {
            "words": words,
            "days": "not a list of days",
            "streak": {"current": 4, "best": 9, "last_day": "2026-03-01"},
            "milestones": ["words_mastered:1"],
        },
    }
    await set_up(hass, blip_entry())

    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"progress_damaged_{ADA}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["parts"] == "words, days"
    backup = Path(issue.translation_placeholders["backup"])
    assert json.loads(backup.read_text())["days"] == "not a list of days"
    assert sensor(hass, "words_mastered") == "1"
    stored = hass_storage[STORAGE_KEY_PREFIX + ADA]["data"]
    assert list(stored["words"]) == ["cat"]
    assert stored["streak"]["best"] == 9
    assert stored["milestones"] == ["words_mastered:1"]


async def test_progress_from_an_unknown_layout_is_set_aside(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_dir: Path
) -> None:
    """A file from a newer Blip's layout (major version 2) is not misread: issue, fresh start."""
    hass_storage[STORAGE_KEY_PREFIX + ADA] = {
        "version": 2,
        "minor_version": 1,
        "key": STORAGE_KEY_PREFIX + ADA,
        "data": {"learners": {}},
    }
    await set_up(hass, blip_entry())
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"progress_unreadable_{ADA}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "layout version 2" in issue.translation_placeholders["reason"]
    assert sensor(hass, "words_mastered") == "0"


async def test_newer_minor_layout_is_read(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Minor layout versions only add sections, so a newer 1.x file is read as it is."""
    hass_storage[STORAGE_KEY_PREFIX + ADA] = {
        "version": 1,
        "minor_version": 4,
        "key": STORAGE_KEY_PREFIX + ADA,
        "data": {
            "words": {"cat": {"attempts": 3, "correct": 3, "mastered_on": "2026-03-01"}},
            "future_section": {"kept": "or not"},
        },
    }
    await set_up(hass, blip_entry())
    assert sensor(hass, "words_mastered") == "1"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"progress_unreadable_{ADA}") is None


async def test_removed_child_progress_is_removed(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A child the family removed: their progress file goes too."""
    hass_storage[STORAGE_KEY_PREFIX.rstrip(".")] = {
        "version": 1,
        "key": STORAGE_KEY_PREFIX.rstrip("."),
        "data": {"children": [ADA, BOB]},
    }
    hass_storage[STORAGE_KEY_PREFIX + BOB] = {
        "version": 1,
        "key": STORAGE_KEY_PREFIX + BOB,
        "data": {"words": {}},
    }
    await set_up(hass, blip_entry())
    assert STORAGE_KEY_PREFIX + BOB not in hass_storage
    assert hass_storage[STORAGE_KEY_PREFIX.rstrip(".")]["data"] == {"children": [ADA]}


async def test_milestones_fire_once(hass: HomeAssistant, morning: FrozenDateTimeFactory) -> None:
    """The first mastered word and a 3-day streak are each celebrated once, on the bus."""
    progress = await set_up(
        hass, blip_entry({ADA: {"name": "Ada", "age": 7, "satellites": ["assist_satellite.ada"]}})
    )
    events = async_capture_events(hass, EVENT_MILESTONE)
    for _day in range(3):
        progress.record_turn(ADA, Activity.SPELLING, None)
        progress.record_drill_results(ADA, [spelled("cat")])
        progress.record_turn(ADA, Activity.SPELLING, None)
        progress.record_drill_results(ADA, [spelled("cat")])
        await advance(hass, morning, timedelta(days=1))
    await hass.async_block_till_done()

    assert [(e.data["milestone"], e.data["value"]) for e in events] == [
        ("words_mastered", 1),
        ("streak", 3),
    ]
    first_word = events[0].data
    assert first_word["child_id"] == ADA
    assert first_word["child"] == "Ada"
    assert first_word["word"] == "cat"
    assert first_word["satellite"] == "assist_satellite.ada"
    assert "cat" in first_word["announcement"]
    assert "Ada" in first_word["announcement"]


async def test_session_ended_fires_once_after_idle_gap(
    hass: HomeAssistant, morning: FrozenDateTimeFactory
) -> None:
    """After the idle gap, one blip_session_ended with summary numbers only."""
    progress = await set_up(hass, blip_entry())
    events = async_capture_events(hass, EVENT_SESSION_ENDED)
    progress.record_turn(ADA, Activity.MATH, None)
    await advance(hass, morning, timedelta(minutes=3))
    progress.record_turn(ADA, Activity.MATH, None)
    progress.record_drill_results(ADA, [DrillResult("math", "2+2", True, 0, "add")])
    await advance(hass, morning, SESSION_IDLE_GAP - timedelta(seconds=5))
    assert events == []

    await advance(hass, morning, timedelta(seconds=10))
    await advance(hass, morning, SESSION_IDLE_GAP * 2)
    assert len(events) == 1
    data = events[0].data
    assert {key: data[key] for key in ("turns", "drills_attempted", "drills_correct")} == {
        "turns": 2,
        "drills_attempted": 1,
        "drills_correct": 1,
    }
    assert data["minutes"] == round((15 + 180) / 60, 1)
    assert set(data) == {
        "child_id",
        "child",
        "started",
        "ended",
        "minutes",
        "turns",
        "drills_attempted",
        "drills_correct",
        "words_mastered",
    }


async def test_session_open_at_restart_ends_once(
    hass: HomeAssistant, morning: FrozenDateTimeFactory
) -> None:
    """A session still open when Blip reloads is closed by the new Blip, once."""
    entry = blip_entry()
    progress = await set_up(hass, entry)
    events = async_capture_events(hass, EVENT_SESSION_ENDED)
    progress.record_turn(ADA, Activity.CHITCHAT, None)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await advance(hass, morning, SESSION_IDLE_GAP * 2)
    assert events == []  # the unloaded Blip's timer is gone
    await set_up(hass, entry)
    await advance(hass, morning, timedelta(seconds=1))
    assert len(events) == 1
    assert events[0].data["turns"] == 1


async def test_daily_minutes_and_quiet_hours(
    hass: HomeAssistant, morning: FrozenDateTimeFactory
) -> None:
    """Daily minutes and quiet hours decline play with a kind goodbye; safety is never blocked."""
    progress = await set_up(
        hass,
        blip_entry(
            {
                ADA: {
                    "name": "Ada",
                    "age": 7,
                    "daily_minutes": 10,
                    "quiet_start": "19:30:00",
                    "quiet_end": "06:30:00",
                }
            }
        ),
    )
    assert progress.check_limits(ADA).allowed
    progress.record_turn(ADA, Activity.TRIVIA, None)
    for _ in range(2):
        await advance(hass, morning, timedelta(minutes=5))
        progress.record_turn(ADA, Activity.TRIVIA, None)
    assert float(sensor(hass, "minutes_today")) >= 10
    verdict = progress.check_limits(ADA)
    assert (verdict.allowed, verdict.reason) == (False, "daily_minutes")
    assert verdict.reply is not None
    assert "Ada" in verdict.reply
    assert progress.check_limits(ADA, activity=Activity.SAFETY).allowed

    # 19:31 local: quiet hours (the child's own, not the family default of 20:00).
    local = dt_util.now()
    morning.move_to(local.replace(hour=19, minute=31))
    assert progress.check_limits(ADA).reason == "quiet_hours"
    assert progress.check_limits(ADA, activity="safety") == type(verdict)(allowed=True)
    # 06:29 next morning still quiet; 06:30 a new day with fresh minutes.
    morning.move_to(local.replace(hour=6, minute=29) + timedelta(days=1))
    assert progress.check_limits(ADA).reason == "quiet_hours"
    await advance(hass, morning, timedelta(minutes=1))
    assert progress.check_limits(ADA).allowed
    assert sensor(hass, "minutes_today") == "0.0"


async def test_family_default_limits_apply(
    hass: HomeAssistant, morning: FrozenDateTimeFactory
) -> None:
    """Without their own limit a child gets the family's default from the options."""
    progress = await set_up(hass, blip_entry(options={"daily_minutes": 5}))
    progress.record_turn(ADA, Activity.CHITCHAT, None)
    await advance(hass, morning, timedelta(minutes=5))
    progress.record_turn(ADA, Activity.CHITCHAT, None)
    assert progress.check_limits(ADA).reason == "daily_minutes"
    # Blip's own default quiet hours (20:00-07:00) apply too.
    morning.move_to(dt_util.now().replace(hour=20, minute=0))
    assert progress.check_limits(ADA).reason == "quiet_hours"


async def test_pause_switch(
    hass: HomeAssistant, hass_storage: dict[str, Any], morning: FrozenDateTimeFactory
) -> None:
    """The pause switch declines play (not safety) and is remembered across restarts."""
    entry = blip_entry()
    progress = await set_up(hass, entry)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.blip_for_ada_paused"}, blocking=True
    )
    assert hass.states.get("switch.blip_for_ada_paused").state == "on"
    verdict = progress.check_limits(ADA)
    assert (verdict.allowed, verdict.reason) == (False, "paused")
    assert progress.check_limits(ADA, activity=Activity.SAFETY).allowed

    assert await hass.config_entries.async_unload(entry.entry_id)
    progress = await set_up(hass, entry)
    assert hass.states.get("switch.blip_for_ada_paused").state == "on"
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.blip_for_ada_paused"}, blocking=True
    )
    assert progress.check_limits(ADA).allowed


async def test_break_reminder_after_a_long_session(
    hass: HomeAssistant, morning: FrozenDateTimeFactory
) -> None:
    """A long session gets one break reminder."""
    progress = await set_up(hass, blip_entry())
    reminders = []
    for _ in range(8):
        progress.record_turn(ADA, Activity.SPELLING, None)
        if reminder := progress.check_limits(ADA).break_reminder:
            reminders.append(reminder)
        await advance(hass, morning, timedelta(minutes=5))
    assert len(reminders) == 1
    assert "break" in reminders[0]


async def test_unknown_child_is_never_blocked(hass: HomeAssistant) -> None:
    """A call about a child Blip does not know is logged, not an error, and play is allowed."""
    progress = await set_up(hass, blip_entry())
    progress.record_turn("nobody", Activity.MATH, None)
    progress.record_drill_results("nobody", [spelled("cat")])
    assert progress.check_limits("nobody").allowed
    assert progress.practice_picker("nobody") is None
    assert progress.school_words("nobody") == []
    assert progress.satellite_for("nobody") is None
    progress.set_paused("nobody", True)
    progress.reset("nobody")
    assert progress.child_ids == [ADA]
    assert not progress.progress(ADA).paused  # a call about nobody does not pause Ada


async def test_limit_settings_that_are_not_valid_mean_no_limit(
    hass: HomeAssistant, morning: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A hand-edited child whose limits are not valid plays without them, with a warning."""
    progress = await set_up(
        hass,
        blip_entry(
            {
                ADA: {
                    "name": "Ada",
                    "age": 7,
                    "daily_minutes": "lots",
                    "quiet_start": "25:99",
                    "quiet_end": "07:00:00",
                }
            }
        ),
    )
    assert "Ada's daily minutes setting is not a number; no daily limit" in caplog.text
    assert "Ada's quiet hours are not valid, so none apply" in caplog.text
    # Blip's default quiet hours (20:00-07:00) do not apply either: the family's own did not parse.
    morning.move_to(dt_util.now().replace(hour=23, minute=0))
    for _ in range(4):
        progress.record_turn(ADA, Activity.TRIVIA, None)
        await advance(hass, morning, timedelta(minutes=20))
    assert progress.check_limits(ADA).allowed


async def test_reset_and_export_services(hass: HomeAssistant) -> None:
    """Reset forgets only the parts asked for; export returns JSON-ready data."""
    progress = await set_up(hass, blip_entry())
    progress.record_turn(ADA, Activity.SPELLING, None)
    progress.record_drill_results(ADA, [spelled("cat"), DrillResult("math", "2+2", True, 0, "add")])
    device_id = child_device(hass)

    response = await hass.services.async_call(
        DOMAIN, "export_progress", {"child": device_id}, blocking=True, return_response=True
    )
    assert response is not None
    exported = response["children"][ADA]
    json.dumps(response)  # JSON-ready
    assert exported["name"] == "Ada"
    assert exported["spelling"]["words"]["cat"]["correct"] == 1
    assert exported["math"]["by_operation"]["add"]["correct"] == 1

    await hass.services.async_call(
        DOMAIN, "reset_progress", {"child": device_id, "parts": ["spelling"]}, blocking=True
    )
    assert sensor(hass, "spelling_accuracy") == "unknown"
    assert sensor(hass, "math_accuracy") == "100.0"

    await hass.services.async_call(DOMAIN, "reset_progress", {"child": device_id}, blocking=True)
    assert sensor(hass, "math_accuracy") == "unknown"
    assert sensor(hass, "sessions_today") == "0"

    every = await hass.services.async_call(
        DOMAIN, "export_progress", {}, blocking=True, return_response=True
    )
    assert every is not None
    assert list(every["children"]) == [ADA]

    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "reset_progress", {"child": "not-a-device"}, blocking=True
        )


async def test_export_returns_everything_stored_about_the_child(
    hass: HomeAssistant, hass_storage: dict[str, Any], morning: FrozenDateTimeFactory
) -> None:
    """The export holds all that Blip stores about the child: their settings, the progress file
    section by section (the scheduler's memory, confused words, runs, the open session, the last
    kind and satellite), the unfinished drill and the paired devices, never a token's hash."""
    entry = blip_entry()
    progress = await set_up(hass, entry)
    progress.record_turn(ADA, Activity.SPELLING, "assist_satellite.ada_room")
    progress.record_drill_results(
        ADA,
        [
            spelled("cat"),
            DrillResult("spelling", "there", False, 0, confused_with="their"),
            DrillResult("math", "2+2", True, 0, "add"),
        ],
    )
    drill = DrillState(kind="spelling", item="because", answer="because", asked=["because"])
    entry.runtime_data.sessions.save(ADA, "conversation-1", drill, "assist_satellite.ada_room")
    access = entry.runtime_data.devices
    assert access is not None
    code = access.book.start(ADA, "Ada's tablet").code  # as the parent's notification shows it
    access.book.redeem(code, "192.168.1.30")
    access.save()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)  # every store writes what it holds
    await hass.async_block_till_done()

    response = await hass.services.async_call(
        DOMAIN,
        "export_progress",
        {"child": child_device(hass)},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    exported = response["children"][ADA]
    assert exported["settings"] == dict(entry.subentries[ADA].data)
    stored = hass_storage[STORAGE_KEY_PREFIX + ADA]["data"]
    assert exported["spelling"]["words"] == stored["words"]
    assert stored["words"]["there"]["memory"]["confused_with"] == ["their"]
    assert exported["math"]["facts"]["2+2"] == {"operation": "add", **stored["math_facts"]["2+2"]}
    assert exported["days"] == stored["days"]
    assert exported["streak"] == stored["streak"]
    assert exported["last_activity"] == stored["activity"]["last"]
    assert exported["last_activity_kind"] == stored["activity"]["kind"] == "spelling"
    assert exported["last_satellite"] == stored["activity"]["satellite"]
    assert (
        exported["spelling"]["latest_mastered_word"] == stored["activity"]["latest_mastered_word"]
    )
    assert exported["milestones"] == stored["milestones"]
    assert exported["paused"] == stored["paused"]
    assert exported["session"] == stored["session"] is not None
    sessions = hass_storage["blip.child_sessions"]["data"]["children"]
    assert exported["unfinished_drill"] == sessions[ADA]
    assert exported["unfinished_drill"]["drill"]["item"] == "because"
    [device] = hass_storage[f"blip.devices.{entry.entry_id}"]["data"]["devices"]
    [listed] = exported["paired_devices"]
    assert listed["name"] == device["name"] == "Ada's tablet"
    assert (listed["created"], listed["last_used"]) == (device["created"], device["last_used"])
    assert device["token_hash"] not in json.dumps(response)


async def test_start_drill_service(hass: HomeAssistant, morning: FrozenDateTimeFactory) -> None:
    """Start a drill: the child's satellite asks and listens, the agent learns which drill."""
    await set_up(
        hass,
        blip_entry({ADA: {"name": "Ada", "age": 7, "satellites": ["assist_satellite.ada_room"]}}),
    )
    # A real satellite cannot run here; the satellite action is the one thing mocked.
    calls = async_mock_service(hass, "assist_satellite", "start_conversation")
    device_id = child_device(hass)
    await hass.services.async_call(
        DOMAIN, "start_drill", {"child": device_id, "kind": "math"}, blocking=True
    )
    # A dashboard button can name the child by one of their entities.
    await hass.services.async_call(
        DOMAIN,
        "start_drill",
        {"child": "sensor.blip_for_ada_words_mastered", "kind": "math"},
        blocking=True,
    )
    assert len(calls) == 2
    assert calls[0].data == calls[1].data
    assert calls[0].data["entity_id"] == "assist_satellite.ada_room"
    # The request waits in the child's session state, not in the satellite's prompt.
    assert "extra_system_prompt" not in calls[0].data
    assert calls[0].data["start_message"].startswith("Hi Ada!")

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.blip_for_ada_paused"}, blocking=True
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start_drill", {"child": device_id, "kind": "spelling"}, blocking=True
        )
    assert err.value.translation_key == "child_resting"
    assert len(calls) == 2


async def test_start_drill_without_satellite_is_a_clear_error(hass: HomeAssistant) -> None:
    """No satellite for the child: a validation error naming the problem."""
    # No quiet hours for this child, so the test does not depend on the time of day.
    await set_up(hass, blip_entry({ADA: {"name": "Ada", "age": 7, "quiet_start": ""}}))
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start_drill", {"child": child_device(hass), "kind": "spelling"}, blocking=True
        )
    assert err.value.translation_key == "no_satellite"


async def test_removing_blip_removes_all_progress(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Removing Blip deletes every child's progress file and the list of files."""
    entry = blip_entry({ADA: {"name": "Ada", "age": 7}, BOB: {"name": "Bob", "age": 9}})
    progress = await set_up(hass, entry)
    progress.record_drill_results(ADA, [spelled("cat")])
    progress.record_drill_results(BOB, [spelled("dog")])
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert {STORAGE_KEY_PREFIX + ADA, STORAGE_KEY_PREFIX + BOB} <= set(hass_storage)
    assert "blip.child_sessions" in hass_storage  # unfinished drills, written on unload

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not [key for key in hass_storage if key.startswith("blip.")]


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        ([], "the file holds a list instead of a child's progress"),
        (None, "the file holds nothing instead of a child's progress"),
        ({"key": "x", "data": {"words": {}}}, "the file has no layout version"),
        (
            {"version": "1", "key": "x", "data": {"words": {}}},
            "the file's layout version is not a whole number ('1')",
        ),
        ({"version": 1, "key": "x", "data": ["cat"]}, "the file has no progress data"),
        (
            {"version": 1, "minor_version": "2", "key": "x", "data": {"words": {}}},
            "the file's minor layout version is not a whole number ('2')",
        ),
    ],
)
async def test_json_of_the_wrong_shape_is_set_aside_and_progress_is_saved_again(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_dir: Path,
    stored: Any,
    reason: str,
) -> None:
    """Valid JSON that is not a store file: set aside with a reason that says what is wrong,
    and the child's fresh progress is saved from then on (the store is not left read only)."""
    ada_file = config_dir / ".storage" / (STORAGE_KEY_PREFIX + ADA)
    ada_file.write_text(json.dumps(stored))
    # The test store reads this dict rather than the file; give it the same contents.
    hass_storage[STORAGE_KEY_PREFIX + ADA] = stored
    progress = await set_up(hass, blip_entry())

    assert not ada_file.exists()
    (backup,) = (config_dir / ".storage").glob(f"{STORAGE_KEY_PREFIX}{ADA}.corrupt.*")
    assert json.loads(backup.read_text()) == stored
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"progress_unreadable_{ADA}")
    assert issue is not None and issue.translation_placeholders is not None
    assert issue.translation_placeholders["reason"] == reason
    assert "this Blip reads version 1" not in issue.translation_placeholders["reason"]

    progress.record_drill_results(ADA, [spelled("dog")])
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    saved = hass_storage[STORAGE_KEY_PREFIX + ADA]
    assert saved["version"] == 1 and "dog" in saved["data"]["words"]


async def test_an_overlong_item_is_dropped_not_shown(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_dir: Path
) -> None:
    """A 300-character "word" in the file is damaged data: dropped, so no sensor state is
    over Home Assistant's 255 characters, and the rest of the words are kept."""
    long_item = "a" * 300
    hass_storage[STORAGE_KEY_PREFIX + ADA] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY_PREFIX + ADA,
        "data": {
            "words": {
                long_item: {"attempts": 3, "correct": 3, "mastered_on": "2026-03-01"},
                "cat": {"attempts": 3, "correct": 3, "mastered_on": "2026-03-01"},
            },
            "activity": {"latest_mastered_word": long_item},
        },
    }
    await set_up(hass, blip_entry())
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"progress_damaged_{ADA}")
    assert issue is not None and issue.translation_placeholders is not None
    assert issue.translation_placeholders["parts"] == "words, activity"
    assert sensor(hass, "words_mastered") == "1"
    latest = sensor(hass, "latest_mastered_word")
    assert len(latest) <= 255 and latest != long_item
    for state in hass.states.async_all("sensor"):
        assert len(state.state) <= 255, state.entity_id


async def test_layout_1_1_records_are_migrated_to_scheduler_memory(
    hass: HomeAssistant, hass_storage: dict[str, Any], morning: FrozenDateTimeFactory
) -> None:
    """A 1.1 file (counts only) is read with FSRS memory derived from the counts and written
    back as 1.2: a mastered word stays mastered, a missed one is due today."""
    hass_storage[STORAGE_KEY_PREFIX + ADA] = {
        "version": 1,
        "minor_version": 1,
        "key": STORAGE_KEY_PREFIX + ADA,
        "data": {
            "words": {
                "cat": {"attempts": 4, "correct": 4, "run": 3, "mastered_on": "2026-03-01"},
                "because": {"attempts": 2, "correct": 0, "run": 0, "last_day": "2026-03-01"},
            }
        },
    }
    entry = blip_entry()
    progress = await set_up(hass, entry)
    assert sensor(hass, "words_mastered") == "1"
    assert sensor(hass, "words_due_today") == "1"
    due = hass.states.get("sensor.blip_for_ada_words_due_today")
    assert due is not None and due.attributes["words"] == ["because"]
    assert due.attributes["weakest"][0] == "because"
    progress.record_drill_results(ADA, [spelled("dog")])
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    saved = hass_storage[STORAGE_KEY_PREFIX + ADA]
    assert saved["minor_version"] == 2
    assert saved["data"]["words"]["cat"]["memory"]["state"] == "review"
    assert saved["data"]["words"]["because"]["memory"]["state"] == "relearning"


async def test_mastering_an_item_fires_an_event_and_math_tables_count(
    hass: HomeAssistant, morning: FrozenDateTimeFactory
) -> None:
    """blip_item_mastered fires when the scheduler first calls an item mastered; the maths
    sensor counts mastered facts per times table."""
    progress = await set_up(hass, blip_entry())
    events = async_capture_events(hass, "blip_item_mastered")
    fact = DrillResult("math", "7x8", True, 0, "mul")
    for day in range(30):
        progress.record_drill_results(ADA, [fact])
        if events:
            break
        await advance(hass, morning, timedelta(days=1 + day // 3))
    assert [e.data["item"] for e in events] == ["7x8"]
    assert events[0].data["kind"] == "math" and events[0].data["child"] == "Ada"
    await hass.async_block_till_done()
    assert sensor(hass, "math_facts_mastered") == "1"
    state = hass.states.get("sensor.blip_for_ada_math_facts_mastered")
    assert state is not None and state.attributes["by_table"] == {"7": 1}


async def test_progress_from_an_older_major_layout_is_set_aside(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_dir: Path
) -> None:
    """Layout 0 (older than any Blip that shipped): not misread; set aside, an issue, a fresh
    start that is saved as usual."""
    stored = {"version": 0, "minor_version": 1, "key": "x", "data": {"words": {}}}
    ada_file = config_dir / ".storage" / (STORAGE_KEY_PREFIX + ADA)
    ada_file.write_text(json.dumps(stored))
    hass_storage[STORAGE_KEY_PREFIX + ADA] = stored
    progress = await set_up(hass, blip_entry())

    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"progress_unreadable_{ADA}")
    assert issue is not None and issue.translation_placeholders is not None
    assert issue.translation_placeholders["reason"] == (
        "progress file has layout version 0, this Blip reads version 1"
    )
    (backup,) = (config_dir / ".storage").glob(f"{STORAGE_KEY_PREFIX}{ADA}.unsupported.*")
    assert json.loads(backup.read_text()) == stored
    progress.record_drill_results(ADA, [spelled("dog")])
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert hass_storage[STORAGE_KEY_PREFIX + ADA]["version"] == 1


async def test_a_progress_file_that_cannot_be_read_is_never_saved_over(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_dir: Path
) -> None:
    """Something Blip cannot even open stands where Ada's file should be (here a directory):
    a read-only issue, a fresh start in memory, and nothing written over it."""
    ada_path = config_dir / ".storage" / (STORAGE_KEY_PREFIX + ADA)
    ada_path.mkdir()
    (ada_path / "keep.txt").write_text("the family's")
    progress = await set_up(hass, blip_entry())

    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"progress_read_only_{ADA}")
    assert issue is not None and issue.translation_placeholders is not None
    assert issue.translation_placeholders["backup"] == str(ada_path)
    assert issue.translation_placeholders["reason"].startswith("IsADirectoryError")
    assert sensor(hass, "words_mastered") == "0"

    progress.record_drill_results(ADA, [spelled("dog")])
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert STORAGE_KEY_PREFIX + ADA not in hass_storage
    assert (ada_path / "keep.txt").read_text() == "the family's"
