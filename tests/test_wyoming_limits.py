"""Hostile clients against the Wyoming servers: bounded work per request, bounded connections.

Real servers (the shared serve path, the real piper voice, the real wake word models) on
loopback, driven by raw sockets the way a confused or hostile client on the LAN would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
import logging
import threading
import tracemalloc

import pytest

from tests.wyoming_fixtures import (
    ServerAddress,
    default_voice,
    detect_wake_word,
    event_line,
    parse_events,
    running_server,
    send_raw,
    speak,
    synthesize,
)
from wyoming_servers.audio import (
    CONVERT_PIECE_FRAMES,
    PcmAudio,
    PcmFormat,
    StreamConverter,
    silence,
)
from wyoming_servers.serve import ServeLimits, parse_allow
from wyoming_servers.tts.__main__ import build_parser as tts_parser
from wyoming_servers.tts.cache import SentenceAudioCache
from wyoming_servers.tts.engine import (
    MAX_PHONEMES_PER_CALL,
    PiperSynthesizer,
    SentenceTooLongError,
    SynthesisSettings,
    TtsEngine,
    phoneme_pieces,
)
from wyoming_servers.tts.handler import MAX_QUEUED_JOBS, TtsEventHandler, TtsHandlerOptions
from wyoming_servers.wake.__main__ import build_parser as wake_parser
from wyoming_servers.wake.handler import WakeEventHandler, WakeServerContext
from wyoming_servers.wake.models import DetectionSettings, discover_models

MAX_TEXT_CHARS = 2000


@pytest.fixture(scope="module")
def engine() -> Iterator[TtsEngine]:
    engine = TtsEngine([default_voice()], cache=SentenceAudioCache(disk_dir=None))
    # Start both synthesis threads now, before any test watches for threads left behind.
    barrier = threading.Barrier(2)
    for job in [engine._executor.submit(barrier.wait) for _ in range(2)]:
        job.result(timeout=10)
    yield engine
    engine.close()


@pytest.fixture
async def tts_server(engine: TtsEngine) -> AsyncIterator[ServerAddress]:
    options = TtsHandlerOptions(max_text_chars=MAX_TEXT_CHARS)
    async with running_server(partial(TtsEventHandler, engine, options)) as address:
        yield address


@pytest.fixture
def wake_executor() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(2, thread_name_prefix="limits-wake")
    yield executor
    executor.shutdown(wait=True)


def _wake_factory(executor: ThreadPoolExecutor) -> partial[WakeEventHandler]:
    context = WakeServerContext(discover_models(()), DetectionSettings(), executor)
    return partial(WakeEventHandler, context)


# -- text-to-speech: what reaches piper --------------------------------------------------------


async def test_a_long_sentence_reaches_piper_in_bounded_pieces(
    tts_server: ServerAddress, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "1, 2, ... 150." was one 1.85 GB model call; every call is now at most 120 phonemes."""
    piper = default_voice().piper
    sizes: list[int] = []
    real = piper.phonemes_to_ids

    def recording(phonemes: list[str]) -> list[int]:
        sizes.append(len(phonemes))
        return real(phonemes)

    monkeypatch.setattr(piper, "phonemes_to_ids", recording)
    text = ", ".join(str(number) for number in range(1, 61)) + "."
    reply = await synthesize(tts_server, text)
    assert reply.types == ["audio-start", "audio-chunk", "audio-stop"]
    assert len(sizes) > 2
    assert max(sizes) <= MAX_PHONEMES_PER_CALL
    assert reply.audio.duration_seconds > 15  # all sixty numbers were said


def test_phoneme_pieces_cut_at_a_pause_then_between_words() -> None:
    phonemes = list("ab cd, ef gh ij")
    assert phoneme_pieces(phonemes, 8) == [list("ab cd,"), list("ef gh ij")]
    assert phoneme_pieces(phonemes, 7) == [list("ab cd,"), list("ef gh"), list("ij")]
    assert phoneme_pieces(list("abcdefghij"), 4) == [list("abcd"), list("efgh"), list("ij")]
    assert phoneme_pieces(list("short"), 8) == [list("short")]


async def test_text_that_normalisation_expands_is_refused_before_piper(
    tts_server: ServerAddress, engine: TtsEngine
) -> None:
    """U+FDFA is 18 characters after NFKC: 300 of them arrived short and reached piper long."""
    calls = engine.synthesis_calls
    reply = await synthesize(tts_server, "\ufdfa" * 300)
    assert [error["code"] for error in reply.errors()] == ["text-too-long"]
    assert engine.synthesis_calls == calls


def test_a_sentence_with_too_many_phonemes_is_refused_before_the_model() -> None:
    synthesizer = PiperSynthesizer(default_voice(), SynthesisSettings())
    with pytest.raises(SentenceTooLongError, match="phonemes"):
        synthesizer.synthesize("Abracadabra " * 1000, None)


async def test_a_client_that_never_reads_cannot_queue_without_bound(
    tts_server: ServerAddress,
) -> None:
    """4,000 queued requests grew the server linearly; past the bound they are refused."""
    request = event_line("synthesize", data={"text": "Hello there."})
    raw = await send_raw(tts_server, request * (MAX_QUEUED_JOBS + 100), read_timeout=60)
    events = parse_events(raw)
    errors = [event.data["code"] for event in events if event.type == "error"]
    assert errors == ["queue-full"]
    assert sum(event.type == "audio-stop" for event in events) <= MAX_QUEUED_JOBS


# -- the serve path ----------------------------------------------------------------------------


async def test_connections_over_the_per_client_limit_are_refused(
    wake_executor: ThreadPoolExecutor,
) -> None:
    limits = ServeLimits(max_connections=10, max_connections_per_client=2)
    async with running_server(_wake_factory(wake_executor), limits) as address:
        held = [await asyncio.open_connection(address.host, address.port) for _ in range(2)]
        refused = parse_events(await send_raw(address, b"", read_timeout=5))
        assert [event.data["code"] for event in refused] == ["too-many-connections"]
        for _, writer in held:
            writer.close()
            await writer.wait_closed()
        # Once they are gone, the same client is served again.
        hey = speak("Hey Jarvis.")
        padding = silence(1.0, hey.rate).pcm
        audio = PcmAudio(padding + hey.pcm + padding, hey.rate, 2, 1)
        for _ in range(50):  # the server notices the closed connections within a few loops
            events = await detect_wake_word(address, audio)
            if events and events[0].type == "detection":
                break
        assert [event.type for event in events] == ["detection"]


async def test_total_connection_limit(wake_executor: ThreadPoolExecutor) -> None:
    limits = ServeLimits(max_connections=3, max_connections_per_client=10)
    async with running_server(_wake_factory(wake_executor), limits) as address:
        held = [await asyncio.open_connection(address.host, address.port) for _ in range(3)]
        refused = parse_events(await send_raw(address, b"", read_timeout=5))
        assert [event.data["code"] for event in refused] == ["too-many-connections"]
        for _, writer in held:
            writer.close()


async def test_silent_and_trickling_connections_are_closed_when_idle(
    wake_executor: ThreadPoolExecutor,
) -> None:
    """30 one-byte-per-second connections used to be held forever."""
    limits = ServeLimits(idle_timeout=0.5)
    async with running_server(_wake_factory(wake_executor), limits) as address:
        silent = parse_events(await send_raw(address, b"", half_close=False, read_timeout=10))
        assert [event.data["code"] for event in silent] == ["idle-timeout"]

        reader, writer = await asyncio.open_connection(address.host, address.port)
        received = b""
        reset = False
        try:
            for byte in b'{"type": "describe"':  # a header that never ends
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    received += await asyncio.wait_for(reader.read(65536), 0.1)
                except TimeoutError:
                    continue
                if received:
                    break
            received += await asyncio.wait_for(reader.read(), 5)
        except (ConnectionResetError, BrokenPipeError):
            # The server closed while trickled bytes sat unread in its buffer, so the kernel
            # reset the connection, which can drop the error event before it is read.
            reset = True
        writer.close()
        codes = [event.data["code"] for event in parse_events(received)]
        assert codes == ["idle-timeout"] or (reset and codes in ([], ["idle-timeout"]))


async def test_a_client_waiting_for_long_synthesis_is_not_idle(engine: TtsEngine) -> None:
    limits = ServeLimits(idle_timeout=0.3)
    options = TtsHandlerOptions(max_text_chars=MAX_TEXT_CHARS)
    async with running_server(partial(TtsEventHandler, engine, options), limits) as address:
        text = (
            "Once upon a time a very small dinosaur walked all the way down to the river "
            "to look for its friends, and it found them playing by the water."
        )
        reply = await synthesize(address, text)
    assert reply.errors() == []
    assert reply.types == ["audio-start", "audio-chunk", "audio-stop"]


def test_only_loopback_is_allowed_unless_allow_names_more() -> None:
    default = ServeLimits()
    assert default.allows("127.0.0.1") and default.allows("::1")
    assert not default.allows("192.168.1.20")
    lan = ServeLimits(allow=parse_allow(["192.168.1.0/24,10.0.0.7"]))
    assert lan.allows("192.168.1.20") and lan.allows("::ffff:192.168.1.20")
    assert lan.allows("10.0.0.7") and not lan.allows("10.0.0.8")
    assert not lan.allows("not an address")
    with pytest.raises(ValueError, match="not an address"):
        parse_allow(["192.168.1.0/33"])


@pytest.mark.parametrize(("parser", "port"), [(tts_parser, 10200), (wake_parser, 10400)])
def test_servers_listen_on_loopback_by_default(parser, port: int) -> None:  # type: ignore[no-untyped-def]
    args = parser().parse_args([])
    assert args.uri == f"tcp://127.0.0.1:{port}"
    assert args.allow == []


async def test_a_deeply_nested_header_is_a_clean_bad_event(
    wake_executor: ThreadPoolExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    """It used to log a full RecursionError traceback per connection."""
    async with running_server(_wake_factory(wake_executor)) as address:
        with caplog.at_level(logging.WARNING):
            events = parse_events(await send_raw(address, b"[" * 60000 + b"\n"))
    assert [event.data["code"] for event in events] == ["bad-event"]
    assert not [record for record in caplog.records if record.exc_info]


# -- audio: bounded conversion -----------------------------------------------------------------


def test_a_large_chunk_converts_in_bounded_memory() -> None:
    """A chunk of 4 kHz 8-bit audio, filtered in one piece, would cost 1 GiB per MiB of it."""
    converter = StreamConverter(PcmFormat(16000, 2, 1))
    chunk = bytes(range(256)) * (1024 * 1024 // 256)
    tracemalloc.start()
    try:
        pcm = converter.convert(chunk, PcmFormat(4000, 1, 1))
        pcm += converter.flush()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(pcm) == 4 * len(chunk) * 2  # upsampled 4x, to 16-bit
    # The output is 8 MiB, held twice while it is joined; one piece's arrays add at most 32 MiB,
    # whatever the chunk's size.
    assert peak < 2 * len(pcm) + 32 * 1024 * 1024


def test_converting_in_one_call_matches_a_stream_of_small_chunks() -> None:
    """The pieces a big chunk is cut into leave no seam: the same bytes as a 20 ms stream."""
    audio = speak("Hey Jarvis. " * 4)  # longer than one piece
    assert audio.frames > 2 * CONVERT_PIECE_FRAMES
    source, target = audio.format, PcmFormat(16000, 2, 1)
    whole = StreamConverter(target)
    streamed = StreamConverter(target)
    step = audio.rate * 2 // 50
    pieces = b"".join(
        streamed.convert(audio.pcm[offset : offset + step], source)
        for offset in range(0, len(audio.pcm), step)
    )
    assert whole.convert(audio.pcm, source) + whole.flush() == pieces + streamed.flush()


# -- wake word: chunk size ---------------------------------------------------------------------


async def test_a_wake_chunk_over_ten_seconds_gets_a_correct_error(
    wake_executor: ThreadPoolExecutor,
) -> None:
    async with running_server(_wake_factory(wake_executor)) as address:
        payload = bytes(16000 * 2 * 11)  # 11 s at 16 kHz, 16-bit mono
        header = event_line(
            "audio-chunk",
            data={"rate": 16000, "width": 2, "channels": 1},
            payload_length=len(payload),
        )
        events = parse_events(await send_raw(address, header + payload))
    assert [event.data["code"] for event in events] == ["bad-event"]
    assert "at most 10 s" in events[0].data["text"]
    assert "11.0 s" in events[0].data["text"]


async def test_a_long_wake_chunk_within_the_limit_is_scored(
    wake_executor: ThreadPoolExecutor,
) -> None:
    """A 9 s chunk holding the wake word is heard like the same audio in small chunks."""
    hey = speak("Hey Jarvis.")
    pad = silence(4.0, hey.rate).pcm
    audio = PcmAudio(pad + hey.pcm + pad, hey.rate, 2, 1)
    assert 7 < audio.duration_seconds < 10
    async with running_server(_wake_factory(wake_executor)) as address:
        events = await detect_wake_word(address, audio, chunk_seconds=10)
    assert [event.type for event in events] == ["detection"]
