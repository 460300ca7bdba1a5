"""The records a child's progress is made of, and how each is stored.

One drill item (with its scheduler memory), one day, the open session: each knows its JSON form
and reads it back strictly (``ProgressDataError`` for anything else), so a damaged entry can be
dropped alone. The parsing helpers at the end are shared with ``progress_model``'s sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from .brain.item_memory import ItemMemory, MemoryDataError, memory_from_history


class ProgressDataError(ValueError):
    """Stored progress data does not have the expected shape."""


@dataclass(frozen=True)
class SessionSummary:
    """Numbers describing one finished session (no words, nothing said)."""

    started: datetime
    ended: datetime
    turns: int
    minutes: float
    drills_attempted: int
    drills_correct: int
    words_mastered: int


@dataclass
class ItemRecord:
    """How one drill word or maths fact went over time."""

    attempts: int = 0
    correct: int = 0
    hints_used: int = 0
    # Correct answers without a hint since the last miss, and the day that run began.
    run: int = 0
    run_first_day: date | None = None
    last_day: date | None = None
    mastered_on: date | None = None
    operation: str | None = None  # maths facts only
    # The scheduler's memory of the item (None only for an item never answered).
    memory: ItemMemory | None = None

    def record(
        self,
        correct: bool,
        hints_used: int,
        today: date,
        now: datetime,
        confused_with: str | None = None,
    ) -> bool:
        """Count one answer; True when this answer made the item mastered.

        The item is mastered while the scheduler says so; forgetting it (a miss) takes the
        mastery back, and mastering it again is celebrated again only if the milestone is new.
        """
        memory = self.memory or ItemMemory()
        memory.review(correct, hints_used, now)
        if confused_with:
            memory.note_confusion(confused_with)
        self.memory = memory
        self.attempts += 1
        self.hints_used += hints_used
        self.last_day = today
        if correct:
            self.correct += 1
        if not correct:
            self.run = 0
            self.run_first_day = None
        elif hints_used == 0:
            if self.run == 0:
                self.run_first_day = today
            self.run += 1
        if not memory.mastered:
            self.mastered_on = None
            return False
        if self.mastered_on is None:
            self.mastered_on = today
            return True
        return False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {
            "attempts": self.attempts,
            "correct": self.correct,
            "hints_used": self.hints_used,
            "run": self.run,
            "run_first_day": day_text(self.run_first_day),
            "last_day": day_text(self.last_day),
            "mastered_on": day_text(self.mastered_on),
        }
        if self.operation is not None:
            data["operation"] = self.operation
        if self.memory is not None:
            data["memory"] = self.memory.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ItemRecord:
        """Read a stored record; ProgressDataError when it is not one."""
        data = mapping_of(data)
        record = cls(
            attempts=count_of(data.get("attempts", 0)),
            correct=count_of(data.get("correct", 0)),
            hints_used=count_of(data.get("hints_used", 0)),
            run=count_of(data.get("run", 0)),
            run_first_day=day_of(data.get("run_first_day")),
            last_day=day_of(data.get("last_day")),
            mastered_on=day_of(data.get("mastered_on")),
            operation=optional_text(data.get("operation")),
        )
        if record.correct > record.attempts:
            raise ProgressDataError("more correct answers than attempts")
        if "memory" in data:
            try:
                record.memory = ItemMemory.from_dict(data["memory"])
            except MemoryDataError as err:
                raise ProgressDataError(f"bad memory: {err}") from None
        else:
            record.memory = migrated_memory(record)
        return record


def migrated_memory(record: ItemRecord) -> ItemMemory | None:
    """A layout 1.1 record (counts only) as FSRS memory, reviewed on its last day at noon UTC."""
    day = record.last_day or record.mastered_on
    last_review = datetime.combine(day, time(12), tzinfo=UTC) if day else None
    return memory_from_history(
        record.attempts, record.run, record.mastered_on is not None, last_review
    )


@dataclass
class DayRecord:
    """One day of talking and drilling."""

    seconds: float = 0.0
    sessions: int = 0
    turns: int = 0
    spelling_attempts: int = 0
    spelling_correct: int = 0
    math_attempts: int = 0
    math_correct: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "seconds": round(self.seconds, 1),
            "sessions": self.sessions,
            "turns": self.turns,
            "spelling_attempts": self.spelling_attempts,
            "spelling_correct": self.spelling_correct,
            "math_attempts": self.math_attempts,
            "math_correct": self.math_correct,
        }

    @classmethod
    def from_dict(cls, data: Any) -> DayRecord:
        """Read a stored day; ProgressDataError when it is not one."""
        data = mapping_of(data)
        seconds = data.get("seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ProgressDataError(f"bad seconds: {seconds!r}")
        return cls(
            seconds=float(seconds),
            **{
                name: count_of(data.get(name, 0))
                for name in (
                    "sessions",
                    "turns",
                    "spelling_attempts",
                    "spelling_correct",
                    "math_attempts",
                    "math_correct",
                )
            },
        )


@dataclass
class Session:
    """The session going on now (kept in the store so a restart does not split it)."""

    started: datetime
    last_turn: datetime
    turns: int = 0
    seconds: float = 0.0
    drills_attempted: int = 0
    drills_correct: int = 0
    words_mastered: int = 0
    break_reminded: bool = False

    def summary(self) -> SessionSummary:
        """The numbers for ``blip_session_ended``."""
        return SessionSummary(
            started=self.started,
            ended=self.last_turn,
            turns=self.turns,
            minutes=round(self.seconds / 60, 1),
            drills_attempted=self.drills_attempted,
            drills_correct=self.drills_correct,
            words_mastered=self.words_mastered,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "started": self.started.isoformat(),
            "last_turn": self.last_turn.isoformat(),
            "turns": self.turns,
            "seconds": round(self.seconds, 1),
            "drills_attempted": self.drills_attempted,
            "drills_correct": self.drills_correct,
            "words_mastered": self.words_mastered,
            "break_reminded": self.break_reminded,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Session:
        """Read a stored session; ProgressDataError when it is not one."""
        data = mapping_of(data)
        started = moment_of(data.get("started"))
        last_turn = moment_of(data.get("last_turn"))
        if started is None or last_turn is None:
            raise ProgressDataError("session without start or last turn")
        seconds = data.get("seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ProgressDataError(f"bad seconds: {seconds!r}")
        return cls(
            started=started,
            last_turn=last_turn,
            turns=count_of(data.get("turns", 0)),
            seconds=float(seconds),
            drills_attempted=count_of(data.get("drills_attempted", 0)),
            drills_correct=count_of(data.get("drills_correct", 0)),
            words_mastered=count_of(data.get("words_mastered", 0)),
            break_reminded=bool(data.get("break_reminded", False)),
        )


def mapping_of(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProgressDataError(f"expected an object, got {type(value).__name__}")
    return value


def count_of(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProgressDataError(f"expected a count, got {value!r}")
    return value


def optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProgressDataError(f"expected text, got {type(value).__name__}")
    return value


def day_of(value: Any) -> date | None:
    if value is None:
        return None
    return date.fromisoformat(str(value))


def day_text(value: date | None) -> str | None:
    return value.isoformat() if value else None


def moment_of(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ProgressDataError("stored times must carry a time zone")
    return moment
