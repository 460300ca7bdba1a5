"""Benchmark Blip's practice scheduler against random order (Blip before it) and round-robin.

    .venv/bin/python benchmarks/adaptive_practice.py [--learners 200] [--seed 7] [--learner actr]
        [--known-share 0.3] [--known-days 30]

Simulated children practise a 30-word list through the real DrillEngine: one session a day of at
most SESSION_PROMPTS questions, answering by spelling letters, taking hints, being shown the
word after a miss. Blip's scheduler ("adaptive": FSRS memory per word via MemoryPicker) may end
a session early when nothing is due; random and round-robin always ask the full session.

What a child remembers follows a forgetting model of this benchmark's own, NOT FSRS's (so the
scheduler is not graded by its own model):

- exponential (default): each child has an ability and each word a difficulty for that child
  (log-normal; the word's part comes from Blip's data-based word difficulty). Memory of a word is
  a strength s in days, recall after t days is exp(-t / s), a word never seen is not recalled.
  A child already spells some of the list before practising it (a teacher's Monday pretest
  finds that): each word is known with chance KNOWN_SHARE * ability / difficulty (about a third
  of the list for a typical child), with a strength of KNOWN_DAYS * ability / difficulty
  (log-normal spread), last met the day before the first session. ``--known-share 0`` gives the
  blank-slate learner of the first version of this benchmark.
  A right answer multiplies s by 1 + 2.2 * ability / difficulty * (1.2 - p): more when recall
  was effortful (the spacing effect), less (x0.35) when a hint was needed; a miss relearns it
  (s halves, never below a first exposure's);
- actr (a harsher sensitivity check): the ACT-R spacing model of Pavlik & Anderson (2005) with
  their fitted constants.

After each day the child takes a test a week later (no practice in between): mastered when they
recall at least 90% of the list. ``prompts_to_mastery`` is the number of questions asked until
then, the median over all learners (each policy sees the same learners; a learner not there
after MAX_DAYS counts with the prompts asked so far, and is counted in
``not_mastered_in_time``). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
from pathlib import Path
import random
import statistics
import sys
import time
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from custom_components.blip.brain.drills import (  # noqa: E402
    DrillEngine,
    DrillReply,
    DrillState,
    ItemPicker,
)
from custom_components.blip.brain.item_memory import ItemMemory  # noqa: E402
from custom_components.blip.brain.practice_planner import MemoryPicker  # noqa: E402
from custom_components.blip.brain.word_lists import ordered_words, word_difficulty  # noqa: E402

LIST_SIZE = 30
SESSION_PROMPTS = 12  # questions per daily session, the same for every policy
MAX_DAYS = 150
TEST_AFTER = timedelta(days=7)
MASTERY_SHARE = 0.9
SECONDS_PER_TURN = 20
START = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)

# The simulated learner (this benchmark's own model).
FIRST_STRENGTH_DAYS = 0.6
GAIN = 2.2
HINT_GAIN_SHARE = 0.35
LAPSE_KEEP = 0.5
HINT_HELP = (0.35, 0.6)  # extra chance of getting it right after the first and second hint
# Words a child already spells before practising (see the docstring).
KNOWN_SHARE = 0.3
KNOWN_DAYS = 30.0


def word_list() -> list[str]:
    """30 grade-2 and grade-3 words, in the list order a teacher would hand out (alphabetical)."""
    words = sorted({*ordered_words(2)[:15], *ordered_words(3)[:15]})
    return words[:LIST_SIZE]


@dataclass
class Learner:
    """One simulated child: ability, a difficulty per word, memory strengths."""

    ability: float
    difficulty: dict[str, float]
    rng: random.Random
    known: dict[str, float] = field(default_factory=dict)  # word -> strength before practice
    strength: dict[str, float] = field(default_factory=dict)
    last_seen: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for word, strength in self.known.items():
            self.strength[word] = strength
            self.last_seen[word] = START - timedelta(days=1)

    def recall(self, word: str, now: datetime) -> float:
        if word not in self.strength:
            return 0.0
        days = (now - self.last_seen[word]).total_seconds() / 86400
        return math.exp(-days / self.strength[word])

    def learn(self, word: str, now: datetime, p_before: float, correct: bool, hints: int) -> None:
        base = FIRST_STRENGTH_DAYS * self.ability / self.difficulty[word]
        current = self.strength.get(word)
        if current is None:
            self.strength[word] = base
        elif not correct:
            self.strength[word] = max(base, current * LAPSE_KEEP)
        else:
            gain = GAIN * self.ability / self.difficulty[word] * max(0.0, 1.2 - p_before)
            if hints:
                gain *= HINT_GAIN_SHARE
            self.strength[word] = max(base, current * (1 + gain))
        self.last_seen[word] = now

    def passes_test(self, words: list[str], now: datetime, rng: random.Random) -> bool:
        test_time = now + TEST_AFTER
        recalled = sum(rng.random() < self.recall(word, test_time) for word in words)
        return recalled >= MASTERY_SHARE * len(words)


# A second, harsher learner for a sensitivity check (--learner actr): the ACT-R spacing model
# of Pavlik & Anderson (2005), with their fitted constants. Each practice leaves a trace
# decaying as t ** -d, with d larger when the word was already strong (massed practice lasts
# less); time between sessions counts only ACTR_BETWEEN_SESSIONS of clock time.
ACTR_DECAY_SCALE = 0.217
ACTR_DECAY_FLOOR = 0.177
ACTR_THRESHOLD = -0.704
ACTR_NOISE = 0.255
ACTR_BETWEEN_SESSIONS = 0.025


@dataclass
class ActrLearner:
    """Pavlik & Anderson's learner: ability and word difficulty shift a word's activation."""

    ability: float
    difficulty: dict[str, float]
    rng: random.Random
    known: dict[str, float] = field(default_factory=dict)  # not modelled: ACT-R starts blank
    traces: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    last_now: datetime | None = None
    clock: float = 0.0  # psychological seconds

    def _tick(self, now: datetime) -> float:
        if self.last_now is not None and now > self.last_now:
            gap = (now - self.last_now).total_seconds()
            # A gap over an hour is time between sessions.
            self.clock += gap if gap < 3600 else ACTR_BETWEEN_SESSIONS * gap
        self.last_now = now
        return self.clock

    def _activation(self, word: str, at: float) -> float:
        traces = self.traces.get(word)
        if not traces:
            return -math.inf
        total = sum(max(at - when, 1.0) ** -decay for when, decay in traces)
        return math.log(total) + math.log(self.ability) - math.log(self.difficulty[word])

    def _p(self, strength: float) -> float:
        if strength == -math.inf:
            return 0.0
        return 1 / (1 + math.exp((ACTR_THRESHOLD - strength) / ACTR_NOISE))

    def recall(self, word: str, now: datetime) -> float:
        return self._p(self._activation(word, self._tick(now)))

    def learn(self, word: str, now: datetime, p_before: float, correct: bool, hints: int) -> None:
        at = self._tick(now)
        strength = self._activation(word, at)
        decay = ACTR_DECAY_FLOOR
        if strength > -math.inf:
            decay += ACTR_DECAY_SCALE * math.exp(strength)
        self.traces.setdefault(word, []).append((at, decay))

    def passes_test(self, words: list[str], now: datetime, rng: random.Random) -> bool:
        at = self._tick(now) + ACTR_BETWEEN_SESSIONS * TEST_AFTER.total_seconds()
        recalled = sum(rng.random() < self._p(self._activation(word, at)) for word in words)
        return recalled >= MASTERY_SHARE * len(words)


LEARNERS = {"exponential": Learner, "actr": ActrLearner}


Profile = tuple[float, dict[str, float], dict[str, float]]  # ability, difficulty, known


def make_learners(
    count: int,
    seed: int,
    words: list[str],
    known_share: float = KNOWN_SHARE,
    known_days: float = KNOWN_DAYS,
) -> list[Profile]:
    rng = random.Random(seed)
    # Known words come from a stream of their own, so --known-share 0 gives the same
    # children as the first version of this benchmark.
    prior = random.Random(seed + 1)
    mean = statistics.fmean(word_difficulty(w) for w in words)
    learners = []
    for _ in range(count):
        ability = math.exp(rng.gauss(0.0, 0.3))
        difficulty = {
            w: math.exp(0.12 * (word_difficulty(w) - mean) + rng.gauss(0.0, 0.3)) for w in words
        }
        known = {}
        for word in words:
            share = min(0.9, known_share * ability / difficulty[word])
            spread = math.exp(prior.gauss(0.0, 0.5))
            if prior.random() < share:
                known[word] = known_days * ability / difficulty[word] * spread
        learners.append((ability, difficulty, known))
    return learners


class RandomPicker:
    """Blip before the scheduler: a random word not among the last twelve asked."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.words, self.rng = words, rng

    def next_spelling(self, state: DrillState) -> str | None:
        fresh = [w for w in self.words if w not in state.asked] or self.words
        return self.rng.choice(fresh)

    def next_math(self, state: DrillState) -> str | None:
        return None

    def session_done(self, state: DrillState) -> bool:
        return False


class RoundRobinPicker:
    """Every word in turn, the list over and over."""

    def __init__(self, words: list[str]) -> None:
        self.words, self.index = words, 0

    def next_spelling(self, state: DrillState) -> str | None:
        word = self.words[self.index % len(self.words)]
        self.index += 1
        return word

    def next_math(self, state: DrillState) -> str | None:
        return None

    def session_done(self, state: DrillState) -> bool:
        return False


def _answer(word: str, correct: bool) -> str:
    letters = word if correct else word[:-1] + "qz"  # two letters off: not "almost"
    return " ".join(letters)


def run_learner(
    policy: str,
    profile: Profile,
    words: list[str],
    seed: int,
    model: str = "exponential",
) -> tuple[int, bool]:
    """Prompts until the learner passes the week-later test (and whether they did)."""
    rng = random.Random(seed)
    ability, difficulty, known = profile
    learner = LEARNERS[model](ability, difficulty, random.Random(seed + 1), known)
    test_rng = random.Random(seed + 2)
    memories: dict[str, ItemMemory] = {}
    clock = [START]
    picker: ItemPicker
    if policy == "adaptive":
        picker = MemoryPicker(spelling=memories, math={}, now=lambda: clock[0], word_list=words)
    elif policy == "random":
        picker = RandomPicker(words, random.Random(seed + 3))
    else:
        picker = RoundRobinPicker(words)
    engine = DrillEngine(random.Random(seed + 4))
    prompts = 0
    for day in range(MAX_DAYS):
        clock[0] = START + timedelta(days=day)
        reply: DrillReply | None = engine.start("spelling", 8, picker)
        asked = 0
        while reply is not None and reply.state is not None and asked < SESSION_PROMPTS:
            state = reply.state
            word = state.item
            p = learner.recall(word, clock[0])
            hints = 0
            while True:
                chance = p if hints == 0 else p + (1 - p) * HINT_HELP[min(hints, 2) - 1]
                correct = rng.random() < chance
                clock[0] += timedelta(seconds=SECONDS_PER_TURN)
                reply = engine.respond(_answer(word, correct), state, 8, picker)
                if reply is None:
                    raise RuntimeError("the drill engine did not take the answer")
                if reply.results:
                    result = reply.results[0]
                    learner.learn(word, clock[0], p, result.correct, result.hints_used)
                    memory = memories.setdefault(word, ItemMemory())
                    memory.review(result.correct, result.hints_used, clock[0])
                    break
                if reply.state is None:
                    raise RuntimeError("the session ended without a result")
                state = reply.state
                hints = state.hints_used
            asked += 1
            prompts += 1
        if learner.passes_test(words, clock[0], test_rng):
            return prompts, True
    return prompts, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--learner", choices=sorted(LEARNERS), default="exponential")
    parser.add_argument("--known-share", type=float, default=KNOWN_SHARE)
    parser.add_argument("--known-days", type=float, default=KNOWN_DAYS)
    args = parser.parse_args()
    words = word_list()
    learners = make_learners(args.learners, args.seed, words, args.known_share, args.known_days)
    figures: dict[str, Any] = {}
    medians: dict[str, float] = {}
    started = time.perf_counter()
    for policy in ("adaptive", "random", "round_robin"):
        results = [
            run_learner(policy, profile, words, args.seed * 1000 + index, args.learner)
            for index, profile in enumerate(learners)
        ]
        prompts = [count for count, _ in results]
        medians[policy] = statistics.median(prompts)
        figures[policy] = {
            "median": medians[policy],
            "p25": statistics.quantiles(prompts, n=4)[0],
            "p75": statistics.quantiles(prompts, n=4)[2],
            "not_mastered_in_time": sum(1 for _, done in results if not done),
        }
        print(f"{policy:12s} median {medians[policy]:7.1f} prompts  {figures[policy]}")
    ratio = {
        "adaptive": round(medians["adaptive"] / medians["random"], 3),
        "round_robin": round(medians["round_robin"] / medians["random"], 3),
    }
    summary = {
        "learner_model": args.learner,
        "known_share": args.known_share,
        "known_days": args.known_days,
        "learners": args.learners,
        "list_size": LIST_SIZE,
        "session_prompts": SESSION_PROMPTS,
        "prompts_to_mastery": {policy: medians[policy] for policy in medians},
        "ratio_vs_random": ratio,
        "fewer_than_random": round(1 - ratio["adaptive"], 3),
        "fewer_than_round_robin": round(1 - medians["adaptive"] / medians["round_robin"], 3),
        "details": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
