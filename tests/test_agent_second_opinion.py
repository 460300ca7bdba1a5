"""Claude's second opinion, against the loopback Anthropic server in a real Home Assistant.

A turn Blip's own checks do not flag is also classified by Claude in the background: a
distress verdict alerts the adults like a safety turn and Blip checks in; a failing, slow or
garbled classifier, or one the family turned off, changes nothing about the child's answer.
Ordering is asserted by events (a gate the test opens, the safety event), never by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import json
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import Event, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events, async_mock_service

from custom_components.blip.agent.prompts import check_in
from custom_components.blip.agent.second_opinion import (
    DISTRESS_MARKER_INSTRUCTION,
    RUBRIC,
    SECOND_OPINION_MAX_TOKENS,
    SECOND_OPINION_MODEL,
)
from custom_components.blip.agent.turn import Deadlines
from custom_components.blip.brain import (
    HistoryTurn,
    RouteDecision,
    Router,
    SafetyCategory,
)
from custom_components.blip.const import (
    CONF_DESIGNATED_ADULT,
    CONF_SAFETY_NOTIFY,
    CONF_SECOND_OPINION,
    EVENT_SAFETY_SIGNAL,
)
from custom_components.blip.conversation import BlipAgentServices
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import (
    DEFAULT_CLAUDE_REPLY,
    DEFAULT_LOCAL_REPLY,
    FakeAnthropic,
    FakeLocalModel,
)

# Ordinary words no on-box check flags: only Claude's verdict (scripted) says distress.
PLAIN = "do you like dogs"
ABUSE_VERDICT = '{"distress": true, "category": "abuse", "confidence": 0.9}'
SELF_HARM_VERDICT = '{"distress": true, "category": "self_harm", "confidence": 0.8}'
ALERTS = {
    CONF_SAFETY_NOTIFY: ["notify.mom_phone"],
    CONF_DESIGNATED_ADULT: "notify.grandma",
}
# Generous deadlines: a gated local answer must wait for the verdict, and a loaded test machine
# must not turn an answer into a fallback; the second opinion's own timeout is set per test.
PATIENT = Deadlines(
    claude_first_token=5.0,
    local_first_token=5.0,
    between_chunks=5.0,
    safety_first_token=5.0,
    safety_between_chunks=5.0,
)


class RecordingRouter(Router):
    """The real router, remembering the history it was given."""

    def __init__(self, heard: list[list[HistoryTurn]], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.heard = heard

    def decide(
        self,
        text: str,
        history: Sequence[HistoryTurn] = (),
        *args: Any,
        **kwargs: Any,
    ) -> RouteDecision:
        self.heard.append(list(history))
        return super().decide(text, history, *args, **kwargs)


def _opened_by(hass: HomeAssistant, event_type: str) -> asyncio.Event:
    """An event set when ``event_type`` fires on the bus."""
    opened = asyncio.Event()

    @callback
    def _open(_event: Event) -> None:
        opened.set()

    hass.bus.async_listen_once(event_type, _open)
    return opened


def _opinion(services: BlipAgentServices):
    assert services.second_opinion is not None
    return services.second_opinion


def _user_text(request: dict) -> str:
    return " ".join(m["content"] for m in request["messages"] if m["role"] == "user")


async def test_a_distress_verdict_during_the_answer_checks_in_right_after_it(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """The verdict lands while the local model is still answering: the answer is spoken as it
    is, the check-in follows in the same reply, and the designated adult is alerted."""
    hass.config.country = "US"
    mom = async_mock_service(hass, "notify", "mom_phone")
    grandma = async_mock_service(hass, "notify", "grandma")
    anthropic_server.opinion_script.reply = ABUSE_VERDICT
    # The local model's first words wait for the alert that the verdict raises.
    openai_server.script.gate = _opened_by(hass, EVENT_SAFETY_SIGNAL)
    await setup_blip(hass, blip_entry(anthropic_server, openai_server, options=ALERTS), PATIENT)
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)

    turn = await converse(hass, PLAIN, satellite_id="assist_satellite.ada_room")
    await hass.async_block_till_done()

    assert turn.speech == f"{DEFAULT_LOCAL_REPLY} {check_in(SafetyCategory.ABUSE, 'US')}"
    assert "a parent" not in check_in(SafetyCategory.ABUSE, "US")
    (event,) = events
    assert event.data["category"] == "abuse"
    assert event.data["satellite"] == "assist_satellite.ada_room"
    assert PLAIN not in repr(event.data)
    # Abuse: the designated adult only, like a safety turn.
    assert len(grandma) == 1
    assert mom == []
    assert PLAIN not in grandma[0].data["message"]
    (request,) = anthropic_server.opinion_requests
    assert request["model"] == SECOND_OPINION_MODEL
    assert request["max_tokens"] == SECOND_OPINION_MAX_TOKENS
    assert request["system"][0]["text"] == RUBRIC
    assert PLAIN in _user_text(request)
    assert "Ada" not in _user_text(request)  # the child's age is sent, not their name
    assert anthropic_server.chat_requests == []  # the answer was the local model's


async def test_a_verdict_after_the_answer_opens_the_next_turn_with_a_check_in(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """The answer finishes first (the verdict is held back); the adults are alerted when the
    verdict comes; the child's next turn starts with the check-in and goes to Claude with the
    child-safety prompt, and later turns are judged with the check-in and the turns before."""
    mom = async_mock_service(hass, "notify", "mom_phone")
    verdict_gate = asyncio.Event()
    anthropic_server.opinion_script.reply = SELF_HARM_VERDICT
    anthropic_server.opinion_script.gate = verdict_gate
    services = await setup_blip(
        hass, blip_entry(anthropic_server, openai_server, options=ALERTS), PATIENT
    )
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)

    first = await converse(hass, PLAIN)
    # The child's answer is complete while the verdict is still on its way.
    assert first.speech == DEFAULT_LOCAL_REPLY
    assert _opinion(services).running == 1
    assert events == []

    verdict_gate.set()
    await _opinion(services).wait_idle()
    await hass.async_block_till_done()
    assert [e.data["category"] for e in events] == ["self_harm"]
    assert len(mom) == 1

    second = await converse(hass, "what is your favourite colour", first.conversation_id)
    words = check_in(SafetyCategory.SELF_HARM, hass.config.country)
    assert second.contents[0].strip() == words  # the check-in is the first thing said
    assert second.speech == words + " " + DEFAULT_CLAUDE_REPLY
    assert len(openai_server.chat_requests) == 1  # never the local model after the flag
    (answer,) = anthropic_server.chat_requests
    system = " ".join(block["text"] for block in answer["system"])
    assert "needs extra care" in system
    assert words in system  # Claude continues from the check-in
    assert DISTRESS_MARKER_INSTRUCTION in system
    assert PLAIN in _user_text(answer)
    # A guarded turn gets no second classification: Claude is answering it with care.
    assert len(anthropic_server.opinion_requests) == 1

    heard: list[list[HistoryTurn]] = []
    services.router = RecordingRouter(heard, routing=services.router.routing)
    third = await converse(hass, "do you like pizza", first.conversation_id)
    await _opinion(services).wait_idle()
    # The router judges the reply to the check-in with the check-in and the turns before it.
    (history,) = heard
    assert HistoryTurn("user", PLAIN) in history
    assert any(t.role == "assistant" and t.text.startswith(words) for t in history)
    judged = _user_text(anthropic_server.opinion_requests[1])
    assert "Blip: " + words in judged
    assert "Child: " + PLAIN in judged
    assert "do you like pizza" in judged.split("\n")[-2]
    # The flagged words and everything after them stay away from the local model.
    assert len(openai_server.chat_requests) == 2
    local_seen = json.dumps(openai_server.chat_requests[-1]["messages"])
    assert PLAIN not in local_seen
    assert words not in local_seen
    assert third.speech == DEFAULT_LOCAL_REPLY


@pytest.mark.parametrize(
    "failure", ["down", "slow", "unauthorized", "server_error", "malformed", "not_a_verdict"]
)
async def test_a_failing_second_opinion_never_touches_the_answer(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    unused_tcp_port: int,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    """Claude down, slow, rejecting the key, failing or garbling its verdict: the child hears
    the same answer, finished before the second opinion gives up; the failure is logged
    without the child's words; nobody is alerted."""
    claude_url = f"http://127.0.0.1:{unused_tcp_port}" if failure == "down" else None
    entry = blip_entry(anthropic_server, openai_server, claude_url=claude_url)
    services = await setup_blip(hass, entry, PATIENT)
    _opinion(services).timeout = 0.5
    script = anthropic_server.opinion_script
    if failure == "slow":
        script.stall_after_chunks = 0
    elif failure == "unauthorized":
        anthropic_server.valid_key = "sk-ant-rotated"
    elif failure == "server_error":
        script.status = 500
    elif failure == "malformed":
        script.reply = '{"distress": tru'
    elif failure == "not_a_verdict":
        script.reply = '{"distress": "maybe", "category": "abuse"}'
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    caplog.set_level(logging.INFO)

    turn = await converse(hass, PLAIN)
    answered_while = _opinion(services).running
    await _opinion(services).wait_idle()
    await hass.async_block_till_done()

    assert turn.speech == DEFAULT_LOCAL_REPLY
    if failure == "slow":
        assert answered_while == 1  # the answer did not wait for the stalled verdict
    assert events == []
    logged = [r for r in caplog.records if "second opinion failed" in r.getMessage()]
    assert logged
    assert logged[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if PLAIN in r.getMessage() and r.levelno >= logging.INFO]
    if failure == "unauthorized":
        # The key is the family's to fix, even when only the second opinion saw it rejected.
        flows = hass.config_entries.flow.async_progress_by_handler("blip")
        assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_a_second_opinion_that_recovers_says_so_once(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Claude's verdicts fail for a turn, then come back: the log says it works again, once."""
    services = await setup_blip(hass, blip_entry(anthropic_server, openai_server), PATIENT)
    caplog.set_level(logging.INFO)
    anthropic_server.opinion_script.status = 500
    await converse(hass, PLAIN)
    await _opinion(services).wait_idle()
    anthropic_server.opinion_script.status = None
    for _ in range(2):
        turn = await converse(hass, PLAIN)
        await _opinion(services).wait_idle()
        assert turn.speech == DEFAULT_LOCAL_REPLY
    await hass.async_block_till_done()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("Claude's second opinion is working again") == 1
    assert len(anthropic_server.opinion_requests) == 3


async def test_the_answer_matches_a_run_without_the_second_opinion(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """With the option off no classification is requested; the answer is the same."""
    options = {CONF_SECOND_OPINION: False}
    services = await setup_blip(
        hass, blip_entry(anthropic_server, openai_server, options=options), PATIENT
    )
    assert services.second_opinion is None
    turn = await converse(hass, PLAIN)
    trivia = await converse(hass, "why is the sky blue")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert turn.speech == DEFAULT_LOCAL_REPLY
    assert trivia.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert anthropic_server.opinion_requests == []
    assert len(anthropic_server.chat_requests) == 1


async def test_safety_turns_get_no_second_opinion(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """A turn Blip's own checks flag is already Claude's, with an alert: nothing to second-guess."""
    await setup_blip(hass, blip_entry(anthropic_server), PATIENT)
    await converse(hass, "I want to hurt myself")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert anthropic_server.opinion_requests == []
    assert len(anthropic_server.chat_requests) == 1


async def test_claude_flags_distress_in_its_own_answer(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """Claude answering a turn starts with the distress marker: the marker is not spoken, the
    adults are alerted once (the second opinion agreeing changes nothing), and Claude's
    answer was the check-in, so the next turn does not repeat it."""
    mom = async_mock_service(hass, "notify", "mom_phone")
    caring = "I'm really glad you told me. Are you okay? A grown-up you trust can help."
    anthropic_server.script.reply = "[[distress:self_harm]] " + caring
    anthropic_server.opinion_script.reply = SELF_HARM_VERDICT
    services = await setup_blip(hass, blip_entry(anthropic_server, options=ALERTS), PATIENT)
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)

    turn = await converse(hass, "why is the sky blue")
    await _opinion(services).wait_idle()
    await hass.async_block_till_done()

    assert "[[" not in turn.speech
    assert "distress" not in turn.speech
    assert turn.speech.endswith(caring)
    assert "check on you" not in turn.speech
    assert [e.data["category"] for e in events] == ["self_harm"]
    assert len(mom) == 1
    system = " ".join(b["text"] for b in anthropic_server.chat_requests[0]["system"])
    assert DISTRESS_MARKER_INSTRUCTION in system

    anthropic_server.script.reply = DEFAULT_CLAUDE_REPLY
    anthropic_server.opinion_script.reply = '{"distress": false, "category": "none"}'
    after = await converse(hass, "why do cats purr", turn.conversation_id)
    assert "check on you" not in after.speech
    assert "needs extra care" not in anthropic_server.chat_requests[1]["system"][0]["text"]


async def test_a_low_confidence_verdict_raises_nothing(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Claude unsure (below the confidence bar): no alert, no check-in."""
    anthropic_server.opinion_script.reply = (
        '{"distress": true, "category": "bullying", "confidence": 0.2}'
    )
    services = await setup_blip(hass, blip_entry(anthropic_server, openai_server), PATIENT)
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    first = await converse(hass, PLAIN)
    await _opinion(services).wait_idle()
    second = await converse(hass, "what is your favourite colour", first.conversation_id)
    await hass.async_block_till_done()
    assert events == []
    assert second.speech == DEFAULT_LOCAL_REPLY


async def test_unloading_cancels_a_second_opinion_in_flight(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A verdict still on its way when Blip unloads is cancelled cleanly: no alert, no error."""
    anthropic_server.opinion_script.reply = ABUSE_VERDICT
    anthropic_server.opinion_script.gate = asyncio.Event()  # never opened
    entry = blip_entry(anthropic_server, openai_server)
    services = await setup_blip(hass, entry, PATIENT)
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    await converse(hass, PLAIN)
    assert _opinion(services).running == 1

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    assert _opinion(services).running == 0
    assert events == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_option_is_offered_with_claude_and_turns_the_second_opinion_off(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Blip's options show the switch (on) when Claude is set up; saving it off reloads Blip
    without the second opinion. Without Claude there is nothing to switch."""
    entry = blip_entry(anthropic_server, openai_server)
    services = await setup_blip(hass, entry, PATIENT)
    assert services.second_opinion is not None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = {str(key): key for key in result["data_schema"].schema}
    assert fields[CONF_SECOND_OPINION].default() is True
    routes = {f"route_{a}": "local" for a in ("spelling", "math", "chitchat")} | {
        f"route_{a}": "claude" for a in ("creative", "trivia", "emotional")
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **routes,
            "filler": True,
            CONF_SECOND_OPINION: False,
            "quiet_start": "20:00:00",
            "quiet_end": "07:00:00",
            "daily_minutes": 0,
        },
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_SECOND_OPINION] is False
    assert entry.runtime_data.agent.second_opinion is None
    await converse(hass, PLAIN)
    assert anthropic_server.opinion_requests == []

    local_only = blip_entry(local=openai_server)
    local_only.add_to_hass(hass)
    assert await hass.config_entries.async_setup(local_only.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(local_only.entry_id)
    assert CONF_SECOND_OPINION not in {str(key) for key in result["data_schema"].schema}


async def test_the_same_concern_flagged_again_alerts_once(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The child's next turn (ordinary to the on-box check, so Claude's second opinion runs
    again) and Claude hears the same concern again: the adults, just told, are not alerted a
    second time. (An answer such as "yes i am sad" is now itself judged with the check-in and
    guarded: Claude answers it with the safety prompt, without a second opinion.)"""
    mom = async_mock_service(hass, "notify", "mom_phone")
    anthropic_server.opinion_script.reply = SELF_HARM_VERDICT
    openai_server.script.gate = _opened_by(hass, EVENT_SAFETY_SIGNAL)
    services = await setup_blip(
        hass, blip_entry(anthropic_server, openai_server, options=ALERTS), PATIENT
    )
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    caplog.set_level(logging.INFO)

    first = await converse(hass, PLAIN)
    assert "check on you" in first.speech
    await converse(hass, "i like big dogs the best", first.conversation_id)
    await _opinion(services).wait_idle()
    await hass.async_block_till_done()

    assert len(anthropic_server.opinion_requests) == 2
    assert len(events) == 1
    assert len(mom) == 1
    assert "same concern again" in caplog.text
