"""The practice scheduler, driven directly: FSRS memory per item, what comes next, word order,
syllable hints, resuming a session, and the drill engine picking through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import random

import pytest

from custom_components.blip.brain.drills import DrillEngine, DrillState
from custom_components.blip.brain.item_memory import (
    LEARNING,
    RELEARNING,
    REVIEW,
    ItemMemory,
    MemoryDataError,
    memory_from_history,
)
from custom_components.blip.brain.practice_planner import (
    MAX_LEARNING,
    NEW_PER_SESSION,
    MemoryPicker,
    PracticePlanner,
    due_in_session,
    due_items,
    math_facts_for,
    weakest_items,
)
from custom_components.blip.brain.resume import resume_offer, wants_to_resume
from custom_components.blip.brain.word_lists import (
    ordered_words,
    split_syllables,
    syllable_hint,
    word_difficulty,
    word_info,
    word_lists,
)

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def reviewed(*answers: tuple[float, bool], hints: int = 0) -> ItemMemory:
    """A memory after answers given ``days`` after NOW."""
    memory = ItemMemory()
    for days, correct in answers:
        memory.review(correct, hints, NOW + timedelta(days=days))
    return memory


# ---- item memory ---------------------------------------------------------------------------


def test_fsrs_schedules_a_right_answer_later_and_a_miss_at_once() -> None:
    right = reviewed((0, True), (0.01, True))
    assert right.state == REVIEW and right.due is not None and right.due > NOW + timedelta(days=1)
    missed = reviewed((0, True), (0.01, True), (3, False))
    assert missed.state == RELEARNING and missed.lapses == 1
    assert missed.due is not None and missed.due < NOW + timedelta(days=3, hours=1)
    assert ItemMemory().retrievability(NOW) == 0.0
    assert 0.0 < right.retrievability(NOW + timedelta(days=10)) < 1.0


def test_mastery_needs_a_week_of_predicted_recall() -> None:
    """Right twice in one afternoon is not mastery; spaced right answers are."""
    assert not reviewed((0, True), (0.01, True)).mastered
    assert not reviewed((0, False), (0.005, True), (0.01, True)).mastered
    spaced = reviewed((0, True), (0.01, True), (2, True), (6, True), (14, True))
    assert spaced.mastered
    assert not reviewed((0, True), (0.01, True), (2, True), (6, True), (14, False)).mastered


def test_a_word_known_at_first_sight_is_not_drilled_but_mastered_only_on_a_later_day() -> None:
    """Right, unaided, the very first time: Easy (the child knew it), so FSRS waits days; a
    word learned in practice (a hint first) is still being learned and comes back soon."""
    known = reviewed((0, True))
    taught = reviewed((0, True), hints=1)
    assert known.state == REVIEW and known.due is not None
    assert known.due >= NOW + timedelta(days=5)
    assert taught.state == LEARNING and taught.due is not None
    assert taught.due < NOW + timedelta(hours=1)
    assert not known.mastered  # one sitting is not mastery
    again = reviewed((0, True), (7, True))
    assert again.mastered and again.first_review == NOW


def test_memory_round_trips_and_rejects_bad_data() -> None:
    memory = reviewed((0, True), (1, False))
    memory.note_confusion("their")
    assert ItemMemory.from_dict(memory.to_dict()) == ItemMemory.from_dict(
        ItemMemory.from_dict(memory.to_dict()).to_dict()
    )
    assert ItemMemory.from_dict(memory.to_dict()).confused_with == ["their"]
    for bad in (
        [],
        {"state": "forgotten"},
        {"stability": -1},
        {"due": "yesterday"},
        {"last_review": "2026-03-02T10:00:00"},  # no time zone
        {"last_review": "2026-03-02T10:00:00+00:00"},  # reviewed without a stability
        {"confused_with": "there"},
        {"first_review": "monday"},
    ):
        with pytest.raises(MemoryDataError):
            ItemMemory.from_dict(bad)


def test_memory_from_the_old_counts() -> None:
    """Layout 1.1 kept counts; each becomes an honest FSRS starting point."""
    assert memory_from_history(0, 0, False, NOW) is None
    mastered = memory_from_history(4, 3, True, NOW)
    assert mastered is not None and mastered.mastered and mastered.state == REVIEW
    on_a_run = memory_from_history(3, 2, False, NOW)
    assert on_a_run is not None and not on_a_run.mastered
    assert on_a_run.is_due(NOW + timedelta(days=3))
    missed = memory_from_history(2, 0, False, NOW)
    assert missed is not None and missed.state == RELEARNING and missed.is_due(NOW)


# ---- the planner ---------------------------------------------------------------------------


def test_due_items_come_first_most_forgotten_first() -> None:
    memories = {
        "cat": reviewed((-20, True), (-19.9, True)),  # long overdue
        "dog": reviewed((-8, True), (-7.9, True)),  # just due (a week after)
        "sun": reviewed((0, True), (0.001, True)),  # fresh: not due
    }
    planner = PracticePlanner(["sun", "dog", "cat", "hat"], memories)
    assert planner.next_item(NOW, [], 0) == "cat"
    assert planner.next_item(NOW, ["cat"], 0) == "dog"
    # Nothing due left: a new word, in list order.
    assert planner.next_item(NOW, ["cat", "dog"], 0) == "hat"


def test_new_items_come_at_a_controlled_rate() -> None:
    words = [f"w{index:02d}" for index in range(20)]
    memories: dict[str, ItemMemory] = {}
    planner = PracticePlanner(words, memories)
    asked: list[str] = []
    new = 0
    for _ in range(15):
        word = planner.next_item(NOW, asked, new)
        assert word is not None
        if word not in memories:
            new += 1
            memories[word] = reviewed((0, False))  # seen and missed: still being learned
        asked.append(word)
    assert new == min(NEW_PER_SESSION, MAX_LEARNING)
    assert not planner.has_work(NOW, asked, new)


def test_a_confusion_is_mixed_in_right_after_the_miss() -> None:
    there = reviewed((-5, True), (-4.9, True), (0, False))
    there.note_confusion("their")
    memories = {"there": there, "their": reviewed((-1, True), (-0.9, True))}
    planner = PracticePlanner(["there", "their", "cat"], memories)
    assert planner.next_item(NOW, ["there"], 0) == "their"
    # A sound-alike with no recorded confusion is mixed in too.
    planner = PracticePlanner(
        ["to", "two", "cat"], {"to": reviewed((0, False))}, confusable={"to": ("too", "two")}
    )
    assert planner.next_item(NOW, ["to"], 0) == "two"


def test_an_item_answered_this_sitting_is_not_due_again_until_a_later_one() -> None:
    """FSRS's minute-long learning steps do not bring a word straight back within a sitting;
    the next day the word is due as FSRS says."""
    helped = reviewed((0, True), hints=1)  # due again in minutes by FSRS's learning steps
    later = NOW + timedelta(minutes=10)
    assert helped.is_due(later) and not due_in_session(helped, later)
    assert due_in_session(helped, NOW + timedelta(days=1))
    planner = PracticePlanner(["cat", "dog"], {"cat": helped})
    assert planner.next_item(later, ["cat", "x", "y"], 1) == "dog"


def test_a_missed_word_waits_for_the_next_sitting_and_is_first_then() -> None:
    """Missed and shown today: not asked again this session (FSRS's one-minute step would), the
    session ends, and the next day the missed word is the first one asked."""
    words = ["cat", "dog", "sun"]
    memories: dict[str, ItemMemory] = {}
    clock = [NOW]
    picker = MemoryPicker(spelling=memories, math={}, now=lambda: clock[0], word_list=words)
    engine = DrillEngine(random.Random(1))

    def session() -> list[str]:
        asked: list[str] = []
        reply = engine.start("spelling", 8, picker)
        while reply.state is not None and len(asked) < 12:
            word = reply.state.item
            asked.append(word)
            answer = "qq" if word == "cat" and clock[0] < NOW + timedelta(hours=1) else word
            reply = engine.respond(" ".join(answer), reply.state, 8, picker)
            assert reply is not None
            while not reply.results:
                assert reply.state is not None
                reply = engine.respond(" ".join(answer), reply.state, 8, picker)
                assert reply is not None
            for result in reply.results:
                memories.setdefault(result.item, ItemMemory()).review(
                    result.correct, result.hints_used, clock[0]
                )
            clock[0] += timedelta(seconds=40)
        assert reply.state is None  # the session ended by itself
        return asked

    first_day = session()
    assert first_day[0] == "cat" and first_day.count("cat") == 1
    assert memories["cat"].is_due(clock[0])  # FSRS alone would ask it again now
    clock[0] = NOW + timedelta(days=1)
    assert session()[0] == "cat"


def test_weakest_and_due_lists() -> None:
    memories = {
        "cat": reviewed((-20, True), (-19.9, True)),
        "dog": reviewed((-8, True), (-7.9, True)),
        "sun": reviewed((0, True), (0.001, True)),
    }
    assert weakest_items(memories, NOW, 2) == ["cat", "dog"]
    assert due_items(memories, NOW + timedelta(hours=8)) == ["cat", "dog"]


def test_times_table_facts_are_small_steps() -> None:
    assert math_facts_for(3, "mul:7") == [f"7x{b}" for b in range(1, 11)]
    tables = math_facts_for(2, "mul")
    assert tables is not None and tables[:3] == ["2x1", "2x2", "2x3"]
    assert tables[-1] == "10x10"
    assert math_facts_for(1, "add") is None


# ---- word lists ----------------------------------------------------------------------------


def test_grade_lists_are_ordered_by_data() -> None:
    """Common short words first; the hardest word of a grade is rarer or longer than the first."""
    for grade, words in enumerate(word_lists()):
        ordered = ordered_words(grade)
        assert sorted(ordered) == sorted(words)
        difficulties = [word_difficulty(word) for word in ordered]
        assert difficulties == sorted(difficulties)
    info = word_info("because")
    assert info.syllables == 2 and info.zipf > 5 and info.sounds.startswith("B IH0 K")
    assert word_difficulty("hippopotamus") > word_difficulty("because") > word_difficulty("cat")


@pytest.mark.parametrize(
    ("word", "syllables", "parts"),
    [
        ("because", 2, ["be", "cause"]),
        ("happy", 2, ["hap", "py"]),
        ("tiger", 2, ["ti", "ger"]),
        ("little", 2, ["lit", "tle"]),
        ("table", 2, ["ta", "ble"]),
        ("dinosaur", 3, ["di", "no", "saur"]),
        ("pumpkin", 2, ["pump", "kin"]),
        ("science", 2, ["science"]),  # the vowels do not match the sounds: not split
        ("cat", 1, ["cat"]),
    ],
)
def test_syllable_split(word: str, syllables: int, parts: list[str]) -> None:
    assert split_syllables(word, syllables) == parts


def test_syllable_hint_for_long_words_only() -> None:
    assert syllable_hint("because") == "Clap it out: because has two parts, be, cause."
    assert syllable_hint("cat") is None


# ---- resuming ------------------------------------------------------------------------------


def test_resume_offer_and_asking_to_carry_on() -> None:
    spelling = DrillState(kind="spelling", item="because", answer="because", total_count=3)
    assert resume_offer(spelling) == (
        "We were on word four — ready for because? Can you spell because?"
    )
    math = DrillState(kind="math", item="7x8", answer="56", operation="mul", total_count=0)
    assert resume_offer(math) == "We were on question one — ready? What is 7 times 8?"
    for text in ("keep going", "Where were we?", "let's do spelling", "can we finish my words"):
        assert wants_to_resume(text, spelling), text
    for text in ("let's do math", "tell me a story", "yes", ""):
        assert not wants_to_resume(text, spelling), text
    assert wants_to_resume("yes", spelling, invited=True)


# ---- the drill engine through a picker -------------------------------------------------------


def test_drill_engine_asks_what_the_picker_chooses_and_ends_when_nothing_is_due() -> None:
    """A child who knows every word but one practises that one; then the session ends kindly."""
    words = ["cat", "dog", "because", "sun"]
    memories = {word: reviewed((-1, True), (-0.99, True), (0, True)) for word in words}
    memories["because"] = reviewed((-6, True), (-5.9, True), (-3, False))
    clock = [NOW]
    picker = MemoryPicker(spelling=memories, math={}, now=lambda: clock[0], word_list=words)
    engine = DrillEngine(random.Random(1))
    reply = engine.start("spelling", 8, picker)
    assert reply.state is not None and reply.state.item == "because"
    asked = 0
    while reply.state is not None and asked < 10:
        word = reply.state.item
        reply = engine.respond(" ".join(word), reply.state, 8, picker)
        assert reply is not None
        for result in reply.results:
            memories[result.item].review(result.correct, result.hints_used, clock[0])
        clock[0] += timedelta(minutes=1)
        asked += 1
    assert reply.state is None
    assert "That's all your words for today!" in reply.text
    assert asked < 10


def test_school_words_come_first() -> None:
    picker = MemoryPicker(spelling={}, math={}, now=lambda: NOW, school_words=("because", "friend"))
    engine = DrillEngine(random.Random(1))
    reply = engine.start("spelling", 7, picker)
    assert reply.state is not None and reply.state.item == "because"
    assert picker.spelling_items(1)[:3] == ["because", "friend", ordered_words(1)[0]]


def test_a_confused_spelling_is_remembered() -> None:
    """Writing another practised word ("t h e i r" for there) is noted as a confusion."""
    engine = DrillEngine(random.Random(1))
    state = DrillState(kind="spelling", item="there", answer="there", asked=["there"])
    reply = engine.respond("t h e i r", state, 8)
    assert reply is not None
    for _ in range(3):
        if reply.results:
            break
        assert reply.state is not None
        reply = engine.respond("t h e i r", reply.state, 8)
        assert reply is not None
    (result,) = reply.results
    assert not result.correct and result.confused_with == "their"
