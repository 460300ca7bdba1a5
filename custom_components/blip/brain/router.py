"""Activity router: what is this turn, and who answers it.

Rules and patterns, measured on tests/data/router_eval.jsonl (see benchmarks/router.py), and,
when the safety model is loaded, the learned activity head (activity_model.py) over the
embedding the safety check already computed: the rules decide where they are precise (drill
answers, misheard drill requests, spelling and math requests, worry about a test, follow-ups
read from the turns before); elsewhere the head decides when it is confident.
Order matters: safety first (always, drills included), then a drill in progress, then the
specific activities (spelling, math, creative, emotional), then trivia questions, then small talk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
import re
from typing import Final

from .activities import DEFAULT_ROUTING, SAFETY_BACKEND, Activity, Backend, HistoryTurn
from .activity_words import other_language_activity
from .arithmetic import solve_arithmetic, solve_word_problem
from .drills import (
    MATH,
    SPELLING,
    DrillEngine,
    DrillReply,
    DrillState,
    ItemPicker,
    state_from_question,
)
from .mishearings import repair_request
from .safety import SafetyFinding, clear_safety_cache
from .safety_detector import SafetyDetector
from .safety_model import SafetyModel
from .spoken import (
    find_numbers,
    normalise_utterance,
    parse_spelled_letters,
    parse_spoken_answer,
    tokenize,
)

# More user turns than this in a small-talk or make-believe chat goes to Claude: the local
# model loses the thread in long conversations.
LONG_CHAT_USER_TURNS: Final = 6
_LONG_CHAT_ACTIVITIES: Final = frozenset({Activity.CHITCHAT, Activity.CREATIVE})


@dataclass(frozen=True)
class RouteDecision:
    """The router's answer for one turn."""

    activity: Activity
    backend: Backend
    safety: SafetyFinding | None
    drill_reply: DrillReply | None  # set when backend is DRILL
    long_chat: bool
    # True when the turn must go to Claude with the child-safety prompt but raise no alert (the
    # learned layer is unsure, a harmful request, or a jailbreak attempt).
    guarded: bool = False


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_WAKE_PREFIX = _rx(r"^(?:(?:hey|hi|hello|okay|ok|um+|uh+|so|and|but|oh|well) )*(?:blip\b ?)?")

# ---- spelling -------------------------------------------------------------------------------
_SPELLING = _rx(
    r"\bspell(?:s|ed|ing|t)?\b|"
    r"\bhow (?:do|can|would) (?:you|i) write (?:the word )?\w+$|"
    r"\bletters? (?:are )?(?:in|does) (?:the word )?\w+|\b(?:what|which) letters? does\b|"
    r"\b(?:first|last) letter (?:of|in)\b|\bwhat letters make\b|\bsilent (?:letter|[a-z])\b|"
    r"^is there (?:an?|the letter) [a-z] in\b|"
    r"^(?:does|is there) (?:the word )?\w+ (?:have|has) (?:an?|the letter) \w\b|"
    r"\bwhat (?:does|do) (?:\w ){2,}\w? ?spell\b|\bhow many letters\b|"
    # "how many s's are in mississippi", "i before e", homophones, other languages' "spell".
    r"\bhow many (?:[a-z]|[a-z]'s|[a-z]s|esses|ees|ells|tees|ohs|vowels|consonants|syllables) "
    r"(?:are )?in\b|\b[a-z] before (?:the )?[a-z]\b|"
    r"\bdifference between (?:to|two|too|their|there|they're|your|you're|its|it's|our|are|"
    r"hear|here|no|know|right|write|by|buy|bye)\b|\bc[oó]mo se escribe\b|"
    r"\bcomment (?:on )?(?:[ée]crit|s'[ée]crit|ça s'[ée]crit)\b"
)
_NOT_SPELLING = _rx(
    r"\b(?:magic spells?|cast(?:s|ing)? a spell|spells? on|a spell (?:on|that)|wizard|witch)\b"
)
# A spelling test or bee told about ("i got a hundred on my spelling test", "i bombed the
# spelling bee") is news or a feeling; asked for ("quiz me on my spelling words") it is spelling.
_SPELLING_EVENT = _rx(r"\bspelling (?:tests?|bees?|quiz(?:zes)?|homework|words|lists?)\b")
_SPELLING_ASK = _rx(
    r"\b(?:quiz|help|practi[cs]e|let's|lets|can (?:we|you|u)|could you|give me|do (?:a|my)|study|"
    r"test me|please|plz)\b"
)
_SPELLED_OUT = _rx(r"\b(?:[a-z] ){2,}[a-z]\b")  # "p u p p y, that's my word for the bee"

# ---- math -----------------------------------------------------------------------------------
_MATH_WORDS = _rx(
    r"\b(?:math|maths|times tables?|multiplication|multiply|multiplied|multiplying|addition|"
    r"adding|subtracting|dividing|subtraction|"
    r"subtract|division|divide|divided|fractions?|plus|minus|equals|arithmetic|long division|"
    r"numbers? line|sums?|add up|count (?:to|by|up|down|backwards)|counting|skip count|"
    r"odd or even|even or odd|odd number|even number|is \d+ (?:odd|even)|"
    r"(?:an? )?(?:odd|even) number|percent|squared|square root|doubles?|halves|half of|"
    r"quarter of|third of|take away|greater than|less than|bigger number|prime numbers?|"
    r"how many sides|how many corners)\b|[+×÷=]|\d ?[x*/] ?\d"
)
# Worry about a test is a feeling, not a request for the test's subject.
_TEST_WORRY = _rx(r"\b(?:test|quiz|exam|homework|contr[ôo]le|examen)\b")
# ... unless the turn also asks the sum or the word ("..., what's 9 times 6").
_ASKS_TOO = _rx(r"\b(?:what's|whats|what is|how much is|how do you spell|spell)\b")
_DREAD = _rx(r"\b(?:gonna|going to|will|i'll) (?:die|be dead|cry) if i\b|\bif i fail\b")
_NUMBER_ORDER = _rx(
    r"\bwhat (?:number )?comes? (?:after|before|next)\b|\bwhat (?:number )?is (?:after|before)\b|"
    r"\b(?:which|what)(?:'s| is)? (?:bigger|smaller|more|less|greater|larger)\b.{0,20}\bor\b|"
    r"^is \S+ (?:bigger|smaller|greater|larger|more|less) than \S+$|"
    r"\bhow many (?:ones|twos|threes|fours|fives|sixes|sevens|eights|nines|tens|twelves|hundreds|"
    r"halves|quarters) (?:are )?(?:in|make)\b"
)
_HOW_MANY = _rx(r"\bhow (?:many|much)\b")
# "how many legs do four spiders have all together": a sum, even with one number in digits.
_IN_ALL = _rx(r"\b(?:altogether|all together|in all|in total|total)\b")

# ---- creative -------------------------------------------------------------------------------
_CREATIVE = _rx(
    r"\b(?:stor(?:y|ies)|bedtime tale|fairy ?tale|song|songs|sing|singing|sang|lullaby|poem|"
    r"poems|poetry|rhymes?|rhyming|riddles?|"
    r"imagine|make up|made up|make-up|make (?:a|me a|another) (?:\w+ )?(?:joke|knock)|"
    r"superpower|superhero|once upon a time|what happens next|what happened next|rap\b|limerick|haiku)\b"
)
# Jokes and pretend or talking games are small talk (the project's activity definitions, given
# to every data writer); making one up ("make up a joke about a penguin") is creative, above.
_PLAY = _rx(
    r"\b(?:jokes?|joking|knock knock|pretend|pretending|make believe|let's play|lets play|"
    r"play a game|play (?:a|another|the) \w+ game|play (?:i spy|tag|hide and seek|"
    r"twenty questions|20 questions|would you rather|house|school|doctor|store|restaurant|"
    r"pirates|cops and robbers|simon says)|can we play|want to play|wanna play|i spy|"
    r"would you rather|twenty questions|20 questions|hide and seek|tongue twisters?|silly voice|"
    r"funny voice|talk like a|sound like a|animal sounds?|tell me something funny|"
    r"something silly|be the (?:teacher|doctor|customer|monster|princess)|you be (?:the|a|an)|"
    r"can you be (?:a|an)|act like|(?:a|another|new|fun|guessing|word|silly) game)\b"
)
_CREATIVE_REQUEST = _rx(
    r"\b(?:tell|make|sing|write|read|say|give|know|hear|do|let's|lets|can we|wanna|want to|"
    r"play|rhymes?|pretend|imagine)\b.{0,25}\b(?:stor(?:y|ies)|songs?|poems?|jokes?|riddles?|"
    r"rhymes?|tale|rap|game|pretend|with)\b|^(?:what|which) (?:\w+ )?rhymes? with\b|"
    r"^(?:what's|whats|what is) a (?:\w+ )?(?:jokes?|riddles?)\b|"
    r"\bknock knock\b|\bonce upon\b|\bwould you rather\b|\bwhat would you\b|\bif you could\b|"
    r"\bcan you (?:be a|be an|pretend|sing|rap|make|tell|do a)\b|\b(?:good|funny|silly|new|"
    r"another|any|cool|scary) (?:riddles?|jokes?|stor(?:y|ies)|songs?|poems?)\b"
)
_FACT_QUESTION = _rx(
    r"^(?:why|how|where|when|what|which|who|whose)(?:'s)?\b(?! (?:if|would|should we|shall))"
)
# The child's own feeling, said beside a request to play ("im lonely can you tell me a joke"),
# not a feeling in the story asked for ("a story about a sad dragon").
_FIRST_PERSON_FEELING = _rx(
    r"\b(?:i'?m|i am|i feel|i'?m feeling|i get|i got|i was)\s+(?:so |really |very |kinda |a bit |"
    r"super |too )?(?:sad|scared|afraid|lonely|upset|worried|nervous|down|grumpy|angry|mad)\b"
)
# "as a joke", "joking": talk about a joke (also read by training/safety/relabel_play_as_chitchat).
_ABOUT_A_JOKE = _rx(r"\b(?:as|for) a joke\b|\bjoking\b")
_FAVORITE = _rx(r"\byour (?:favorite|favourite)\b")
_CREATIVE_FOLLOWUP = _rx(
    r"^(?:tell me more|more|more please|and then|and then what|and then what happened|what "
    r"happened next|what happens next|then what|then what happened|keep going|continue|go on|"
    r"another one|one more|again|do it again|tell me another|another|another please|sing it "
    r"again|what next|finish the story|the end)$"
)

# ---- emotional ------------------------------------------------------------------------------
_FEELING = (
    r"(?:sad|sadder|unhappy|lonely|scared|afraid|frightened|terrified|worried|worry|"
    r"nervous|anxious|stressed|angry|mad|furious|upset|frustrated|jealous|embarrassed|ashamed|"
    r"guilty|grumpy|cranky|hurt|heartbroken|homesick|left out|stupid|dumb|ugly|useless|"
    r"worthless|bad about|bad|terrible|awful|miserable|depressed|down|blue|confused|overwhelmed|"
    r"disappointed|shy|insecure|annoyed)"
)
_EMOTIONAL = _rx(
    rf"\b(?:i'm|i am|im|i feel|i'm feeling|i am feeling|feeling|i felt|i was|i get|i got|i've "
    rf"been|makes me|made me|make me|i'm so|i'm really|i'm kind of|i'm a little|i'm very)"
    rf"(?: so| really| very| kind of| kinda| a little| a bit| super| too| always| just)? "
    rf"{_FEELING}\b|"
    r"\bi miss (?:my|him|her|them|you|home|grandma|grandpa|nana|papa|mom|dad|mommy|daddy|"
    r"my old)\b|"
    r"\b(?:my|our) (?:dog|cat|fish|goldfish|hamster|bird|pet|bunny|rabbit|turtle|guinea pig|"
    r"puppy|kitten|grandma|grandpa|grandmother|grandfather|nana|papa|granny|aunt|uncle|friend|"
    r"best friend)\b.{0,15}\b(?:died|passed away|is dead|got sick|is sick|is in the hospital|"
    r"ran away|went to heaven|had to be put down|is dying|is very sick|is really sick|(?:isn't|is not|not|won't|stopped) (?:moving|"
    r"breathing|eating|waking up))\b|"
    r"\bbad (?:grade|score|mark|report card)\b|\bfailed (?:my|the|a) (?:test|quiz)\b|"
    r"\b(?:said|says|called|think|thinks) (?:my \w+ (?:is|was|looks|looked)|i'm|i am|i look|i "
    r"was)(?: so| really| too)? (?:ugly|stupid|dumb|fat|weird|bad|babyish|a baby|gross|"
    r"annoying|slow|short|a loser)\b|"
    r"\b(?:nobody|no one|no body)\b.{0,30}\b(?:me|with me|to me|likes me|loves me|wants me|"
    r"understands me|cares about me|cares|listens|me a valentine|my friend)\b|"
    r"\b(?:don't|do not) have (?:any )?friends\b|\bi have no friends\b|"
    r"\b(?:doesn't|does not|don't|won't|didn't) (?:want to )?(?:be my friend|play with me|"
    r"like me|let me play)\b|\b(?:mean to me|laughed at (?:me|my)|made fun of (?:me|my)|"
    r"makes? fun of (?:me|my)|teased me|teases me|ignored me|ignore me|left me out|"
    r"called me (?:names|stupid|dumb|ugly|a baby))\b|"
    r"\bi(?:'m| am| was| keep| just| can't stop| started)? (?:crying|cry|cried)\b|"
    r"\b(?:makes?|made) me (?:cry|sad|mad|angry|upset)\b|\bi (?:don't|do not) like (?:myself|"
    r"me|my body|how i look|the way i look)\b|\b(?:nightmare|nightmares|bad dream|scary dream)\b|"
    r"\b(?:bad|hard|rough|terrible|awful|horrible|worst) day\b|\bdivorc\w*\b|"
    r"\byelled at me\b|\bin trouble\b|\bhurt my feelings\b|\bmy feelings\b|"
    r"\bi hate (?:my|it when|school|when|everything|everyone|my life)\b|\bi hate (?:him|her)\b|"
    r"\bmoving away\b|\bi don't feel good about\b|\bwhy (?:am|do) i (?:always )?(?:feel|so|"
    r"get)\b|\bi can't sleep\b|\bis killing me\b|\bnot good at anything\b|\bgoing wrong\b|"
    r"\bscared to\b|\bafraid to\b|\bi don't want to go to (?:school|the doctor|bed)\b|"
    r"\bi (?:always|never) (?:mess|get) (?:up|it wrong)\b|\bfeel like (?:crying|nobody|no one|i)\b|"
    r"\b(?:feel|feeling|felt) (?:so |really |very |all )?alone\b|\beveryone (?:yells|is "
    r"yelling|shouts|is mad)\b|\bfeel like running away\b|"
    r"\bi (?:want to|wanna|could|am going to|'m going to) (?:hurt|hit|punch|kill|smack) (?:my|him|"
    r"her|them)\b|\b(?:mom|mommy|mother|dad|daddy|father|parents|grandma|grandpa|sister|brother)"
    r"\b.{0,25}\b(?:is|are|was|were|keep|keeps|always) (?:crying|yelling|screaming|fighting|"
    r"arguing|shouting|sad)\b|\b(?:screaming|yelling|shouting) at each other\b|\b(?:all|so) alone\b|"
    r"\b(?:is|are|so) annoying\b|\bwant (?:him|her|them) to go away\b|\bi'm (?:scared|afraid) "
    r"(?:there's|of|that)\b"
)
_POSITIVE_FEELING = _rx(
    r"\b(?:i'm|i am|i feel)(?: so| really| very| super)? (?:happy|good|great|excited|awesome|"
    r"fine|okay|bored|hungry|tired|sleepy|thirsty|cold|hot|back|done|ready|six|seven|eight|"
    r"five|nine|ten|\d+)\b"
)

# ---- trivia ---------------------------------------------------------------------------------
_QUESTION_START = _rx(
    r"^(?:why|whys|what|what's|whats|how|hows|where|wheres|when|who|who's|whos|which|whose|do|"
    r"does|did|is|are|was|"
    r"were|can|could|will|would|should|has|have|if|tell me (?:a fact|facts|about|something "
    r"about|a fun fact|some facts|why|how|what|who|where|when)|explain|i want to know|i wonder|"
    r"do you know|did you know|fun fact|teach me about|i want to learn about|how come)\b"
)
_TRIVIA_WORDS = _rx(r"\b(?:fact|facts|science|history|animal|planet|dinosaurs?|space)\b")
# Questions about Blip itself are small talk, not facts.
_ABOUT_BLIP = _rx(
    r"\b(?:how are you|how old are you|how's it going|what's up|whats up|what are you doing|"
    r"who are you|what are you|are you (?:a|an|real|alive|there|my|listening|awake|happy|sad|"
    r"funny|smart|okay|ok|a robot|a girl|a boy|human)|your (?:name|favorite|favourite|birthday|"
    r"mom|dad|family|friend|age)|do you (?:like|love|have|sleep|eat|dream|know me|remember|want|"
    r"get|play|feel|miss)|can you (?:hear|see) me|what can you do|where do you live|where are "
    r"you|what do you (?:like|want)\b|what do you do(?: all day| for fun| at night)?$|"
    r"can you (?:talk|dance|walk|think|laugh|move|see|feel|read)$|what should we do|what are we (?:doing|going to do)|"
    r"what do you think|did you (?:miss|hear)|what time is it|what day is it|guess what|"
    r"do you know what i|what did i|can you keep a secret|can you help me|can you be my|will you be my|can i have|"
    r"can i go|may i|can we go)\b"
)
_CHITCHAT = _rx(
    r"^(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening|night)|goodnight|night night|"
    r"bye|bye bye|goodbye|good bye|see you|see ya|later|thanks|thank you|thank u|ty|ok|okay|"
    r"yes|yeah|yep|yup|no|nope|nah|sure|cool|wow|awesome|nice|great|sorry|oops|never mind|"
    r"nevermind|i love you|you're|you are|i like|i love|i'm back|i'm home|me too|same|lol|haha)\b"
)
_CONTINUATION = _rx(
    r"^(?:yes|yes please|yeah|yep|yup|sure|ok|okay|please|uh huh|mhm|no|nope|why|how|really|"
    r"what|huh|and|but|because|so)$"
)


_ANSWER_START = _rx(r"^(?:yes|yeah|yep|no|nope|okay|sure|kind of|i guess)\b")

# How sure the activity rules are of a turn (see _classify_alone, classify_activity_why).
_DRILL: Final = "drill"
_PRECISE: Final = "precise"
_RULE: Final = "rule"
_WEAK: Final = "weak"
_CONTEXT: Final = "context"


def _strip_wake(text: str) -> str:
    stripped = _WAKE_PREFIX.sub("", text, count=1).strip()
    return stripped or text


def _drill_question_kind(assistant_text: str) -> str | None:
    """Which drill the assistant's last question belongs to, judged from its wording."""
    lowered = assistant_text.lower().strip()
    if re.search(r"\bcan you spell [\w']+\?$", lowered):
        return SPELLING
    if re.search(
        r"\bwhat(?:'s| is) [\w ]+ (?:times|plus|minus|divided by|take away) [\w ]+\?$", lowered
    ):
        return MATH
    return None


def _looks_like_drill_answer(text: str, normalised: str, kind: str) -> bool:
    if kind == SPELLING:
        if parse_spelled_letters(text) is not None:
            return True
    elif parse_spoken_answer(text) is not None:
        return True
    return bool(
        re.search(
            r"\b(?:i don't know|i dont know|hint|help|skip|pass|give up|another|next|harder|"
            r"easier|repeat|again|too hard|too easy|no idea|not sure|clue)\b",
            normalised,
        )
    )


@lru_cache(maxsize=2048)
def _classify_alone(normalised: str, raw: str) -> tuple[Activity, str]:
    """Classify a turn on its own words, and say how sure the rules are: "precise" (a
    spelling or math request, worry about a test: drills depend on these), "rule" (another
    pattern matched) or "weak" (no rule matched: a guess)."""
    text = _strip_wake(normalised)
    worried = bool(_EMOTIONAL.search(_POSITIVE_FEELING.sub(" ", text)) or _DREAD.search(text))
    asks_sum = solve_arithmetic(raw) is not None or solve_word_problem(raw) is not None
    asks_sum = asks_sum or bool(_ASKS_TOO.search(text))
    if worried and _TEST_WORRY.search(text) and not asks_sum:
        # "i'm nervous about my spelling test", "i'm gonna die if i fail this math test".
        return Activity.EMOTIONAL, _PRECISE
    # Only told about a spelling test or bee: the rules below (and the head) read the rest.
    rest = _SPELLING_EVENT.sub(" ", text)
    told = (
        rest != text
        and not _SPELLING_ASK.search(rest)
        and not _SPELLING.search(rest)
        and not _SPELLED_OUT.search(text)
    )
    if _SPELLING.search(text) and not _NOT_SPELLING.search(text) and not told:
        return Activity.SPELLING, _PRECISE
    if solve_arithmetic(raw) is not None or solve_word_problem(raw) is not None:
        return Activity.MATH, _PRECISE
    # "as a joke", "just kidding": talk about a joke, not a request for one.
    unjoked = _ABOUT_A_JOKE.sub(" ", text)
    creative = bool(_CREATIVE.search(unjoked))
    # A joke to hear, a pretend game: small talk where a creative turn would be.
    play = not creative and bool(_PLAY.search(unjoked))
    creative = creative or play
    # "I'm tired" or "I'm happy" is small talk, but "I'm tired of everything going wrong" isn't.
    emotional = bool(_EMOTIONAL.search(_POSITIVE_FEELING.sub(" ", text)))
    if _MATH_WORDS.search(text) and not creative:
        # A word, not a sum: "plus" is also French, "maths" is also a worry.
        return Activity.MATH, _RULE
    if _NUMBER_ORDER.search(text):
        return Activity.MATH, _PRECISE
    tokens = tokenize(text)
    numbers = find_numbers(tokens)
    if _HOW_MANY.search(text) and len(numbers) >= 2 and not creative:
        return Activity.MATH, _PRECISE
    if _HOW_MANY.search(text) and _IN_ALL.search(text) and numbers and not creative:
        return Activity.MATH, _RULE
    if _FAVORITE.search(text):
        return Activity.CHITCHAT, _RULE
    if creative and _FACT_QUESTION.search(text) and not _CREATIVE_REQUEST.search(text):
        # "why do birds sing", "how do you play chess": a question about the world.
        creative = False
    kind = Activity.CHITCHAT if play else Activity.CREATIVE
    if creative and _FIRST_PERSON_FEELING.search(text):
        # "i'm sad, tell me a joke": the child's feeling decides (a kind answer), and the
        # activity head may not turn it into play for the local model.
        return Activity.EMOTIONAL, _PRECISE
    if creative and not re.search(r"\b(?:scared|afraid|sad|nightmare)\b", text):
        return kind, _RULE
    if emotional:
        return Activity.EMOTIONAL, _RULE
    if creative:
        return kind, _RULE
    # "ek kahani sunao", "estoy triste", "我好难过": the words above are English only.
    other = other_language_activity(raw)
    if other is not None:
        return other, _RULE
    if _ABOUT_BLIP.search(text):
        return Activity.CHITCHAT, _RULE
    if _QUESTION_START.search(text) or (_TRIVIA_WORDS.search(text) and text.endswith("?")):
        return Activity.TRIVIA, _RULE
    if _CHITCHAT.search(text):
        return Activity.CHITCHAT, _RULE
    if raw.strip().endswith("?") and len(tokens) >= 3:
        return Activity.TRIVIA, _RULE
    return Activity.CHITCHAT, _WEAK


def classify_activity(
    text: str, history: Sequence[HistoryTurn] = (), drill_state: DrillState | None = None
) -> Activity:
    """The activity of one turn (never SAFETY: that is check_safety's job)."""
    return classify_activity_why(text, history, drill_state)[0]


def classify_activity_why(
    text: str, history: Sequence[HistoryTurn] = (), drill_state: DrillState | None = None
) -> tuple[Activity, str]:
    """The rules' activity of one turn and why: "drill" (an answer inside a drill, or a
    misheard drill request), "precise", "rule", "weak" (see _classify_alone) or "context" (a
    follow-up such as "yes please", read from the turns before)."""
    normalised = normalise_utterance(text)
    last_assistant = next((t.text for t in reversed(history) if t.role == "assistant"), None)
    # A drill in progress keeps the child's answer ("D I N O S A U R", "fifty six") inside it.
    drill_kind = drill_state.kind if drill_state is not None else None
    if drill_kind is None and last_assistant is not None:
        drill_kind = _drill_question_kind(last_assistant)
    if drill_kind is not None and _looks_like_drill_answer(text, normalised, drill_kind):
        return (Activity.SPELLING if drill_kind == SPELLING else Activity.MATH), _DRILL

    repaired = repair_request(text)
    misheard = repaired != text
    if misheard:  # a misheard drill request
        text, normalised = repaired, normalise_utterance(repaired)
    activity, how = _classify_alone(normalised, text)
    if misheard and how == _PRECISE:
        how = _DRILL
    weak = how == _WEAK
    if not history:
        return activity, how
    stripped = _strip_wake(normalised)
    followup = bool(_CREATIVE_FOLLOWUP.match(stripped)) or bool(_CONTINUATION.match(stripped))
    # "yes it was really bad": an answer that starts with yes/no carries on the conversation.
    if activity is Activity.CHITCHAT and _ANSWER_START.match(stripped):
        weak = True
    if not (weak or followup):
        return activity, how
    # A follow-up ("yes please", "what happened next") continues what the chat was about:
    # first the assistant's own offer ("Want to hear a joke?"), else the child's previous turn.
    if last_assistant is not None and last_assistant.rstrip().endswith("?"):
        asked = normalise_utterance(last_assistant)
        offered, offered_how = _classify_alone(asked, last_assistant)
        offered_weak = offered_how == _WEAK
        # "Spelling, math, or a story?" answered "yes" says nothing about which one.
        choices = sum(bool(rx.search(asked)) for rx in (_SPELLING, _MATH_WORDS, _CREATIVE, _PLAY))
        if (
            not offered_weak
            and choices <= 1
            and offered in (Activity.CREATIVE, Activity.SPELLING, Activity.MATH)
        ):
            return offered, _CONTEXT
    previous_user = next((t.text for t in reversed(history) if t.role == "user"), None)
    if previous_user is not None:
        previous, _ = _classify_alone(normalise_utterance(previous_user), previous_user)
        if previous in (Activity.CREATIVE, Activity.EMOTIONAL, Activity.TRIVIA):
            return previous, _CONTEXT if followup else how
    return activity, how


def clear_caches() -> None:
    """Forget memoised classifications (for benchmarks that must time cold turns)."""
    _classify_alone.cache_clear()
    clear_safety_cache()
    normalise_utterance.cache_clear()


def _chat_streak(history: Sequence[HistoryTurn]) -> int:
    """How many of the child's latest turns in a row were small talk or make-believe."""
    streak = 0
    for turn in reversed(history):
        if turn.role != "user":
            continue
        activity, _ = _classify_alone(normalise_utterance(turn.text), turn.text)
        if activity not in _LONG_CHAT_ACTIVITIES or streak > LONG_CHAT_USER_TURNS:
            break
        streak += 1
    return streak


class Router:
    """Decides each turn's activity and backend; safety always wins and always goes to Claude."""

    def __init__(
        self,
        routing: Mapping[Activity, Backend] | None = None,
        drill_engine: DrillEngine | None = None,
        safety_model: SafetyModel | None = None,
    ) -> None:
        table = dict(DEFAULT_ROUTING)
        if routing:
            for activity, backend in routing.items():
                table[Activity(activity)] = Backend(backend)
        # Fixed in code: no routing table can send a safety turn anywhere but Claude.
        table[Activity.SAFETY] = SAFETY_BACKEND
        self._routing = table
        self._drills = drill_engine if drill_engine is not None else DrillEngine()
        # Rules alone when no model is given (or it failed to load): see safety_detector.py.
        self.safety = SafetyDetector(safety_model)

    @staticmethod
    def _reply_activity(reply: DrillReply, fallback: Activity) -> Activity:
        """A drill reply belongs to the session it leaves running, else to the turn's activity."""
        if reply.state is not None:
            return Activity.SPELLING if reply.state.kind == SPELLING else Activity.MATH
        return fallback

    def _activity(
        self, text: str, history: Sequence[HistoryTurn], drill_state: DrillState | None
    ) -> Activity:
        """The rules' activity where they are precise (drills depend on them), else the
        learned activity head's when it is confident (it reads the turn's and the child's
        previous turn's embeddings, which the safety check already computed), else the
        rules' guess. Where no rule matched at all, the head needs less confidence (both
        thresholds chosen by cross-validation, see train_activity.py)."""
        activity, how = classify_activity_why(text, history, drill_state)
        model = self.safety.model
        if how in (_DRILL, _PRECISE, _CONTEXT) or model is None:
            return activity
        learned = model.activity(text, history)
        head = model.activity_head
        if learned is None or head is None:
            return activity
        guess, confidence = learned
        needed = head.confidence_weak if how == _WEAK else head.confidence
        return guess if confidence >= needed else activity

    @property
    def routing(self) -> Mapping[Activity, Backend]:
        """The effective routing table (safety always Claude)."""
        return dict(self._routing)

    def decide(
        self,
        text: str,
        history: Sequence[HistoryTurn] = (),
        drill_state: DrillState | None = None,
        age: int | None = None,
        picker: ItemPicker | None = None,
    ) -> RouteDecision:
        """Route one child turn; ``picker`` chooses drill items from the child's memory."""
        text = text if isinstance(text, str) else ""
        verdict = self.safety.judge(text, history)
        if verdict.finding is not None:
            return RouteDecision(Activity.SAFETY, SAFETY_BACKEND, verdict.finding, None, False)
        if verdict.guarded:
            # No drill, no local model: Claude answers with the child-safety prompt, no alert.
            activity = self._activity(text, history, drill_state)
            return RouteDecision(activity, SAFETY_BACKEND, None, None, False, guarded=True)

        if drill_state is None:
            # The stored session went missing, but Blip's last question says what was asked.
            last_assistant = next(
                (t.text for t in reversed(history) if t.role == "assistant"), None
            )
            if last_assistant is not None:
                drill_state = state_from_question(last_assistant, age)
        if drill_state is not None:
            # A quiz in progress hears the child first: answers, "hint", "what was the word",
            # "I'm done". Whatever it declines is classified like any other turn.
            session_activity = Activity.SPELLING if drill_state.kind == SPELLING else Activity.MATH
            if self._routing[session_activity] in (Backend.LOCAL, Backend.DRILL):
                reply = self._drills.respond(text, drill_state, age, picker)
                if reply is not None:
                    activity = self._reply_activity(reply, session_activity)
                    if self._routing[activity] in (Backend.LOCAL, Backend.DRILL):
                        return RouteDecision(activity, Backend.DRILL, None, reply, False)

        activity = self._activity(text, history, drill_state)
        backend = self._routing[activity]
        if backend in (Backend.LOCAL, Backend.DRILL) and activity in (
            Activity.SPELLING,
            Activity.MATH,
        ):
            reply = self._drills.respond(text, drill_state, age, picker)
            if reply is not None:
                activity = self._reply_activity(reply, activity)
                if self._routing[activity] in (Backend.LOCAL, Backend.DRILL):
                    return RouteDecision(activity, Backend.DRILL, None, reply, False)
        if backend is Backend.DRILL:
            backend = Backend.LOCAL  # the drill engine declined: the local model answers
        long_chat = (
            activity in _LONG_CHAT_ACTIVITIES and _chat_streak(history) + 1 > LONG_CHAT_USER_TURNS
        )
        if long_chat:
            backend = Backend.CLAUDE
        return RouteDecision(activity, backend, None, None, long_chat)
