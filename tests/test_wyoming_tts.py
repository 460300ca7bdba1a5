"""Blip's Wyoming TTS server over real TCP with the real piper voice.

The voice is loaded and the packaged phrase list prepared once per session (into a temporary
cache folder); each test gets its own server on a free loopback port. The engine's counter of
real piper calls tells cache hits from synthesis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from functools import partial
import io
from pathlib import Path
import subprocess
import sys
import time

from homeassistant.components import tts
from homeassistant.components.tts.const import DATA_COMPONENT
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import read_event
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeVoice,
)

from tests.wyoming_fixtures import (
    REPO_ROOT,
    ServerAddress,
    default_voice,
    describe,
    event_line,
    parse_events,
    rms,
    running_server,
    send_raw,
    server_process,
    synthesize,
    synthesize_streaming,
)
from wyoming_servers.serve import encode_event
from wyoming_servers.tts.__main__ import default_phrases_path, load_phrase_sentences
from wyoming_servers.tts.cache import SentenceAudioCache
from wyoming_servers.tts.engine import TtsEngine
from wyoming_servers.tts.handler import (
    _FIRST_AUDIO_HANDOFF_SECONDS,
    TtsEventHandler,
    TtsHandlerOptions,
    _chunk_header_bytes,
)

MAX_TEXT_CHARS = 2000
VOICE_NAME = "en_US-joe-medium"


@pytest.fixture(scope="session")
def tts_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Plays the role of $XDG_CACHE_HOME for every TTS server in this session."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(scope="session")
def tts_engine(tts_cache_home: Path) -> Iterator[TtsEngine]:
    """The default voice with the packaged phrase list prepared (synthesized once, saved to disk)."""
    cache = SentenceAudioCache(disk_dir=tts_cache_home / "blip" / "wyoming-tts")
    engine = TtsEngine([default_voice()], cache=cache, max_concurrent=2)
    report = engine.prepare_phrases(load_phrase_sentences([default_phrases_path()]))
    assert report.synthesized == report.sentences > 50
    yield engine
    engine.close()


@pytest.fixture
async def tts_server(tts_engine: TtsEngine) -> AsyncIterator[ServerAddress]:
    options = TtsHandlerOptions(max_text_chars=MAX_TEXT_CHARS)
    async with running_server(partial(TtsEventHandler, tts_engine, options)) as address:
        yield address


# -- describe and synthesize -----------------------------------------------------------------


async def test_describe_lists_the_voice_and_streaming_support(tts_server: ServerAddress) -> None:
    info = await describe(tts_server)
    [program] = info.tts
    assert program.installed and program.supports_synthesize_streaming
    assert [voice.name for voice in program.voices] == [VOICE_NAME]
    assert program.voices[0].languages == ["en_US"]
    # No cache statistics: hit counts would tell any client what was said recently.
    assert "hits=" not in program.description and "phrases=" not in program.description


async def test_synthesize_returns_real_speech(tts_server: ServerAddress) -> None:
    reply = await synthesize(
        tts_server, "Why is the sky blue? Because sunlight scatters in the air."
    )
    assert reply.types == ["audio-start", "audio-chunk", "audio-stop"]
    audio = reply.audio
    assert (audio.rate, audio.width, audio.channels) == (22050, 2, 1)
    assert 2.0 < audio.duration_seconds < 8.0
    assert rms(audio) > 0.02, "speech, not silence"


async def test_streaming_speaks_each_sentence_as_soon_as_it_is_complete(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    calls_before = tts_engine.synthesis_calls
    async with AsyncTcpClient(tts_server.host, tts_server.port, read_timeout=30) as client:
        await client.write_event(SynthesizeStart().event())
        for piece in ["Octopuses have", " three hearts", ". "]:
            await client.write_event(SynthesizeChunk(text=piece).event())
        # The first sentence is spoken while the rest of the answer is still being written.
        first_events = [await client.read_event(), await client.read_event()]
        assert [event.type for event in first_events if event] == ["audio-start", "audio-chunk"]
        rest = ["Their blood is blue", "! Isn't that", " strange?"]
        for piece in rest:
            await client.write_event(SynthesizeChunk(text=piece).event())
        # Home Assistant's compatibility copy of the whole text: must not be spoken twice.
        await client.write_event(
            Synthesize(text="Octopuses have three hearts. " + "".join(rest)).event()
        )
        await client.write_event(SynthesizeStop().event())
        events = list(first_events)
        while (event := await client.read_event()) is not None:
            events.append(event)
            if event.type == "synthesize-stopped":
                break
    types = [event.type for event in events if event is not None]
    assert types[0] == "audio-start" and types.count("audio-start") == 1
    assert types[-2:] == ["audio-stop", "synthesize-stopped"] and types.count("audio-stop") == 1
    assert set(types[1:-2]) == {"audio-chunk"}
    assert tts_engine.synthesis_calls - calls_before == 3
    seconds = sum(len(e.payload or b"") for e in events if e and e.type == "audio-chunk") / (
        22050 * 2
    )
    assert 3.0 < seconds < 12.0


async def test_long_opening_sentence_is_spoken_from_its_first_clause(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    calls_before = tts_engine.synthesis_calls
    async with AsyncTcpClient(tts_server.host, tts_server.port, read_timeout=30) as client:
        await client.write_event(SynthesizeStart().event())
        await client.write_event(SynthesizeChunk(text="Long ago in the mountains, a").event())
        # Audio starts before the opening sentence is even finished.
        first_events = [await client.read_event(), await client.read_event()]
        assert [event.type for event in first_events if event] == ["audio-start", "audio-chunk"]
        await client.write_event(
            SynthesizeChunk(text=" little goat learned to climb the rocks. ").event()
        )
        await client.write_event(SynthesizeStop().event())
        while (
            event := await client.read_event()
        ) is not None and event.type != "synthesize-stopped":
            pass
    assert tts_engine.synthesis_calls - calls_before == 2  # the clause, then the rest


async def test_streamed_answer_matches_home_assistant_sequence(tts_server: ServerAddress) -> None:
    reply = await synthesize_streaming(
        tts_server,
        ["Hmm, let me think", " about that. Ooh, that's a really great", " question! ", "Yes."],
    )
    assert reply.types == ["audio-start", "audio-chunk", "audio-stop", "synthesize-stopped"]
    assert reply.audio.duration_seconds > 2.5


async def test_whisper_hears_what_the_server_says(
    tts_server: ServerAddress, tmp_path: Path
) -> None:
    """The audio is intelligible speech: Blip's own speech-to-text server transcribes it back."""
    reply = await synthesize(tts_server, "Why is the sky blue? Can you tell me?")
    audio = reply.audio
    with server_process("wyoming_servers.stt", log_path=tmp_path / "stt.log") as stt:
        async with stt.address.client() as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(
                AudioStart(rate=audio.rate, width=audio.width, channels=audio.channels).event()
            )
            step = audio.rate // 10 * audio.width
            for offset in range(0, len(audio.pcm), step):
                chunk = AudioChunk(
                    rate=audio.rate,
                    width=audio.width,
                    channels=audio.channels,
                    audio=audio.pcm[offset : offset + step],
                )
                await client.write_event(chunk.event())
            await client.write_event(AudioStop().event())
            while (event := await client.read_event()) is not None and not Transcript.is_type(
                event.type
            ):
                pass
    assert event is not None
    words = Transcript.from_event(event).text.lower()
    assert "sky" in words and "blue" in words and "tell me" in words


# -- the phrase cache ------------------------------------------------------------------------


async def test_phrase_is_served_from_cache_byte_identical_without_piper(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    calls_before = tts_engine.synthesis_calls
    hits_before = tts_engine.cache.stats().hits
    first = await synthesize(tts_server, "Great job! Let's try another one!")
    second = await synthesize(
        tts_server, "Great   job!  Let’s try another one!"
    )  # same, normalised
    streamed = await synthesize_streaming(tts_server, ["Great", " job! Let's try ", "another one!"])
    assert tts_engine.synthesis_calls == calls_before, "phrases must not reach piper"
    assert tts_engine.cache.stats().hits - hits_before == 6
    assert first.audio.pcm == second.audio.pcm == streamed.audio.pcm
    assert first.audio.duration_seconds > 1.0


async def test_phrase_inside_a_streamed_answer_is_a_cache_hit(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    cached = await synthesize(tts_server, "Great job!")
    calls_before = tts_engine.synthesis_calls
    reply = await synthesize_streaming(tts_server, ["Great job! Seven plus ", "two is nine."])
    assert tts_engine.synthesis_calls - calls_before == 1  # only the new sentence
    assert reply.audio.pcm.startswith(cached.audio.pcm)
    assert len(reply.audio.pcm) > len(cached.audio.pcm)


async def test_a_request_of_phrases_is_remembered_whole_and_a_mixed_one_is_not(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    """A filler asked again is answered from the phrases it was cut into, without cutting it."""
    filler = "Hmm, let me think about that. Ooh, that's a really great question!"
    mixed = "Great job! A baby wombat is called a joey."
    synthesizer, speaker_id = tts_engine.resolve(None, None)
    calls_before = tts_engine.synthesis_calls
    first = await synthesize(tts_server, filler)
    hits_before = tts_engine.cache.stats().hits
    second = await synthesize(tts_server, filler)
    await synthesize(tts_server, mixed)
    assert tts_engine.synthesis_calls - calls_before == 1  # only the wombat
    assert tts_engine.cache.stats().hits - hits_before == 3  # 2 phrases, then "Great job!"
    assert first.audio.pcm == second.audio.pcm and first.audio.duration_seconds > 2.0
    remembered = tts_engine.phrase_answer(synthesizer, speaker_id, filler, False)
    assert remembered is not None and len(remembered) == 2
    assert b"".join(audio.pcm for audio in remembered) == first.audio.pcm
    assert tts_engine.phrase_answer(synthesizer, speaker_id, mixed, False) is None


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_phrase_after_a_new_sentence_keeps_its_place(
    tts_server: ServerAddress, tts_engine: TtsEngine, streamed: bool
) -> None:
    """A cached phrase is spoken at once only when nothing is ahead of it: behind a sentence
    being synthesized it waits its turn, so the answer's audio stays in order."""
    fresh = f"Seven plus {3 if streamed else 4} is a number you can count to."
    phrase = "Great job!"
    if streamed:
        reply = await synthesize_streaming(tts_server, [f"{fresh} ", phrase])
    else:
        reply = await synthesize(tts_server, f"{fresh} {phrase}")
    calls_after = tts_engine.synthesis_calls
    alone = [await synthesize(tts_server, text) for text in (fresh, phrase)]
    assert tts_engine.synthesis_calls == calls_after  # both from the cache now
    assert reply.audio.pcm == alone[0].audio.pcm + alone[1].audio.pcm
    assert reply.types.count("audio-start") == reply.types.count("audio-stop") == 1


class _WriteRecordingHandler(TtsEventHandler):
    """The real handler, noting when each of its writes started and what it carried."""

    writes: list[tuple[float, float, bytes]]  # (started, returned, bytes)

    async def write_encoded(self, pieces: Iterable[bytes | memoryview]) -> None:
        pieces = list(pieces)
        started = time.monotonic()
        await super().write_encoded(pieces)
        self.writes.append((started, time.monotonic(), b"".join(pieces)))


async def test_a_cached_answer_writes_its_first_audio_alone_then_lets_the_client_run(
    tts_engine: TtsEngine,
) -> None:
    """AudioStart and the first chunk leave in one write; the rest only after the event loop
    was left idle for a moment, so a client on the same CPU core reads its first audio while
    the rest waits, instead of after the whole clip was copied out."""
    writes: list[tuple[float, float, bytes]] = []

    def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> TtsEventHandler:
        recording = _WriteRecordingHandler(tts_engine, TtsHandlerOptions(), reader, writer)
        recording.writes = writes
        return recording

    filler = "Hmm, let me think about that. Ooh, that's a really great question!"
    async with running_server(handler) as address:
        warm = await synthesize(address, filler)
        writes.clear()
        calls_before = tts_engine.synthesis_calls
        reply = await synthesize(address, filler)
    assert tts_engine.synthesis_calls == calls_before  # a cache hit
    assert reply.audio.pcm == warm.audio.pcm
    first = parse_events(writes[0][2])
    assert [event.type for event in first] == ["audio-start", "audio-chunk"]
    assert len(first[1].payload or b"") == 1024 * 2  # one chunk of 1024 16-bit samples
    assert writes[1][0] - writes[0][1] >= _FIRST_AUDIO_HANDOFF_SECONDS * 0.9
    rest = parse_events(b"".join(write[2] for write in writes[1:]))
    assert [event.type for event in rest].count("audio-stop") == 1
    assert rest[-1].type == "audio-stop"
    assert first[1].payload + b"".join(e.payload or b"" for e in rest) == reply.audio.pcm


def test_pre_encoded_chunk_headers_are_what_the_library_writes() -> None:
    pcm = bytes(range(256)) * 8
    for length in (len(pcm), 100):
        chunk = AudioChunk(rate=22050, width=2, channels=1, audio=pcm[:length])
        assert _chunk_header_bytes(22050, 2, 1, length) + pcm[:length] == encode_event(
            chunk.event()
        )
        event = read_event(io.BytesIO(encode_event(chunk.event())))
        assert event is not None and AudioChunk.from_event(event).audio == pcm[:length]


async def test_recent_sentences_are_remembered(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    text = "A baby kangaroo is called a joey."
    calls_before = tts_engine.synthesis_calls
    first = await synthesize(tts_server, text)
    second = await synthesize(tts_server, text)
    assert tts_engine.synthesis_calls - calls_before == 1
    assert first.audio.pcm == second.audio.pcm and rms(first.audio) > 0.02


async def test_concurrent_requests_for_one_new_sentence_share_one_synthesis(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    calls_before = tts_engine.synthesis_calls
    replies = await asyncio.gather(
        *(synthesize(tts_server, "Penguins cannot fly but they swim fast.") for _ in range(6))
    )
    assert tts_engine.synthesis_calls - calls_before == 1
    assert len({reply.audio.pcm for reply in replies}) == 1


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "voice", "code"),
    [
        ("", None, "empty-text"),
        ("   \n ", None, "empty-text"),
        ("La " * 1000, None, "text-too-long"),
        ("Hello!", SynthesizeVoice(name="en_GB-nobody-medium"), "unknown-voice"),
    ],
)
async def test_bad_requests_get_a_clear_error_and_a_clean_close(
    tts_server: ServerAddress, text: str, voice: SynthesizeVoice | None, code: str
) -> None:
    reply = await synthesize(tts_server, text, voice=voice)
    assert [error["code"] for error in reply.errors()] == [code]
    assert reply.types == ["error"]  # no audio, then the server closed the connection
    assert (await describe(tts_server)).tts, "the server keeps serving"


async def test_ssml_and_markup_are_not_read_aloud(
    tts_server: ServerAddress, tts_engine: TtsEngine
) -> None:
    plain = await synthesize(tts_server, "Great job!")
    calls_before = tts_engine.synthesis_calls
    ssml = await synthesize(
        tts_server, "<speak><prosody rate='fast'>Great job!</prosody></speak>", text_format="ssml"
    )
    markdown = await synthesize(tts_server, "**Great job!** 🎉")
    assert tts_engine.synthesis_calls == calls_before
    assert ssml.audio.pcm == markdown.audio.pcm == plain.audio.pcm
    only_symbols = await synthesize(tts_server, "<br/> 🎉 *** ...")
    assert only_symbols.types == ["audio-start", "audio-stop"], (
        "nothing speakable: empty audio, no crash"
    )


async def test_chunk_without_start_is_rejected(tts_server: ServerAddress) -> None:
    async with AsyncTcpClient(tts_server.host, tts_server.port, read_timeout=10) as client:
        await client.write_event(SynthesizeChunk(text="Hello. ").event())
        error = await client.read_event()
        assert error is not None and error.type == "error" and error.data["code"] == "no-stream"
        assert await client.read_event() is None


async def test_stream_with_no_text_ends_cleanly(tts_server: ServerAddress) -> None:
    reply = await synthesize_streaming(tts_server, [], send_compat_synthesize=False)
    assert reply.types == ["synthesize-stopped"]


async def test_disconnect_mid_stream_leaves_the_server_serving(tts_server: ServerAddress) -> None:
    for _ in range(3):
        reader, writer = await asyncio.open_connection(tts_server.host, tts_server.port)
        writer.write(event_line("synthesize-start"))
        writer.write(b"".join(_text_chunk(f"Sentence number {n} is here. ") for n in range(8)))
        await writer.drain()
        await reader.readline()  # audio has started
        writer.transport.abort()  # vanish without a goodbye
    reply = await synthesize(tts_server, "Hello!")
    assert reply.types == ["audio-start", "audio-chunk", "audio-stop"]


async def test_slow_synthesis_on_one_connection_does_not_block_another(
    tts_server: ServerAddress,
) -> None:
    long_answer = " ".join(
        f"This is sentence {word} of a long story."
        for word in ("one", "two", "three", "four", "five")
    )
    slow = asyncio.create_task(synthesize(tts_server, long_answer))
    await asyncio.sleep(0.05)
    info = await describe(tts_server)
    assert info.tts and not slow.done(), (
        "Describe was answered while the long answer was still synthesizing"
    )
    assert (await slow).audio.duration_seconds > 6


async def test_half_closed_client_still_gets_its_audio(tts_server: ServerAddress) -> None:
    raw = await send_raw(tts_server, _synthesize_event("Great job!"))
    types = [event.type for event in parse_events(raw)]
    assert types[0] == "audio-start" and types[-1] == "audio-stop" and "audio-chunk" in types


# -- wire-level robustness --------------------------------------------------------------------


def _text_chunk(text: str) -> bytes:
    import json

    data = json.dumps({"text": text}).encode()
    return event_line("synthesize-chunk", data_length=len(data)) + data


def _synthesize_event(text: str) -> bytes:
    import json

    data = json.dumps({"text": text}).encode()
    return event_line("synthesize", data_length=len(data)) + data


@pytest.mark.parametrize(
    "garbage",
    [
        b"this is not json\n",
        b"[1, 2, 3]\n",
        b'{"data": {}}\n',
        b'{"type": 42}\n',
        event_line("synthesize", data_length="ten"),
        event_line("synthesize", data_length=-5),
        event_line("synthesize", data_length=10**9),
        event_line("synthesize", payload_length=10**9),
        event_line("synthesize", data_length=4) + b"[1]\n",
        event_line("synthesize", data_length=8) + b"{bad js}",
        event_line("synthesize", data={"text": 5}),
        event_line("synthesize-chunk", data={"text": None}),
        event_line("synthesize-start", data={"voice": "not a dict"}),
        b"{" * 70000 + b"\n",
    ],
)
async def test_malformed_events_get_an_error_and_the_server_keeps_serving(
    tts_server: ServerAddress, garbage: bytes
) -> None:
    events = parse_events(await send_raw(tts_server, garbage))
    assert [event.type for event in events] == ["error"]
    assert events[0].data["code"] in ("bad-event", "no-stream")
    reply = await synthesize(tts_server, "Great job!")
    assert reply.types == ["audio-start", "audio-chunk", "audio-stop"]


@pytest.mark.parametrize(
    "truncated",
    [
        event_line("synthesize", data_length=100) + b'{"text": "Hel',  # data shorter than announced
        event_line("audio-chunk", payload_length=5000) + b"\x00" * 10,
        b'{"type": "synthe',  # header cut mid-line
    ],
)
async def test_abrupt_disconnects_mid_event_are_harmless(
    tts_server: ServerAddress, truncated: bytes
) -> None:
    assert await send_raw(tts_server, truncated) == b""
    assert (await describe(tts_server)).tts


async def test_fifty_concurrent_clients_are_all_served(tts_server: ServerAddress) -> None:
    texts = [
        "Great job!",
        "Ready for the next word?",
        "Hi there! I'm Blip.",
        "Bees make honey from nectar.",
    ]
    replies = await asyncio.gather(
        *(synthesize(tts_server, texts[n % len(texts)]) for n in range(50))
    )
    assert all(reply.types == ["audio-start", "audio-chunk", "audio-stop"] for reply in replies)
    by_text: dict[str, set[bytes]] = {}
    for n, reply in enumerate(replies):
        by_text.setdefault(texts[n % len(texts)], set()).add(reply.audio.pcm)
    assert all(len(variants) == 1 for variants in by_text.values())


# -- command line ---------------------------------------------------------------------------------


async def test_command_line_starts_with_only_uri_and_reuses_the_disk_cache(
    tts_engine: TtsEngine, tts_cache_home: Path, tmp_path: Path
) -> None:
    with server_process(
        "wyoming_servers.tts",
        log_path=tmp_path / "tts.log",
        env={"XDG_CACHE_HOME": str(tts_cache_home)},
    ) as server:
        info = await describe(server.address)
        assert info.tts[0].voices[0].name == VOICE_NAME
        reply = await synthesize(server.address, "Ready for the next word?")
        assert reply.audio.duration_seconds > 0.8
        log = server.log()
    sentences = len(load_phrase_sentences([default_phrases_path()]))
    # The session's engine wrote the phrase audio; the new process loads it instead of synthesizing.
    ready = [line for line in log.splitlines() if "Phrase cache ready" in line]
    assert ready, log[-3000:]
    assert f"{sentences} sentences ({sentences} from disk, 0 synthesized)" in ready[0], ready
    assert "Spoke 1 sentence(s), 1 from cache" in log


def test_command_line_without_a_voice_fails_at_start_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "wyoming_servers.tts",
            "--uri",
            "tcp://127.0.0.1:1",
            "--voice",
            "en_GB-nobody-medium",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "en_GB-nobody-medium" in result.stderr and "not found" in result.stderr


# -- Home Assistant ---------------------------------------------------------------------------------


async def test_home_assistant_wyoming_integration_streams_from_the_server(
    hass: HomeAssistant, tts_engine: TtsEngine, tts_cache_home: Path, tmp_path: Path
) -> None:
    with server_process(
        "wyoming_servers.tts",
        log_path=tmp_path / "tts.log",
        env={"XDG_CACHE_HOME": str(tts_cache_home)},
    ) as server:
        result = await hass.config_entries.flow.async_init(
            "wyoming",
            context={"source": SOURCE_USER},
            data={"host": server.address.host, "port": server.address.port},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == "blip-piper"
        await hass.async_block_till_done()

        [state] = hass.states.async_all("tts")
        entity = hass.data[DATA_COMPONENT].get_entity(state.entity_id)
        assert entity is not None
        assert entity.async_supports_streaming_input() is True

        async def answer_pieces() -> AsyncIterator[str]:
            for piece in [
                "Great job! ",
                "Nine is the right",
                " answer. Ready for",
                " the next one?",
            ]:
                yield piece

        # Ask for the server's own WAV so the bytes can be checked without ffmpeg in between.
        stream = tts.async_create_stream(
            hass, state.entity_id, "en_US", options={tts.ATTR_PREFERRED_FORMAT: "wav"}
        )
        assert stream.supports_streaming_input
        stream.async_set_message_stream(answer_pieces())
        wav = b"".join([chunk async for chunk in stream.async_stream_result()])
        log = server.log()

        await hass.config_entries.async_unload(result["result"].entry_id)
        await hass.async_block_till_done()

    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    seconds = (len(wav) - 44) / (22050 * 2)
    assert 3.0 < seconds < 10.0
    assert "Spoke 3 sentence(s), 2 from cache" in log
