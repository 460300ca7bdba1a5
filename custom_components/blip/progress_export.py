"""What Blip tells a family: milestone announcements and the export of a child's progress."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from .progress_model import (
    MILESTONE_MATH,
    MILESTONE_STREAK,
    MILESTONE_WORDS,
    ChildProgress,
    Milestone,
)
from .progress_records import DayRecord, day_text

MILESTONE_ANNOUNCEMENTS: Final[Mapping[str, str]] = {
    "first_word": "Wow, {name}! You mastered your very first spelling word: {word}!",
    MILESTONE_WORDS: "Amazing, {name}! You have mastered {value} spelling words!",
    MILESTONE_STREAK: "Hooray, {name}! You have practised with Blip {value} days in a row!",
    MILESTONE_MATH: "Super job, {name}! You have answered {value} math questions correctly!",
}


def milestone_announcement(milestone: Milestone, name: str) -> str:
    """A cheerful sentence about a milestone, for the child's satellite to announce."""
    template_key = milestone.kind
    if milestone.kind == MILESTONE_WORDS and milestone.value == 1 and milestone.word:
        template_key = "first_word"
    return MILESTONE_ANNOUNCEMENTS[template_key].format(
        name=name, value=milestone.value, word=milestone.word
    )


def export_progress(progress: ChildProgress, today: date) -> dict[str, Any]:
    """Everything stored about a child, in a stable JSON form for families to keep or inspect."""
    spelling, math = progress.spelling_totals(), progress.math_totals()
    return {
        "spelling": {
            "attempts": spelling[0],
            "correct": spelling[1],
            "hints_used": spelling[2],
            "accuracy": progress.accuracy(spelling),
            "words_mastered": progress.words_mastered,
            "latest_mastered_word": progress.latest_mastered_word,
            # Each record whole, as stored: counts, the current run, the days, and the
            # scheduler's memory (FSRS stability, difficulty, due, the words confused with it).
            "words": {word: record.to_dict() for word, record in sorted(progress.words.items())},
        },
        "math": {
            "attempts": math[0],
            "correct": math[1],
            "hints_used": math[2],
            "accuracy": progress.accuracy(math),
            "by_operation": progress.math_by_operation(),
            "facts": {
                fact: {"operation": record.operation, **record.to_dict()}
                for fact, record in sorted(progress.math_facts.items())
            },
        },
        "streak": {
            "current": progress.streak_on(today),
            "best": progress.streak_best,
            "started": day_text(progress.streak_started),
            "last_day": day_text(progress.streak_last_day),
        },
        "today": {
            "minutes": progress.minutes_on(today),
            **(progress.days.get(today) or DayRecord()).to_dict(),
        },
        "days": {
            day.isoformat(): record.to_dict() for day, record in sorted(progress.days.items())
        },
        "last_activity": progress.last_activity.isoformat() if progress.last_activity else None,
        "last_activity_kind": progress.last_activity_kind,
        "last_satellite": progress.last_satellite,
        "milestones": sorted(progress.milestones),
        "paused": progress.paused,
        "session": progress.session.to_dict() if progress.session else None,
    }
