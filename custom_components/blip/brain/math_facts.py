"""Maths facts for practice: how a fact is written ("7x8"), said, hinted and drawn at random.

The drill engine keeps the session; this module knows the facts. A stored fact is the left
number, the operation's symbol and the right number: "7x8", "12-5", "20/4".
"""

from __future__ import annotations

import random
from typing import Final

MATH_SYMBOLS: Final = {"add": "+", "sub": "-", "mul": "x", "div": "/"}
MATH_WORDS: Final = {"add": "plus", "sub": "minus", "mul": "times", "div": "divided by"}


def parse_fact(fact: str) -> tuple[str, int, int] | None:
    """ "7x8" -> ("mul", 7, 8); None for anything that is not a stored maths fact."""
    for operation, symbol in MATH_SYMBOLS.items():
        left, sep, right = fact.partition(symbol)
        if sep and left.isdigit() and right.isdigit():
            a, b = int(left), int(right)
            if operation == "div" and (b == 0 or a % b):
                return None
            if operation == "sub" and b > a:
                return None
            return operation, a, b
    return None


def say_fact(item: str, operation: str) -> str:
    """ "7x8" -> "7 times 8"."""
    left, right = item.split(MATH_SYMBOLS[operation], 1)
    return f"{left} {MATH_WORDS[operation]} {right}"


def random_problem(rng: random.Random, grade: int, focus: str | None) -> tuple[str, int, int]:
    """A fresh problem for the grade and focus: (operation, a, b); divisors are never 0."""
    top = 12 if grade >= 4 else 10
    if focus and focus.startswith("mul:"):
        table = int(focus.split(":")[1])
        return "mul", table, rng.randint(1, top)
    operation = focus
    if operation is None:
        choices = (
            ("add", "sub"),
            ("add", "sub"),
            ("add", "sub", "mul"),
            ("mul", "div", "add"),
            ("mul", "div", "sub"),
        )[grade]
        operation = rng.choice(choices)
    if operation in ("add", "sub"):
        limit = (10, 20, 100, 100, 1000)[grade]
        if grade >= 2:
            a, b = rng.randint(10, limit // 2), rng.randint(2, limit // 2)
        else:
            a, b = rng.randint(0, limit // 2), rng.randint(0, limit // 2)
        if operation == "sub":
            a, b = max(a, b), min(a, b)
        return operation, a, b
    if operation == "mul":
        low = 2 if grade >= 3 else 1
        factors = (2, 5, 10) if grade <= 2 else tuple(range(low, top + 1))
        return "mul", rng.choice(factors), rng.randint(1, top)
    divisor = rng.randint(2, top)
    quotient = rng.randint(1, top)
    return "div", divisor * quotient, divisor


def math_hint(item: str, operation: str, level: int) -> str:
    """A first (level 1) or second hint for a fact such as "7x8"."""
    left, right = (int(x) for x in item.split(MATH_SYMBOLS[operation], 1))
    if operation == "add":
        if level <= 1:
            return f"Start at {left} and count up {right} more."
        if right > 1:
            return f"{left} plus {right - 1} is {left + right - 1}. Add one more!"
        return f"It's one more than {left}."
    if operation == "sub":
        if level <= 1:
            return f"Start at {left} and count back {right}."
        return f"Think of it this way: {right} plus something makes {left}."
    if operation == "mul":
        if level <= 1:
            return f"Think of {left} groups of {right}."
        if right > 1:
            return f"{left} times {right - 1} is {left * (right - 1)}. Add one more {left}."
        return "Anything times 1 stays the same."
    if level <= 1:
        return f"Think: how many groups of {right} make {left}."
    return f"Think of it this way: {right} times something makes {left}."
