"""Exact arithmetic from a child's spoken question: "what's seven times eight", "half of
twenty", "a hundred minus thirty seven", and simple one-step word problems.

Everything is computed with Fractions, so answers are exact. Anything the parser does not
fully understand returns None: the router then sends the turn to a model instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
import math
import re
from typing import Final

from .spoken import PLURAL_NUMBERS, NumberSpan, find_numbers, read_number, say_number, tokenize

_SYMBOL_TO_OP: Final[dict[str, str]] = {"+": "add", "-": "sub", "*": "mul", "/": "div"}


@dataclass(frozen=True)
class MathAnswer:
    """An exactly computed answer and how to say it."""

    value: Fraction
    spoken: str  # a full sentence, e.g. "7 times 8 is 56."
    operation: str | None  # "add", "sub", "mul", "div" when the question had one main operation
    fact: str | None  # "7x8" for a single two-number fact, for learning progress


# Question wrappers stripped before parsing; the expression must be all that remains.
_LEADING = re.compile(
    r"^(?:(?:hey blip|blip|hey|hi|okay|ok|um+|uh+|so|and|please|quick question|"
    r"can you tell me|could you tell me|can you help me with|can you help me|do you know|"
    r"tell me|i want to know|i wanna know|what's|whats|what is|what was|what are|what does|"
    r"what do you get if you|what do you get when you|what do i get if i|how much is|"
    r"how much does|how much are|how many is|how many are|calculate|solve|work out|"
    r"figure out|what|is|how much)\b[\s,]*)+"
)
_TRAILING = re.compile(
    r"(?:[\s,]*\b(?:equal|equals|make|makes|come to|please|blip|is|are|again|exactly|"
    r"is equal to|in all|altogether|total)\b)+\s*$"
)

# Binary operator phrases, longest first, as token sequences.
_BINARY_PHRASES: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (("multiplied", "by"), "*"),
    (("divided", "by"), "/"),
    (("take", "away"), "-"),
    (("taken", "away"), "-"),
    (("added", "to"), "+"),
    (("more", "than"), "+"),
    (("times",), "*"),
    (("x",), "*"),
    (("*",), "*"),
    (("×",), "*"),
    (("plus",), "+"),
    (("+",), "+"),
    (("minus",), "-"),
    (("-",), "-"),
    (("subtract",), "-"),
    (("over",), "/"),
    (("/",), "/"),
    (("÷",), "/"),
    (("and",), "+"),  # "add 3 and 4" is rewritten to this; a bare "3 and 4" is refused below
)

_PREFIX_FUNCS: Final[tuple[tuple[tuple[str, ...], Callable[[Fraction], Fraction | None]], ...]] = (
    (("half", "of"), lambda v: v / 2),
    (("a", "half", "of"), lambda v: v / 2),
    (("one", "half", "of"), lambda v: v / 2),
    (("a", "third", "of"), lambda v: v / 3),
    (("one", "third", "of"), lambda v: v / 3),
    (("a", "quarter", "of"), lambda v: v / 4),
    (("one", "quarter", "of"), lambda v: v / 4),
    (("a", "fourth", "of"), lambda v: v / 4),
    (("double",), lambda v: v * 2),
    (("twice",), lambda v: v * 2),
    (("triple",), lambda v: v * 3),
    (("the", "square", "root", "of"), lambda v: _square_root(v)),
    (("square", "root", "of"), lambda v: _square_root(v)),
)
_POSTFIX_FUNCS: Final[tuple[tuple[tuple[str, ...], Callable[[Fraction], Fraction | None]], ...]] = (
    (("squared",), lambda v: v * v),
    (("cubed",), lambda v: v * v * v),
)


def _square_root(value: Fraction) -> Fraction | None:
    if value < 0 or value.denominator != 1:
        return None
    root = math.isqrt(value.numerator)
    return Fraction(root) if root * root == value.numerator else None


class _Unparsed(Exception):
    """The question has a part the parser does not understand."""


def _apply(symbol: str, left: Fraction, right: Fraction) -> Fraction:
    if symbol == "+":
        return left + right
    if symbol == "-":
        return left - right
    if symbol == "*":
        return left * right
    if right == 0:
        raise _Unparsed
    return left / right


class _ExpressionParser:
    """Recursive-descent parser over spoken tokens; precedence: * / over + -."""

    def __init__(self, tokens: list[str], flat: bool = False) -> None:
        # flat=True reads every operator left to right, as a child saying it may mean.
        self.flat = flat
        self.tokens = tokens
        self.pos = 0
        self.operations: list[str] = []
        self.operands: list[Fraction] = []

    def parse(self) -> Fraction:
        value = self._sum()
        if self.pos != len(self.tokens):
            raise _Unparsed
        return value

    def _match(self, phrase: tuple[str, ...]) -> bool:
        end = self.pos + len(phrase)
        if tuple(self.tokens[self.pos : end]) == phrase:
            self.pos = end
            return True
        return False

    def _binary(self, allowed: str) -> str | None:
        for phrase, symbol in _BINARY_PHRASES:
            if symbol in allowed and self._match(phrase):
                return symbol
        return None

    def _sum(self) -> Fraction:
        value = self._product()
        while (symbol := self._binary("+-*/" if self.flat else "+-")) is not None:
            right = self._product()
            self.operations.append(_SYMBOL_TO_OP[symbol])
            value = _apply(symbol, value, right)
        return value

    def _product(self) -> Fraction:
        value = self._factor()
        while True:
            # "seven eights": a number followed by a plural number is a product.
            if self.pos < len(self.tokens) and self.tokens[self.pos] in PLURAL_NUMBERS:
                value *= PLURAL_NUMBERS[self.tokens[self.pos]]
                self.pos += 1
                self.operations.append("mul")
                continue
            symbol = None if self.flat else self._binary("*/")
            if symbol is None:
                return value
            right = self._factor()
            self.operations.append(_SYMBOL_TO_OP[symbol])
            value = _apply(symbol, value, right)

    def _factor(self) -> Fraction:
        for phrase, func in _PREFIX_FUNCS:
            if self._match(phrase):
                result = func(self._factor())
                if result is None:
                    raise _Unparsed
                self.operations.append("div" if "of" in phrase else "mul")
                return self._postfix(result)
        span = read_number(self.tokens, self.pos)
        if span is None:
            raise _Unparsed
        self.pos = span.end
        # "50 percent of 10"
        if self._match(("percent", "of")) or self._match(("%", "of")):
            whole = self._factor()
            self.operations.append("mul")
            return self._postfix(span.value * whole / 100)
        self.operands.append(span.value)
        return self._postfix(span.value)

    def _postfix(self, value: Fraction) -> Fraction:
        for phrase, func in _POSTFIX_FUNCS:
            if self._match(phrase):
                result = func(value)
                if result is None:
                    raise _Unparsed
                self.operations.append("mul")
                return self._postfix(result)
        return value


def _rewrite_verb_forms(tokens: list[str]) -> list[str] | None:
    """Turn verb-first questions into infix: "subtract 3 from 10" -> "10 - 3"."""
    if not tokens:
        return tokens
    verb = tokens[0]
    rest = tokens[1:]
    pairs = {
        "add": (("and", "to", "plus"), "+", False),
        "multiply": (("and", "by", "times"), "*", False),
        "divide": (("by",), "/", False),
        "subtract": (("from",), "-", True),
        "take": (("from", "away"), "-", True),
    }
    if verb not in pairs:
        # "3 less than 10" is 10 - 3; "3 fewer than 10" likewise.
        for word in ("less", "fewer"):
            if word in tokens and tokens.index(word) + 1 < len(tokens):
                index = tokens.index(word)
                if tokens[index + 1] == "than":
                    return [*tokens[index + 2 :], "-", *tokens[:index]]
        return tokens
    joiners, symbol, reverse = pairs[verb]
    for index, token in enumerate(rest):
        if token in joiners and index > 0:
            left, right = rest[:index], rest[index + 1 :]
            if verb == "take" and token == "away":
                # "take 3 away from 10"
                if right[:1] == ["from"]:
                    right = right[1:]
                else:
                    return None
            if reverse:
                left, right = right, left
            return [*left, symbol, *right]
    return None


def _fact_name(operands: list[Fraction], operations: list[str]) -> str | None:
    if len(operands) != 2 or len(operations) != 1:
        return None
    if any(v.denominator != 1 for v in operands):
        return None
    symbol = {"add": "+", "sub": "-", "mul": "x", "div": "/"}[operations[0]]
    return f"{operands[0]}{symbol}{operands[1]}"


def _is_sayable(value: Fraction) -> bool:
    """Exact answers a young child follows when said: whole numbers, halves and quarters."""
    return value.denominator in (1, 2, 4)


def solve_arithmetic(text: str) -> MathAnswer | None:
    """Answer a spoken arithmetic question exactly, or None when it isn't one (or is unclear)."""
    cleaned = text.lower().strip()
    cleaned = re.sub(r"[?!.]+$", "", cleaned).strip()
    cleaned = _LEADING.sub("", cleaned)
    cleaned = _TRAILING.sub("", cleaned).strip(" ,")
    tokens = [t for t in tokenize(cleaned) if t not in ("?", "=")]
    if not tokens:
        return None
    rewritten = _rewrite_verb_forms(tokens)
    if rewritten is None:
        return None
    if rewritten is tokens and "and" in tokens:
        # "3 and 4" alone is not clearly a sum; "one hundred and five" is one number, fine.
        inside_numbers = {i for s in find_numbers(tokens) for i in range(s.start, s.end)}
        if any(t == "and" and i not in inside_numbers for i, t in enumerate(tokens)):
            return None
    parser = _ExpressionParser(rewritten)
    try:
        value = parser.parse()
    except _Unparsed:
        return None
    if not parser.operations:
        return None  # a bare number is not a question
    try:
        left_to_right = _ExpressionParser(rewritten, flat=True).parse()
    except _Unparsed:
        return None
    if left_to_right != value:
        # "4 plus 4 divided by 2": 6 by the rules, 4 as said aloud. Too unsure to answer.
        return None
    if not _is_sayable(value):
        # 17 / 5: answer with a remainder when it is a single whole-number division.
        if (
            parser.operations == ["div"]
            and len(parser.operands) == 2
            and all(v.denominator == 1 and v >= 0 for v in parser.operands)
        ):
            dividend, divisor = (int(v) for v in parser.operands)
            quotient, remainder = divmod(dividend, divisor)
            return MathAnswer(
                value,
                f"{dividend} divided by {divisor} is {quotient}, with {remainder} left over.",
                "div",
                f"{dividend}/{divisor}",
            )
        return None
    main_operation = parser.operations[0] if len(set(parser.operations)) == 1 else None
    fact = _fact_name(parser.operands, parser.operations)
    spoken_question = _say_expression(rewritten)
    return MathAnswer(value, f"{spoken_question} is {say_number(value)}.", main_operation, fact)


def _say_expression(tokens: list[str]) -> str:
    """Repeat the question back with digits and operator words: "7 times 8"."""
    words: list[str] = []
    i = 0
    symbol_words = {
        "+": "plus",
        "-": "minus",
        "*": "times",
        "x": "times",
        "×": "times",
        "/": "divided by",
        "÷": "divided by",
    }
    while i < len(tokens):
        span = read_number(tokens, i)
        if span is not None:
            words.append(say_number(span.value))
            i = span.end
            continue
        token = tokens[i]
        words.append(symbol_words.get(token, token))
        i += 1
    sentence = " ".join(words)
    return sentence[:1].upper() + sentence[1:]


# ---- number facts: order, comparison, odd and even --------------------------------------------

_AFTER_BEFORE = re.compile(
    r"^(?:what|which) (?:number )?(?:comes|is|goes) (?:right |just )?(?P<where>after|before|next "
    r"after) (?P<number>.+)$"
)
_BIGGER = re.compile(
    r"^(?:what|which)(?:'s| is)? (?:number )?(?:is )?(?P<which>bigger|smaller|larger|greater|more|"
    r"less) (?P<a>.+?) or (?P<b>.+)$"
)
_ODD_EVEN = re.compile(
    r"^is (?P<number>.+?) (?:an? )?(?:(?P<kind>odd|even)(?: number)?|odd or even|even or odd)$"
)


def _single_number(text: str) -> Fraction | None:
    tokens = tokenize(text)
    span = read_number(tokens, 0)
    if span is None or span.end != len(tokens) or span.value.denominator != 1:
        return None
    return span.value


def solve_number_fact(text: str) -> str | None:
    """Answer "what comes after 99", "which is bigger 45 or 54", "is 15 odd or even"."""
    cleaned = re.sub(r"[?!.,]+", " ", text.lower()).strip()
    cleaned = re.sub(r"\s+", " ", cleaned)
    if match := _AFTER_BEFORE.match(cleaned):
        number = _single_number(match.group("number"))
        if number is None:
            return None
        if match.group("where") == "before":
            return f"{say_number(number - 1)} comes right before {say_number(number)}."
        return f"{say_number(number + 1)} comes right after {say_number(number)}."
    if match := _BIGGER.match(cleaned):
        a, b = _single_number(match.group("a")), _single_number(match.group("b"))
        if a is None or b is None:
            return None
        if a == b:
            return f"They're the same! {say_number(a)} and {say_number(b)} are equal."
        bigger = match.group("which") in ("bigger", "larger", "greater", "more")
        pick = max(a, b) if bigger else min(a, b)
        word = "bigger" if bigger else "smaller"
        return f"{say_number(pick)} is {word}."
    if match := _ODD_EVEN.match(cleaned):
        number = _single_number(match.group("number"))
        if number is None:
            return None
        kind = "even" if number % 2 == 0 else "odd"
        asked = match.group("kind")
        lead = "" if asked is None else ("Yes, " if asked == kind else "No, ")
        return f"{lead}{say_number(number)} is an {kind} number."
    return None


# ---- one-step word problems ----------------------------------------------------------------

_SUB_CUES = re.compile(
    r"\b(took|take|takes|taken|ate|eat|eats|eaten|gave|give|gives|given|lost|lose|loses|popped|"
    r"pops|broke|breaks|flew|fly|flies|away|spent|spend|sold|sells|used|uses|fell|melted|"
    r"left|fewer|less|drank|drinks|missing|gone|stole|stolen|hatched out|leave|leaves|"
    r"how many more|difference|minus|subtract|cut off|knocked over|ran off)\b"
)
_ADD_CUES = re.compile(
    r"\b(more|get|gets|got|found|find|finds|bought|buys|buy|another|in all|altogether|"
    r"all together|total|together|joined|join|came|come|arrive|arrived|plus|added|add|"
    r"gave me|gives me|given me|both)\b"
)
_MUL_CUES = re.compile(
    r"\b(each|every|per|groups of|rows of|packs of|boxes of|bags of|times|teams of)\b"
)
_DIV_CUES = re.compile(
    r"\b(share|shares|shared|split|splits|equally|evenly|divide|divided|between|among|"
    r"each get|each one get|does each|do they each|will each|each have)\b"
)
_QUESTION_CUES = re.compile(
    r"\b(how many|how much|are left|is left|left over|in all|altogether|total|now)\b"
)


def solve_word_problem(text: str) -> MathAnswer | None:
    """Solve a one-step word problem with exactly two numbers and one clear operation.

    "my brother took two of my four cookies, how many do I have" -> 4 minus 2 is 2.
    Mixed or unclear cues return None.
    """
    lowered = text.lower()
    if not _QUESTION_CUES.search(lowered):
        return None
    tokens = tokenize(lowered)
    spans = _countable_numbers(tokens)
    if len(spans) != 2:
        return None
    first, second = (span.value for span in spans)
    if any(v.denominator != 1 or v < 0 for v in (first, second)):
        return None
    big, small = max(first, second), min(first, second)
    # Cues only count outside the question part ("how many are left" is a strong sub cue).
    has_div = bool(_DIV_CUES.search(lowered)) and bool(re.search(r"\beach\b", lowered))
    has_mul = bool(_MUL_CUES.search(lowered))
    has_sub = bool(_SUB_CUES.search(lowered))
    has_add = bool(_ADD_CUES.search(lowered))
    # "how many more" asks for a difference even though it says "more".
    if re.search(r"\bhow many more\b|\bhow much more\b", lowered):
        has_add = False
        has_sub = True
    if re.search(r"\b(more|fewer|less) than\b", lowered) and re.search(
        r"\b(together|altogether|in all|both|total)\b", lowered
    ):
        return None  # two-step ("5 more than me ... together"): leave to a model
    if has_div:
        if small == 0 or big % small != 0:
            return None
        value, operation, said = big / small, "div", f"{big} divided by {small}"
    elif has_mul:
        if has_sub:
            return None
        value, operation, said = first * second, "mul", f"{first} times {second}"
    elif has_sub and not (has_add and not re.search(r"\b(left|fewer|less)\b", lowered)):
        value, operation, said = big - small, "sub", f"{big} minus {small}"
    elif has_add and not has_sub:
        value, operation, said = first + second, "add", f"{first} plus {second}"
    else:
        return None
    fact_symbol = {"add": "+", "sub": "-", "mul": "x", "div": "/"}[operation]
    if operation in ("sub", "div"):
        fact = f"{big}{fact_symbol}{small}"
    else:
        fact = f"{first}{fact_symbol}{second}"
    return MathAnswer(
        Fraction(value),
        f"That's {said}, which is {say_number(value)}.",
        operation,
        fact,
    )


def _countable_numbers(tokens: list[str]) -> list[NumberSpan]:
    """Numbers in a word problem, ignoring "one" used as a pronoun ("each one", "one day")."""
    spans = find_numbers(tokens)
    kept: list[NumberSpan] = []
    for span in spans:
        word = tokens[span.start]
        if span.end - span.start == 1 and word == "one":
            before = tokens[span.start - 1] if span.start else ""
            after = tokens[span.end] if span.end < len(tokens) else ""
            if before in (
                "each",
                "every",
                "which",
                "no",
                "the",
                "any",
                "this",
                "that",
            ) or after in (
                "day",
                "time",
                "of",
                "more",
                "get",
            ):
                continue
        kept.append(span)
    return kept
