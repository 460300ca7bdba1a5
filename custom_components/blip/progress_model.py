"""A child's learning progress: the pure model behind Blip's progress store.

Only structured facts are kept: which drill words and maths facts were tried and how they went,
how long and how often the child talked each day, a daily streak and the milestones reached.
No transcript, nothing the child said, is ever stored here.

No Home Assistant import: the Home Assistant side (``progress.py``) passes the clock in, and the
tests drive this model directly. Its parts live beside it: the records and their stored form
(``progress_records``), limits (``progress_limits``) and what is told to families
(``progress_export``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from .brain.activities import Activity
from .brain.drills import DrillResult
from .brain.practice_planner import due_items, weakest_items
from .progress_limits import (
    BREAK_REMINDER,
    BREAK_REMINDER_AFTER,
    GOODBYES,
    REASON_DAILY_MINUTES,
    REASON_PAUSED,
    REASON_QUIET_HOURS,
    LimitSettings,
    LimitVerdict,
    parse_time_of_day,
)
from .progress_records import (
    DayRecord,
    ItemRecord,
    ProgressDataError,
    Session,
    SessionSummary,
    count_of,
    day_of,
    day_text,
    mapping_of,
    moment_of,
    optional_text,
)

# A session ends when the child has been quiet this long; the next turn starts a new one.
SESSION_IDLE_GAP: Final = timedelta(minutes=10)
# Talk time credited for the first turn of a session (the child spoke and listened to a reply);
# later turns are credited with the time since the turn before.
NEW_SESSION_TURN_CREDIT: Final = timedelta(seconds=15)

# A word is mastered when the scheduler (FSRS, brain/item_memory.py) predicts the child still
# spells it a week after the last practice with 90% certainty: one lucky afternoon is not enough.

# Per-day figures (minutes, sessions, drills) are kept this many days, then forgotten.
DAY_HISTORY_DAYS: Final = 31
# Drill items longer than this are not a word or a maths fact; they are not stored.
MAX_ITEM_LENGTH: Final = 48

WORD_MILESTONE_EVERY: Final = 10  # plus the very first word
STREAK_MILESTONES: Final = (3, 7, 14, 30, 50, 100, 200, 365)
MATH_MILESTONES: Final = (10, 50, 100, 250, 500, 1000, 2500, 5000)

MILESTONE_WORDS: Final = "words_mastered"
MILESTONE_STREAK: Final = "streak"
MILESTONE_MATH: Final = "math_correct"

# What reset_progress can clear, each on its own.
PART_SPELLING: Final = "spelling"
PART_MATH: Final = "math"
PART_STREAK: Final = "streak"
PART_TIME: Final = "time"  # minutes, sessions and the open session
RESET_PARTS: Final = (PART_SPELLING, PART_MATH, PART_STREAK, PART_TIME)

KIND_SPELLING: Final = "spelling"
KIND_MATH: Final = "math"
OTHER_OPERATION: Final = "other"


@dataclass(frozen=True)
class Milestone:
    """Something worth celebrating; ``key`` makes sure each is celebrated once."""

    kind: str
    value: int
    key: str
    word: str | None = None


@dataclass
class TurnOutcome:
    """What recording a turn caused."""

    ended_session: SessionSummary | None = None
    milestones: list[Milestone] = field(default_factory=list)


@dataclass
class ChildProgress:
    """Everything Blip remembers about one child's learning."""

    words: dict[str, ItemRecord] = field(default_factory=dict)
    math_facts: dict[str, ItemRecord] = field(default_factory=dict)
    days: dict[date, DayRecord] = field(default_factory=dict)
    streak_current: int = 0
    streak_best: int = 0
    streak_started: date | None = None
    streak_last_day: date | None = None
    last_activity: datetime | None = None
    last_activity_kind: str | None = None
    last_satellite: str | None = None
    latest_mastered_word: str | None = None
    milestones: set[str] = field(default_factory=set)
    paused: bool = False
    session: Session | None = None
    # Items the last record_drill_results call made mastered: (kind, item), for the event.
    newly_mastered: list[tuple[str, str]] = field(default_factory=list)

    # --- feeding it -------------------------------------------------------------------------

    def record_turn(
        self, now: datetime, today: date, activity: str, satellite_id: str | None
    ) -> TurnOutcome:
        """Count one turn: session, talk time, last activity and the daily streak.

        A safety turn counts as talk time but is not shown as the last activity and does not
        extend the streak: progress sensors must not hint that a safety turn happened.
        """
        outcome = TurnOutcome(ended_session=self.end_session_if_idle(now))
        day = self._day(today)
        if self.session is None:
            self.session = Session(started=now, last_turn=now)
            credit = NEW_SESSION_TURN_CREDIT.total_seconds()
            day.sessions += 1
        else:
            credit = max(0.0, (now - self.session.last_turn).total_seconds())
        self.session.turns += 1
        self.session.seconds += credit
        self.session.last_turn = now
        day.seconds += credit
        day.turns += 1
        if satellite_id:
            self.last_satellite = satellite_id
        if activity != Activity.SAFETY:
            self.last_activity = now
            self.last_activity_kind = activity
            outcome.milestones.extend(self._extend_streak(today))
        self._forget_old_days(today)
        return outcome

    def record_drill_results(
        self, results: Sequence[DrillResult], today: date, now: datetime | None = None
    ) -> tuple[list[Milestone], int]:
        """Count drill answers; returns the milestones reached and how many words became mastered.

        ``now`` times the answers for the scheduler (noon UTC on ``today`` when not given).
        """
        now = now or datetime.combine(today, time(12), tzinfo=UTC)
        self.newly_mastered = []
        mastered_before = self.words_mastered
        math_correct_before = self.math_totals()[1]
        newly_mastered = 0
        day = self._day(today)
        for result in results:
            item = " ".join(str(result.item).split()).lower()
            if not item or len(item) > MAX_ITEM_LENGTH:
                continue
            hints = max(0, int(result.hints_used))
            if result.kind == KIND_SPELLING:
                record = self.words.setdefault(item, ItemRecord())
                day.spelling_attempts += 1
                day.spelling_correct += int(result.correct)
                confused = str(result.confused_with or "")[:MAX_ITEM_LENGTH] or None
                if record.record(result.correct, hints, today, now, confused):
                    newly_mastered += 1
                    self.latest_mastered_word = item
                    self.newly_mastered.append((KIND_SPELLING, item))
            elif result.kind == KIND_MATH:
                operation = result.operation or OTHER_OPERATION
                record = self.math_facts.setdefault(item, ItemRecord(operation=operation))
                record.operation = operation
                if record.record(result.correct, hints, today, now):
                    self.newly_mastered.append((KIND_MATH, item))
                day.math_attempts += 1
                day.math_correct += int(result.correct)
            else:
                continue
            if self.session is not None:
                self.session.drills_attempted += 1
                self.session.drills_correct += int(result.correct)
        if self.session is not None:
            self.session.words_mastered += newly_mastered
        milestones = self._word_milestones(mastered_before, self.words_mastered)
        milestones += self._math_milestones(math_correct_before, self.math_totals()[1])
        return milestones, newly_mastered

    def end_session_if_idle(self, now: datetime) -> SessionSummary | None:
        """Close the open session if the child has been quiet for the idle gap."""
        if self.session is None or now - self.session.last_turn < SESSION_IDLE_GAP:
            return None
        summary = self.session.summary()
        self.session = None
        return summary

    def check_limits(
        self,
        now_local: datetime,
        settings: LimitSettings,
        name: str,
        activity: str | None = None,
    ) -> LimitVerdict:
        """May Blip play now? A safety turn is always allowed, whatever the limits say."""
        if activity == Activity.SAFETY:
            return LimitVerdict(allowed=True)
        reason: str | None = None
        if self.paused:
            reason = REASON_PAUSED
        elif settings.in_quiet_hours(now_local.time()):
            reason = REASON_QUIET_HOURS
        elif settings.daily_minutes > 0 and (
            self.minutes_on(now_local.date()) >= settings.daily_minutes
        ):
            reason = REASON_DAILY_MINUTES
        if reason is not None:
            return LimitVerdict(
                allowed=False, reason=reason, reply=GOODBYES[reason].format(name=name)
            )
        session = self.session
        if (
            session is not None
            and not session.break_reminded
            and now_local - session.last_turn < SESSION_IDLE_GAP
            and now_local - session.started >= BREAK_REMINDER_AFTER
        ):
            session.break_reminded = True
            return LimitVerdict(allowed=True, break_reminder=BREAK_REMINDER.format(name=name))
        return LimitVerdict(allowed=True)

    def reset(self, parts: Iterable[str] = RESET_PARTS) -> None:
        """Forget some or all of the child's progress (pause state is kept)."""
        parts = set(parts)
        if unknown := parts - set(RESET_PARTS):
            raise ValueError(f"Unknown progress parts: {', '.join(sorted(unknown))}")
        if PART_SPELLING in parts:
            self.words.clear()
            self.latest_mastered_word = None
            self.milestones = {m for m in self.milestones if not m.startswith(MILESTONE_WORDS)}
            for day in self.days.values():
                day.spelling_attempts = day.spelling_correct = 0
        if PART_MATH in parts:
            self.math_facts.clear()
            self.milestones = {m for m in self.milestones if not m.startswith(MILESTONE_MATH)}
            for day in self.days.values():
                day.math_attempts = day.math_correct = 0
        if PART_STREAK in parts:
            self.streak_current = self.streak_best = 0
            self.streak_started = self.streak_last_day = None
            self.milestones = {m for m in self.milestones if not m.startswith(MILESTONE_STREAK)}
        if PART_TIME in parts:
            for day in self.days.values():
                day.seconds = 0.0
                day.sessions = day.turns = 0
            self.session = None
            self.last_activity = self.last_activity_kind = self.last_satellite = None

    # --- reading it -------------------------------------------------------------------------

    @property
    def words_mastered(self) -> int:
        """How many spelling words are mastered (by the scheduler's predicted retention)."""
        return sum(1 for record in self.words.values() if record.mastered_on is not None)

    @property
    def math_facts_mastered(self) -> int:
        """How many maths facts are mastered."""
        return sum(1 for record in self.math_facts.values() if record.mastered_on is not None)

    def math_mastered_by_table(self) -> dict[str, int]:
        """Mastered multiplication facts per times table ("7": 5 means five 7x facts)."""
        tables: dict[str, int] = {}
        for fact, record in self.math_facts.items():
            left, sep, _ = fact.partition("x")
            if sep and left.isdigit() and record.mastered_on is not None:
                tables[left] = tables.get(left, 0) + 1
        return dict(sorted(tables.items(), key=lambda pair: int(pair[0])))

    def _records(self, kind: str) -> dict[str, ItemRecord]:
        return self.words if kind == KIND_SPELLING else self.math_facts

    def items_due(self, kind: str, until: datetime) -> list[str]:
        """Items the scheduler wants practised by ``until``, soonest first."""
        memories = {i: r.memory for i, r in self._records(kind).items() if r.memory is not None}
        return due_items(memories, until)

    def weakest(self, kind: str, now: datetime, count: int) -> list[str]:
        """The items the child is most likely to have forgotten now."""
        memories = {i: r.memory for i, r in self._records(kind).items() if r.memory is not None}
        return weakest_items(memories, now, count)

    def spelling_totals(self) -> tuple[int, int, int]:
        """All-time (attempts, correct, hints used) for spelling."""
        return _totals(self.words.values())

    def math_totals(self) -> tuple[int, int, int]:
        """All-time (attempts, correct, hints used) for maths."""
        return _totals(self.math_facts.values())

    def math_by_operation(self) -> dict[str, dict[str, int]]:
        """All-time maths attempts, correct answers and hints per operation."""
        by_operation: dict[str, dict[str, int]] = {}
        for record in self.math_facts.values():
            totals = by_operation.setdefault(
                record.operation or OTHER_OPERATION, {"attempts": 0, "correct": 0, "hints_used": 0}
            )
            totals["attempts"] += record.attempts
            totals["correct"] += record.correct
            totals["hints_used"] += record.hints_used
        return by_operation

    @staticmethod
    def accuracy(totals: tuple[int, int, int]) -> float | None:
        """Percentage of correct answers, or None before the first attempt."""
        attempts, correct, _ = totals
        return round(100 * correct / attempts, 1) if attempts else None

    def streak_on(self, today: date) -> int:
        """The streak as it stands today: 0 once a whole day went by without Blip."""
        if self.streak_last_day is None or (today - self.streak_last_day).days > 1:
            return 0
        return self.streak_current

    def minutes_on(self, day: date) -> float:
        """Minutes talked that day."""
        record = self.days.get(day)
        return round(record.seconds / 60, 1) if record else 0.0

    def sessions_on(self, day: date) -> int:
        """Sessions started that day."""
        record = self.days.get(day)
        return record.sessions if record else 0

    # --- storing it -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, one key per section so a damaged section can be dropped alone."""
        return {
            "words": {word: record.to_dict() for word, record in sorted(self.words.items())},
            "math_facts": {
                fact: record.to_dict() for fact, record in sorted(self.math_facts.items())
            },
            "days": {
                day.isoformat(): record.to_dict() for day, record in sorted(self.days.items())
            },
            "streak": {
                "current": self.streak_current,
                "best": self.streak_best,
                "started": day_text(self.streak_started),
                "last_day": day_text(self.streak_last_day),
            },
            "activity": {
                "last": self.last_activity.isoformat() if self.last_activity else None,
                "kind": self.last_activity_kind,
                "satellite": self.last_satellite,
                "latest_mastered_word": self.latest_mastered_word,
            },
            "milestones": sorted(self.milestones),
            "paused": self.paused,
            "session": self.session.to_dict() if self.session else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> tuple[ChildProgress, list[str]]:
        """Read stored progress section by section.

        Returns the progress and the names of the sections that were damaged: each damaged
        section (or single damaged word or fact) starts fresh; everything else is kept.
        """
        progress = cls()
        damaged: list[str] = []
        if not isinstance(data, Mapping):
            return progress, ["all"]

        def section(name: str, read: Callable[[Any], None]) -> None:
            if name not in data:
                return
            try:
                read(data[name])
            except (ProgressDataError, TypeError, ValueError, AttributeError, KeyError):
                damaged.append(name)

        def read_items(name: str, target: dict[str, ItemRecord]) -> Callable[[Any], None]:
            def read(raw: Any) -> None:
                bad = False
                for key, value in mapping_of(raw).items():
                    if len(str(key)) > MAX_ITEM_LENGTH:
                        bad = True  # not a word or a fact: it would not fit a sensor either
                        continue
                    try:
                        target[str(key)] = ItemRecord.from_dict(value)
                    except (ProgressDataError, TypeError, ValueError, AttributeError):
                        bad = True
                if bad:
                    raise ProgressDataError(f"damaged entries in {name}")

            return read

        def read_days(raw: Any) -> None:
            bad = False
            for key, value in mapping_of(raw).items():
                try:
                    progress.days[date.fromisoformat(str(key))] = DayRecord.from_dict(value)
                except (ProgressDataError, TypeError, ValueError, AttributeError):
                    bad = True
            if bad:
                raise ProgressDataError("damaged days")

        def read_streak(raw: Any) -> None:
            raw = mapping_of(raw)
            current, best = count_of(raw.get("current", 0)), count_of(raw.get("best", 0))
            started, last_day = day_of(raw.get("started")), day_of(raw.get("last_day"))
            progress.streak_current, progress.streak_best = current, max(best, current)
            progress.streak_started, progress.streak_last_day = started, last_day

        def read_activity(raw: Any) -> None:
            raw = mapping_of(raw)
            last, kind = moment_of(raw.get("last")), optional_text(raw.get("kind"))
            satellite = optional_text(raw.get("satellite"))
            word = optional_text(raw.get("latest_mastered_word"))
            if word is not None and len(word) > MAX_ITEM_LENGTH:
                raise ProgressDataError("latest mastered word is not a word")
            progress.last_activity, progress.last_activity_kind = last, kind
            progress.last_satellite, progress.latest_mastered_word = satellite, word

        def read_milestones(raw: Any) -> None:
            if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
                raise ProgressDataError("milestones must be a list of strings")
            progress.milestones = set(raw)

        def read_paused(raw: Any) -> None:
            if not isinstance(raw, bool):
                raise ProgressDataError("paused must be true or false")
            progress.paused = raw

        def read_session(raw: Any) -> None:
            progress.session = None if raw is None else Session.from_dict(raw)

        section("words", read_items("words", progress.words))
        section("math_facts", read_items("math_facts", progress.math_facts))
        section("days", read_days)
        section("streak", read_streak)
        section("activity", read_activity)
        section("milestones", read_milestones)
        section("paused", read_paused)
        section("session", read_session)
        return progress, damaged

    # --- inside -----------------------------------------------------------------------------

    def _day(self, today: date) -> DayRecord:
        return self.days.setdefault(today, DayRecord())

    def _forget_old_days(self, today: date) -> None:
        oldest_kept = today - timedelta(days=DAY_HISTORY_DAYS - 1)
        for day in [day for day in self.days if day < oldest_kept]:
            del self.days[day]

    def _extend_streak(self, today: date) -> list[Milestone]:
        last = self.streak_last_day
        if last == today:
            return []
        if last is not None and (today - last).days == 1:
            self.streak_current += 1
        else:
            self.streak_current = 1
            self.streak_started = today
        self.streak_last_day = today
        self.streak_best = max(self.streak_best, self.streak_current)
        started = day_text(self.streak_started)
        return self._new_milestones(
            MILESTONE_STREAK,
            (n for n in STREAK_MILESTONES if n <= self.streak_current),
            key_suffix=f":{started}",
        )

    def _word_milestones(self, before: int, after: int) -> list[Milestone]:
        if after <= before:
            return []
        reached = [1] if after >= 1 else []
        reached += range(WORD_MILESTONE_EVERY, after + 1, WORD_MILESTONE_EVERY)
        return self._new_milestones(MILESTONE_WORDS, reached, word=self.latest_mastered_word)

    def _math_milestones(self, before: int, after: int) -> list[Milestone]:
        if after <= before:
            return []
        return self._new_milestones(MILESTONE_MATH, (n for n in MATH_MILESTONES if n <= after))

    def _new_milestones(
        self, kind: str, values: Iterable[int], key_suffix: str = "", word: str | None = None
    ) -> list[Milestone]:
        new: list[Milestone] = []
        for value in values:
            key = f"{kind}:{value}{key_suffix}"
            if key not in self.milestones:
                self.milestones.add(key)
                new.append(Milestone(kind=kind, value=value, key=key, word=word))
        return new


def _totals(records: Iterable[ItemRecord]) -> tuple[int, int, int]:
    attempts = correct = hints = 0
    for record in records:
        attempts += record.attempts
        correct += record.correct
        hints += record.hints_used
    return attempts, correct, hints


# Older imports of these names from this module keep working.
__all__ = [
    "BREAK_REMINDER_AFTER",
    "ChildProgress",
    "DayRecord",
    "ItemRecord",
    "LimitSettings",
    "LimitVerdict",
    "Milestone",
    "ProgressDataError",
    "Session",
    "SessionSummary",
    "parse_time_of_day",
]
