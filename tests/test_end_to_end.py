"""End to end by voice, as a family runs Blip: wake word → speech to text → Blip → speech.

Everything real: the project's three Wyoming servers run from their command lines on loopback
ports (models loaded once for the module), Home Assistant's own ``wyoming`` integration is set
up against each, and HA's Assist pipeline runs from a microphone stream: piper's voice saying
the wake word and a question, with silence around and between, in 20 ms chunks at the pace a
satellite sends them. The reply audio is read the way satellites read it and transcribed back by
the project's STT server. Only the language models are loopback stand-ins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
import re
import statistics
from typing import Any

from homeassistant.components import assist_pipeline
from homeassistant.components.assist_pipeline.pipeline import (
    KEY_ASSIST_PIPELINE,
    PipelineEvent,
    PipelineEventType,
    PipelineStage,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop

from tests.agent_helpers import AGENT_ID, blip_entry, setup_blip
from tests.llm_servers import FakeAnthropic
from tests.pipeline_runs import drive_pipeline
from tests.voice_fixtures import WYOMING_SATELLITE, payload_offset, setup_blip_with_voice
from tests.wyoming_fixtures import ServerAddress, ServerProcess, default_voice, server_process
from wyoming_servers.audio import PcmAudio, convert_pcm, silence

pytestmark = pytest.mark.slow

# What HA's pipeline takes from a microphone: 16 kHz mono 16-bit PCM.
MIC_RATE = 16000
MIC_WIDTH = 2
CHUNK_MS = 20
WAKE_PHRASE = "Hey Jarvis."
LEAD_SILENCE = 0.5
GAP_SILENCE = 0.7
TRAILING_SILENCE = 1.5
# Whisper tiny.en hears piper's "dinosaur" at its default pace as "Bionus or" from about half of
# all start offsets (the wake word stage decides where STT's audio starts, to the chunk); at a
# child's brisk pace it heard both questions right from every offset tried (0.4-0.86 s of lead).
CHILD_PACE = 0.8
BLIP_VOICE = "tts.blip_voice"
CLAUDE_THINKING_SECONDS = 1.0
RUN_LIMIT_SECONDS = 90.0


# -- the project's Wyoming servers, once per module ---------------------------------------------


@dataclass
class VoiceServers:
    tts: ServerProcess
    stt: ServerProcess
    wake: ServerProcess


@pytest.fixture(scope="module")
def voice_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceServers]:
    """The three servers from their command lines, as scripts/develop starts them."""
    # Module fixtures run before the per-test `socket_enabled`; loopback only.
    pytest_socket.enable_socket()
    logs = tmp_path_factory.mktemp("voice-servers")
    env = {"HF_HUB_OFFLINE": "1"}
    with (
        server_process(
            "wyoming_servers.tts",
            "--cache-dir",
            str(logs / "tts-cache"),
            # No generator noise: the reply sounds the same every run, so its transcript is too.
            # Spelled letters have their own noise setting (engine.LETTER_NOISE_SCALE): off too.
            "--noise-scale",
            "0",
            "--noise-w-scale",
            "0",
            "--letter-noise-scale",
            "0",
            "--letter-noise-w-scale",
            "0",
            log_path=logs / "tts.log",
            env=env,
        ) as tts_server,
        server_process(
            "wyoming_servers.stt", "--cpu-threads", "2", log_path=logs / "stt.log", env=env
        ) as stt_server,
        server_process(
            "wyoming_servers.wake", "--max-concurrent", "1", log_path=logs / "wake.log", env=env
        ) as wake_server,
    ):
        yield VoiceServers(tts=tts_server, stt=stt_server, wake=wake_server)


# -- speech -----------------------------------------------------------------------------------


def spoken_request(command: str) -> PcmAudio:
    """The wake word, then the command at a child's pace, with realistic silence, at 16 kHz."""
    parts = [
        silence(LEAD_SILENCE, MIC_RATE),
        _at_mic_rate(say(WAKE_PHRASE)),
        silence(GAP_SILENCE, MIC_RATE),
        _at_mic_rate(say(command, pace=CHILD_PACE)),
        silence(TRAILING_SILENCE, MIC_RATE),
    ]
    return PcmAudio(pcm=b"".join(p.pcm for p in parts), rate=MIC_RATE, width=MIC_WIDTH, channels=1)


def say(text: str, pace: float = 1.0) -> PcmAudio:
    """Piper's voice, the same audio every run; ``pace`` < 1 speaks faster."""
    from piper import SynthesisConfig

    voice = default_voice()
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=pace)
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.piper.synthesize(text, config))
    return PcmAudio(pcm=pcm, rate=voice.sample_rate, width=2, channels=1)


def _at_mic_rate(audio: PcmAudio) -> PcmAudio:
    return convert_pcm(audio, MIC_RATE, MIC_WIDTH, 1)


async def microphone(audio: PcmAudio) -> AsyncIterator[bytes]:
    """Chunks of ``CHUNK_MS`` sent on the clock, like a satellite's microphone."""
    step = MIC_RATE * CHUNK_MS // 1000 * MIC_WIDTH
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index, offset in enumerate(range(0, len(audio.pcm), step)):
        if (wait := started + index * CHUNK_MS / 1000 - loop.time()) > 0:
            await asyncio.sleep(wait)
        yield audio.pcm[offset : offset + step]


async def transcribe(address: ServerAddress, audio: PcmAudio) -> str:
    """What the project's STT server hears in ``audio``."""
    async with address.client() as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(
            AudioStart(rate=audio.rate, width=audio.width, channels=audio.channels).event()
        )
        step = audio.rate * audio.width * audio.channels // 10
        for offset in range(0, len(audio.pcm), step):
            await client.write_event(
                AudioChunk(
                    rate=audio.rate,
                    width=audio.width,
                    channels=audio.channels,
                    audio=audio.pcm[offset : offset + step],
                ).event()
            )
        await client.write_event(AudioStop().event())
        while (event := await client.read_event()) is not None:
            if Transcript.is_type(event.type):
                return Transcript.from_event(event).text
    raise ConnectionError("the STT server closed the connection without a transcript")


def words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.findall(r"[a-z0-9']+", text.lower())


# How Whisper writes some letters it hears spoken on their own ("D. I. N. Oh S.").
LETTER_NAMES = {
    "ay": "a",
    "bee": "b",
    "see": "c",
    "sea": "c",
    "dee": "d",
    "eye": "i",
    "jay": "j",
    "kay": "k",
    "oh": "o",
    "owe": "o",
    "pee": "p",
    "cue": "q",
    "are": "r",
    "ess": "s",
    "tee": "t",
    "tea": "t",
    "you": "u",
    "why": "y",
}


def spelled_letters(text: str) -> list[str]:
    """Every run of spoken single letters, joined ("D, I, N…", "D I N…", "D. I. N. Oh" all give
    "din…")."""
    runs: list[str] = []
    current = ""
    for word in words(text):
        letter = LETTER_NAMES.get(word, word)
        if len(letter) == 1 and letter.isalpha():
            current += letter
            continue
        if len(current) > 1:
            runs.append(current)
        current = ""
    if len(current) > 1:
        runs.append(current)
    return runs


def wav_pcm(data: bytes) -> PcmAudio:
    """The PCM of a streamed WAV (its header may announce an unknown length)."""
    offset = payload_offset(data, "wav")
    assert offset is not None, "no WAV data chunk in the TTS stream"
    channels = int.from_bytes(data[22:24], "little")
    rate = int.from_bytes(data[24:28], "little")
    width = int.from_bytes(data[34:36], "little") // 8
    return PcmAudio(pcm=data[offset:], rate=rate, width=width, channels=channels)


# -- Home Assistant with the wyoming integration and a pipeline ---------------------------------


async def add_wyoming(hass: HomeAssistant, server: ServerProcess) -> list[str]:
    """HA's own wyoming integration against one server; its entity ids."""
    entry = MockConfigEntry(
        domain="wyoming",
        data={"host": server.address.host, "port": server.address.port},
        title=f"{server.address.host}:{server.address.port}",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    return [e.entity_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)]


@dataclass
class VoiceHome:
    stt_entity: str
    wake_entity: str
    wyoming_tts_entity: str


async def voice_home(hass: HomeAssistant, servers: VoiceServers) -> VoiceHome:
    """Assist and the three wyoming entries, as a family's Home Assistant has them."""
    assert await async_setup_component(hass, "assist_pipeline", {})
    [stt_entity] = await add_wyoming(hass, servers.stt)
    [wake_entity] = await add_wyoming(hass, servers.wake)
    [tts_entity] = await add_wyoming(hass, servers.tts)
    assert stt_entity.startswith("stt.") and wake_entity.startswith("wake_word.")
    assert tts_entity.startswith("tts.")
    return VoiceHome(stt_entity, wake_entity, tts_entity)


async def use_pipeline(hass: HomeAssistant, home: VoiceHome, tts_engine: str) -> None:
    """The preferred pipeline: the wyoming wake word and STT, Blip for Ada, ``tts_engine``."""
    pipeline = assist_pipeline.async_get_pipeline(hass)
    await assist_pipeline.async_update_pipeline(
        hass,
        pipeline,
        name="Blip",
        language="en",
        conversation_engine=AGENT_ID,
        conversation_language="en",
        prefer_local_intents=False,
        stt_engine=home.stt_entity,
        stt_language="en",
        tts_engine=tts_engine,
        tts_language="en_US",
        tts_voice=None,
        wake_word_entity=home.wake_entity,
        wake_word_id=None,
    )


@dataclass
class VoiceRun:
    """One pipeline run from the microphone to the speaker, as a satellite sees it."""

    events: list[tuple[float, PipelineEvent]] = field(default_factory=list)
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    stream_closed: bool = False
    run_id: str = ""

    def of_type(self, event_type: PipelineEventType) -> list[PipelineEvent]:
        return [event for _, event in self.events if event.type is event_type]

    def one(self, event_type: PipelineEventType) -> dict[str, Any]:
        [event] = self.of_type(event_type)
        return event.data or {}

    def stamp(self, event_type: PipelineEventType) -> datetime:
        """When HA says the (single) event happened."""
        [event] = self.of_type(event_type)
        return datetime.fromisoformat(event.timestamp)

    def content_deltas(self) -> list[str]:
        return [
            content
            for event in self.of_type(PipelineEventType.INTENT_PROGRESS)
            if (content := ((event.data or {}).get("chat_log_delta") or {}).get("content"))
        ]

    @property
    def audio(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)


async def run_by_voice(
    hass: HomeAssistant, audio: PcmAudio, tts_audio_output: dict[str, Any]
) -> VoiceRun:
    """Run the preferred pipeline from wake word to TTS on ``audio``; read the TTS stream as a
    Wyoming satellite does (in process, from the moment streaming starts or TTS ends)."""
    run = VoiceRun()
    driven = await drive_pipeline(
        hass,
        microphone(audio),
        tts_audio_output,
        start_stage=PipelineStage.WAKE_WORD,
        on_event=lambda at, event: run.events.append((at, event)),
        on_audio=lambda at, chunk: run.chunks.append((at, chunk)),
        limit_seconds=RUN_LIMIT_SECONDS,
    )
    run.run_id, run.stream_closed = driven.run_id, driven.stream_closed
    return run


SENSORS = "sensor.blip_performance_"


def sensor(hass: HomeAssistant, name: str) -> tuple[float, dict[str, Any]]:
    """A Blip timing sensor's figure and attributes."""
    state = hass.states.get(SENSORS + name)
    assert state is not None and state.state not in ("unknown", "unavailable"), name
    return float(state.state), dict(state.attributes)


STAGES = (
    (PipelineEventType.WAKE_WORD_START, PipelineEventType.WAKE_WORD_END),
    (PipelineEventType.STT_START, PipelineEventType.STT_END),
    (PipelineEventType.INTENT_START, PipelineEventType.INTENT_END),
    (PipelineEventType.TTS_START, PipelineEventType.TTS_END),
)


def assert_stage_timings(hass: HomeAssistant, run: VoiceRun) -> dict[str, float]:
    """Every stage started and ended, in order, with HA's timestamps; also in HA's debug log of
    the run (what the Assist debug view shows). Returns each stage's milliseconds."""
    assert run.of_type(PipelineEventType.ERROR) == []
    order = [event.type for _, event in run.events]
    assert order[0] is PipelineEventType.RUN_START and order[-1] is PipelineEventType.RUN_END
    durations: dict[str, float] = {}
    previous_end = run.stamp(PipelineEventType.RUN_START)
    for start, end in STAGES:
        assert order.index(start) < order.index(end)
        started, ended = run.stamp(start), run.stamp(end)
        assert previous_end <= started <= ended  # one stage after the other
        durations[start.value.removesuffix("-start")] = (ended - started).total_seconds() * 1000
        previous_end = ended
    # HA's VAD saw the command start and end inside the STT stage.
    assert order.index(PipelineEventType.STT_START) < order.index(PipelineEventType.STT_VAD_START)
    assert order.index(PipelineEventType.STT_VAD_END) < order.index(PipelineEventType.STT_END)

    pipeline = assist_pipeline.async_get_pipeline(hass)
    debug = hass.data[KEY_ASSIST_PIPELINE].pipeline_debug[pipeline.id][run.run_id]
    assert [event.timestamp for event in debug.events] == [e.timestamp for _, e in run.events]
    return durations


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the per-backend medians
async def test_spelling_question_by_voice_is_answered_by_the_drill_engine(
    hass: HomeAssistant, voice_servers: VoiceServers, anthropic_server: FakeAnthropic
) -> None:
    """The stock wyoming engines all round: the wake word wakes the pipeline, the question is
    heard right, the drill engine answers without a model, and the reply says the letters."""
    home = await voice_home(hass, voice_servers)
    entry = blip_entry(anthropic_server)
    await setup_blip(hass, entry)
    await use_pipeline(hass, home, home.wyoming_tts_entity)

    run = await run_by_voice(hass, spoken_request("How do you spell dinosaur?"), WYOMING_SATELLITE)

    durations = assert_stage_timings(hass, run)
    assert run.one(PipelineEventType.WAKE_WORD_END)["wake_word_output"]["wake_word_id"] == (
        "hey_jarvis"
    )
    transcript = run.one(PipelineEventType.STT_END)["stt_output"]["text"]
    assert words(transcript) == ["how", "do", "you", "spell", "dinosaur"]

    timing = entry.runtime_data.timings.last
    assert (timing.activity, timing.answered_by) == ("spelling", "drill")
    assert anthropic_server.chat_requests == []
    speech = run.one(PipelineEventType.INTENT_END)["intent_output"]["response"]["speech"]
    assert "D, I, N, O, S, A, U, R" in speech["plain"]["speech"]

    assert run.stream_closed
    reply = wav_pcm(run.audio)
    assert (reply.rate, reply.channels, reply.width) == (22050, 1, 2)
    assert reply.duration_seconds > 2.0
    heard = await transcribe(voice_servers.stt.address, reply)
    # (A run may run on into a following "a": what matters is the letters in order.)
    assert any("dinosaur" in run for run in spelled_letters(heard)), heard
    # Listening to the command takes its spoken length; the rest is quick.
    assert durations["stt"] < 10_000 and durations["intent"] < 2_000

    # Blip's timing sensors: the child's wait for the transcript, as the run's events tell it.
    waited = run.stamp(PipelineEventType.STT_END) - run.stamp(PipelineEventType.STT_VAD_END)
    stt_ms, attributes = sensor(hass, "speech_to_text_time")
    assert stt_ms == pytest.approx(waited.total_seconds() * 1000, abs=0.2)
    assert attributes["backend"] == "drill"
    assert sensor(hass, "median_routing_time_drill_engine")[0] == pytest.approx(timing.routing_ms)
    # The child waited HA's end-of-speech silence (0.7 s, no satellite setting) before that.
    end_of_turn, attributes = sensor(hass, "end_of_turn_wait")
    assert end_of_turn == pytest.approx(700, abs=0.5) and attributes["backend"] == "drill"
    # HA's stock wyoming TTS does not say when its audio starts; nothing is made up.
    assert hass.states.get(SENSORS + "time_to_first_audio").state == "unknown"


async def test_claude_question_by_voice_fills_the_wait_in_one_stream(
    hass: HomeAssistant, voice_servers: VoiceServers, anthropic_server: FakeAnthropic
) -> None:
    """A question for Claude, who takes a second to think: through Blip voice, the Wyoming
    satellite's one WAV stream holds the filler's words first, then the answer's."""
    anthropic_server.script.first_token_delay = CLAUDE_THINKING_SECONDS
    home = await voice_home(hass, voice_servers)
    entry = await setup_blip_with_voice(
        hass, voice_servers.tts.address, blip_entry(anthropic_server)
    )
    await use_pipeline(hass, home, BLIP_VOICE)

    run = await run_by_voice(hass, spoken_request("Why is the sky blue?"), WYOMING_SATELLITE)

    assert_stage_timings(hass, run)
    transcript = run.one(PipelineEventType.STT_END)["stt_output"]["text"]
    assert words(transcript) == ["why", "is", "the", "sky", "blue"]
    timing = entry.runtime_data.timings.last
    assert timing.answered_by == "claude" and timing.filler_ms is not None
    assert len(anthropic_server.chat_requests) == 1

    filler, *answer = run.content_deltas()
    assert "".join(answer) == anthropic_server.script.reply
    # One stream, opened while Claude was still thinking.
    streaming = [
        at
        for at, event in run.events
        if event.type is PipelineEventType.INTENT_PROGRESS
        and (event.data or {}).get("tts_start_streaming")
    ]
    assert len(streaming) == 1
    assert run.stream_closed
    reply = wav_pcm(run.audio)
    assert (reply.rate, reply.channels, reply.width) == (22050, 1, 2)

    # The timing sensors: the filler's audio went out long before Claude's first token; the
    # child's wait for it counts from the last word (HA's 0.7 s of silence, the transcript).
    first_audio, attributes = sensor(hass, "time_to_first_audio")
    first_token, _ = sensor(hass, "time_to_first_token")
    end_of_turn, _ = sensor(hass, "end_of_turn_wait")
    stt_ms, _ = sensor(hass, "speech_to_text_time")
    assert attributes["backend"] == "claude"
    assert end_of_turn == pytest.approx(700, abs=0.5) and stt_ms > 0
    heard_after_intent = first_audio - end_of_turn - stt_ms
    assert 0 < heard_after_intent < CLAUDE_THINKING_SECONDS * 1000 <= first_token

    heard = words(await transcribe(voice_servers.stt.address, reply))
    filler_words = [w for w in words(filler) if len(w) > 3]
    answer_words = ["sky", "blue", "scatters"]
    filler_heard = [heard.index(w) for w in filler_words if w in heard]
    answer_heard = [heard.index(w) for w in answer_words if w in heard]
    assert len(filler_heard) >= len(filler_words) // 2, (filler, heard)
    assert len(answer_heard) >= 2, heard
    assert statistics.median(filler_heard) < min(answer_heard), heard


def test_spelled_letters_reads_runs_of_single_letters() -> None:
    assert spelled_letters("Dennis or his spell D I N O S A U R") == ["dinosaur"]
    assert spelled_letters("Cat is spelled C, A, T. That is it.") == ["cat"]
    assert spelled_letters("Dennis R. Spelt D. I. N. Oh S. A. U. R. It has") == ["dinosaur"]
    assert spelled_letters("a dog") == []
