"""Scoring one answer of the benchmark, honestly per activity and without a model.

- Spelling (exact): the answer spells the word out letter by letter ("C, A, T", "c-a-t",
  "B, double O, K"), and spells no near-miss of it anywhere ("C, A, T ... K, A, T" fails).
  The score is 1 or 0.
- Math (exact): the right number is said, in digits or words ("56", "fifty-six",
  "4 and a half"). The score is 1 or 0.
- Chit-chat, creative, trivia, emotional (rubric): four deterministic checks, each worth a
  quarter: the length fits speech, no markdown or emoji, age-appropriate words, and it answers
  the question (the case's keywords appear).

Exact checks and keywords read what the child would hear (the agent's spoken-text cleanup);
the markdown check reads the raw model output, since markdown is what the cleanup had to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
import re
from typing import Final

from ..agent.speech import clean_for_speech, is_emoji
from ..brain import Activity
from ..brain.spoken import find_numbers, tokenize
from .testset import BenchCase

# Spoken length in words per activity (about 150 words a minute aloud): long enough to be an
# answer, short enough that a child is still listening.
LENGTH_RANGES: Final[dict[Activity, tuple[int, int]]] = {
    Activity.CHITCHAT: (3, 60),
    Activity.TRIVIA: (6, 80),
    Activity.CREATIVE: (15, 180),
    Activity.EMOTIONAL: (10, 90),
}
# Words this long are hard for a 5-10 year old; a few are fine ("photosynthesis").
LONG_WORD_LETTERS: Final = 12
MAX_LONG_WORD_SHARE: Final = 0.1
MAX_MEAN_SENTENCE_WORDS: Final = 28
UNSUITABLE_WORDS_FILE: Final = Path(__file__).parent / "unsuitable_words.txt"


@dataclass(frozen=True)
class Check:
    """One named check of an answer."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class AnswerScore:
    """An answer's score (0 to 1), whether every check passed, and the checks."""

    score: float
    passed: bool
    checks: tuple[Check, ...]

    def failed(self) -> list[str]:
        """Names of the failed checks."""
        return [check.name for check in self.checks if not check.passed]


# ---- spelling -------------------------------------------------------------------------------

# Single letters separated by commas, spaces, hyphens or dots, possibly "double O".
# A contraction ("it's") is one word, not "it" and the letter "s".
_LETTER_TOKEN: Final = re.compile(r"[a-z]+(?:['’][a-z]+)*|[.!?](?=\s|$)|[^a-z.!?]+")
_SEPARATORS: Final = re.compile(r"^[\s,;:\-–—/.'\"“”‘’()*_]*$")


def spelled_runs(text: str, *, break_at_sentence_end: bool) -> list[str]:
    """Runs of two or more letters said one by one, lowercased ("C, A, T" -> "cat").

    With ``break_at_sentence_end`` a full stop followed by a space ends a run, so "C, A, T. A
    cat..." is "cat", not "cata"; without it "C. A. T." is still read as one run.
    """
    runs: list[str] = []
    current: list[str] = []
    pending_double = False

    def close() -> None:
        nonlocal pending_double
        if len(current) >= 2:
            runs.append("".join(current))
        current.clear()
        pending_double = False

    for token in _LETTER_TOKEN.findall(text.lower()):
        if token[0].isalpha():
            if len(token) == 1:
                current.extend([token, token] if pending_double else [token])
                pending_double = False
            elif token == "double" and current:
                pending_double = True
            else:
                close()
        elif token in ".!?":
            if break_at_sentence_end or token != ".":
                close()
        elif not _SEPARATORS.match(token):
            close()  # digits or symbols end a run
    close()
    return runs


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def is_attempt_at(run: str, word: str) -> bool:
    """Whether a spelled run looks like a try at ``word`` (so a wrong one is a misspelling).

    "E, A, U" in a hint about "beautiful" is not an attempt; "B, E, A, T, I, F, U, L" is.
    """
    if abs(len(run) - len(word)) > 2:
        return False
    return edit_distance(run, word) <= max(1, len(word) // 2)


def score_spelling(spoken: str, word: str, homophones: tuple[str, ...] = ()) -> AnswerScore:
    """The word's letters present in order, and no wrong spelling of it.

    Spelling out a homophone too ("Sun is S, U, N; son is S, O, N") is not a misspelling.
    """
    strict = spelled_runs(spoken, break_at_sentence_end=True)
    loose = spelled_runs(spoken, break_at_sentence_end=False)
    right = word in strict or word in loose
    allowed = {word, *homophones}
    wrong = sorted({run for run in strict if run not in allowed and is_attempt_at(run, word)})
    checks = (
        Check("letters", right, "" if right else f"does not spell {word!r} letter by letter"),
        Check(
            "no_wrong_spelling",
            not wrong,
            f"also spells {', '.join(wrong)}" if wrong else "",
        ),
    )
    passed = right and not wrong
    return AnswerScore(1.0 if passed else 0.0, passed, checks)


# ---- math -----------------------------------------------------------------------------------


def numbers_said(spoken: str) -> list[Fraction]:
    """Every number in the answer, in digits or words, left to right."""
    return [span.value for span in find_numbers(tokenize(spoken))]


def score_math(spoken: str, answer: Fraction) -> AnswerScore:
    """The right number is present."""
    found = numbers_said(spoken)
    right = answer in found
    detail = "" if right else f"no {answer} among {[str(n) for n in found] or 'no numbers'}"
    return AnswerScore(1.0 if right else 0.0, right, (Check("number", right, detail),))


# ---- rubric ---------------------------------------------------------------------------------

_MARKDOWN_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("bold/italic", re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__|(?<![\w*])\*[^*\s][^*\n]*\*(?!\w)")),
    ("code", re.compile(r"`")),
    ("heading", re.compile(r"^\s{0,3}#{1,6}\s", re.M)),
    ("bullet list", re.compile(r"^\s*[-*•+]\s+\S", re.M)),
    ("link", re.compile(r"\[[^\]\n]*\]\([^)\n]*\)|https?://")),
    ("table", re.compile(r"^\s*\|.*\|\s*$", re.M)),
    ("html", re.compile(r"</?(?:br|p|b|i|em|strong|ul|li|div|span)\b[^>]*>", re.I)),
)
_NUMBERED_LINE: Final = re.compile(r"^\s*\d+[.)]\s+\S", re.M)


def markdown_found(raw: str) -> list[str]:
    """The kinds of markdown, layout or emoji in raw model output (empty when clean)."""
    found = [name for name, pattern in _MARKDOWN_PATTERNS if pattern.search(raw)]
    # One line starting "7. Great job" is an answer; two numbered lines are a list.
    if len(_NUMBERED_LINE.findall(raw)) >= 2:
        found.append("numbered list")
    if any(is_emoji(char) for char in raw):
        found.append("emoji")
    return found


@cache
def unsuitable_words() -> frozenset[str]:
    """Words not fit for a 5-10 year old (profanity, adult topics, graphic violence)."""
    lines = UNSUITABLE_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


_WORDS: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCES: Final = re.compile(r"[^.!?]+[.!?]*")


def words_of(text: str) -> list[str]:
    """Lowercase words and numbers, apostrophes kept ("don't", "8")."""
    return _WORDS.findall(text.lower().replace("’", "'"))


def _age_check(spoken: str, words: list[str]) -> Check:
    bad = sorted({word for word in words if word in unsuitable_words()})
    if bad:
        return Check("age_appropriate", False, f"unsuitable words: {', '.join(bad)}")
    long_words = [word for word in words if len(word) >= LONG_WORD_LETTERS]
    if words and len(long_words) / len(words) > MAX_LONG_WORD_SHARE:
        return Check("age_appropriate", False, f"too many long words: {', '.join(long_words)}")
    sentences = [s for s in _SENTENCES.findall(spoken) if words_of(s)]
    if sentences:
        mean_words = sum(len(words_of(s)) for s in sentences) / len(sentences)
        if mean_words > MAX_MEAN_SENTENCE_WORDS:
            return Check(
                "age_appropriate", False, f"sentences too long ({mean_words:.0f} words on average)"
            )
    return Check("age_appropriate", True)


def _keyword_present(keyword: str, words: list[str], joined: str) -> bool:
    if " " in keyword:
        return f" {keyword} " in joined
    # Short keywords must match whole words or their plural ("owl", "owls"; "sad" is not
    # "saddle"); longer ones may be a stem ("dinosaur" matches "dinosaurs").
    if len(keyword) < 4:
        return any(word in (keyword, keyword + "s", keyword + "es") for word in words)
    return any(word.startswith(keyword) for word in words)


def keyword_groups_found(spoken: str, groups: tuple[tuple[str, ...], ...]) -> int:
    """How many keyword groups have at least one alternative in the answer."""
    words = words_of(spoken)
    joined = f" {' '.join(words)} "
    return sum(
        any(_keyword_present(keyword, words, joined) for keyword in group) for group in groups
    )


def score_rubric(raw: str, spoken: str, case: BenchCase) -> AnswerScore:
    """Length fit for speech, no markdown, age-appropriate, answers the question."""
    words = words_of(spoken)
    low, high = LENGTH_RANGES[case.activity]
    low = case.min_words if case.min_words is not None else low
    high = case.max_words if case.max_words is not None else high
    length_ok = low <= len(words) <= high
    markdown = markdown_found(raw)
    hits = keyword_groups_found(spoken, case.keywords)
    answers = hits >= case.min_keywords
    checks = (
        Check("length", length_ok, f"{len(words)} words, want {low} to {high}"),
        Check("no_markdown", not markdown, ", ".join(markdown)),
        _age_check(spoken, words),
        Check(
            "answers_question",
            answers,
            f"{hits} of {len(case.keywords)} keyword groups, want {case.min_keywords}",
        ),
    )
    passed_count = sum(check.passed for check in checks)
    return AnswerScore(passed_count / len(checks), passed_count == len(checks), checks)


def score_answer(case: BenchCase, raw: str) -> AnswerScore:
    """Score one backend's raw answer to one case."""
    spoken = clean_for_speech(raw)
    if case.activity is Activity.SPELLING:
        assert case.word is not None
        return score_spelling(spoken, case.word, case.homophones)
    if case.activity is Activity.MATH:
        assert case.answer is not None
        return score_math(spoken, case.answer)
    return score_rubric(raw, spoken, case)
