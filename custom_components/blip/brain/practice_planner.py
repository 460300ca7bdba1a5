"""Which item a practice session asks next: due and weak items first, new ones at a set pace.

The order, for each question:

1. a word the child just confused with another is followed by that other word (once), so the
   two are told apart while the mix-up is fresh;
2. items FSRS says are due, the most forgotten first (lowest predicted recall), leaving out
   those already answered in this sitting (``due_in_session``);
3. a new item, the next one in the list (school words first, then the grade list from easiest
   to hardest), while fewer than ``MAX_LEARNING`` items are still being learned and fewer than
   ``NEW_PER_SESSION`` new ones came this session;
4. otherwise the weakest item already seen, so nothing is asked again at once unless nothing
   else is left.

Pure Python with no Home Assistant import: the memories come from the child's progress and the
clock is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from .drills import DrillState, sound_alikes
from .item_memory import REVIEW, ItemMemory
from .word_lists import ordered_words

# New items in one session, and items "in the air" (seen, not yet in review) at once: a child
# learns more from a few words revisited than from many words seen once.
NEW_PER_SESSION: Final = 6
MAX_LEARNING: Final = 4
# The last few items are not asked again unless nothing else is left.
NOT_AGAIN_WITHIN: Final = 2
# A session asks at least this many questions before it may end for having nothing due.
MIN_SESSION_ITEMS: Final = 3
# Answers closer together than this are one sitting.
SAME_SITTING: Final = timedelta(minutes=30)


@dataclass
class PracticePlanner:
    """Chooses items from a child's memories; one per session turn, never the same twice running.

    ``items`` is the practice list in order of introduction; ``memories`` the child's memory of
    every item seen (live: answers recorded during the session show up on the next pick).
    """

    items: Sequence[str]
    memories: Mapping[str, ItemMemory]
    new_per_session: int = NEW_PER_SESSION
    max_learning: int = MAX_LEARNING
    confusable: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def has_work(self, now: datetime, asked: Sequence[str], new_this_session: int) -> bool:
        """Is anything due (other than the item just asked), or may a new item come?"""
        recent = set(asked[-1:])
        if any(
            due_in_session(memory, now)
            for item, memory in self.memories.items()
            if item not in recent and item in self._item_set
        ):
            return True
        return self._may_introduce(new_this_session) and self._fresh(asked) is not None

    @property
    def _item_set(self) -> set[str]:
        return set(self.items)

    def _may_introduce(self, new_this_session: int) -> bool:
        learning = sum(
            1
            for item in self.items
            if (memory := self.memories.get(item)) is not None and memory.state != REVIEW
        )
        return new_this_session < self.new_per_session and learning < self.max_learning

    def next_item(self, now: datetime, asked: Sequence[str], new_this_session: int) -> str | None:
        """The item to ask now, or None when the list is empty."""
        if not self.items:
            return None
        recent = set(asked[-NOT_AGAIN_WITHIN:])
        in_list = set(self.items)
        if asked and (partner := self._confusion_partner(asked[-1], recent, in_list, asked)):
            return partner
        seen = [item for item in self.items if item in self.memories]
        due = [
            item for item in seen if item not in recent and due_in_session(self.memories[item], now)
        ]
        if due:
            return min(due, key=lambda item: self._weakness(item, now))
        if self._may_introduce(new_this_session) and (fresh := self._fresh(asked)) is not None:
            return fresh
        weakest = [item for item in seen if item not in recent]
        if weakest:
            return min(weakest, key=lambda item: self._weakness(item, now))
        return self._fresh(asked) or self.items[0]

    def _fresh(self, asked: Sequence[str]) -> str | None:
        """The next item never practised and not asked this session.

        The answer to the item just asked is recorded after the next one is chosen, so a new
        item is not in ``memories`` yet when its answer has just come: without ``asked`` it
        would be asked again at once.
        """
        return next(
            (item for item in self.items if item not in self.memories and item not in asked),
            None,
        )

    def _weakness(self, item: str, now: datetime) -> tuple[float, float, str]:
        """Sort key: least likely recalled first; on the same day, the least stable."""
        memory = self.memories[item]
        return (memory.retrievability(now), memory.stability or 0.0, item)

    def _confusion_partner(
        self, last: str, recent: set[str], in_list: set[str], asked: Sequence[str]
    ) -> str | None:
        memory = self.memories.get(last)
        if memory is None or memory.lapses == 0:
            return None
        # Only right after a miss: the last review of the item was a lapse.
        if memory.state == REVIEW:
            return None
        partners = [*memory.confused_with, *self.confusable.get(last, ())]
        for partner in partners:
            if partner in in_list and partner not in recent and partner not in asked[-4:]:
                return partner
        return None


def due_in_session(memory: ItemMemory, now: datetime) -> bool:
    """Due for practice now: FSRS wants it, and it was not already answered in this sitting.

    FSRS's learning steps (minutes) are Anki's timing for a long deck; in a child's few-minute
    session they bring a word straight back that the child has just spelled or just been shown.
    That massed repeat costs prompts to mastery (benchmarks/adaptive_practice.py, all three
    learner models; re-asking a missed word once later in the session cost more still), so a
    word answered in this sitting waits for the next one; the steps still keep a word being
    learned due again the next day.
    """
    last = memory.last_review
    if last is not None and now - last < SAME_SITTING:
        return False
    return memory.is_due(now)


def weakest_items(memories: Mapping[str, ItemMemory], now: datetime, count: int = 5) -> list[str]:
    """The items the child is most likely to have forgotten now (seen items only)."""
    ranked = sorted(memories, key=lambda item: (memories[item].retrievability(now), item))
    return ranked[:count]


def due_items(memories: Mapping[str, ItemMemory], until: datetime) -> list[str]:
    """Seen items FSRS wants reviewed by ``until``, soonest first."""
    due = [item for item, memory in memories.items() if memory.is_due(until)]
    return sorted(due, key=lambda item: (memories[item].due or until, item))


def math_facts_for(grade: int, focus: str | None) -> list[str] | None:
    """The facts a times-table session practises, easiest first; None for open-ended sums.

    Addition and subtraction problems are drawn fresh at random (there are thousands); only
    facts the child has already met come back when due.
    """
    top = 12 if grade >= 4 else 10
    if focus and focus.startswith("mul:"):
        table = int(focus.split(":")[1])
        return [f"{table}x{b}" for b in range(1, top + 1)]
    if focus == "mul":
        tables = (2, 5, 10) if grade <= 2 else tuple(range(2, top + 1))
        facts = [f"{a}x{b}" for a in tables for b in range(1, top + 1)]
        return sorted(facts, key=lambda fact: (_fact_size(fact), fact))
    return None


def _fact_size(fact: str) -> int:
    left, _, right = fact.partition("x")
    return max(int(left), int(right)) * 100 + int(left) * int(right)


@dataclass
class MemoryPicker:
    """The drill engine's ItemPicker for one child: their memories, school words, the clock."""

    spelling: Mapping[str, ItemMemory]
    math: Mapping[str, ItemMemory]
    now: Callable[[], datetime]
    school_words: Sequence[str] = ()
    # A fixed list instead of the grade's (a benchmark, or a family's own list).
    word_list: Sequence[str] | None = None
    confusable: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def spelling_items(self, grade: int) -> list[str]:
        """School words first, then the grade's words from easiest to hardest."""
        words = self.word_list if self.word_list is not None else ordered_words(grade)
        return list(dict.fromkeys([*self.school_words, *words]))

    def next_spelling(self, state: DrillState) -> str | None:
        """Due and weak words first, new ones at the planner's pace."""
        items = self.spelling_items(state.grade)
        confusable = self.confusable or {word: sound_alikes(word) for word in items}
        planner = PracticePlanner(items, self.spelling, confusable=confusable)
        word = planner.next_item(self.now(), state.asked, state.new_items)
        if word is not None and word not in self.spelling:
            state.new_items += 1
        return word

    def session_done(self, state: DrillState) -> bool:
        """Nothing left worth asking today (spelling and times tables; sums never run out).

        Only after a few questions: a child who asks to practise always gets some.
        """
        if state.total_count < MIN_SESSION_ITEMS:
            return False
        now = self.now()
        if state.kind == "spelling":
            planner = PracticePlanner(self.spelling_items(state.grade), self.spelling)
            return not planner.has_work(now, state.asked, state.new_items)
        facts = math_facts_for(state.grade, state.focus)
        if facts is None:
            return False
        planner = PracticePlanner(facts, self.math)
        return not planner.has_work(now, state.asked, state.new_items)

    def next_math(self, state: DrillState) -> str | None:
        """A due fact of the session's kind, a table's next fact, or None (a fresh problem)."""
        now = self.now()
        facts = math_facts_for(state.grade, state.focus)
        if facts is not None:
            planner = PracticePlanner(facts, self.math)
            fact = planner.next_item(now, state.asked, state.new_items)
            if fact is not None and fact not in self.math:
                state.new_items += 1
            return fact
        symbol = {"add": "+", "sub": "-", "div": "/"}.get(state.focus or "")
        recent = set(state.asked[-NOT_AGAIN_WITHIN:])
        due = [
            fact
            for fact, memory in self.math.items()
            if fact not in recent
            and due_in_session(memory, now)
            and (symbol is None or symbol in fact)
        ]
        if not due:
            return None
        return min(due, key=lambda fact: (self.math[fact].retrievability(now), fact))
