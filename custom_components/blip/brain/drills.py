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
import random
import re
from typing import Any, Final, Protocol

from ..phrases import DRILL_PROMPTS
from .arithmetic import MathAnswer, solve_arithmetic, solve_number_fact, solve_word_problem
from .math_facts import MATH_SYMBOLS, math_hint, parse_fact, random_problem, say_fact
from .mishearings import repair_request
from .spelling_hints import (
    SOUND_ALIKE_OF as _SOUND_ALIKE_OF,
    phonics_hint,
    sound_alikes,
    spelling_hint,
)
from .spoken import (
    find_numbers,
    parse_spelled_letters,
    parse_spoken_answer,
    say_letters,
    say_number,
    tokenize,
)
from .word_lists import MAX_GRADE, known_words, word_lists

__all__ = [
    "MAX_GRADE",
    "DrillEngine",
    "DrillState",
    "ItemPicker",
    "phonics_hint",
    "sound_alikes",
    "word_lists",
]

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

_HINTS_BEFORE_REVEAL: Final = 2
_RECENT_ITEMS_KEPT: Final = 12


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
    new_items: int = 0  # items this session that the child had never practised
    confused_with: str | None = None  # the other practised word the child wrote for this one

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
            "new_items": self.new_items,
            "confused_with": self.confused_with,
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
                new_items=int(data.get("new_items", 0)),
                confused_with=_optional_word(data.get("confused_with")),
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"Bad drill state: {err}") from None


def _optional_word(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 48:
        raise ValueError("confused_with must be a word")
    return value


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
    confused_with: str | None = None  # spelling: the other practised word the child wrote


class ItemPicker(Protocol):
    """Chooses a session's next item from what the child remembers (see practice_planner).

    Either method may return None: the engine then picks as it does without a picker.
    """

    def next_spelling(self, state: DrillState) -> str | None:
        """The next word for this spelling session."""

    def next_math(self, state: DrillState) -> str | None:
        """The next fact ("7x8") for this math session."""

    def session_done(self, state: DrillState) -> bool:
        """True when nothing is due and no new item is allowed: the session can end."""


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
        # The child's picker for the reply being built. respond() is synchronous, so one engine
        # can serve every child: it is set and cleared within one call.
        self._picker: ItemPicker | None = None

    # ---- entry point ----------------------------------------------------------------------

    def respond(
        self,
        text: str,
        state: DrillState | None,
        age: int | None = None,
        picker: ItemPicker | None = None,
    ) -> DrillReply | None:
        """Reply to one turn, or None to decline (the router then asks a model).

        ``picker`` chooses the next item from the child's memory; without one, items are
        picked at random from the grade's list.
        """
        self._picker = picker
        try:
            return self._respond(text, state, age)
        finally:
            self._picker = None

    def start(
        self, kind: str, age: int | None = None, picker: ItemPicker | None = None
    ) -> DrillReply:
        """Start a session of ``kind`` ("spelling" or "math"), as blip.start_drill asks."""
        request = "quiz me on spelling" if kind == SPELLING else "quiz me on math"
        reply = self.respond(request, None, age, picker)
        if reply is None:  # the request phrases above always start a session
            raise ValueError(f"Unknown drill kind {kind!r}")
        return reply

    def _respond(self, text: str, state: DrillState | None, age: int | None) -> DrillReply | None:
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
            if letters and letters in known_words():
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
        if letters in known_words() or letters in _SOUND_ALIKE_OF.get(word, {}):
            state.confused_with = letters
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
        if not self._advance(state, allow_done=True):
            return self._all_done(state, f"{praise} {because}", result)
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
        if not self._advance(state, allow_done=True):
            return self._all_done(state, f"{lead} {shown}", result)
        return DrillReply(
            f"{lead} {shown} {_ANOTHER_ONE} {self._question(state)}", (result,), state
        )

    def _all_done(self, state: DrillState, lead: str, result: DrillResult) -> DrillReply:
        """The picker has nothing due or new left today: end the session on a high note."""
        summary = (
            f"That's all your {'words' if state.kind == SPELLING else 'questions'} for today! "
            f"You got {state.correct_count} out of {state.total_count} right."
        )
        return DrillReply(f"{lead} {summary} What would you like to do next?", (result,), None)

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
            confused_with=state.confused_with,
        )

    # ---- items, questions and hints -------------------------------------------------------

    def _advance(self, state: DrillState, allow_done: bool = False) -> bool:
        """Move to the next item; False (state unchanged) when the picker says the session is
        done and ``allow_done`` lets it end (a child asking for another one always gets one)."""
        picker = self._picker
        if allow_done and picker is not None and picker.session_done(state):
            return False
        state.hints_used = 0
        state.attempts = 0
        state.hint_offered = False
        state.confused_with = None
        if state.kind == SPELLING:
            self._next_spelling_item(state)
        else:
            self._next_math_item(state)
        return True

    def _remember(self, state: DrillState, item: str) -> None:
        state.asked = [*state.asked, item][-_RECENT_ITEMS_KEPT:]

    def _next_spelling_item(self, state: DrillState) -> None:
        word = self._picker.next_spelling(state) if self._picker is not None else None
        if word is None:
            words = word_lists()[state.grade]
            fresh = [w for w in words if w not in state.asked] or list(words)
            word = self._rng.choice(fresh)
        state.item = word
        state.answer = word
        state.operation = None
        self._remember(state, word)

    def _next_math_item(self, state: DrillState) -> None:
        picked = self._picker.next_math(state) if self._picker is not None else None
        parsed = parse_fact(picked) if picked is not None else None
        if parsed is not None:
            operation, a, b = parsed
            item = f"{a}{MATH_SYMBOLS[operation]}{b}"
        else:
            for _ in range(20):
                operation, a, b = random_problem(self._rng, state.grade, state.focus)
                symbol = MATH_SYMBOLS[operation]
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
            answer = a // b  # divisors are never 0: see random_problem
        state.item = item
        state.answer = str(answer)
        state.operation = operation
        self._remember(state, item)

    def _question(self, state: DrillState) -> str:
        if state.kind == SPELLING:
            return f"Can you spell {state.item}?"
        return f"What is {self._say_fact(state)}?"

    def _say_fact(self, state: DrillState) -> str:
        return say_fact(state.item, state.operation or "add")

    def _hint(self, state: DrillState, level: int) -> str:
        if state.kind == SPELLING:
            word = state.answer
            if level <= 1:
                return spelling_hint(word)
            shown = ", ".join(ch.upper() for ch in word[: max(1, len(word) // 2)])
            return f"It has {len(word)} letters, and it starts with {shown}."
        return math_hint(state.item, state.operation or "add", level)


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
