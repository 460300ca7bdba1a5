"""The fault matrix: every way a backend fails still ends in a spoken reply, with no exception.

Each row is a real loopback server misbehaving (down, slow, 401, 429, 500, 529, malformed,
refusing, stalling mid-stream) under the real agent in a real Home Assistant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent, issue_registry as ir
import pytest

from custom_components.blip.agent.turn import APOLOGY_REPLY, NAPPING_REPLY
from custom_components.blip.const import CONF_ROUTING, DOMAIN
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import (
    DEFAULT_CLAUDE_REPLY,
    DEFAULT_LOCAL_REPLY,
    FakeAnthropic,
    FakeLocalModel,
)


@dataclass(frozen=True)
class LocalFault:
    """A way the local model misbehaves."""

    name: str
    apply: Callable[[FakeLocalModel], None]


def _local_fault(name: str, **script: object) -> LocalFault:
    def apply(server: FakeLocalModel) -> None:
        for key, value in script.items():
            setattr(server.script, key, value)

    return LocalFault(name, apply)


LOCAL_FAULTS = [
    _local_fault("slow", first_token_delay=1.0),
    _local_fault("unauthorized", status=401),
    _local_fault("server_error", status=500),
    _local_fault("malformed", malformed_after_chunks=0),
    _local_fault("stalls_before_a_sentence", stall_after_chunks=1),
    _local_fault("junk", reply="<|im_start|>assistant <|im_start|>assistant ok ok ok ok."),
    _local_fault("empty", reply=""),
]


@pytest.mark.parametrize("fault", LOCAL_FAULTS, ids=lambda fault: fault.name)
async def test_local_faults_fall_back_to_claude(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    local_server: FakeLocalModel,
    fault: LocalFault,
) -> None:
    """A local-model turn whose server misbehaves is answered by Claude, after a filler."""
    fault.apply(local_server)
    await setup_blip(hass, blip_entry(anthropic_server, local_server))
    turn = await converse(hass, "do you like dogs")
    assert turn.result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert len(local_server.chat_requests) == 1
    assert len(anthropic_server.chat_requests) == 1
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    # Claude is a slow route: the child heard a filler while Blip switched over.
    assert turn.speech != DEFAULT_CLAUDE_REPLY


async def test_local_down_falls_back_to_claude(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, unused_tcp_port: int
) -> None:
    """Nothing listens at the local model's address: Claude answers."""
    entry = blip_entry(anthropic_server, local_url=f"http://127.0.0.1:{unused_tcp_port}")
    await setup_blip(hass, entry)
    turn = await converse(hass, "do you like dogs")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)


async def test_local_down_without_claude_says_the_brain_is_napping(
    hass: HomeAssistant, unused_tcp_port: int
) -> None:
    """No Claude and no local model: the friendly fixed reply, never silence."""
    await setup_blip(hass, blip_entry(local_url=f"http://127.0.0.1:{unused_tcp_port}"))
    turn = await converse(hass, "do you like dogs")
    assert turn.speech == NAPPING_REPLY


async def test_local_down_without_claude_still_drills(
    hass: HomeAssistant, unused_tcp_port: int
) -> None:
    """Spelling still works exactly from the drill engine when the model is down."""
    await setup_blip(hass, blip_entry(local_url=f"http://127.0.0.1:{unused_tcp_port}"))
    turn = await converse(hass, "how do you spell dog")
    assert "D, O, G" in turn.speech


async def test_maths_routed_to_claude_is_answered_exactly_when_claude_is_down(
    hass: HomeAssistant, unused_tcp_port: int
) -> None:
    """A family that sends maths to Claude, with no local model: Claude down, the drill engine
    still answers the sum exactly (after the filler), not the napping reply."""
    entry = blip_entry(
        claude_url=f"http://127.0.0.1:{unused_tcp_port}", options={CONF_ROUTING: {"math": "claude"}}
    )
    await setup_blip(hass, entry)
    turn = await converse(hass, "what is 7 times 8")
    assert "56" in turn.speech
    assert NAPPING_REPLY not in turn.speech


@dataclass(frozen=True)
class ClaudeFault:
    """A way Claude misbehaves before its answer starts."""

    name: str
    apply: Callable[[FakeAnthropic], None]


def _claude_fault(name: str, stop_reason: str | None = None, **script: object) -> ClaudeFault:
    def apply(server: FakeAnthropic) -> None:
        for key, value in script.items():
            setattr(server.script, key, value)
        if stop_reason:
            server.stop_reason = stop_reason

    return ClaudeFault(name, apply)


CLAUDE_FAULTS_BEFORE_ANSWER = [
    _claude_fault("slow", first_token_delay=1.0),
    _claude_fault("rate_limited", status=429),
    _claude_fault("server_error", status=500),
    _claude_fault("overloaded", status=529),
    _claude_fault("refusal", stop_reason="refusal", reply=""),
    _claude_fault("malformed", malformed_after_chunks=0),
    _claude_fault("stalls_at_once", stall_after_chunks=0),
    _claude_fault("empty", reply=""),
    _claude_fault("nothing_to_say", reply="**  **\n\n---\n"),  # markdown, no words
]


@pytest.mark.parametrize("fault", CLAUDE_FAULTS_BEFORE_ANSWER, ids=lambda fault: fault.name)
async def test_claude_faults_fall_back_to_local(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    fault: ClaudeFault,
) -> None:
    """A Claude turn whose server fails before answering is answered by the local model, in
    the same message as the filler already spoken."""
    fault.apply(anthropic_server)
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    turn = await converse(hass, "why is the sky blue")
    assert turn.result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert turn.roles == ["assistant"]
    assert turn.speech == turn.contents[0] + DEFAULT_LOCAL_REPLY
    assert len(anthropic_server.chat_requests) == 1
    assert len(openai_server.chat_requests) == 1


async def test_claude_down_falls_back_to_local(
    hass: HomeAssistant, openai_server: FakeLocalModel, unused_tcp_port: int
) -> None:
    """Nothing listens at Claude's address: the local model answers."""
    entry = blip_entry(local=openai_server, claude_url=f"http://127.0.0.1:{unused_tcp_port}")
    await setup_blip(hass, entry)
    turn = await converse(hass, "why is the sky blue")
    assert turn.speech.endswith(DEFAULT_LOCAL_REPLY)


@pytest.mark.parametrize(
    ("name", "script", "error_event"),
    [
        ("stall", {"stall_after_chunks": 2}, None),
        ("malformed", {"malformed_after_chunks": 2}, None),
        ("overloaded_event", {}, 2),
    ],
)
async def test_claude_failing_mid_answer_ends_with_a_spoken_apology(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    name: str,
    script: dict[str, object],
    error_event: int | None,
) -> None:
    """Once part of the answer was spoken, a failure is finished with a streamed apology in
    the same message (Home Assistant would not speak an error after TTS streaming started)."""
    for key, value in script.items():
        setattr(anthropic_server.script, key, value)
    anthropic_server.error_event_after_chunks = error_event
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    turn = await converse(hass, "why is the sky blue")
    filler, *answer, apology = turn.contents
    assert turn.roles == ["assistant"]
    # The two chunks Claude sent were spoken as they came, then the apology.
    assert "".join(answer) == DEFAULT_CLAUDE_REPLY[:24]
    assert apology == "... " + APOLOGY_REPLY
    assert turn.speech == filler + DEFAULT_CLAUDE_REPLY[:24] + apology
    assert openai_server.chat_requests == []  # no second answer on top of a half one


async def test_both_backends_down_after_filler_says_napping(
    hass: HomeAssistant, unused_tcp_port_factory: Callable[[], int]
) -> None:
    """Claude and the local model both unreachable: the filler, then the napping reply."""
    entry = blip_entry(
        local_url=f"http://127.0.0.1:{unused_tcp_port_factory()}",
        claude_url=f"http://127.0.0.1:{unused_tcp_port_factory()}",
    )
    await setup_blip(hass, entry)
    turn = await converse(hass, "why is the sky blue")
    filler, reply = turn.contents
    assert len(filler) > 60
    assert reply == NAPPING_REPLY
    assert turn.speech == filler + NAPPING_REPLY


async def test_rejected_key_at_runtime_starts_reauth_and_stops_asking_claude(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """A 401 mid-life starts the reauth flow; until then Claude is not waited on."""
    entry = blip_entry(anthropic_server, openai_server)
    await setup_blip(hass, entry)
    anthropic_server.valid_key = "sk-ant-rotated"
    turn = await converse(hass, "why is the sky blue")
    await hass.async_block_till_done()
    assert turn.speech.endswith(DEFAULT_LOCAL_REPLY)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

    again = await converse(hass, "why is the sky blue")
    assert again.speech.endswith(DEFAULT_LOCAL_REPLY)
    assert len(anthropic_server.chat_requests) == 1


async def test_backend_down_raises_a_repair_issue_until_it_recovers(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Three outages in a row open a repairs issue; the next good answer closes it."""
    entry = blip_entry(anthropic_server, openai_server)
    services = await setup_blip(hass, entry)
    services.health.rest_s = 0.0  # probe the local model again on every turn
    issue_id = f"backend_down_local_{entry.entry_id}"
    registry = ir.async_get(hass)

    openai_server.script.status = 500
    for _ in range(2):
        await converse(hass, "do you like dogs")
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    await converse(hass, "do you like dogs")
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "backend_down"
    assert issue.translation_placeholders == {
        "backend": "the local model (blip-edu)",
        "failure": "server_error",
    }

    openai_server.script.status = None
    turn = await converse(hass, "do you like dogs")
    assert turn.speech == DEFAULT_LOCAL_REPLY
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_down_backend_is_rested_while_another_answers(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """After three outages the local model is skipped for a while (Claude answers at once)."""
    services = await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    openai_server.script.first_token_delay = 1.0  # each try costs the local deadline
    for _ in range(3):
        await converse(hass, "do you like dogs")
    assert len(openai_server.chat_requests) == 3
    turn = await converse(hass, "do you like dogs")
    assert len(openai_server.chat_requests) == 3
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert services.health.resting("local")
