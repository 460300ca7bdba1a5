"""The pure progress model: mastery, streaks, sessions, limits, milestones and damaged data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from custom_components.blip.brain import Activity, DrillResult
from custom_components.blip.progress_model import (
    BREAK_REMINDER_AFTER,
    NEW_SESSION_TURN_CREDIT,
    SESSION_IDLE_GAP,
    ChildProgress,
    LimitSettings,
    parse_time_of_day,
)

DAY1 = date(2026, 3, 2)
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def spelled(word: str, correct: bool = True, hints: int = 0) -> DrillResult:
    return DrillResult(kind="spelling", item=word, correct=correct, hints_used=hints)


def mastered_words(progress: ChildProgress) -> list[str]:
    return sorted(w for w, r in progress.words.items() if r.mastered_on is not None)


def test_word_mastered_when_the_scheduler_predicts_recall_a_week_later() -> None:
    """Mastery is FSRS's prediction (90% recall a week after the last practice), not a count:
    one afternoon of right answers is not enough, the same answers spread over days are."""
    progress = ChildProgress()
    progress.record_drill_results([spelled("cat")], DAY1)
    assert mastered_words(progress) == []
    memory = progress.words["cat"].memory
    assert memory is not None and memory.reviews == 1 and not memory.mastered
    days = 0
    milestones: list = []
    while not mastered_words(progress) and days < 30:
        days += 1
        milestones, newly = progress.record_drill_results(
            [spelled("cat")], DAY1 + timedelta(days=days)
        )
    assert mastered_words(progress) == ["cat"]
    assert 1 <= days < 30
    assert newly == 1
    assert progress.latest_mastered_word == "cat"
    assert progress.newly_mastered == [("spelling", "cat")]
    assert [(m.kind, m.value, m.word) for m in milestones] == [("words_mastered", 1, "cat")]


def test_a_miss_takes_mastery_back_and_a_hint_counts_less() -> None:
    """A miss sends the word back to relearning; hint-aided answers grow its memory less."""
    progress = ChildProgress()
    progress.record_drill_results([spelled("dog"), spelled("dog")], DAY1)
    progress.record_drill_results([spelled("dog", correct=False)], DAY1 + timedelta(days=1))
    progress.record_drill_results([spelled("dog", hints=1)], DAY1 + timedelta(days=1))
    progress.record_drill_results([spelled("dog")], DAY1 + timedelta(days=2))
    assert mastered_words(progress) == []
    assert progress.spelling_totals() == (5, 4, 1)
    memory = progress.words["dog"].memory
    assert memory is not None and memory.lapses == 1

    aided, unaided = ChildProgress(), ChildProgress()
    for day in range(3):
        aided.record_drill_results([spelled("sun", hints=1)], DAY1 + timedelta(days=2 * day))
        unaided.record_drill_results([spelled("sun")], DAY1 + timedelta(days=2 * day))
    aided_memory, unaided_memory = aided.words["sun"].memory, unaided.words["sun"].memory
    assert aided_memory is not None and unaided_memory is not None
    assert (aided_memory.stability or 0) < (unaided_memory.stability or 0)

    for day in range(3, 40):
        progress.record_drill_results([spelled("dog")], DAY1 + timedelta(days=day))
        if mastered_words(progress):
            break
    assert mastered_words(progress) == ["dog"]
    progress.record_drill_results([spelled("dog", correct=False)], DAY1 + timedelta(days=41))
    assert mastered_words(progress) == []


def test_word_milestones_fire_once_each() -> None:
    """The first word and every tenth word are celebrated, each once."""
    progress = ChildProgress()
    keys: list[str] = []
    for index in range(21):
        word = f"word{index}"
        progress.record_drill_results([spelled(word), spelled(word)], DAY1)
        milestones, _ = progress.record_drill_results([spelled(word)], DAY1 + timedelta(days=1))
        keys += [m.key for m in milestones]
        again, _ = progress.record_drill_results([spelled(word)], DAY1 + timedelta(days=2))
        assert again == []
    assert keys == ["words_mastered:1", "words_mastered:10", "words_mastered:20"]
    assert progress.words_mastered == 21


def test_math_by_operation_and_accuracy() -> None:
    """Maths facts are counted per operation; accuracy is a percentage."""
    progress = ChildProgress()
    results = [
        DrillResult("math", "7x8", True, 0, "mul"),
        DrillResult("math", "7x8", False, 1, "mul"),
        DrillResult("math", "3+4", True, 0, "add"),
        DrillResult("math", "9-2", True, 0, None),
    ]
    progress.record_drill_results(results, DAY1)
    assert progress.math_totals() == (4, 3, 1)
    assert progress.accuracy(progress.math_totals()) == 75.0
    assert progress.math_by_operation() == {
        "mul": {"attempts": 2, "correct": 1, "hints_used": 1},
        "add": {"attempts": 1, "correct": 1, "hints_used": 0},
        "other": {"attempts": 1, "correct": 1, "hints_used": 0},
    }
    assert progress.accuracy(progress.spelling_totals()) is None


def test_streak_grows_daily_and_breaks_after_a_missed_day() -> None:
    """One turn a day keeps the streak; a day without Blip breaks it."""
    progress = ChildProgress()
    keys: list[str] = []
    for offset in range(3):
        outcome = progress.record_turn(
            NOON + timedelta(days=offset), DAY1 + timedelta(days=offset), "chitchat", None
        )
        keys += [m.key for m in outcome.milestones]
    assert progress.streak_on(DAY1 + timedelta(days=2)) == 3
    assert progress.streak_on(DAY1 + timedelta(days=3)) == 3  # today is not over yet
    assert progress.streak_on(DAY1 + timedelta(days=4)) == 0
    assert keys == ["streak:3:2026-03-02"]
    progress.record_turn(NOON + timedelta(days=5), DAY1 + timedelta(days=5), "math", None)
    assert progress.streak_on(DAY1 + timedelta(days=5)) == 1
    assert progress.streak_best == 3


def test_safety_turns_do_not_show_as_activity() -> None:
    """A safety turn counts as talk time only: no last activity, no streak day."""
    progress = ChildProgress()
    progress.record_turn(NOON, DAY1, Activity.SAFETY, "assist_satellite.kids_room")
    assert progress.last_activity is None
    assert progress.streak_on(DAY1) == 0
    assert progress.sessions_on(DAY1) == 1
    assert progress.last_satellite == "assist_satellite.kids_room"


def test_sessions_and_minutes() -> None:
    """Turns within the idle gap are one session; talk time adds up between turns."""
    progress = ChildProgress()
    assert progress.record_turn(NOON, DAY1, "spelling", None).ended_session is None
    progress.record_turn(NOON + timedelta(minutes=4), DAY1, "spelling", None)
    progress.record_drill_results([spelled("sun")], DAY1)
    later = NOON + timedelta(minutes=4) + SESSION_IDLE_GAP
    outcome = progress.record_turn(later, DAY1, "trivia", None)
    summary = outcome.ended_session
    assert summary is not None
    assert summary.turns == 2
    assert summary.drills_attempted == 1
    expected_seconds = NEW_SESSION_TURN_CREDIT.total_seconds() + 240
    assert summary.minutes == round(expected_seconds / 60, 1)
    assert progress.sessions_on(DAY1) == 2
    assert progress.minutes_on(DAY1) == round(
        (expected_seconds + NEW_SESSION_TURN_CREDIT.total_seconds()) / 60, 1
    )
    assert progress.end_session_if_idle(later + timedelta(minutes=1)) is None
    assert progress.end_session_if_idle(later + SESSION_IDLE_GAP) is not None


@pytest.mark.parametrize(
    ("start", "end", "moment", "quiet"),
    [
        ("20:00:00", "07:00:00", "21:30", True),
        ("20:00:00", "07:00:00", "06:59:59", True),
        ("20:00:00", "07:00:00", "07:00", False),
        ("20:00:00", "07:00:00", "19:59:59", False),
        ("13:00", "15:00", "14:00", True),
        ("13:00", "15:00", "15:00", False),
        ("13:00", "13:00", "13:00", False),
    ],
)
def test_quiet_hours(start: str, end: str, moment: str, quiet: bool) -> None:
    """Quiet hours include the start, exclude the end and may wrap midnight."""
    settings = LimitSettings(0, parse_time_of_day(start), parse_time_of_day(end))
    assert settings.in_quiet_hours(time.fromisoformat(moment)) is quiet


def test_bad_time_of_day_is_a_clear_error() -> None:
    """A time that is not a time says so."""
    with pytest.raises(ValueError, match="Not a time of day"):
        parse_time_of_day("bedtime")


def test_limits_in_order_and_safety_always_allowed() -> None:
    """Paused, then quiet hours, then daily minutes; a safety turn passes every one."""
    progress = ChildProgress()
    settings = LimitSettings(1, time(20), time(7))
    assert progress.check_limits(NOON, settings, "Ada").allowed
    progress.record_turn(NOON, DAY1, "math", None)
    progress.record_turn(NOON + timedelta(seconds=50), DAY1, "math", None)
    verdict = progress.check_limits(NOON + timedelta(minutes=1), settings, "Ada")
    assert (verdict.allowed, verdict.reason) == (False, "daily_minutes")
    assert verdict.reply is not None
    assert "Ada" in verdict.reply
    assert not verdict.reply.rstrip().endswith("?")
    night = NOON.replace(hour=22)
    assert progress.check_limits(night, settings, "Ada").reason == "quiet_hours"
    progress.paused = True
    assert progress.check_limits(night, settings, "Ada").reason == "paused"
    for moment in (NOON, night):
        safety = progress.check_limits(moment, settings, "Ada", activity=Activity.SAFETY)
        assert safety == type(safety)(allowed=True)


def test_break_reminder_once_per_long_session() -> None:
    """After a long session Blip suggests a break, once."""
    progress = ChildProgress()
    settings = LimitSettings()
    moment = NOON
    progress.record_turn(moment, DAY1, "spelling", None)
    reminders = []
    while moment - NOON < BREAK_REMINDER_AFTER + timedelta(minutes=10):
        moment += timedelta(minutes=5)
        progress.record_turn(moment, DAY1, "spelling", None)
        verdict = progress.check_limits(moment, settings, "Ada")
        assert verdict.allowed
        if verdict.break_reminder:
            reminders.append(moment - NOON)
    assert reminders == [BREAK_REMINDER_AFTER]


def test_round_trip_and_damaged_sections_start_fresh_alone() -> None:
    """Stored progress reads back whole; a damaged section (or entry) is dropped alone."""
    progress = ChildProgress()
    progress.record_turn(NOON, DAY1, "spelling", "assist_satellite.kids_room")
    progress.record_drill_results([spelled("cat"), spelled("dog", correct=False)], DAY1)
    progress.record_drill_results([DrillResult("math", "2+2", True, 0, "add")], DAY1)
    stored = progress.to_dict()
    again, damaged = ChildProgress.from_dict(stored)
    assert damaged == []
    assert again.to_dict() == stored

    stored["words"]["dog"] = {"attempts": "many"}
    stored["days"] = "yesterday"
    stored["paused"] = "yes"
    again, damaged = ChildProgress.from_dict(stored)
    assert damaged == ["words", "days", "paused"]
    assert list(again.words) == ["cat"]
    assert again.math_totals() == (1, 1, 0)
    assert again.days == {}
    assert again.last_satellite == "assist_satellite.kids_room"
    assert ChildProgress.from_dict(["not", "an", "object"])[1] == ["all"]


def test_reset_parts() -> None:
    """Resetting spelling forgets words and their milestones, and keeps maths and pause."""
    progress = ChildProgress(paused=True)
    progress.record_drill_results([spelled("cat")] * 2, DAY1)
    progress.record_drill_results([spelled("cat")], DAY1 + timedelta(days=1))
    progress.record_drill_results([DrillResult("math", "2+2", True, 0, "add")], DAY1)
    progress.reset(["spelling"])
    assert progress.words == {}
    assert progress.latest_mastered_word is None
    assert not any(m.startswith("words") for m in progress.milestones)
    assert progress.math_totals() == (1, 1, 0)
    assert progress.paused
    with pytest.raises(ValueError, match="Unknown progress parts: everything"):
        progress.reset(["everything"])


_AWARE = "2026-03-02T10:00:00+00:00"


@pytest.mark.parametrize(
    ("section", "value"),
    [
        ("words", {"cat": {"attempts": 2, "correct": 3}}),  # more right than tried
        ("words", {"cat": {"attempts": 1, "correct": 1, "memory": "strong"}}),
        ("words", {"cat": {"attempts": 1, "correct": 1, "operation": 5}}),
        ("days", {"2026-03-02": {"seconds": -5}}),
        ("days", {"2026-03-02": {"seconds": True}}),
        ("session", {"started": _AWARE}),  # no last turn
        ("session", {"started": _AWARE, "last_turn": _AWARE, "seconds": "long"}),
        ("activity", {"last": "2026-03-02T10:00:00"}),  # a time without a zone
        ("activity", {"latest_mastered_word": "x" * 300}),
        ("milestones", "words_mastered:1"),
    ],
)
def test_each_damaged_section_is_named_and_starts_fresh_alone(section: str, value: object) -> None:
    """Hand-edited or half-written files: the damaged section is reported, the rest is read."""
    progress = ChildProgress()
    progress.record_turn(NOON, DAY1, "spelling", "assist_satellite.kids_room")
    progress.record_drill_results([spelled("dog")], DAY1)
    progress.record_drill_results([DrillResult("math", "2+2", True, 0, "add")], DAY1)
    stored = progress.to_dict()
    stored[section] = value
    again, damaged = ChildProgress.from_dict(stored)
    assert damaged == [section]
    assert again.math_totals() == (1, 1, 0)  # another section, kept
    if section != "words":
        assert list(again.words) == ["dog"]
