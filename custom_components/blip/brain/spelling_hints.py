"""What a spelling word sounds like: sound-alike spellings and sound-it-out hints.

Hints the drill engine gives, from the most useful that holds for the word: the word's
syllables to clap (from the CMU dictionary data, ``word_lists``), then phonics patterns, then its
first letter. Sound-alikes ("there", "their", "they're") are both answered with clues and mixed
into practice as confusables.
"""

from __future__ import annotations

import re
from typing import Final

from .word_lists import syllable_hint

__all__ = ["SOUND_ALIKE_OF", "phonics_hint", "sound_alikes", "spelling_hint"]

# Words that sound alike: "how do you spell there" deserves all the spellings, each with a clue.
_SOUND_ALIKES: Final[tuple[dict[str, str], ...]] = (
    {"there": "like over there", "their": "like their house", "they're": "short for they are"},
    {"to": "like go to school", "too": "like me too", "two": "the number 2"},
    {"your": "like your book", "you're": "short for you are"},
    {"its": "like the dog wagged its tail", "it's": "short for it is"},
    {"here": "like come here", "hear": "like hear with your ear"},
    {"know": "like I know the answer", "no": "like no thank you"},
    {"right": "like right and left", "write": "like write a story"},
    {"for": "like a present for you", "four": "the number 4"},
    {"by": "like sit by me", "buy": "like buy a toy", "bye": "like bye bye"},
    {"see": "like see with your eyes", "sea": "like the sea with fish"},
    {"sun": "like the sun in the sky", "son": "like a boy who is someone's son"},
    {"one": "the number 1", "won": "like we won the game"},
    {"eight": "the number 8", "ate": "like I ate lunch"},
    {"night": "like night time", "knight": "like a knight in armor"},
    {"blue": "the color", "blew": "like the wind blew"},
    {"flower": "like a rose", "flour": "for baking bread"},
    {"bear": "the animal", "bare": "like bare feet"},
    {"tail": "like a dog's tail", "tale": "like a fairy tale"},
    {"week": "seven days", "weak": "not strong"},
    {"meet": "like nice to meet you", "meat": "the food"},
    {"which": "like which one", "witch": "like a witch on a broom"},
    {"where": "like where are you", "wear": "like wear a coat"},
    {"wood": "like a piece of wood", "would": "like I would like that"},
    {"whole": "like the whole pizza", "hole": "like a hole in the ground"},
    {"pair": "like a pair of socks", "pear": "the fruit"},
    {"piece": "like a piece of cake", "peace": "like peace and quiet"},
    {"new": "not old", "knew": "like I knew it"},
    {"not": "like I am not", "knot": "like a knot in a rope"},
    {"our": "like our house", "hour": "sixty minutes"},
    {"be": "like I want to be", "bee": "the buzzing bug"},
    {"dear": "like dear grandma", "deer": "the animal"},
    {"through": "like through the door", "threw": "like I threw the ball"},
    {"red": "the color", "read": "like I read a book yesterday"},
    {"made": "like I made it", "maid": "someone who cleans"},
    {"road": "a street", "rode": "like I rode my bike"},
    {"rain": "water from clouds", "reign": "like a queen's reign"},
    {"plane": "an airplane", "plain": "simple"},
)
SOUND_ALIKE_OF: Final[dict[str, dict[str, str]]] = {
    word: group for group in _SOUND_ALIKES for word in group
}


def sound_alikes(word: str) -> tuple[str, ...]:
    """Other spellings of the same sound ("there" -> "their", "they're"): easy to confuse."""
    return tuple(other for other in SOUND_ALIKE_OF.get(word, ()) if other != word)


# Only patterns that hold for every word they match: a wrong phonics hint is worse than none.
_K_SOUND_CH: Final = frozenset(
    {"school", "character", "chorus", "orchestra", "chameleon", "stomach", "echo", "anchor", "ache"}
)
_NOT_MAGIC_E: Final = frozenset(
    {"come", "have", "were", "some", "done", "love", "give", "live", "gone", "one", "none", "move"}
)
_PHONICS_HINTS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"^kn"), "The K at the start is silent, like in knee."),
    (re.compile(r"^wr"), "The W at the start is silent, like in write."),
    (re.compile(r"mb$"), "The B at the end is silent, like in lamb."),
    (re.compile(r"eau"), "E, A, U together make the yoo sound."),
    (re.compile(r"^(laugh|enough|rough|tough|cough)$"), "G and H make the F sound at the end."),
    (re.compile(r"eigh"), "E, I, G, H together make the long A sound, like in eight."),
    (re.compile(r"mn$"), "The N at the end is silent."),
    (re.compile(r"stle$"), "The T is silent."),
    (re.compile(r"^isl"), "The S is silent."),
    (re.compile(r"^rh"), "The H after the R is silent."),
    (re.compile(r"sc[ie]"), "S and C together make the S sound."),
    (re.compile(r"^gu[aei]"), "The U after the G is silent."),
    (re.compile(r"igh"), "The long I sound is spelled I, G, H, like in light."),
    (re.compile(r"ough|augh"), "It has a tricky G, H in it that you don't hear."),
    (re.compile(r"ph"), "P and H together make the F sound."),
    (re.compile(r"tion$"), "The ending is spelled T, I, O, N."),
    (re.compile(r"ture$"), "The ending is spelled T, U, R, E."),
    (re.compile(r"ous$"), "The ending sounds like us, but it is spelled O, U, S."),
    (re.compile(r"ck"), "The K sound after a short vowel is spelled C, K."),
    (re.compile(r"qu"), "Q always has a U right after it."),
    (re.compile(r"sh"), "S and H together make the sh sound."),
    (re.compile(r"tch"), "The ch sound here is spelled T, C, H."),
    (re.compile(r"ch"), "C and H together make the ch sound."),
    (re.compile(r"th"), "T and H together make the th sound."),
    (re.compile(r"^wh"), "W and H together make the w sound, like in whale."),
    (
        re.compile(r"^[^aeiou]*[aeiou][bcdfgklmnprstvz]e$"),
        "The E at the end is silent, and it makes the vowel say its name.",
    ),
    (re.compile(r"ee"), "The long E sound is spelled with two Es."),
    (re.compile(r"oa"), "O and A together make the long O sound."),
    (re.compile(r"([b-df-hj-np-tv-z])\1"), "It has a double letter."),
    (re.compile(r"oo"), "It has two Os together."),
    (re.compile(r"[aeiou]r(?![aeiouy])"), "It has a bossy R that changes the vowel sound."),
)


def phonics_hint(word: str) -> str:
    """A short sound-it-out hint for a word, or where it starts when no pattern fits."""
    if word in _K_SOUND_CH:
        return "The C, H in this word makes a K sound."
    for pattern, hint in _PHONICS_HINTS:
        if pattern.search(word):
            if hint.startswith("The E at the end") and word in _NOT_MAGIC_E:
                continue
            return hint
    return f"It starts with the letter {word[0].upper()}."


def spelling_hint(word: str) -> str:
    """The first hint for a word: its syllables when it has several, else its phonics."""
    return syllable_hint(word) or phonics_hint(word)
