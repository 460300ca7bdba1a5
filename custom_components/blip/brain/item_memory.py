"""How well a child remembers one drill item (a spelling word, a maths fact): FSRS memory state.

The scheduler is FSRS (the ``fsrs`` package, the one Anki uses): each answer is a review rated
Again / Hard / Good (Easy for an item right the first time it is ever asked), and FSRS keeps the
item's stability (days until recall drops to 90%), difficulty and next due time. Blip adds two rules of its own:

- an item is *mastered* when the scheduler predicts the child still recalls it with at least
  ``MASTERY_RETENTION`` a ``MASTERY_HORIZON`` after the last review (not "N right answers"),
  and the child has shown it on two different days (``MASTERY_SPREAD``): a word spelled right
  the first time it is ever asked is rated Easy (the child knew it before practising, so it
  is not drilled), and counts as mastered when it is right again on a later day;
- an item the child confused with another word remembers that word, so practice can mix the
  two (``confused_with``).

Pure Python, no Home Assistant import; times are aware datetimes passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from fsrs import Card, Rating, Scheduler, State

MASTERY_RETENTION: Final = 0.9
MASTERY_HORIZON: Final = timedelta(days=7)
# First and last review at least this far apart: two different days, not one afternoon.
MASTERY_SPREAD: Final = timedelta(hours=12)
# The confusions kept per item: enough to mix them in, never a growing list.
MAX_CONFUSIONS: Final = 3

LEARNING: Final = "learning"
REVIEW: Final = "review"
RELEARNING: Final = "relearning"
_STATE_NAMES: Final = {State.Learning: LEARNING, State.Review: REVIEW, State.Relearning: RELEARNING}
_STATES_BY_NAME: Final = {name: state for state, name in _STATE_NAMES.items()}

# Fuzzing spreads due dates at random: good for an Anki deck of thousands, but a child's list is
# short and a family expects the same answers to give the same schedule. FSRS's parameters are
# fitted to adults' flashcards; a child's word still comes back at least once a week (the
# school's rhythm), which costs nothing when FSRS is right and saves the word when it is too
# optimistic (benchmarks/adaptive_practice.py --learner actr).
MAX_INTERVAL_DAYS: Final = MASTERY_HORIZON.days
SCHEDULER: Final = Scheduler(
    desired_retention=MASTERY_RETENTION,
    maximum_interval=MAX_INTERVAL_DAYS,
    enable_fuzzing=False,
)
# FSRS-6's forgetting curve, R = (1 + FACTOR * days / S) ** DECAY, as Scheduler computes it;
# evaluated here without building a Card, because a practice pick ranks every item.
_DECAY: Final = -float(SCHEDULER.parameters[20])
_FACTOR: Final = 0.9 ** (1 / _DECAY) - 1


class MemoryDataError(ValueError):
    """Stored memory data does not have the expected shape."""


def rating_for(correct: bool, hints_used: int, first_time: bool = False) -> Rating:
    """Right without help is Good, right after a hint is Hard, a miss (or a reveal) is Again.

    Right without help the first time Blip ever asks is Easy: the child knew the word before
    practising it (a teacher's pretest), so it is not drilled like a word being learned.
    """
    if not correct:
        return Rating.Again
    if hints_used:
        return Rating.Hard
    return Rating.Easy if first_time else Rating.Good


@dataclass
class ItemMemory:
    """FSRS memory of one item, plus how often it was seen and missed."""

    state: str = LEARNING
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reviews: int = 0
    lapses: int = 0
    confused_with: list[str] = field(default_factory=list)
    first_review: datetime | None = None  # None for memories migrated from counts

    # --- scheduling -----------------------------------------------------------------------

    def review(self, correct: bool, hints_used: int, now: datetime) -> None:
        """Record one answer at ``now`` and let FSRS schedule the next review."""
        rating = rating_for(correct, hints_used, first_time=self.reviews == 0)
        card, _ = SCHEDULER.review_card(self._card(), rating, now)
        self.state = _STATE_NAMES[card.state]
        self.step = card.step
        self.stability = card.stability
        self.difficulty = card.difficulty
        self.due = card.due
        self.last_review = card.last_review
        if self.reviews == 0:
            self.first_review = now
        self.reviews += 1
        if not correct:
            self.lapses += 1

    def note_confusion(self, other: str) -> None:
        """The child wrote ``other`` (another word they practise) instead of this one."""
        if other in self.confused_with:
            self.confused_with.remove(other)
        self.confused_with = [other, *self.confused_with][:MAX_CONFUSIONS]

    def retrievability(self, now: datetime) -> float:
        """FSRS's predicted chance the child recalls the item at ``now`` (0 before any review)."""
        if self.last_review is None or self.stability is None:
            return 0.0
        elapsed_days = max(0, (now - self.last_review).days)  # whole days, as FSRS counts them
        return float((1 + _FACTOR * elapsed_days / self.stability) ** _DECAY)

    def is_due(self, now: datetime) -> bool:
        """True when FSRS wants the item reviewed by ``now``."""
        return self.due is None or self.due <= now

    @property
    def mastered(self) -> bool:
        """Predicted recall a week after the last review is at least 90%, no miss pending, and
        shown on two different days."""
        if self.state != REVIEW or self.last_review is None:
            return False
        if self.first_review is not None and self.last_review - self.first_review < MASTERY_SPREAD:
            return False
        return self.retrievability(self.last_review + MASTERY_HORIZON) >= MASTERY_RETENTION

    def _card(self) -> Card:
        return Card(
            card_id=1,
            state=_STATES_BY_NAME[self.state],
            step=self.step,
            stability=self.stability,
            difficulty=self.difficulty,
            due=self.due,
            last_review=self.last_review,
        )

    # --- storing --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "state": self.state,
            "step": self.step,
            "stability": None if self.stability is None else round(self.stability, 4),
            "difficulty": None if self.difficulty is None else round(self.difficulty, 4),
            "due": self.due.isoformat() if self.due else None,
            "last_review": self.last_review.isoformat() if self.last_review else None,
            "reviews": self.reviews,
            "lapses": self.lapses,
            "confused_with": list(self.confused_with),
            "first_review": self.first_review.isoformat() if self.first_review else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ItemMemory:
        """Read stored memory; MemoryDataError when it is not one."""
        if not isinstance(data, Mapping):
            raise MemoryDataError("memory must be an object")
        state = data.get("state", LEARNING)
        if state not in _STATES_BY_NAME:
            raise MemoryDataError(f"unknown memory state {state!r}")
        step = data.get("step")
        if step is not None and (not isinstance(step, int) or isinstance(step, bool) or step < 0):
            raise MemoryDataError(f"bad step {step!r}")
        confused = data.get("confused_with", [])
        if not isinstance(confused, list) or not all(isinstance(c, str) for c in confused):
            raise MemoryDataError("confused_with must be a list of words")
        memory = cls(
            state=state,
            step=step,
            stability=_positive(data.get("stability")),
            difficulty=_positive(data.get("difficulty")),
            due=_moment(data.get("due")),
            last_review=_moment(data.get("last_review")),
            reviews=_count(data.get("reviews", 0)),
            lapses=_count(data.get("lapses", 0)),
            confused_with=confused[:MAX_CONFUSIONS],
            first_review=_moment(data.get("first_review")),
        )
        if memory.last_review is not None and memory.stability is None:
            raise MemoryDataError("a reviewed item needs a stability")
        return memory


def memory_from_history(
    attempts: int, run: int, mastered: bool, last_review: datetime | None
) -> ItemMemory | None:
    """FSRS memory for an item recorded before Blip scheduled (progress layout 1.1).

    Those records only kept counts: how many answers, the current run of unaided correct
    answers and whether the old rule called the item mastered. The estimate is deliberately
    modest: a mastered word is a review card with a week's stability (so it is mastered now
    and comes back in a week), a word on a run has a day per correct answer, anything else is
    being relearned and due at once.
    """
    if attempts <= 0 or last_review is None:
        return None
    if mastered:
        stability = MASTERY_HORIZON.days + 0.5
    elif run > 0:
        stability = float(min(run, MASTERY_HORIZON.days - 1))
    else:
        return ItemMemory(
            state=RELEARNING,
            step=0,
            stability=0.5,
            difficulty=7.0,
            due=last_review,
            last_review=last_review,
            reviews=attempts,
            lapses=max(0, attempts - run),
        )
    return ItemMemory(
        state=REVIEW,
        step=None,
        stability=stability,
        difficulty=5.0,
        due=last_review + timedelta(days=stability),
        last_review=last_review,
        reviews=attempts,
        lapses=0,
    )


def _positive(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise MemoryDataError(f"expected a positive number, got {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MemoryDataError(f"expected a count, got {value!r}")
    return value


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise MemoryDataError(f"not a time: {value!r}") from None
    if moment.tzinfo is None:
        raise MemoryDataError("stored times must carry a time zone")
    return moment
