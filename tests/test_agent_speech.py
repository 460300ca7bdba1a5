"""Pure parts of the agent: spoken-text cleanup, the local output check, fillers and prompts."""

from __future__ import annotations

from itertools import pairwise
import random

import pytest

from custom_components.blip.agent.fillers import (
    STREAM_RESPONSE_CHARS,
    FillerPicker,
    normalize_filler,
    parse_extra_fillers,
    strip_filler,
    usable_fillers,
)
from custom_components.blip.agent.prompts import (
    check_in,
    guarded_reply,
    safe_reply,
    safety_prompt,
    system_prompt,
)
from custom_components.blip.agent.speech import (
    SentenceSplitter,
    SpokenTextFilter,
    check_local_sentence,
    clean_for_speech,
)
from custom_components.blip.brain import Activity, SafetyCategory
from custom_components.blip.phrases import FILLERS_CALM, FILLERS_CHEERFUL, FILLERS_CREATIVE


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("**Bold** answer with *emphasis* 🐶!", "Bold answer with emphasis!"),
        ("Fruit:\n- apples\n- pears\n\n1. one\n2. two 🍎", "Fruit: apples. pears. one. two"),
        ("7. Great job!", "7. Great job!"),
        ("## Title\nSome text.\n* item", "Title. Some text. item"),
        ("It was -5 degrees.\n3.5 is half of 7.", "It was -5 degrees. 3.5 is half of 7."),
        ("  Hello   there ,  you. ", "Hello there, you."),
        ("Use `print` and ~~this~~ | that", "Use print and this that"),
    ],
)
def test_spoken_text_cleanup(raw: str, spoken: str) -> None:
    """Markdown, lists, emoji and stray spacing are not read aloud; answers keep their numbers."""
    assert clean_for_speech(raw) == spoken


@pytest.mark.parametrize("seed", range(5))
def test_cleanup_does_not_depend_on_how_the_stream_is_chunked(seed: int) -> None:
    """The same text split anywhere cleans to the same speech."""
    raw = "## Facts\n- **Cats** purr 🐱.\n2. Dogs bark!\nThat's -3 and 4.5 too."
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(raw)), 8))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    speech = SpokenTextFilter()
    streamed = "".join(speech.feed(piece) for piece in pieces) + speech.flush()
    assert streamed.strip() == clean_for_speech(raw)


def test_sentence_splitter_releases_whole_sentences() -> None:
    """Sentences come out once their end punctuation and a space arrived."""
    splitter = SentenceSplitter()
    assert list(splitter.feed("Hello there. How are")) == ["Hello there. "]
    assert list(splitter.feed(" you? I am")) == ["How are you? "]
    assert splitter.flush() == "I am"


@pytest.mark.parametrize(
    ("sentence", "reason", "cosmetic"),
    [
        ("Three plus four is seven. ", None, None),
        ("3 + 4 = 7. ", None, None),
        ("<|im_end|> okay", "junk", False),
        ("no no no no no", "junk", False),
        ("Hmmmmmmmm.", "junk", False),
        ("Visit https://example.com now.", "junk", False),
        ("$$$ ### @@@ {}{}{} ", "not_words", False),
        ("**Cat** is spelled C A T. ", "markdown", True),
        ("- a list item", "markdown", True),
        ("I like dogs 🐶. ", "emoji", True),
    ],
)
def test_local_output_check(sentence: str, reason: str | None, cosmetic: bool | None) -> None:
    """The light check flags junk (hand over) apart from what cleanup can fix."""
    problem = check_local_sentence(sentence)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None
        assert (problem.reason, problem.cosmetic) == (reason, cosmetic)


def test_every_filler_used_is_long_enough_to_start_streaming() -> None:
    """Fillers over 60 characters of complete sentences ending in a space, for every mood."""
    for phrases in (FILLERS_CHEERFUL, FILLERS_CREATIVE, FILLERS_CALM):
        pool = usable_fillers(phrases)
        assert len(pool) >= 2
        for filler in pool:
            assert len(filler) > STREAM_RESPONSE_CHARS
            assert filler.endswith(("! ", ". ", "? "))


def test_filler_moods_and_no_repeats() -> None:
    """Calm for feelings and safety, creative for stories; never the same twice in a row."""
    picker = FillerPicker(rng=random.Random(1))
    calm = set(usable_fillers(FILLERS_CALM))
    assert {picker.pick(Activity.SAFETY) for _ in range(10)} <= calm
    assert {picker.pick(Activity.EMOTIONAL) for _ in range(10)} <= calm
    assert {picker.pick(Activity.CREATIVE) for _ in range(10)} <= set(
        usable_fillers(FILLERS_CREATIVE)
    )
    picks = [picker.pick(Activity.TRIVIA) for _ in range(30)]
    assert all(a != b for a, b in pairwise(picks))


def test_family_filler_lines_are_checked() -> None:
    """Usable lines gain a trailing space; short or unfinished lines are reported back."""
    good = "Wait a moment, my friend, I am having a really big think about this one!"
    usable, rejected = parse_extra_fillers(f"{good}\n\nShort one.\n{'x' * 70}\n")
    assert usable == (good + " ",)
    assert rejected == ["Short one.", "x" * 70]
    assert normalize_filler("  " + good + "  ") == good + " "


def test_blank_or_listed_filler_lines() -> None:
    assert normalize_filler("   \n ") is None
    good = "Hmm, let me think about that one for a moment, it is a good question!"
    assert parse_extra_fillers([good, "", "Too short."]) == ((good + " ",), ["Too short."])
    assert parse_extra_fillers(None) == ((), [])


def test_short_fillers_are_paired_so_none_repeats() -> None:
    """A mood with fewer than two long-enough fillers pairs its short ones, so fillers vary."""
    shorts = ("Hmm, let me see. ", "One moment please. ", "Good question! ")
    pool = usable_fillers(shorts)
    assert pool == (
        "Hmm, let me see. One moment please. ",
        "One moment please. Good question! ",
        "Good question! Hmm, let me see. ",
    )
    assert usable_fillers(("Just one. ",)) == ()  # nothing to pair it with


def test_strip_filler_removes_only_a_leading_filler() -> None:
    """History keeps the answer, not the filler in front of it."""
    filler = FILLERS_CALM[0]
    assert strip_filler(filler + "Answer.", FILLERS_CALM) == "Answer."
    assert strip_filler("Answer. " + filler, FILLERS_CALM) == "Answer. " + filler


def test_prompts_carry_the_child_and_the_activity() -> None:
    """The system prompt names the child, their age and the activity's guidance."""
    prompt = system_prompt(Activity.SPELLING, "Ada", 7)
    assert "Ada, a 7-year-old child" in prompt
    assert "practising spelling" in prompt
    assert "No markdown" in prompt
    assert system_prompt(Activity.SPELLING, "Ada", 7) == prompt  # stable: cacheable


def test_safety_prompt_and_replies_by_category_and_country() -> None:
    """Helplines follow the country; harm at home does not send the child to a parent."""
    us_self_harm = safety_prompt(SafetyCategory.SELF_HARM, "Ada", 7, "US")
    assert "9 8 8" in us_self_harm
    assert "Ada" in us_self_harm
    abuse = safety_prompt(SafetyCategory.ABUSE, "Ada", 7, "GB")
    assert "Childline" in abuse
    assert "parent" not in abuse
    assert "parent" not in safe_reply(SafetyCategory.VIOLENCE_AT_HOME, "US")
    assert "9 9 9" in safe_reply(SafetyCategory.IMMEDIATE_DANGER, "GB")
    unknown_country = safe_reply(SafetyCategory.SELF_HARM, None)
    assert "grown-up" in unknown_country
    for category in SafetyCategory:
        reply = safe_reply(category, "US")
        assert clean_for_speech(reply) == reply  # speakable as written
        assert "Thank you for telling me" in reply


def test_danger_and_self_harm_check_ins_give_the_right_number() -> None:
    """Danger right now: the emergency number, in the prompt, the reply and the check-in;
    self-harm: the crisis line in the check-in too, and no made-up number without a country."""
    assert "call 9 1 1 or get a grown-up" in safety_prompt(
        SafetyCategory.IMMEDIATE_DANGER, "Ada", 7, "US"
    )
    assert "or call 9 1 1." in safe_reply(SafetyCategory.IMMEDIATE_DANGER, "US")
    danger = check_in(SafetyCategory.IMMEDIATE_DANGER, "US")
    assert danger.endswith("If you are in danger right now, call 9 1 1.")
    self_harm = check_in(SafetyCategory.SELF_HARM, "US")
    assert self_harm.endswith("You can also call 9 8 8 any time to talk to a kind helper.")
    assert "9 8 8" not in check_in(SafetyCategory.SELF_HARM, None)
    assert clean_for_speech(self_harm) == self_harm  # speakable as written


def test_guarded_reply_after_a_check_in_only_listens() -> None:
    assert guarded_reply("US", after_check_in=True) == "I'm right here, and I'm listening."
    assert guarded_reply("US") != guarded_reply("US", after_check_in=True)


def test_the_familys_extra_prompt_comes_last() -> None:
    prompt = system_prompt(Activity.TRIVIA, "Ada", None, "Ada loves dinosaurs.")
    assert prompt.endswith("\n\nAda loves dinosaurs.")
    assert "Ada, a young child" in prompt
