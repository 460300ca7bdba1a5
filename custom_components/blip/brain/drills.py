"""Instant drill engine: exact, deterministic spelling and math answers and practice sessions.

It answers only what it can answer exactly ("how do you spell knife", "what's seven times
eight", a times-table quiz) and declines (returns None) everything else, so the router sends
those turns to a model. A reply that expects an answer ends with "?", which keeps Home
Assistant's microphone open for the child's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
import random
import re
from typing import Any, Final

from ..phrases import DRILL_PROMPTS
from .arithmetic import MathAnswer, solve_arithmetic, solve_number_fact, solve_word_problem
from .mishearings import repair_request
from .spoken import (
    find_numbers,
    parse_spelled_letters,
    parse_spoken_answer,
    say_letters,
    say_number,
    tokenize,
)

SPELLING: Final = "spelling"
MATH: Final = "math"

# The exact DRILL_PROMPTS wording, so Blip voice's TTS cache serves these sentences.
(
    _ANOTHER_ONE,
    _NEXT_WORD,
    _NEXT_ONE,
    _GREAT_JOB,
    _THATS_RIGHT,
    _NICE_TRY,
    _ALMOST_WANT_HINT,
    _KEEP_GOING,
) = DRILL_PROMPTS

_WORDLIST_DIR: Final = Path(__file__).parent / "wordlists"
_GRADE_FILES: Final = ("grade_k.txt", "grade_1.txt", "grade_2.txt", "grade_3.txt", "grade_4.txt")
MAX_GRADE: Final = len(_GRADE_FILES) - 1
_HINTS_BEFORE_REVEAL: Final = 2
_RECENT_ITEMS_KEPT: Final = 12


@lru_cache(maxsize=1)
def word_lists() -> tuple[tuple[str, ...], ...]:
    """Graded spelling words, grade K (index 0) to grade 4."""
    grades: list[tuple[str, ...]] = []
    for name in _GRADE_FILES:
        lines = (_WORDLIST_DIR / name).read_text(encoding="utf-8").splitlines()
        grades.append(
            tuple(
                line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
            )
        )
    return tuple(grades)


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    return frozenset(word for grade in word_lists() for word in grade)


def grade_for_age(age: int | None) -> int:
    """School grade (0 = kindergarten) a child of this age is likely in; grade 1 when unknown."""
    if age is None:
        return 1
    return max(0, min(MAX_GRADE, age - 5))


@dataclass
class DrillState:
    """One conversation's practice session, stored between turns via to_dict()/from_dict()."""

    kind: str  # "spelling" or "math"
    item: str  # the word, or the fact such as "7x8"
    answer: str  # the exact expected answer: the word, or the number as digits
    operation: str | None = None  # math only: "add", "sub", "mul", "div"
    grade: int = 1
    focus: str | None = None  # math: "add", "sub", "mul", "div" or "mul:7" for one table
    hints_used: int = 0
    attempts: int = 0
    hint_offered: bool = False  # we asked "Want a hint?" and wait for yes or no
    asked: list[str] = field(default_factory=list)
    correct_count: int = 0
    total_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe data for storage."""
        return {
            "kind": self.kind,
            "item": self.item,
            "answer": self.answer,
            "operation": self.operation,
            "grade": self.grade,
            "focus": self.focus,
            "hints_used": self.hints_used,
            "attempts": self.attempts,
            "hint_offered": self.hint_offered,
            "asked": list(self.asked),
            "correct_count": self.correct_count,
            "total_count": self.total_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DrillState:
        """Rebuild a stored session; raises ValueError on data that isn't one."""
        try:
            kind = str(data["kind"])
            item = str(data["item"])
            answer = str(data["answer"])
        except (KeyError, TypeError) as err:
            raise ValueError(f"Drill state is missing {err}") from None
        if kind not in (SPELLING, MATH):
            raise ValueError(f"Unknown drill kind {kind!r}")
        operation = data.get("operation")
        if operation is not None and operation not in ("add", "sub", "mul", "div"):
            raise ValueError(f"Unknown math operation {operation!r}")
        try:
            return cls(
                kind=kind,
                item=item,
                answer=answer,
                operation=operation,
                grade=max(0, min(MAX_GRADE, int(data.get("grade", 1)))),
                focus=data.get("focus"),
                hints_used=int(data.get("hints_used", 0)),
                attempts=int(data.get("attempts", 0)),
                hint_offered=bool(data.get("hint_offered", False)),
                asked=[str(x) for x in data.get("asked", [])][-_RECENT_ITEMS_KEPT:],
                correct_count=int(data.get("correct_count", 0)),
                total_count=int(data.get("total_count", 0)),
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"Bad drill state: {err}") from None


_ASKED_SPELLING = re.compile(r"\bcan you spell ([a-z']+)\?\s*$")
_ASKED_MATH = re.compile(r"\bwhat(?:'s| is) (\d+ (?:plus|minus|times|divided by) \d+)\?\s*$")


def state_from_question(question: str, age: int | None = None) -> DrillState | None:
    """Rebuild a one-item session from Blip's last drill question ("Can you spell cat?",
    "What is 7 times 8?"), for when the stored session is missing. None if it isn't one."""
    lowered = question.lower().strip()
    grade = grade_for_age(age)
    if match := _ASKED_SPELLING.search(lowered):
        word = match.group(1)
        if word in _NOT_SPELLABLE:
            return None  # "Can you spell it?" names no word
        return DrillState(kind=SPELLING, item=word, answer=word, grade=grade, asked=[word])
    if match := _ASKED_MATH.search(lowered):
        answer = solve_arithmetic(match.group(1))
        if answer is None or answer.fact is None or answer.value.denominator != 1:
            return None
        return DrillState(
            kind=MATH,
            item=answer.fact,
            answer=str(answer.value.numerator),
            operation=answer.operation,
            grade=grade,
            focus=answer.operation,
            asked=[answer.fact],
        )
    return None


@dataclass(frozen=True)
class DrillResult:
    """One attempt at one item, for learning progress."""

    kind: str  # "spelling" or "math"
    item: str  # the word, or the fact such as "7x8"
    correct: bool
    hints_used: int
    operation: str | None = None  # math: "add", "sub", "mul", "div"


@dataclass(frozen=True)
class DrillReply:
    """What Blip says, the attempts it scored, and the session after this turn."""

    text: str
    results: tuple[DrillResult, ...] = ()
    state: DrillState | None = None


# ---- phrases the child uses to steer a session ----------------------------------------------

_STOP = re.compile(
    r"\b(stop|quit|i'm done|i am done|im done|no more|that's enough|thats enough|enough|"
    r"i'm finished|finished|something else|i don't want to (play|do this|practice)|"
    r"can we stop|let's stop|end the (quiz|game|test)|i want to stop|all done)\b"
)
_SKIP = re.compile(
    r"^(?:(?:um+|uh+|hmm+|i|well)\s*)*(i don't know|i dont know|idk|i give up|give up|skip|"
    r"pass|i'm not sure|im not sure|no idea|tell me$|tell me the answer|what is it$|"
    r"what's the answer|just tell me|i can't$|i cant$|i can't do it|too hard|this is too hard)\b"
)
_HINT = re.compile(r"\b(hint|clue|help me|help|give me a hint|a little help)\b")
_REPEAT = re.compile(
    r"\b(repeat|say (it|that) again|what was (the word|it|the question)|what word|"
    r"again please|one more time|i didn't hear|pardon|what did you say)\b"
)
_HARDER = re.compile(r"\b(harder|more difficult|too easy|tougher|bigger (words|numbers))\b")
_EASIER = re.compile(r"\b(easier|too hard|simpler|smaller (words|numbers))\b")
_NEXT = re.compile(
    r"^(?:(?:can i have|give me|let's do|lets do|i want|okay|ok)\s+)?(another|next|new|a new|"
    r"a different|different)( one| word| question| problem| please)*$"
)
_YES = re.compile(r"^(yes|yeah|yep|yup|sure|ok|okay|please|yes please|uh huh|mhm|i do)\b")
_NO = re.compile(r"^(no|nope|nah|no thanks|no thank you|i don't|i'm good)\b")

_SPELLING_SESSION = re.compile(
    r"\b(quiz|test|practice|practise|drill|play|do|start|want|give|more)\b.{0,25}\bspelling\b|"
    r"\bspelling (quiz|test|practice|game|bee|words?|drill)\b|"
    r"\b(give|ask|tell) me (a|another|some|my) (new )?(spelling )?words? to spell\b|"
    r"\b(quiz|test) me\b.{0,20}\bspell|\bspelling please\b|^spelling$|"
    r"\blet'?s (do|practice|play) spelling\b|\bi want to do spelling\b"
)
_MATH_SESSION = re.compile(
    r"\b(quiz|test|practice|practise|drill|do|start|want|give|help|play|more|learn)\b.{0,30}"
    r"\b(math|maths|times tables?|multiplication|multiplying|addition|adding|subtraction|"
    r"subtracting|division|dividing|plus problems|minus problems|math problems?|sums|"
    r"\d+ times table|\w+ times table)\b|"
    r"\b(math|maths|times tables?|multiplication|addition|subtraction|division) "
    r"(quiz|test|practice|game|drill|problems?|questions?|please)\b|^(math|maths)$"
)
_NOT_A_SESSION = re.compile(r"\b(homework|how do you do|explain|what is a|what's a|teach me how)\b")

_ONE_SHOT_SPELL = re.compile(
    r"^(?:(?:hey blip|blip|hey|um+|uh+|okay|so|please|can you tell me|tell me|i want to know|"
    r"i need to know|do you know)\s*,?\s*)*"
    r"(?:how (?:do|can|would|should|will) (?:you|i|we) (?:spell|write)(?: out)?|"
    r"can you (?:please )?(?:spell|write)|could you (?:please )?spell|will you spell|"
    r"please spell|spell|help me spell|what(?:'s| is) the spelling (?:of|for)|"
    r"how (?:is|do you spell)|how's|what letters (?:are in|make|spell)|what are the letters in)"
    r"(?: the word)?\s+(?P<word>[a-z][a-z' -]*?)"
    r"(?:\s+(?:spelled|spelt|spelled out|for me|please|blip|again|out|in english))*$"
)
_FIRST_LETTER = re.compile(
    r"^(?:what|which) letter does (?:the word )?(?P<word>[a-z]+) (?P<where>start|begin|end) with$|"
    r"^what(?:'s| is) the (?P<where2>first|last) letter (?:of|in) (?:the word )?(?P<word2>[a-z]+)$"
)
_LETTER_COUNT = re.compile(
    r"^how many letters (?:are )?(?:in|does) (?:the word )?(?P<word>[a-z]+)(?: have)?$"
)
_HAS_LETTER = re.compile(
    r"^(?:does|is there) (?:the word )?(?P<word>[a-z]+) (?:have|has)? ?(?:an?|the letter) "
    r"(?P<letter>[a-z])(?: in it)?$|"
    r"^is (?:the word )?(?P<word2>[a-z]+) spelled with (?:an?|the letter) (?P<letter2>[a-z])$"
)
_WHAT_DOES_SPELL = re.compile(r"^what (?:does|do) (?P<letters>.+?) spell$")
_NOT_SPELLABLE: Final = frozenset(
    {
        "it",
        "that",
        "this",
        "them",
        "those",
        "these",
        "something",
        "anything",
        "words",
        "word",
        "my name",
        "your name",
        "his name",
        "her name",
        "names",
        "me",
        "you",
        "stuff",
    }
)

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
_SOUND_ALIKE_OF: Final[dict[str, dict[str, str]]] = {
    word: group for group in _SOUND_ALIKES for word in group
}

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


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]


def _spell_sentence(word: str) -> str:
    """ "Knife is spelled K, N, I, F, E." with "apostrophe" where one belongs."""
    letters = ", ".join(
        "apostrophe" if ch == "'" else ch.upper() for ch in word if ch.isalpha() or ch == "'"
    )
    return f"{_capitalised(word)} is spelled {letters}."


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _normalise(text: str) -> str:
    lowered = text.lower().replace("’", "'").strip()
    lowered = re.sub(r"[?!.,;:\"]+", " ", lowered)
    return re.sub(r"\s+", " ", lowered).strip()


_MATH_SYMBOLS: Final = {"add": "+", "sub": "-", "mul": "x", "div": "/"}
_MATH_WORDS: Final = {"add": "plus", "sub": "minus", "mul": "times", "div": "divided by"}
_TOPIC_NAMES: Final = {
    "add": "addition",
    "sub": "subtraction",
    "mul": "times tables",
    "div": "division",
    None: "math",
}


class DrillEngine:
    """Answers spelling and arithmetic exactly and runs practice sessions; declines the rest."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    # ---- entry point ----------------------------------------------------------------------

    def respond(
        self, text: str, state: DrillState | None, age: int | None = None
    ) -> DrillReply | None:
        """Reply to one turn, or None to decline (the router then asks a model)."""
        if not isinstance(text, str):
            return None
        cleaned = _normalise(text)
        if not cleaned or len(cleaned) > 300:
            return None
        if state is not None:
            reply = self._continue_session(text, cleaned, state, age)
            if reply is not None:
                return reply
        # A request as speech-to-text misheard it ("have you spelled cat") is still a request.
        if (repaired := repair_request(text)) != text:
            text, cleaned = repaired, _normalise(repaired)
        started = self._start_session(cleaned, state, age)
        if started is not None:
            return started
        answer = self._one_shot(text, cleaned)
        if answer is None:
            return None
        if state is not None:
            # A quick question in the middle of a quiz: answer it, then ask the item again.
            question = self._question(state)
            return DrillReply(f"{answer} Now, {question[:1].lower()}{question[1:]}", (), state)
        return DrillReply(answer, (), None)

    # ---- one-shot answers -----------------------------------------------------------------

    def _one_shot(self, text: str, cleaned: str) -> str | None:
        spelled = self._spelling_question(cleaned)
        if spelled is not None:
            return spelled
        math_answer: MathAnswer | None = solve_arithmetic(text) or solve_word_problem(text)
        if math_answer is not None:
            return math_answer.spoken
        return solve_number_fact(text)

    def _spelling_question(self, cleaned: str) -> str | None:
        if match := _FIRST_LETTER.match(cleaned):
            word = match.group("word") or match.group("word2")
            where = match.group("where") or match.group("where2")
            if where in ("end", "last"):
                return f"{_capitalised(word)} ends with the letter {word[-1].upper()}."
            return f"{_capitalised(word)} starts with the letter {word[0].upper()}."
        if match := _LETTER_COUNT.match(cleaned):
            word = match.group("word")
            return f"{_capitalised(word)} has {len(word)} letters: {say_letters(word)}."
        if match := _HAS_LETTER.match(cleaned):
            word = match.group("word") or match.group("word2")
            letter = match.group("letter") or match.group("letter2")
            article = "an" if letter in "aefhilmnorsx" else "a"
            if letter in word:
                return f"Yes! {_spell_sentence(word)}"
            return f"No, {word} doesn't have {article} {letter.upper()}. {_spell_sentence(word)}"
        if match := _WHAT_DOES_SPELL.match(cleaned):
            letters = parse_spelled_letters(match.group("letters"))
            if letters and letters in _known_words():
                return f"{say_letters(letters)} spells {letters}!"
            return None
        match = _ONE_SHOT_SPELL.match(cleaned)
        if match is None:
            return None
        word = match.group("word").strip(" -'")
        if word.startswith(("my ", "your ", "his ", "her ", "a ")) or word in _NOT_SPELLABLE:
            return None
        parts = [p for p in re.split(r"[ -]+", word) if p]
        if (
            not parts
            or len(parts) > 2
            or any(len(p) > 20 or not p.replace("'", "").isalpha() for p in parts)
        ):
            return None
        if len(parts) == 2:
            first, second = parts
            if first in _NOT_SPELLABLE or second in _NOT_SPELLABLE:
                return None
            return (
                f"{_capitalised(first)} {second} is two words. {_capitalised(first)} is spelled "
                f"{say_letters(first)}, and {second} is spelled {say_letters(second)}."
            )
        if word in _SOUND_ALIKE_OF:
            group = _SOUND_ALIKE_OF[word]
            ways = " ".join(f"{_spell_sentence(w)[:-1]}, {clue}." for w, clue in group.items())
            return f"There's more than one way to spell that word! {ways}"
        return f"{_spell_sentence(word)} {phonics_hint(word)}"

    # ---- sessions -------------------------------------------------------------------------

    def _start_session(
        self, cleaned: str, state: DrillState | None, age: int | None
    ) -> DrillReply | None:
        if _NOT_A_SESSION.search(cleaned):
            return None
        grade = state.grade if state is not None else grade_for_age(age)
        if _SPELLING_SESSION.search(cleaned) and not _MATH_SESSION.search(cleaned):
            new_state = DrillState(kind=SPELLING, item="", answer="", grade=grade)
            self._next_spelling_item(new_state)
            return DrillReply(
                f"Let's practice spelling! Your first word is {new_state.item}. "
                f"{self._question(new_state)}",
                (),
                new_state,
            )
        if _MATH_SESSION.search(cleaned):
            focus = _math_focus(cleaned)
            new_state = DrillState(kind=MATH, item="", answer="", grade=grade, focus=focus)
            self._next_math_item(new_state)
            topic = _TOPIC_NAMES.get(focus.split(":")[0] if focus else None, "math")
            if focus and focus.startswith("mul:"):
                topic = f"the {focus.split(':')[1]} times table"
            return DrillReply(f"Let's practice {topic}! {self._question(new_state)}", (), new_state)
        return None

    def _continue_session(
        self, text: str, cleaned: str, state: DrillState, age: int | None
    ) -> DrillReply | None:
        state = DrillState.from_dict(state.to_dict())  # never mutate the caller's copy
        if _STOP.search(cleaned) and not _SKIP.search(cleaned):
            return self._finish(state)
        # A request for a different session is handled by the caller (_start_session).
        if (_SPELLING_SESSION.search(cleaned) and state.kind == MATH) or (
            _MATH_SESSION.search(cleaned) and state.kind == SPELLING
        ):
            return None
        if state.hint_offered:
            state.hint_offered = False
            if _YES.match(cleaned) and not self._looks_like_answer(text, state):
                return self._give_hint(state)
            if _NO.match(cleaned):
                return DrillReply(f"Okay! {self._question(state)}", (), state)
        if _SKIP.search(cleaned):
            return self._reveal(state, gave_up=True)
        if _HARDER.search(cleaned) or _EASIER.search(cleaned):
            harder = bool(_HARDER.search(cleaned))
            state.grade = max(0, min(MAX_GRADE, state.grade + (1 if harder else -1)))
            self._advance(state)
            lead = "Okay, let's try a harder one!" if harder else "Okay, let's try an easier one!"
            return DrillReply(f"{lead} {self._question(state)}", (), state)
        if _NEXT.match(cleaned):
            self._advance(state)
            return DrillReply(f"{_ANOTHER_ONE} {self._question(state)}", (), state)
        if _REPEAT.search(cleaned):
            return DrillReply(f"Sure! {self._question(state)}", (), state)
        if _HINT.search(cleaned) and not self._looks_like_answer(text, state):
            return self._give_hint(state)
        if state.kind == SPELLING:
            return self._check_spelling(text, cleaned, state)
        return self._check_math(text, state)

    def _looks_like_answer(self, text: str, state: DrillState) -> bool:
        if state.kind == SPELLING:
            return parse_spelled_letters(text, state.answer) is not None
        return parse_spoken_answer(text) is not None

    def _check_spelling(self, text: str, cleaned: str, state: DrillState) -> DrillReply | None:
        word = state.answer
        letters = parse_spelled_letters(text, word)
        if letters is None:
            if cleaned.strip(" .!?") == word:
                return DrillReply(
                    f"Yes, that's the word! Now say it one letter at a time. {self._question(state)}",
                    (),
                    state,
                )
            return None  # not an answer: let the router decide what this turn is
        state.attempts += 1
        if letters == word:
            return self._correct(state, f"{say_letters(word)} spells {word}.")
        close = _edit_distance(letters, word) <= 1
        return self._wrong(state, close)

    def _check_math(self, text: str, state: DrillState) -> DrillReply | None:
        value = parse_spoken_answer(text)
        if value is None:
            if len({span.value for span in find_numbers(tokenize(text))}) > 1 and re.search(
                r"\bor\b", text.lower()
            ):
                # "54 or 56": two guesses. Ask for one instead of scoring either.
                return DrillReply(f"Pick just one answer. {self._question(state)}", (), state)
            return None
        state.attempts += 1
        expected = Fraction(state.answer)
        if value == expected:
            return self._correct(state, f"{self._say_fact(state)} is {say_number(expected)}.")
        close = abs(value - expected) <= 2
        return self._wrong(state, close)

    def _correct(self, state: DrillState, because: str) -> DrillReply:
        result = self._result(state, correct=True)
        state.correct_count += 1
        state.total_count += 1
        praise = _THATS_RIGHT if state.correct_count % 2 else _GREAT_JOB
        encouragement = f" {_KEEP_GOING}" if state.correct_count % 5 == 0 else ""
        self._advance(state)
        ready = _NEXT_WORD if state.kind == SPELLING else _NEXT_ONE
        return DrillReply(
            f"{praise} {because}{encouragement} {ready} {self._question(state)}", (result,), state
        )

    def _wrong(self, state: DrillState, close: bool) -> DrillReply:
        if state.hints_used >= _HINTS_BEFORE_REVEAL:
            return self._reveal(state, gave_up=False)
        if close and state.hints_used == 0 and state.attempts == 1:
            # The exact cached phrase: it plays instantly, and the child chooses.
            state.hint_offered = True
            return DrillReply(_ALMOST_WANT_HINT, (), state)
        return self._give_hint(state, lead=_NICE_TRY)

    def _give_hint(self, state: DrillState, lead: str = "") -> DrillReply:
        state.hints_used += 1
        hint = self._hint(state, state.hints_used)
        prefix = f"{lead} " if lead else ""
        return DrillReply(f"{prefix}{hint} {self._question(state)}", (), state)

    def _reveal(self, state: DrillState, gave_up: bool) -> DrillReply:
        result = self._result(state, correct=False)
        state.total_count += 1
        if state.kind == SPELLING:
            shown = _spell_sentence(state.answer)
        else:
            shown = f"{self._say_fact(state)} is {say_number(Fraction(state.answer))}."
        lead = "That's okay!" if gave_up else _NICE_TRY
        self._advance(state)
        return DrillReply(
            f"{lead} {shown} {_ANOTHER_ONE} {self._question(state)}", (result,), state
        )

    def _finish(self, state: DrillState) -> DrillReply:
        if state.total_count:
            summary = (
                f"Great practice! You got {state.correct_count} out of {state.total_count} right."
            )
        else:
            summary = "Okay, we can practice another time."
        return DrillReply(f"{summary} What would you like to do next?", (), None)

    def _result(self, state: DrillState, correct: bool) -> DrillResult:
        return DrillResult(
            kind=state.kind,
            item=state.item,
            correct=correct,
            hints_used=state.hints_used,
            operation=state.operation,
        )

    # ---- items, questions and hints -------------------------------------------------------

    def _advance(self, state: DrillState) -> None:
        state.hints_used = 0
        state.attempts = 0
        state.hint_offered = False
        if state.kind == SPELLING:
            self._next_spelling_item(state)
        else:
            self._next_math_item(state)

    def _remember(self, state: DrillState, item: str) -> None:
        state.asked = [*state.asked, item][-_RECENT_ITEMS_KEPT:]

    def _next_spelling_item(self, state: DrillState) -> None:
        words = word_lists()[state.grade]
        fresh = [w for w in words if w not in state.asked] or list(words)
        word = self._rng.choice(fresh)
        state.item = word
        state.answer = word
        state.operation = None
        self._remember(state, word)

    def _next_math_item(self, state: DrillState) -> None:
        for _ in range(20):
            operation, a, b = self._math_problem(state.grade, state.focus)
            symbol = _MATH_SYMBOLS[operation]
            item = f"{a}{symbol}{b}"
            if item not in state.asked:
                break
        if operation == "add":
            answer = a + b
        elif operation == "sub":
            answer = a - b
        elif operation == "mul":
            answer = a * b
        else:
            answer = a // b  # divisors are never 0: see _math_problem
        state.item = item
        state.answer = str(answer)
        state.operation = operation
        self._remember(state, item)

    def _math_problem(self, grade: int, focus: str | None) -> tuple[str, int, int]:
        rng = self._rng
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

    def _question(self, state: DrillState) -> str:
        if state.kind == SPELLING:
            return f"Can you spell {state.item}?"
        return f"What is {self._say_fact(state)}?"

    def _say_fact(self, state: DrillState) -> str:
        operation = state.operation or "add"
        symbol = _MATH_SYMBOLS[operation]
        left, right = state.item.split(symbol, 1)
        return f"{left} {_MATH_WORDS[operation]} {right}"

    def _hint(self, state: DrillState, level: int) -> str:
        if state.kind == SPELLING:
            word = state.answer
            if level <= 1:
                return phonics_hint(word)
            shown = ", ".join(ch.upper() for ch in word[: max(1, len(word) // 2)])
            return f"It has {len(word)} letters, and it starts with {shown}."
        operation = state.operation or "add"
        left, right = (int(x) for x in state.item.split(_MATH_SYMBOLS[operation], 1))
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


def _math_focus(cleaned: str) -> str | None:
    """Which kind of math a session asks for: "mul:7" for "the 7 times table", "add", ..."""
    table = re.search(r"\b(\w+) times tables?\b", cleaned)
    if table:
        tokens = tokenize(table.group(1))
        value = parse_spoken_answer(" ".join(tokens)) if tokens else None
        if value is not None and value.denominator == 1 and 1 <= value <= 12:
            return f"mul:{int(value)}"
        return "mul"
    if re.search(r"\b(times tables?|multiplication|multiplying|multiply)\b", cleaned):
        return "mul"
    if re.search(r"\b(addition|adding|plus problems|sums)\b", cleaned):
        return "add"
    if re.search(r"\b(subtraction|subtracting|minus problems|take away)\b", cleaned):
        return "sub"
    if re.search(r"\b(division|dividing)\b", cleaned):
        return "div"
    return None
