"""Review finding: the wake word server accepted any sample rate a client claimed.

An ``audio-chunk`` claiming a rate of 1 Hz is resampled to 16 kHz on the event loop: each byte
becomes 8000 samples, so one 8 MB chunk (the payload limit) asks numpy for hundreds of
gigabytes and blocks every other satellite meanwhile. The speech-to-text server already refuses
formats no microphone has; the wake word server must too. (The test sends a tiny payload: it
checks the refusal, not the damage.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from tests.wyoming_fixtures import (
    ServerAddress,
    detect_wake_word,
    event_line,
    parse_events,
    running_server,
    send_raw,
    speak,
)
from wyoming_servers.audio import PcmAudio, silence
from wyoming_servers.wake.handler import WakeEventHandler, WakeServerContext
from wyoming_servers.wake.models import DetectionSettings, discover_models


@pytest.fixture
def wake_executor() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(2, thread_name_prefix="review-wake")
    yield executor
    executor.shutdown(wait=True)


@pytest.fixture
async def wake_server(wake_executor: ThreadPoolExecutor) -> AsyncIterator[ServerAddress]:
    context = WakeServerContext(discover_models(()), DetectionSettings(), wake_executor)
    async with running_server(partial(WakeEventHandler, context)) as address:
        yield address


@pytest.fixture(scope="module")
def hey_jarvis() -> PcmAudio:
    audio = speak("Hey Jarvis.")
    padding = silence(1.0, audio.rate).pcm
    return PcmAudio(padding + audio.pcm + padding, audio.rate, audio.width, audio.channels)


@pytest.mark.parametrize(
    "audio_format",
    [
        {"rate": 1, "width": 2, "channels": 1},  # each byte would become 8000 samples
        {"rate": 16000, "width": 2, "channels": 100_000},
        {"rate": 10**12, "width": 2, "channels": 1},
    ],
    ids=["1-hz", "100000-channels", "terahertz"],
)
async def test_a_chunk_in_an_impossible_format_is_refused(
    wake_server: ServerAddress, hey_jarvis: PcmAudio, audio_format: dict[str, int]
) -> None:
    """The client gets an error instead of its audio being converted; others are served."""
    payload = b"\x00\x01" * 32
    garbage = event_line("audio-chunk", data=audio_format, payload_length=len(payload)) + payload
    events = parse_events(await send_raw(wake_server, garbage))
    assert [event.type for event in events] == ["error"]
    assert events[0].data["code"] == "bad-event"
    assert [event.type for event in await detect_wake_word(wake_server, hey_jarvis)] == [
        "detection"
    ]
