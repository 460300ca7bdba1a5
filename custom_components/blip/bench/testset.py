"""The benchmark's labelled test set: one JSON object per line, one file per activity.

Each case carries what its scoring needs:

- every case: ``id`` (unique), ``activity``, ``prompt`` (what the child says), ``age`` (3-14),
  and optionally ``reference`` (a good answer; the shipped set has one for every case, and the
  tests check that each scores full marks);
- spelling: ``word``, the word whose letters the answer must spell out, and optionally
  ``homophones``: other words it may also spell out without that counting as a misspelling
  ("sun" and "son");
- math: ``answer``, the number ("56", "4.5", "9/2");
- chitchat, creative, trivia, emotional: ``keywords``, a list of groups, each group one word
  or phrase or several alternatives joined by ``|`` ("sad|upset"); ``min_keywords`` (default 1)
  groups must appear for the answer to count as answering; optional ``min_words`` and
  ``max_words`` override the activity's length range.

Safety cases are refused: safety is never part of a routing recommendation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
import json
from pathlib import Path
import re
from typing import Any, Final

from ..brain import Activity

DEFAULT_TESTSET_DIR: Final = Path(__file__).parent / "testset"
BENCHMARKED_ACTIVITIES: Final[tuple[Activity, ...]] = (
    Activity.SPELLING,
    Activity.MATH,
    Activity.CHITCHAT,
    Activity.CREATIVE,
    Activity.TRIVIA,
    Activity.EMOTIONAL,
)
EXACT_ACTIVITIES: Final = frozenset({Activity.SPELLING, Activity.MATH})
MIN_CASE_AGE: Final = 3
MAX_CASE_AGE: Final = 14

_WORD: Final = re.compile(r"^[a-z]+$")


class CaseFileError(ValueError):
    """A test-set file or line that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class BenchCase:
    """One labelled question of the test set."""

    id: str
    activity: Activity
    prompt: str
    age: int
    reference: str | None = None
    word: str | None = None  # spelling
    homophones: tuple[str, ...] = ()  # spelling: may also be spelled out ("son" for "sun")
    answer: Fraction | None = None  # math
    keywords: tuple[tuple[str, ...], ...] = ()  # groups of alternatives
    min_keywords: int = 1
    min_words: int | None = None
    max_words: int | None = None


def parse_number(raw: Any) -> Fraction:
    """A math answer from the test set: an int, a decimal or a fraction string."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"'answer' must be a number or a number string, got {raw!r}")
    try:
        return Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"'answer' is not a number: {raw!r}") from None


def _string(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string")
    return value.strip()


def _optional_int(data: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"'{key}' must be a whole number from {low} to {high}, got {value!r}")
    return value


def _keyword_groups(raw: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("'keywords' must be a non-empty list of strings")
    groups: list[tuple[str, ...]] = []
    for item in raw:
        if not isinstance(item, str):
            raise ValueError(f"each keyword must be a string, got {item!r}")
        alternatives = tuple(
            " ".join(part.lower().split()) for part in item.split("|") if part.strip()
        )
        if not alternatives:
            raise ValueError(f"empty keyword group {item!r}")
        groups.append(alternatives)
    return tuple(groups)


def parse_case(data: Any) -> BenchCase:
    """One test-set object as a case; ValueError says what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    case_id = _string(data, "id")
    raw_activity = _string(data, "activity")
    try:
        activity = Activity(str(raw_activity).lower())
    except ValueError:
        names = ", ".join(BENCHMARKED_ACTIVITIES)
        raise ValueError(f"unknown activity {raw_activity!r}; expected one of: {names}") from None
    if activity is Activity.SAFETY:
        raise ValueError("safety is not benchmarked: safety turns always go to Claude")
    age = _optional_int(data, "age", MIN_CASE_AGE, MAX_CASE_AGE)
    if age is None:
        raise ValueError(f"'age' is required ({MIN_CASE_AGE} to {MAX_CASE_AGE})")
    common: dict[str, Any] = {
        "id": case_id,
        "activity": activity,
        "prompt": _string(data, "prompt"),
        "age": age,
        "reference": _string(data, "reference", required=False),
    }
    if activity is Activity.SPELLING:
        word = str(_string(data, "word")).lower()
        if not _WORD.match(word):
            raise ValueError(f"'word' must be letters a to z only, got {word!r}")
        homophones = data.get("homophones", [])
        if not isinstance(homophones, list) or not all(
            isinstance(h, str) and _WORD.match(h.lower()) for h in homophones
        ):
            raise ValueError("'homophones' must be a list of words (letters a to z)")
        return BenchCase(**common, word=word, homophones=tuple(h.lower() for h in homophones))
    if activity is Activity.MATH:
        if "answer" not in data:
            raise ValueError("math cases need 'answer'")
        return BenchCase(**common, answer=parse_number(data["answer"]))
    keywords = _keyword_groups(data.get("keywords"))
    min_keywords = _optional_int(data, "min_keywords", 1, len(keywords)) or 1
    min_words = _optional_int(data, "min_words", 1, 1000)
    max_words = _optional_int(data, "max_words", 1, 1000)
    if min_words is not None and max_words is not None and min_words > max_words:
        raise ValueError("'min_words' is larger than 'max_words'")
    return BenchCase(
        **common,
        keywords=keywords,
        min_keywords=min_keywords,
        min_words=min_words,
        max_words=max_words,
    )


def read_case_file(path: Path) -> list[BenchCase]:
    """Every case of one JSONL file; blank lines and ``#`` comment lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CaseFileError(f"{path}: cannot read test set: {err}") from err
    cases: list[BenchCase] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cases.append(parse_case(json.loads(line)))
        except ValueError as err:  # json.JSONDecodeError is a ValueError too
            raise CaseFileError(f"{path}:{number}: {err}") from None
    return cases


def load_testset(
    source: Path | Sequence[Path] = DEFAULT_TESTSET_DIR,
    activities: Iterable[Activity] | None = None,
    limit_per_activity: int | None = None,
) -> list[BenchCase]:
    """Cases from a directory of ``*.jsonl`` files, one file, or a list of files.

    ``activities`` keeps only those; ``limit_per_activity`` keeps the first N of each (a quick
    run). Ids must be unique across files. Raises CaseFileError, never returns a partial set.
    """
    paths: list[Path]
    if isinstance(source, Path):
        if source.is_dir():
            paths = sorted(source.glob("*.jsonl"))
            if not paths:
                raise CaseFileError(f"{source}: no *.jsonl test-set files in this directory")
        elif source.is_file():
            paths = [source]
        else:
            raise CaseFileError(f"{source}: no such test-set file or directory")
    else:
        paths = list(source)
    wanted = set(activities) if activities is not None else set(BENCHMARKED_ACTIVITIES)
    if Activity.SAFETY in wanted:
        raise CaseFileError("safety is not benchmarked: safety turns always go to Claude")
    cases: list[BenchCase] = []
    seen: dict[str, Path] = {}
    per_activity: dict[Activity, int] = {}
    for path in paths:
        for case in read_case_file(path):
            if case.id in seen:
                raise CaseFileError(f"{path}: case id {case.id!r} is also in {seen[case.id]}")
            seen[case.id] = path
            if case.activity not in wanted:
                continue
            count = per_activity.get(case.activity, 0)
            if limit_per_activity is not None and count >= limit_per_activity:
                continue
            per_activity[case.activity] = count + 1
            cases.append(case)
    if not cases:
        raise CaseFileError("the test set has no cases for the chosen activities")
    return cases
