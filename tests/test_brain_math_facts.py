"""Maths facts as stored, said and hinted ("7x8"), and the random problems a grade gets."""

from __future__ import annotations

import random

import pytest

from custom_components.blip.brain.math_facts import (
    MATH_SYMBOLS,
    math_hint,
    parse_fact,
    random_problem,
    say_fact,
)


@pytest.mark.parametrize(
    ("fact", "parsed"),
    [
        ("7x8", ("mul", 7, 8)),
        ("12-5", ("sub", 12, 5)),
        ("20/4", ("div", 20, 4)),
        ("3+4", ("add", 3, 4)),
        ("0+0", ("add", 0, 0)),
    ],
)
def test_a_stored_fact_is_parsed(fact: str, parsed: tuple[str, int, int]) -> None:
    assert parse_fact(fact) == parsed


@pytest.mark.parametrize(
    "fact",
    [
        "knife",  # a spelling word from the same memory
        "7x",
        "x8",
        "7 x 8",  # only the stored form, never spoken text
        "20/3",  # not a whole answer
        "5/0",
        "5-12",  # below zero: not a fact for children
        "-3+4",
        "7*8",
    ],
)
def test_anything_else_is_not_a_fact(fact: str) -> None:
    assert parse_fact(fact) is None


@pytest.mark.parametrize(
    ("item", "operation", "said"),
    [
        ("7x8", "mul", "7 times 8"),
        ("12-5", "sub", "12 minus 5"),
        ("20/4", "div", "20 divided by 4"),
        ("3+4", "add", "3 plus 4"),
    ],
)
def test_facts_are_said_in_words(item: str, operation: str, said: str) -> None:
    assert say_fact(item, operation) == said


@pytest.mark.parametrize(
    ("item", "operation", "first", "second"),
    [
        ("3+4", "add", "Start at 3 and count up 4 more.", "3 plus 3 is 6. Add one more!"),
        ("3+1", "add", "Start at 3 and count up 1 more.", "It's one more than 3."),
        (
            "12-5",
            "sub",
            "Start at 12 and count back 5.",
            "Think of it this way: 5 plus something makes 12.",
        ),
        ("7x8", "mul", "Think of 7 groups of 8.", "7 times 7 is 49. Add one more 7."),
        ("9x1", "mul", "Think of 9 groups of 1.", "Anything times 1 stays the same."),
        (
            "20/4",
            "div",
            "Think: how many groups of 4 make 20.",
            "Think of it this way: 4 times something makes 20.",
        ),
    ],
)
def test_hints_get_closer_to_the_answer(item: str, operation: str, first: str, second: str) -> None:
    assert math_hint(item, operation, 1) == first
    assert math_hint(item, operation, 2) == second
    assert math_hint(item, operation, 0) == first  # a level below one is the first hint


def _answer(operation: str, a: int, b: int) -> int:
    if operation == "div":
        return a // b
    return {"add": a + b, "sub": a - b, "mul": a * b}[operation]


@pytest.mark.parametrize("grade", range(5))
def test_random_problems_fit_the_grade(grade: int) -> None:
    """Every problem can be stored, said and answered exactly: no negatives, no remainders."""
    rng = random.Random(grade)
    operations: set[str] = set()
    for _ in range(300):
        operation, a, b = random_problem(rng, grade, None)
        operations.add(operation)
        fact = f"{a}{MATH_SYMBOLS[operation]}{b}"
        assert parse_fact(fact) == (operation, a, b), fact
        assert _answer(operation, a, b) >= 0
        if operation in ("add", "sub"):
            assert max(a, b) <= (10, 20, 100, 100, 1000)[grade] // 2
        if operation == "mul" and grade <= 2:
            assert a in (2, 5, 10)  # the first tables: 2s, 5s and 10s
    expected = (
        {"add", "sub"},
        {"add", "sub"},
        {"add", "sub", "mul"},
        {"mul", "div", "add"},
        {"mul", "div", "sub"},
    )[grade]
    assert operations == expected


def test_a_focus_keeps_to_its_table_or_operation() -> None:
    rng = random.Random(7)
    for _ in range(100):
        operation, a, b = random_problem(rng, 3, "mul:7")
        assert (operation, a) == ("mul", 7) and 1 <= b <= 10
        operation, a, b = random_problem(rng, 4, "div")
        assert operation == "div" and 2 <= b <= 12 and a % b == 0 and 1 <= a // b <= 12
        operation, a, b = random_problem(rng, 0, "sub")
        assert operation == "sub" and 0 <= b <= a <= 5
