"""The exact maths solver's edges: roots, verb-first questions, number facts, word problems.

test_brain_spoken.py covers the common questions; these are the ways a question can be
unclear, where a wrong answer would be worse than handing the turn on (None).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from custom_components.blip.brain.arithmetic import (
    solve_arithmetic,
    solve_number_fact,
    solve_word_problem,
)


@pytest.mark.parametrize(
    ("question", "spoken", "fact"),
    [
        ("what is the square root of 16", "The square root of 16 is 4.", None),
        ("what is 2 cubed", "2 cubed is 8.", None),
        ("take 3 away from 10", "10 minus 3 is 7.", "10-3"),
        ("3 less than 10", "10 minus 3 is 7.", "10-3"),
        ("3 fewer than 10", "10 minus 3 is 7.", "10-3"),
    ],
)
def test_roots_powers_and_verb_forms(question: str, spoken: str, fact: str | None) -> None:
    answer = solve_arithmetic(question)
    assert answer is not None
    assert (answer.spoken, answer.fact) == (spoken, fact)


@pytest.mark.parametrize(
    "question",
    [
        "what is the square root of 10",  # not a whole root: not sayable to a child
        "what is the square root of a half",
        "take 3 away 10",  # "away" without "from"
        "add 3",  # nothing to add it to
        "what is 4 plus 4 divided by 2",  # 6 by the rules, 4 as said aloud
    ],
)
def test_unclear_or_unsayable_questions_are_not_answered(question: str) -> None:
    assert solve_arithmetic(question) is None


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("what comes before ten", "9 comes right before 10."),
        ("which is smaller 45 or 54", "45 is smaller."),
        ("which is bigger 7 or 7", "They're the same! 7 and 7 are equal."),
        # A child says it short as often as long.
        ("is 15 even", "No, 15 is an odd number."),
        ("is 14 even", "Yes, 14 is an even number."),
        ("is 7 odd number", "Yes, 7 is an odd number."),
    ],
)
def test_number_facts(question: str, answer: str) -> None:
    assert solve_number_fact(question) == answer


@pytest.mark.parametrize(
    "question",
    ["what comes after banana", "which is bigger 7 or cat", "is cat odd", "is a half even"],
)
def test_number_facts_about_no_number_are_not_answered(question: str) -> None:
    assert solve_number_fact(question) is None


@pytest.mark.parametrize(
    ("problem", "value", "fact"),
    [
        ("i have 5 and you have 3 how many more do you have", 2, "5-3"),
        ("each one of the 2 kids has 3 how many in all", 6, "2x3"),  # "each one" is no number
        ("one day i had 4 cats and got 2 more how many now", 6, "4+2"),
    ],
)
def test_word_problems(problem: str, value: int, fact: str) -> None:
    answer = solve_word_problem(problem)
    assert answer is not None
    assert (answer.value, answer.fact) == (Fraction(value), fact)


@pytest.mark.parametrize(
    "problem",
    [
        "13 cookies shared equally between 4 friends how many does each get",  # a remainder
        "3 groups of 4 and 2 ran off how many are left",  # two steps: times, then minus
        "i have 5 more than you and you have 3 how many together",  # two steps
        "i have 1/2 a pizza and 3 more how many in all",  # not whole things
    ],
)
def test_word_problems_needing_more_than_one_step_are_left_to_a_model(problem: str) -> None:
    assert solve_word_problem(problem) is None
