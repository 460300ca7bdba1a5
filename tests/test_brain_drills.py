"""The instant drill engine: one-shot answers, practice sessions, hints, results, state."""

from __future__ import annotations

import random

import pytest

from custom_components.blip.brain import DrillEngine, DrillReply, DrillState
from custom_components.blip.brain.drills import (
    grade_for_age,
    phonics_hint,
    state_from_question,
    word_lists,
)
from custom_components.blip.phrases import DRILL_PROMPTS


def engine(seed: int = 3) -> DrillEngine:
    return DrillEngine(random.Random(seed))


def reply(text: str, state: DrillState | None = None, age: int | None = None) -> DrillReply:
    answer = engine().respond(text, state, age)
    assert answer is not None, text
    return answer


def spelling_state(word: str) -> DrillState:
    return DrillState(kind="spelling", item=word, answer=word, asked=[word])


def math_state(fact: str, answer: int, operation: str) -> DrillState:
    return DrillState(kind="math", item=fact, answer=str(answer), operation=operation, asked=[fact])


def test_how_do_you_spell_gives_letters_and_a_phonics_hint() -> None:
    answer = reply("how do you spell knife")
    assert (
        answer.text == "Knife is spelled K, N, I, F, E. The K at the start is silent, like in knee."
    )
    assert answer.state is None
    assert answer.results == ()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Can you spell elephant for me?", "Elephant is spelled E, L, E, P, H, A, N, T."),
        ("how is beautiful spelled", "Beautiful is spelled B, E, A, U, T, I, F, U, L."),
        ("how do you write the word school", "School is spelled S, C, H, O, O, L."),
        ("what letter does apple start with", "Apple starts with the letter A."),
        ("how many letters in the word elephant", "Elephant has 8 letters"),
        ("does friend have an i in it", "Yes! Friend is spelled F, R, I, E, N, D."),
        ("what does d o g spell", "D, O, G spells dog!"),
        ("how do you spell ice cream", "Ice cream is two words."),
        ("how do you spell there", "There's more than one way to spell that word!"),
    ],
)
def test_spelling_questions(question: str, expected: str) -> None:
    assert reply(question).text.startswith(expected)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What's seven times eight?", "7 times 8 is 56."),
        ("a hundred minus thirty seven", "100 minus 37 is 63."),
        ("half of twenty", "Half of 20 is 10."),
        (
            "my brother took two of my four cookies, how many do I have",
            "That's 4 minus 2, which is 2.",
        ),
    ],
)
def test_math_questions_are_exact(question: str, expected: str) -> None:
    assert reply(question).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "how do you spell my name",
        "how do you spell it",
        "tell me a story",
        "why is the sky blue",
        "can you help me with my math homework",
        "how do you do long division",
        "is it spelled t h e i r or t h e r e",
        "what does x q z spell",
        "",
        "I have 3 dogs and 2 cats",
    ],
)
def test_declines_what_it_cannot_answer_exactly(text: str) -> None:
    assert engine().respond(text, None) is None


def test_spelling_session_start_asks_an_age_appropriate_word() -> None:
    start = reply("quiz me on spelling please", age=5)
    assert start.state is not None
    assert start.state.kind == "spelling"
    assert start.state.item in word_lists()[0]
    assert start.text.endswith(f"Can you spell {start.state.item}?")
    older = reply("let's practice spelling", age=9)
    assert older.state is not None and older.state.item in word_lists()[4]


@pytest.mark.parametrize("answer", ["C A T", "c-a-t", "see ay tee", "cat, c a t", "CAT."])
def test_correct_spelling_is_praised_and_scored(answer: str) -> None:
    result = reply(answer, spelling_state("cat"))
    assert result.results[0].kind == "spelling"
    assert result.results[0].item == "cat"
    assert result.results[0].correct is True
    assert result.results[0].hints_used == 0
    assert result.text.startswith("That's right! C, A, T spells cat. Ready for the next word?")
    assert result.text.endswith("?")
    assert result.state is not None and result.state.item != "cat"
    assert result.state.correct_count == 1


def test_a_spelled_n_transcribed_as_and_is_graded_right() -> None:
    """A child's "N, E, T" comes back from speech-to-text as "and e t": still N, E, T."""
    result = reply("and e t", spelling_state("net"))
    assert result.results[0].item == "net"
    assert result.results[0].correct is True


def test_wrong_spelling_gets_hints_then_the_answer_never_shaming() -> None:
    drill = engine()
    state = spelling_state("knife")
    # Close: the cached "Almost! Want a hint?" and the child chooses.
    first = drill.respond("n i f e", state)
    assert first is not None and first.text == "Almost! Want a hint?"
    assert first.results == ()
    hint = drill.respond("yes", first.state)
    assert hint is not None
    assert hint.text == "The K at the start is silent, like in knee. Can you spell knife?"
    second = drill.respond("k n i f", hint.state)
    assert second is not None
    assert second.text.startswith("Nice try! Let's look at it together. It has 5 letters")
    third = drill.respond("k n y f e", second.state)
    assert third is not None
    assert third.text.startswith(
        "Nice try! Let's look at it together. Knife is spelled K, N, I, F, E."
    )
    assert third.results[0].correct is False
    assert third.results[0].hints_used == 2
    assert third.text.endswith("?")
    for text in (first.text, hint.text, second.text, third.text):
        assert "wrong" not in text.lower() and "no," not in text.lower()


def test_just_saying_the_word_asks_for_letters() -> None:
    answer = reply("cat", spelling_state("cat"))
    assert answer.results == ()
    assert answer.text.endswith("Can you spell cat?")


def test_math_session_checks_spoken_answers() -> None:
    start = reply("let's practice the 7 times table")
    assert start.state is not None and start.state.focus == "mul:7"
    assert start.state.item.startswith("7x")
    for spoken in ("fifty six", "56", "I think it's 56", "7 times 8 is 56"):
        answer = reply(spoken, math_state("7x8", 56, "mul"))
        assert answer.results[0].correct is True, spoken
        assert answer.results[0].operation == "mul"
        assert answer.results[0].item == "7x8"
        assert answer.text.startswith("That's right! 7 times 8 is 56. Ready for the next one?")
        assert answer.text.endswith("?")


def test_math_wrong_answer_gives_a_hint() -> None:
    answer = reply("forty", math_state("7x8", 56, "mul"))
    assert (
        answer.text
        == "Nice try! Let's look at it together. Think of 7 groups of 8. What is 7 times 8?"
    )
    assert answer.state is not None and answer.state.hints_used == 1


@pytest.mark.parametrize(
    ("text", "focus"),
    [
        ("give me some addition problems", "add"),
        ("I need help with subtraction", "sub"),
        ("let's practice division", "div"),
        ("quiz me on times tables", "mul"),
        ("math quiz", None),
    ],
)
def test_math_session_topics(text: str, focus: str | None) -> None:
    start = reply(text, age=8)
    assert start.state is not None
    assert start.state.kind == "math"
    assert start.state.focus == focus
    assert start.text.endswith("?")


def test_generated_math_items_are_exact() -> None:
    drill = engine(11)
    for grade in range(5):
        for focus in (None, "add", "sub", "mul", "div", "mul:9"):
            state = DrillState(kind="math", item="", answer="", grade=grade, focus=focus)
            for _ in range(30):
                drill._advance(state)
                a, symbol, b = _split_fact(state.item)
                if symbol == "/":
                    assert b != 0 and a == b * int(state.answer)
                else:
                    expected = {"+": a + b, "-": a - b, "x": a * b}[symbol]
                    assert expected == int(state.answer)
                assert int(state.answer) >= 0


def _split_fact(fact: str) -> tuple[int, str, int]:
    for symbol in "+-x/":
        if symbol in fact:
            left, right = fact.split(symbol)
            return int(left), symbol, int(right)
    raise AssertionError(fact)


def test_session_controls() -> None:
    state = spelling_state("cat")
    state.correct_count, state.total_count = 3, 4
    done = reply("I'm done", state)
    assert done.state is None
    assert done.text == "Great practice! You got 3 out of 4 right. What would you like to do next?"
    skip = reply("I don't know", spelling_state("cat"))
    assert skip.results[0].correct is False
    assert skip.text.startswith("That's okay! Cat is spelled C, A, T. Let's try another one!")
    hint = reply("can I have a hint", spelling_state("ship"))
    assert hint.text == "S and H together make the sh sound. Can you spell ship?"
    repeat = reply("say it again", spelling_state("ship"))
    assert repeat.text == "Sure! Can you spell ship?"
    harder = reply("harder", spelling_state("cat"))
    assert harder.state is not None and harder.state.grade == 2
    assert harder.state.item in word_lists()[2]


def test_quick_question_during_a_quiz_keeps_the_quiz() -> None:
    answer = reply("how do you spell dog", spelling_state("cat"))
    assert answer.text.startswith("Dog is spelled D, O, G.")
    assert answer.text.endswith("Now, can you spell cat?")
    assert answer.state is not None and answer.state.item == "cat"


def test_unrelated_turn_in_a_session_is_declined() -> None:
    assert engine().respond("tell me a story about a frog", spelling_state("cat")) is None


def test_caller_state_is_not_mutated() -> None:
    state = spelling_state("cat")
    before = state.to_dict()
    reply("C A T", state)
    assert state.to_dict() == before


def test_state_round_trip_and_bad_data() -> None:
    state = math_state("7x8", 56, "mul")
    assert DrillState.from_dict(state.to_dict()) == state
    with pytest.raises(ValueError, match="missing"):
        DrillState.from_dict({"kind": "math"})
    with pytest.raises(ValueError, match="Unknown drill kind"):
        DrillState.from_dict({"kind": "chess", "item": "e4", "answer": "e5"})
    with pytest.raises(ValueError, match="Bad drill state"):
        DrillState.from_dict({"kind": "math", "item": "1+1", "answer": "2", "grade": "hard"})


def test_state_from_blips_last_question() -> None:
    spelling = state_from_question("Great job! Ready for the next word? Can you spell frog?")
    assert spelling is not None and (spelling.kind, spelling.answer) == ("spelling", "frog")
    math = state_from_question("What is 6 times 7?")
    assert math is not None and (math.item, math.answer, math.operation) == ("6x7", "42", "mul")
    assert state_from_question("Do you want to hear a story?") is None


def test_replies_use_the_cached_drill_prompts() -> None:
    correct = reply("C A T", spelling_state("cat"))
    assert any(prompt in correct.text for prompt in DRILL_PROMPTS)
    assert "Almost! Want a hint?" in DRILL_PROMPTS


def test_word_lists_are_graded_and_clean() -> None:
    lists = word_lists()
    assert len(lists) == 5
    seen: set[str] = set()
    for words in lists:
        assert len(words) >= 40
        for word in words:
            assert word.isalpha() and word.islower(), word
            assert word not in seen, word
            seen.add(word)
    assert grade_for_age(4) == 0
    assert grade_for_age(7) == 2
    assert grade_for_age(12) == 4
    assert grade_for_age(None) == 1


@pytest.mark.parametrize(
    ("word", "hint"),
    [
        ("school", "The C, H in this word makes a K sound."),
        ("neighbor", "E, I, G, H together make the long A sound, like in eight."),
        ("laugh", "G and H make the F sound at the end."),
        ("cake", "The E at the end is silent, and it makes the vowel say its name."),
        ("cat", "It starts with the letter C."),
    ],
)
def test_phonics_hints(word: str, hint: str) -> None:
    assert phonics_hint(word) == hint
