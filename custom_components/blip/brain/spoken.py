"""Normalise what speech-to-text writes when a child says a number or spells a word.

Whisper writes the same spoken answer many ways: "56", "fifty six", "fifty-six", "C-A-T.",
"C, A, T.", "see ay tee", "CAT". These helpers turn them into one exact value, or None when
unsure, so the drill engine can decline rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
import itertools
import re
from typing import Final

UNITS: Final[dict[str, int]] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: Final[dict[str, int]] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: Final[dict[str, int]] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES: Final[dict[str, int]] = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
# "seven eights", "three fives": a count of groups, used by times-table questions.
PLURAL_NUMBERS: Final[dict[str, int]] = {
    "ones": 1,
    "twos": 2,
    "threes": 3,
    "fours": 4,
    "fives": 5,
    "sixes": 6,
    "sevens": 7,
    "eights": 8,
    "nines": 9,
    "tens": 10,
    "elevens": 11,
    "twelves": 12,
}
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[+\-*/×÷=%?]")
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")


def tokenize(text: str) -> list[str]:
    """Lowercase word, number and operator tokens; hyphens between words become spaces."""
    lowered = text.lower().replace("’", "'").replace("‘", "'")
    lowered = _THOUSANDS_COMMA.sub("", lowered)
    # "fifty-six" and "take-away" are words joined by a hyphen, not a minus sign.
    lowered = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", lowered)
    return _TOKEN.findall(lowered)


@dataclass(frozen=True)
class NumberSpan:
    """A number found in a token list: its value and the tokens [start, end) it came from."""

    value: Fraction
    start: int
    end: int


def _digits(token: str) -> Fraction | None:
    if token[0].isdigit():
        return Fraction(token)
    return None


def read_number(tokens: list[str], start: int) -> NumberSpan | None:
    """Read one number (digits or words) starting exactly at tokens[start].

    Refuses digit strings said one by one ("five six" is two numbers, not 11) by only
    allowing the orders English uses: tens then unit, unit then hundred, and so on.
    """
    n = len(tokens)
    i = start
    if i >= n:
        return None
    first = tokens[i]
    value = _digits(first)
    if value is not None:
        i += 1
        # "5 hundred", "3 thousand"
        if i < n and tokens[i] in SCALES and value.denominator == 1 and value < 1000:
            value *= SCALES[tokens[i]]
            i += 1
        return _read_fraction_tail(tokens, i, NumberSpan(value, start, i))
    if first == "zero":
        return _read_fraction_tail(tokens, i + 1, NumberSpan(Fraction(0), start, i + 1))

    total = 0
    current = 0
    last: str | None = None  # kind of the last token read
    end = start
    if first == "a" and i + 1 < n and tokens[i + 1] in ("hundred", "thousand"):
        current = 1
        last = "unit"
        i += 1
    while i < n:
        token = tokens[i]
        if token in UNITS and last in (None, "tens", "hundred", "thousand"):
            current += UNITS[token]
            last = "unit"
        elif token in TEENS and last in (None, "hundred", "thousand"):
            current += TEENS[token]
            last = "teen"
        elif token in TENS and last in (None, "hundred", "thousand"):
            current += TENS[token]
            last = "tens"
        elif token == "hundred" and last in ("unit", "teen", "tens") and current < 100:
            current *= 100
            last = "hundred"
        elif token in ("thousand", "million") and last in ("unit", "teen", "tens", "hundred"):
            total += current * SCALES[token]
            current = 0
            last = "thousand"
        elif (
            token == "and"
            and last in ("hundred", "thousand")
            and i + 1 < n
            and (tokens[i + 1] in UNITS or tokens[i + 1] in TEENS or tokens[i + 1] in TENS)
        ):
            i += 1
            continue
        else:
            break
        i += 1
        end = i
    if last is None:
        return None
    return _read_fraction_tail(tokens, end, NumberSpan(Fraction(total + current), start, end))


def _read_fraction_tail(tokens: list[str], i: int, span: NumberSpan) -> NumberSpan:
    """Extend a number with "and a half" or "point five"."""
    n = len(tokens)
    if tokens[i : i + 3] == ["and", "a", "half"]:
        return NumberSpan(span.value + Fraction(1, 2), span.start, i + 3)
    if i + 1 < n and tokens[i] == "point" and span.value.denominator == 1:
        digits: list[int] = []
        j = i + 1
        while j < n and (tokens[j] in UNITS or tokens[j] in ("zero", "oh")):
            digits.append(UNITS.get(tokens[j], 0))
            j += 1
        if digits:
            fraction = Fraction("0." + "".join(str(d) for d in digits))
            return NumberSpan(span.value + fraction, span.start, j)
    return span


def find_numbers(tokens: list[str]) -> list[NumberSpan]:
    """All numbers in a token list, left to right, without overlaps."""
    spans: list[NumberSpan] = []
    i = 0
    while i < len(tokens):
        span = read_number(tokens, i)
        # A lone "a" or "and" is not a number; read_number already refuses those.
        if span is not None:
            spans.append(span)
            i = span.end
        else:
            i += 1
    return spans


_ANSWER_FILLERS: Final[frozenset[str]] = frozenset(
    {
        "um",
        "umm",
        "uh",
        "er",
        "hmm",
        "i",
        "think",
        "it's",
        "its",
        "it",
        "is",
        "the",
        "answer",
        "that's",
        "thats",
        "maybe",
        "guess",
        "oh",
        "okay",
        "ok",
        "so",
        "well",
        "equals",
        "equal",
        "=",
        "?",
        "yes",
        "yeah",
        "because",
        "right",
        "blip",
        "be",
        "would",
        "like",
        "and",
        "sure",
        "pretty",
        "know",
    }
)


def parse_spoken_answer(text: str) -> Fraction | None:
    """The one number a child gave as an answer, or None when there is none or it's unclear.

    "fifty six", "56", "I think it's 56", "is it 56?" and "7 times 8 is 56" all give 56;
    "56 or 54" gives None (two different answers). A leading "negative"/"minus" makes it negative.
    """
    tokens = tokenize(text)
    if not tokens:
        return None
    # "7 times 8 is 56": the answer follows the last "is"/"equals" when the child restates the fact.
    for marker in ("is", "equals", "=", "makes"):
        if marker in tokens[1:]:
            cut = len(tokens) - 1 - tokens[::-1].index(marker)
            tail = tokens[cut + 1 :]
            if find_numbers(tail) and find_numbers(tokens[:cut]):
                tokens = tail
            break
    spans = find_numbers(tokens)
    if not spans:
        return None
    values = {span.value for span in spans}
    if len(values) != 1:
        return None
    # Everything that is not the number must be a filler; otherwise this is not an answer.
    covered = {i for span in spans for i in range(span.start, span.end)}
    negative = False
    for index, token in enumerate(tokens):
        if index in covered:
            continue
        if token in ("negative", "minus", "-") and index + 1 == spans[0].start:
            negative = True
            continue
        if token not in _ANSWER_FILLERS:
            return None
    value = spans[0].value
    return -value if negative else value


# Letter names as a child says them and Whisper may write them.
LETTER_NAMES: Final[dict[str, str]] = {
    **{letter: letter for letter in "abcdefghijklmnopqrstuvwxyz"},
    "ay": "a",
    "bee": "b",
    "be": "b",
    "see": "c",
    "sea": "c",
    "cee": "c",
    "dee": "d",
    "ee": "e",
    "ef": "f",
    "eff": "f",
    "gee": "g",
    "jee": "g",
    "aitch": "h",
    "haitch": "h",
    "eye": "i",
    "aye": "i",
    "jay": "j",
    "kay": "k",
    "el": "l",
    "ell": "l",
    "em": "m",
    "en": "n",
    "oh": "o",
    "owe": "o",
    "pee": "p",
    "pea": "p",
    "cue": "q",
    "queue": "q",
    "are": "r",
    "ar": "r",
    "es": "s",
    "ess": "s",
    "tee": "t",
    "tea": "t",
    "you": "u",
    "yew": "u",
    "vee": "v",
    "ex": "x",
    "why": "y",
    "wye": "y",
    "zee": "z",
    "zed": "z",
}

_LEADING_FILLER = re.compile(
    r"^(?:(?:um+|uh+|er|hmm+|okay|ok|so|well|oh|let me see|let me try|i think|i guess|maybe|"
    r"is it|it's|it is|its|that's|that is|the answer is|you spell it|i spell it|it's spelled|"
    r"it is spelled|spelled|the word is|yes|yeah)\b[\s,.!:]*)+"
)
_TRAILING_FILLER = re.compile(
    r"(?:[\s,.!?]*\b(?:right|is that right|am i right|i think|maybe|spells? \w+|that spells? \w+|"
    r"is that it|yes|done|the end)\b)+[\s,.!?]*$"
)
_LETTER_SPLIT = re.compile(r"[\s,.;:!?\-_/]+")


def parse_spelled_letters(text: str, word: str | None = None) -> str | None:
    """The letters a child spelled out, lowercased and joined ("C-A-T." -> "cat"), or None.

    ``word`` is the word being asked for: saying it before or after the letters ("cat, c a t")
    is allowed. Returns None when anything but letters (and fillers) was said.
    """
    original = text.strip().replace("’", "'")
    lowered = original.lower()
    lowered = _LEADING_FILLER.sub("", lowered)
    lowered = _TRAILING_FILLER.sub("", lowered)
    # Whisper writes a spelled word in capitals ("CAT") when it hears letters run together.
    capital_runs = {
        run.lower() for run in re.findall(r"\b[A-Z]{2,}\b", original) if run not in ("OK",)
    }
    raw_tokens = [t for t in _LETTER_SPLIT.split(lowered) if t]
    target = word.lower() if word else None
    if target and len(raw_tokens) > 1:
        # "cat, c a t" / "c a t, cat": drop the word itself said around the letters.
        if raw_tokens[0] == target and raw_tokens[0] not in capital_runs:
            raw_tokens = raw_tokens[1:]
        elif raw_tokens[-1] == target and raw_tokens[-1] not in capital_runs:
            raw_tokens = raw_tokens[:-1]
    # Each position holds its readings, the first the usual one. A few sounds are letters
    # only in a word that has them, and may be read two ways: resolved against ``word`` below.
    readings: list[tuple[str, ...]] = []
    i = 0
    while i < len(raw_tokens):
        token = raw_tokens[i]
        if token in ("capital", "big", "small", "little", "letter", "lowercase", "uppercase"):
            i += 1
            continue
        if token == "double" and i + 1 < len(raw_tokens):
            following = raw_tokens[i + 1]
            if following in ("u", "you"):
                readings.append(("w",))
            elif following in LETTER_NAMES:
                readings.append((LETTER_NAMES[following] * 2,))
            else:
                return None
            i += 2
            continue
        if token in ("doubleu", "doubleyou"):
            readings.append(("w",))
        elif token in ("okay", "ok") and target and "ok" in target:
            # The letters O, K said in a row sound like "okay" and Whisper writes them so
            # ("B, O, O, K" -> "be oh okay"); only in a word that has them, else it is a filler.
            readings.append(("ok",))
        elif token == "and" and target and "n" in target:
            # The letter N ("en") inside spelled letters is written "and" by Whisper, most
            # often before or after a vowel letter ("k and i f e", "and e t"): N in a word that
            # has one. "S and" may also be A, N, D run together (sand), so both readings.
            readings.append(_AND_AS_N)
        elif token in LETTER_NAMES:
            readings.append((LETTER_NAMES[token],))
        elif token in capital_runs and token.isalpha():
            readings.append((token,))
        else:
            return None
        i += 1
    if all(options == _AND_AS_N for options in readings):
        return None  # "and", "um and": a word, not a spelling, with no other letter said
    return _resolve_readings(readings, target)


_AND_AS_N: Final = ("n", "and")
_MAX_AMBIGUOUS_READINGS: Final = 4  # 2**4 spellings at most are tried against the word


def _resolve_readings(readings: list[tuple[str, ...]], target: str | None) -> str:
    """The spelling the readings make: the one that is ``target`` if any does, else the usual."""
    usual = "".join(options[0] for options in readings)
    ambiguous = [i for i, options in enumerate(readings) if len(options) > 1]
    if target is None or usual == target or not ambiguous:
        return usual
    if len(ambiguous) > _MAX_AMBIGUOUS_READINGS:
        return usual
    for choice in itertools.product(*(readings[i] for i in ambiguous)):
        chosen = dict(zip(ambiguous, choice, strict=True))
        spelled = "".join(chosen.get(i, options[0]) for i, options in enumerate(readings))
        if spelled == target:
            return spelled
    return usual


def say_letters(word: str) -> str:
    """Letters for TTS: "knife" -> "K, N, I, F, E"."""
    return ", ".join(letter.upper() for letter in word if letter.isalpha())


def say_number(value: Fraction | int) -> str:
    """A number as Blip says it: digits, "negative 3", "3 and a half", or a short decimal."""
    value = Fraction(value)
    if value < 0:
        return "negative " + say_number(-value)
    if value.denominator == 1:
        return str(value.numerator)
    whole, rest = divmod(value.numerator, value.denominator)
    if value.denominator == 2:
        return f"{whole} and a half" if whole else "one half"
    if value.denominator == 4 and rest in (1, 3):
        part = "a quarter" if rest == 1 else "three quarters"
        return f"{whole} and {part}" if whole else part
    decimal = float(value)
    return f"{decimal:g}"


_CONTRACTIONS: Final[dict[str, str]] = {
    "im": "i'm",
    "ive": "i've",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "wont": "won't",
    "cant": "can't",
    "isnt": "isn't",
    "wasnt": "wasn't",
    "arent": "aren't",
    "werent": "weren't",
    "wouldnt": "wouldn't",
    "couldnt": "couldn't",
    "shouldnt": "shouldn't",
    "hasnt": "hasn't",
    "havent": "haven't",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "got to",
    "imma": "i'm going to",
    "ima": "i'm going to",
    "thats": "that's",
    "whats": "what's",
    "hes": "he's",
    "shes": "she's",
    "theyre": "they're",
    "theyll": "they'll",
    "theyve": "they've",
    "hell": "he'll",
    "hed": "he'd",
    "youll": "you'll",
    "youve": "you've",
    "itll": "it'll",
    "weve": "we've",
    "youre": "you're",
    "lets": "let's",
    "theres": "there's",
    "heres": "here's",
    "cuz": "because",
    "cause": "because",
    "ok": "okay",
    "yall": "you all",
}
_NON_WORD = re.compile(r"[^a-z0-9'+\-*/×÷=%\s]+")


@lru_cache(maxsize=4096)
def normalise_utterance(text: str) -> str:
    """Lowercase words separated by single spaces, with STT's missing apostrophes restored.

    Whisper sometimes writes "im home alone" or "I wanna die"; rules match one spelling.
    """
    lowered = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    lowered = _NON_WORD.sub(" ", lowered)
    lowered = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", lowered)
    words = [_CONTRACTIONS.get(word, word) for word in lowered.split()]
    # "were going to the beach" is "we're going": a question never starts "were <verb>ing".
    if len(words) > 1 and words[0] == "were" and words[1].endswith("ing"):
        words[0] = "we're"
    return " ".join(words)
