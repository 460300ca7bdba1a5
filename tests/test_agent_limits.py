"""No answer runs away: caps per answer and per turn, stall and turn deadlines, huge SSE lines.

Each test is a real loopback backend misbehaving the way a broken model or gateway does, under
the real agent in a real Home Assistant. The child must always hear a complete ending.
"""

from __future__ import annotations

import time

from homeassistant.core import HomeAssistant
import pytest

from custom_components.blip.agent.backends import FailureKind
from custom_components.blip.agent.limits import AnswerCap, ended_within
from custom_components.blip.agent.turn import (
    APOLOGY_REPLY,
    LOCAL_MAX_CHARS,
    TURN_MAX_CHARS,
    max_tokens_for,
)
from custom_components.blip.brain import Activity
from tests.agent_helpers import TEST_DEADLINES, blip_entry, converse, setup_blip
from tests.llm_servers import DEFAULT_CLAUDE_REPLY, FakeAnthropic, FakeLocalModel

SELF_HARM = "I want to hurt myself"


def _run_on(chars: int) -> str:
    """A sentence that never ends: varied words, no punctuation at all."""
    words: list[str] = []
    number = 0
    while sum(len(word) + 1 for word in words) < chars:
        number += 1
        words += ["the", "dinosaur", f"number{number}", "walked", "to", "a", "river", "and"]
    return " ".join(words)


# ---- the cap itself


def test_cap_passes_short_answers_through_unchanged() -> None:
    cap = AnswerCap(450)
    text = "Seven times eight is fifty-six. Great job!"
    out = "".join(cap.feed(piece) for piece in (text[:5], text[5:20], text[20:])) + cap.finish()
    assert out == text
    assert not cap.reached


def test_cap_ends_on_the_last_sentence_that_fits() -> None:
    cap = AnswerCap(60)
    out = cap.feed("One two three four. Five six seven eight. Nine ten eleven twelve. ")
    out += cap.feed("More and more. ") + cap.finish()
    assert out == "One two three four. Five six seven eight."
    assert cap.reached


def test_cap_ends_a_run_on_first_sentence_with_a_full_stop() -> None:
    cap = AnswerCap(100)
    out = "".join(cap.feed(_run_on(2000)[i : i + 37]) for i in range(0, 2000, 37))
    out += cap.finish()
    assert 10 < len(out) <= 100
    assert out.endswith(".") and not out.endswith(" .")
    assert cap.reached


def test_cap_ends_a_sentence_already_begun() -> None:
    cap = AnswerCap(200, hold_back=20)
    first = cap.feed("Hello there friend. " + "and then " * 10)  # released while far from the cap
    rest = cap.feed("and then " * 40) + cap.finish()
    out = first + rest
    assert len(out) <= 200
    assert out.endswith(".")


def test_ended_within_prefers_a_clause_break() -> None:
    assert ended_within("first part, second part goes on and on", 20) == "first part."
    assert ended_within("x" * 50, 10) == ""


def test_ended_within_says_nothing_rather_than_punctuation() -> None:
    assert ended_within("hello", 1) == ""
    assert ended_within("... ,, --", 10) == ""
    assert ended_within("Done!", 10) == "Done!"  # already ended: no second full stop


def test_a_begun_sentence_whose_rest_cannot_fit_ends_right_after_its_last_word() -> None:
    cap = AnswerCap(12, hold_back=0)
    out = cap.feed("Go on ") + cap.feed("abcdefghijklmnopqrstuvwxyz. ")
    assert out == "Go on."
    assert cap.reached
    # Once reached, nothing more is said, even at the end of the stream.
    assert cap.feed("More words.") == "" and cap.finish() == ""


def test_whitespace_alone_is_never_spoken_last() -> None:
    cap = AnswerCap(30, hold_back=0)
    out = cap.feed("Hi there ") + cap.feed("   ")
    assert out == "Hi there"
    out += cap.feed("friend. ") + cap.finish()
    assert out == "Hi there    friend."


def test_a_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars must be positive"):
        AnswerCap(0)


# ---- the local model


async def test_local_run_on_answer_is_capped_with_a_complete_ending(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """A 958 KB run-on was spoken whole; now at most the cap, ending with a full stop."""
    openai_server.script.reply = _run_on(958_000)
    openai_server.script.chunk_chars = 4000
    await setup_blip(hass, blip_entry(local=openai_server))
    turn = await converse(hass, "do you like dogs")
    answer = "".join(turn.contents)
    assert len(answer) <= LOCAL_MAX_CHARS + 200  # a filler may come first
    assert turn.speech.endswith(".")
    assert "number1 walked" in turn.speech


async def test_local_first_sentence_longer_than_the_cap_is_capped(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """The first sentence used to skip the cap entirely."""
    openai_server.script.reply = _run_on(3000) + ". The end. "
    openai_server.script.chunk_chars = 50
    await setup_blip(hass, blip_entry(local=openai_server))
    turn = await converse(hass, "do you like dogs")
    assert len("".join(turn.contents)) <= LOCAL_MAX_CHARS + 200
    assert turn.speech.endswith(".")
    assert "The end" not in turn.speech


# ---- Claude


async def test_claude_ignoring_max_tokens_is_capped(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """A gateway that ignores max_tokens streamed 2.5 MB; the child hears a capped answer."""
    anthropic_server.script.reply = "Dinosaurs were very big animals. " * 20_000
    anthropic_server.script.chunk_chars = 3000
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    turn = await converse(hass, "why is the sky blue")
    _filler, *answer = turn.contents
    spoken = "".join(answer)
    assert 0 < len(spoken) <= max_tokens_for(Activity.TRIVIA) * 4
    assert spoken.rstrip().endswith("animals.")
    assert openai_server.chat_requests == []


async def test_claude_safety_turn_is_capped_too(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    anthropic_server.script.reply = "You are safe and you can tell a grown-up. " * 20_000
    anthropic_server.script.chunk_chars = 3000
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    turn = await converse(hass, SELF_HARM)
    assert len(turn.speech) <= max_tokens_for(Activity.SAFETY) * 4 + 200
    assert turn.speech.rstrip().endswith("grown-up.")


async def test_whitespace_does_not_hold_the_stall_deadline(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Claude sending " " every 0.3 s held a safety turn for 25 s; spaces are not an answer."""
    anthropic_server.script.reply = "Hello there. " + " " * 400
    anthropic_server.script.chunk_chars = 1
    anthropic_server.script.chunk_delay = 0.05  # 20 s of spaces
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    started = time.monotonic()
    turn = await converse(hass, "why is the sky blue")
    assert time.monotonic() - started < 5
    assert turn.speech.endswith(APOLOGY_REPLY)
    assert "Hello there." in turn.speech


async def test_a_turn_has_an_overall_deadline(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """A backend that keeps talking slowly (never stalling) cannot hold a turn forever."""
    anthropic_server.script.reply = "Big. " * 2000
    anthropic_server.script.chunk_chars = 5
    anthropic_server.script.chunk_delay = 0.05
    services = await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    services.engine.deadlines = TEST_DEADLINES.__class__(
        **{**TEST_DEADLINES.__dict__, "turn_total": 1.5}
    )
    started = time.monotonic()
    turn = await converse(hass, "why is the sky blue")
    assert time.monotonic() - started < 5
    assert turn.speech.endswith(APOLOGY_REPLY)


async def test_the_turn_cap_bounds_everything_said(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    anthropic_server.script.reply = "Tell me a story about a dragon. " * 5000
    anthropic_server.script.chunk_chars = 3000
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    turn = await converse(hass, "tell me a story about a dragon")
    assert len(turn.speech) <= TURN_MAX_CHARS + 200


# ---- a stream line over aiohttp's limit


@pytest.mark.parametrize("api", ["openai", "ollama"])
async def test_a_stream_line_over_128_kib_falls_back_to_claude(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, api: str
) -> None:
    """aiohttp's "Chunk too big" escaped as a traceback and a napping reply; Claude never tried."""
    from tests.llm_servers import start_fake_server

    local = FakeLocalModel(api=api)
    local.script.reply = "Seven. " * 30_000  # one line of about 210 KB
    local.script.chunk_chars = 300_000
    async with start_fake_server(local.app()) as base_url:
        local.base_url = base_url
        services = await setup_blip(hass, blip_entry(anthropic_server, local))
        turn = await converse(hass, "do you like dogs")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert services.engine.health.status("local").last_failure is FailureKind.MALFORMED
