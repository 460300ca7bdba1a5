"""One turn from a paired device, through the child's own agent, as a satellite's turn goes.

The text goes to Home Assistant's ``conversation.async_converse`` with the child's Blip agent,
inside a chat log whose delta listener is ours (exactly what Assist's pipeline does), so the
turn gets the agent's safety check, routing, limits, quiet hours, progress and stage timings.
Each assistant delta is sent to the device as text and fed at once into a Blip voice stream
(Home Assistant's TTS, streaming input), so the filler's audio starts while the answer is still
being thought of.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
import logging
import secrets
from typing import Any, Final

from homeassistant.components import conversation, tts
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import chat_session, entity_registry as er

from ..const import CONF_CHILD_NAME, DOMAIN
from ..progress_model import GOODBYES
from .access import AudioTurn, DeviceAccess
from .pairing import DeviceRecord

_LOGGER = logging.getLogger(__name__)

AUDIO_FORMATS: Final = {"mp3": "audio/mpeg", "wav": "audio/wav"}
DEFAULT_AUDIO_FORMAT: Final = "mp3"
AUDIO_PATH: Final = "/api/blip/device/audio/{turn_id}"
# What a device hears if the agent itself cannot be reached: never silence.
UNREACHABLE_REPLY: Final = "Oops, Blip can't hear you right now. Please try again in a moment."


def child_agent_id(hass: HomeAssistant, child_id: str) -> str | None:
    """The child's Blip conversation entity (its unique id is the child's subentry id)."""
    return er.async_get(hass).async_get_entity_id("conversation", DOMAIN, child_id)


def blip_voice_id(hass: HomeAssistant, entry_id: str) -> str | None:
    """The entry's Blip voice TTS entity, when the family configured one."""
    entity_id = er.async_get(hass).async_get_entity_id("tts", DOMAIN, f"{entry_id}-voice")
    if entity_id is None or hass.states.get(entity_id) is None:
        return None
    return entity_id


def napping_reason(answer: str, child_name: str) -> str | None:
    """ "paused", "quiet_hours" or "daily_minutes" when the agent said its kind goodbye."""
    for reason, goodbye in GOODBYES.items():
        if answer.strip() == goodbye.format(name=child_name).strip():
            return reason
    return None


async def async_run_turn(
    hass: HomeAssistant,
    access: DeviceAccess,
    record: DeviceRecord,
    text: str,
    audio_format: str = DEFAULT_AUDIO_FORMAT,
) -> AsyncIterator[dict[str, Any]]:
    """Events for the device: ``start`` (audio URL), ``text`` deltas, then ``done``."""
    entry = hass.config_entries.async_get_entry(access.entry_id)
    subentry = entry.subentries.get(record.child_id) if entry is not None else None
    agent_id = child_agent_id(hass, record.child_id)
    if entry is None or subentry is None or agent_id is None:
        yield {"type": "error", "error": "child_unavailable", "text": UNREACHABLE_REPLY}
        return
    child_name = str(subentry.data.get(CONF_CHILD_NAME, ""))

    spoken: asyncio.Queue[str | None] = asyncio.Queue()
    events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    audio_url = _start_audio(hass, access, record, entry.entry_id, spoken, audio_format)
    yield {"type": "start", "audio": audio_url, "child": child_name}

    streamed: list[str] = []
    role: str | None = None

    def on_delta(_chat_log: conversation.ChatLog, delta: dict[str, Any]) -> None:
        nonlocal role
        if new_role := delta.get("role"):
            role = new_role
            # A second assistant message must not run into the first one's last word.
            if role == "assistant" and streamed and not streamed[-1][-1:].isspace():
                streamed.append(" ")
                spoken.put_nowait(" ")
        if role == "assistant" and (content := delta.get("content")):
            streamed.append(content)
            spoken.put_nowait(content)
            events.put_nowait({"type": "text", "text": content})

    async def converse() -> str:
        conversation_id = access.conversations.get(record.device_id)
        try:
            with (
                chat_session.async_get_chat_session(hass, conversation_id) as session,
                conversation.async_get_chat_log(
                    hass,
                    session,
                    conversation.ConversationInput(
                        text=text,
                        context=Context(),
                        conversation_id=session.conversation_id,
                        device_id=None,
                        satellite_id=None,
                        language=hass.config.language,
                        agent_id=agent_id,
                    ),
                    chat_log_delta_listener=on_delta,
                ),
            ):
                access.conversations[record.device_id] = session.conversation_id
                result = await conversation.async_converse(
                    hass,
                    text,
                    session.conversation_id,
                    Context(),
                    language=hass.config.language,
                    agent_id=agent_id,
                )
            speech = result.response.speech.get("plain", {}).get("speech", "")
        except Exception:
            # Never a silent device: log (without the child's words) and say something kind.
            _LOGGER.exception("Blip's agent failed a device turn")
            speech = ""
        if not streamed:
            # Fixed replies (limits, quiet hours) are added whole, not streamed.
            answer = speech or UNREACHABLE_REPLY
            spoken.put_nowait(answer)
            events.put_nowait({"type": "text", "text": answer})
            streamed.append(answer)
        spoken.put_nowait(None)
        events.put_nowait(None)
        return "".join(streamed)

    task = hass.async_create_task(converse(), "blip device turn")
    try:
        while (event := await events.get()) is not None:
            yield event
        answer = await task
    finally:
        if not task.done():
            # The device hung up: the turn still finishes (progress, timings), unheard.
            _LOGGER.debug("A Blip device left before its turn finished")
    yield {"type": "done", "text": answer, "napping": napping_reason(answer, child_name)}


def _start_audio(
    hass: HomeAssistant,
    access: DeviceAccess,
    record: DeviceRecord,
    entry_id: str,
    spoken: asyncio.Queue[str | None],
    audio_format: str,
) -> str | None:
    """Start Blip voice on the text as it comes; the URL the device fetches it from."""
    if (voice := blip_voice_id(hass, entry_id)) is None:
        return None
    if audio_format not in AUDIO_FORMATS:
        audio_format = DEFAULT_AUDIO_FORMAT

    async def message() -> AsyncGenerator[str]:
        while (part := await spoken.get()) is not None:
            yield part

    try:
        stream = tts.async_create_stream(
            hass, voice, None, {tts.ATTR_PREFERRED_FORMAT: audio_format}
        )
        stream.async_set_message_stream(message())
    except HomeAssistantError as err:
        _LOGGER.warning("Blip voice could not start for a device: %s", err)
        return None
    turn_id = secrets.token_urlsafe(24)
    access.add_audio_turn(turn_id, AudioTurn(stream, record.device_id, AUDIO_FORMATS[audio_format]))
    return AUDIO_PATH.format(turn_id=turn_id)
