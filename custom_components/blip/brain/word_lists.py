"""The graded spelling lists, ordered from easiest to hardest, with each word's sounds.

Difficulty comes from data, not guesswork: how common the word is (Zipf frequency from
wordfreq: 7 is "the", 3 is rare), how many syllables it has and how long it is (syllables from
the CMU Pronouncing Dictionary). ``scripts/word_difficulty.py`` writes those figures into
``wordlists/word_data.tsv``; this module only reads that file, so the integration needs neither
package at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
import re
from typing import Final

WORDLIST_DIR: Final = Path(__file__).parent / "wordlists"
GRADE_FILES: Final = ("grade_k.txt", "grade_1.txt", "grade_2.txt", "grade_3.txt", "grade_4.txt")
DATA_FILE: Final = WORDLIST_DIR / "word_data.tsv"
MAX_GRADE: Final = len(GRADE_FILES) - 1

_VOWEL_GROUP = re.compile(r"[aeiou]+y?|(?<=[^aeiou])y")
# Two letters that make one sound stay in one syllable.
_DIGRAPHS: Final = ("ch", "sh", "th", "ph", "wh", "ck", "qu", "gh")
# Consonant blends that start a syllable: hun-dred, as-tro-naut.
_ONSETS: Final = ("bl", "br", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "tr", "str")


@dataclass(frozen=True)
class WordInfo:
    """What the data says about one word."""

    word: str
    zipf: float  # frequency: 0 (unknown) to about 7 ("the")
    syllables: int  # 0 when the dictionary does not know the word
    sounds: str  # ARPAbet phones, "" when unknown
    parts: tuple[str, ...]  # the word split into its syllables when that split is safe

    @property
    def difficulty(self) -> float:
        """Higher is harder: rarer, more syllables, more letters."""
        rarity = max(0.0, 7.5 - self.zipf)
        return round(rarity + 0.8 * max(0, self.syllables - 1) + 0.2 * len(self.word), 3)


@lru_cache(maxsize=1)
def word_lists() -> tuple[tuple[str, ...], ...]:
    """Graded spelling words as listed, grade K (index 0) to grade 4."""
    grades: list[tuple[str, ...]] = []
    for name in GRADE_FILES:
        lines = (WORDLIST_DIR / name).read_text(encoding="utf-8").splitlines()
        grades.append(
            tuple(
                line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
            )
        )
    return tuple(grades)


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Every word on any grade's list: the words Blip can be sure a child means to spell."""
    return frozenset(word for grade in word_lists() for word in grade)


@lru_cache(maxsize=1)
def _word_data() -> dict[str, WordInfo]:
    data: dict[str, WordInfo] = {}
    if not DATA_FILE.exists():
        return data
    for line in DATA_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        word, zipf, syllables, sounds, split = fields
        parts = tuple(split.split("-"))
        data[word] = WordInfo(word, float(zipf), int(syllables), sounds, parts)
    return data


def word_info(word: str) -> WordInfo:
    """The data for a word; a word missing from the data is judged by its length alone."""
    known = _word_data().get(word)
    if known is not None:
        return known
    guess = len(_VOWEL_GROUP.findall(word)) or 1
    return WordInfo(word, 3.0, guess, "", (word,))


def word_difficulty(word: str) -> float:
    """How hard a word is to spell (higher is harder)."""
    return word_info(word).difficulty


@lru_cache(maxsize=8)
def ordered_words(grade: int) -> tuple[str, ...]:
    """A grade's words from easiest to hardest, so the next new word is a small step."""
    words = word_lists()[max(0, min(MAX_GRADE, grade))]
    return tuple(sorted(words, key=lambda w: (word_difficulty(w), w)))


def split_syllables(word: str, syllables: int) -> list[str]:
    """Split a word into ``syllables`` written parts ("be", "cause"); [word] when unsure.

    Splits between vowel groups by the classroom rules: one consonant goes with the next
    syllable (ti-ger), two are split (hap-py), a digraph (sh, th, ck...) is never split. A final
    silent E and a consonant-"le" ending (lit-tle, ta-ble) are handled; when the vowel groups
    still do not match the dictionary's syllable count the word stays whole, because a wrong
    split is worse than none.
    """
    if syllables < 2:
        return [word]
    length = len(word)
    groups = [m.span() for m in _VOWEL_GROUP.finditer(word)]
    ends_le = word.endswith("le") and length > 3 and word[-3] not in "aeiou"
    if groups and groups[-1] == (length - 1, length) and word.endswith("e"):
        if ends_le:
            groups[-1] = (length - 2, length)  # the "le" sounds like a syllable of its own
        elif len(groups) > 1 and word[-2] not in "aeiou":
            groups.pop()  # silent E
    if len(groups) != syllables:
        return [word]
    cuts: list[int] = []
    for (_, end), (start, _) in pairwise(groups):
        consonants = word[end:start]
        if len(consonants) <= 1:
            cut = start if consonants == "x" else end
        elif len(consonants) == 2 and consonants in _DIGRAPHS:
            cut = start if consonants == "ck" else end
        elif len(consonants) == 2:
            cut = end if consonants in _ONSETS else end + 1
        elif consonants[:2] in _DIGRAPHS:
            cut = end + 2  # daugh-ter, quick-ly
        elif consonants[-2:] in _DIGRAPHS or consonants[-2:] in _ONSETS:
            cut = start - 2
        else:
            cut = start - 1  # pump-kin, friend-ly
        cuts.append(cut)
    parts: list[str] = []
    previous = 0
    for cut in cuts:
        if cut <= previous or cut >= length:
            return [word]
        parts.append(word[previous:cut])
        previous = cut
    parts.append(word[previous:])
    return parts


_NUMBER_WORDS: Final = ("zero", "one", "two", "three", "four", "five", "six")


def syllable_hint(word: str) -> str | None:
    """A clap-it-out hint ("Because has two parts: be, cause."), or None for one syllable."""
    info = word_info(word)
    if info.syllables < 2 or len(info.parts) != info.syllables:
        return None
    count = _NUMBER_WORDS[info.syllables] if info.syllables < len(_NUMBER_WORDS) else "many"
    return f"Clap it out: {word} has {count} parts, {', '.join(info.parts)}."
