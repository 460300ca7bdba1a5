"""Blip's agent end to end: a real Home Assistant, the real router, loopback model servers.

Each activity reaches the right backend; fillers come first on slow routes and never on drills;
history carries across turns without fillers; safety never reaches the local model.
"""

from __future__ import annotations

import dataclasses
from itertools import pairwise
from typing import Any

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
import pytest

from custom_components.blip.agent.fillers import STREAM_RESPONSE_CHARS
from custom_components.blip.const import CONF_FILLER, CONF_FILLERS, CONF_ROUTING
from custom_components.blip.phrases import FILLERS_CALM, FILLERS_CHEERFUL, FILLERS_CREATIVE
from tests.agent_helpers import TEST_DEADLINES, blip_entry, converse, setup_blip
from tests.llm_servers import (
    DEFAULT_CLAUDE_REPLY,
    DEFAULT_LOCAL_REPLY,
    FakeAnthropic,
    FakeLocalModel,
)

ALL_FILLERS = (*FILLERS_CHEERFUL, *FILLERS_CREATIVE, *FILLERS_CALM)


def is_filler_of(text: str, phrases: tuple[str, ...]) -> bool:
    """One phrase-list filler of this mood, or two of them (when the list's are too short)."""
    return text in phrases or any(
        text == first + second for first in phrases for second in phrases if first != second
    )


def _system_text(request: dict[str, Any]) -> str:
    return " ".join(block["text"] for block in request["system"])


async def test_spelling_is_answered_by_the_drill_engine_at_once(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, local_server: FakeLocalModel
) -> None:
    """A drill answer is exact, has no filler, and no model is asked."""
    await setup_blip(hass, blip_entry(anthropic_server, local_server))
    turn = await converse(hass, "how do you spell cat")
    assert "C, A, T" in turn.speech
    assert turn.roles == ["assistant"]
    assert not any(filler in turn.speech for filler in ALL_FILLERS)
    assert anthropic_server.chat_requests == []
    assert local_server.chat_requests == []


async def test_chitchat_goes_to_the_local_model_without_filler(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, local_server: FakeLocalModel
) -> None:
    """Small talk is the local model's (OpenAI SSE and Ollama NDJSON); it is fast: no filler."""
    await setup_blip(hass, blip_entry(anthropic_server, local_server))
    turn = await converse(hass, "do you like dogs")
    assert turn.speech == DEFAULT_LOCAL_REPLY
    assert len(local_server.chat_requests) == 1
    assert anthropic_server.chat_requests == []
    request = local_server.chat_requests[0]
    assert request["stream"] is True
    assert request["model"] == "blip-edu"
    assert request["messages"][0]["role"] == "system"
    assert "Ada" in request["messages"][0]["content"]
    assert request["messages"][-1] == {"role": "user", "content": "do you like dogs"}


@pytest.mark.parametrize(
    ("text", "fillers", "guidance"),
    [
        ("why is the sky blue", FILLERS_CHEERFUL, "asked a question about the world"),
        ("tell me a story about a dragon", FILLERS_CREATIVE, "story, song, poem, rap, riddle"),
        ("I feel sad today", FILLERS_CALM, "sharing feelings"),
    ],
)
async def test_claude_activities_start_with_a_filler_for_their_mood(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    text: str,
    fillers: tuple[str, ...],
    guidance: str,
) -> None:
    """Trivia, creative and emotional turns go to Claude; a filler of the right mood comes first,
    and Claude's answer continues in the same assistant message."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    turn = await converse(hass, text)

    assert openai_server.chat_requests == []
    (request,) = anthropic_server.chat_requests
    assert guidance in _system_text(request)
    assert "Ada, a 7-year-old child" in _system_text(request)
    assert request["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert request["stream"] is True
    assert request["messages"] == [{"role": "user", "content": text}]

    filler = turn.contents[0]
    assert is_filler_of(filler, fillers)
    assert len(filler) > STREAM_RESPONSE_CHARS
    assert filler.endswith(("! ", ". ", "? "))
    assert turn.roles == ["assistant"]  # one message: filler, then the answer
    assert turn.speech == filler + DEFAULT_CLAUDE_REPLY


async def test_routing_options_send_activities_elsewhere(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """The family's routing table is followed: trivia to the local model, small talk to Claude."""
    entry = blip_entry(
        anthropic_server,
        openai_server,
        options={CONF_ROUTING: {"trivia": "local", "chitchat": "claude"}},
    )
    await setup_blip(hass, entry)
    trivia = await converse(hass, "why is the sky blue")
    assert trivia.speech == DEFAULT_LOCAL_REPLY
    chat = await converse(hass, "do you like dogs")
    assert chat.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert len(openai_server.chat_requests) == 1
    assert len(anthropic_server.chat_requests) == 1


async def test_history_carries_across_turns_without_fillers(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """The second turn's model sees the first turn (both sides), but never the filler."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    first = await converse(hass, "tell me a story about a dragon")
    assert is_filler_of(first.contents[0], FILLERS_CREATIVE)
    anthropic_server.script.reply = "The dragon found a friend."
    second = await converse(hass, "tell me more of the story", first.conversation_id)
    assert second.conversation_id == first.conversation_id

    messages = anthropic_server.chat_requests[-1]["messages"]
    assert messages == [
        {"role": "user", "content": "tell me a story about a dragon"},
        {"role": "assistant", "content": DEFAULT_CLAUDE_REPLY},
        {"role": "user", "content": "tell me more of the story"},
    ]
    # And a new conversation starts afresh.
    await converse(hass, "tell me a story about a cat")
    assert len(anthropic_server.chat_requests[-1]["messages"]) == 1


async def test_local_model_sees_history_too(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, local_server: FakeLocalModel
) -> None:
    """History reaches the local model as well, in its own message format."""
    await setup_blip(hass, blip_entry(anthropic_server, local_server))
    first = await converse(hass, "do you like dogs")
    await converse(hass, "what is your favorite color", first.conversation_id)
    messages = local_server.chat_requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == DEFAULT_LOCAL_REPLY


async def test_filler_is_not_repeated_back_to_back(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """Consecutive slow turns get different fillers."""
    await setup_blip(hass, blip_entry(anthropic_server))
    fillers = [(await converse(hass, "why is the sky blue")).contents[0] for _ in range(6)]
    assert all(a != b for a, b in pairwise(fillers))


async def test_filler_off_for_a_child(hass: HomeAssistant, anthropic_server: FakeAnthropic) -> None:
    """A child whose filler is off hears only the answer."""
    await setup_blip(hass, blip_entry(anthropic_server, child={CONF_FILLER: False}))
    turn = await converse(hass, "why is the sky blue")
    assert turn.speech == DEFAULT_CLAUDE_REPLY


async def test_family_fillers_are_used(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """Extra fillers from the options join the cheerful pool; unusable lines are left out."""
    own = "Hold on to your hat, I am thinking as hard as I possibly can right now!"
    entry = blip_entry(anthropic_server, options={CONF_FILLERS: f"{own}\ntoo short.\n"})
    await setup_blip(hass, entry)
    heard = {(await converse(hass, "why is the sky blue")).contents[0] for _ in range(20)}
    assert own + " " in heard
    assert "too short. " not in heard


async def test_slow_local_model_gets_a_filler(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """Once the local model has been slow to its first words, its turns start with a filler."""
    services = await setup_blip(hass, blip_entry(local=openai_server))
    services.health.slow_first_token_s = 0.1
    openai_server.script.first_token_delay = 0.2
    first = await converse(hass, "do you like dogs")
    assert first.speech == DEFAULT_LOCAL_REPLY  # nothing known yet: no filler
    second = await converse(hass, "do you like cats")
    assert is_filler_of(second.contents[0], FILLERS_CHEERFUL)
    assert second.speech == second.contents[0] + DEFAULT_LOCAL_REPLY
    # The filler reached Assist before the model's first words could exist.
    (filler_at, _), (answer_at, _) = second.deltas_with_content()[:2]
    assert answer_at - filler_at >= 0.15


async def test_first_slow_turn_of_the_local_model_gets_a_filler_too(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """With no record of being fast, a local model still quiet after the grace gets a filler:
    the child's first slow turn is not silent; the answer follows in the same message."""
    deadlines = dataclasses.replace(TEST_DEADLINES, local_first_token=3.0)
    services = await setup_blip(hass, blip_entry(local=openai_server), deadlines)
    grace = deadlines.filler_grace
    openai_server.script.first_token_delay = grace + 0.6
    first = await converse(hass, "do you like dogs")
    assert is_filler_of(first.contents[0], FILLERS_CHEERFUL)
    assert first.speech == first.contents[0] + DEFAULT_LOCAL_REPLY
    (filler_at, _), (answer_at, _) = first.deltas_with_content()[:2]
    assert answer_at - filler_at >= 0.4  # the filler came while the model was still quiet
    timing = services.timings.last
    assert timing.answered_by == "local" and timing.filler_ms is not None


async def test_spoken_output_is_cleaned(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """Markdown, lists and emoji in Claude's answer are not read aloud."""
    anthropic_server.script.reply = "**Great question!** 🌈 Here are colours:\n- red\n- blue"
    await setup_blip(hass, blip_entry(anthropic_server, child={CONF_FILLER: False}))
    turn = await converse(hass, "why is the sky blue")
    assert turn.speech == "Great question! Here are colours: red. blue"


async def test_local_output_that_fails_the_check_is_replaced_by_claude(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """A local answer in markdown goes to Claude instead (and is never half spoken)."""
    openai_server.script.reply = "## Dogs\n- **Dogs** are great 🐶. They bark."
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    turn = await converse(hass, "do you like dogs")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert "Dogs are great" not in turn.speech
    assert len(openai_server.chat_requests) == 1
    assert len(anthropic_server.chat_requests) == 1


async def test_local_output_is_cleaned_when_there_is_no_claude(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """Without Claude, a local answer that only needs cleanup is cleaned and spoken."""
    openai_server.script.reply = "**Dogs** are great 🐶! They love to play."
    await setup_blip(hass, blip_entry(local=openai_server))
    turn = await converse(hass, "do you like dogs")
    assert turn.speech == "Dogs are great! They love to play."


async def test_drill_session_keeps_its_state_per_conversation(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """A spelling practice continues in its conversation; another conversation is separate."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    start = await converse(hass, "let's practice spelling")
    assert start.speech.endswith("?")
    assert start.result.continue_conversation
    # In the same conversation a bare answer is taken as the drill's answer, instantly.
    answer = await converse(hass, "c a t", start.conversation_id)
    assert answer.roles == ["assistant"]
    assert anthropic_server.chat_requests == []
    assert openai_server.chat_requests == []
    assert answer.speech
    assert not any(filler in answer.speech for filler in ALL_FILLERS)


async def test_result_is_a_normal_conversation_result(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """The result is a normal conversation result with the conversation id to continue."""
    await setup_blip(hass, blip_entry(anthropic_server))
    turn = await converse(hass, "why is the sky blue")
    assert isinstance(turn.result, conversation.ConversationResult)
    assert turn.result.response.response_type.value == "action_done"
    assert turn.conversation_id


async def test_long_chats_move_to_claude(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """The router sees the conversation's history: a long small-talk chat goes to Claude."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    conversation_id = None
    for _ in range(10):
        turn = await converse(hass, "do you like dogs", conversation_id)
        conversation_id = turn.conversation_id
    assert 1 <= len(openai_server.chat_requests) < 10
    assert len(anthropic_server.chat_requests) >= 1
    # Claude got the whole earlier chat, which the local model had been answering.
    messages = anthropic_server.chat_requests[0]["messages"]
    assert len(messages) > 2
    assert {"role": "assistant", "content": DEFAULT_LOCAL_REPLY} in messages


async def test_a_rambling_local_answer_is_cut_at_a_sentence(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """The local model has no sense of short: its answer ends at a sentence, not too long."""
    openai_server.script.reply = "Dogs are wonderful friends who love to play. " * 30
    await setup_blip(hass, blip_entry(local=openai_server))
    turn = await converse(hass, "do you like dogs")
    assert 100 < len(turn.speech) <= 450
    assert turn.speech.endswith("play.")
