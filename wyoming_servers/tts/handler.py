"""Wyoming event handler for text-to-speech: one instance per client connection.

Reading and speaking are decoupled: events are parsed as they arrive and turned into jobs; a
speaking task per connection (started with the first job that needs one) works through a queue,
fetching each sentence's audio from the cache or the engine's thread pool and writing it out.
Text keeps flowing in while a sentence is being synthesized, and a slow client only slows its
own speaking task.

A cache hit needs no synthesis and no task: when nothing is queued ahead of it, a cached
sentence (and the end of its answer) is written by the event handler itself, in the loop pass
that read the request, AudioStart and the first chunk in one write; the rest of the answer
follows a moment later, once a client sharing this CPU core has had the chance to read it. Audio
leaves as pre-encoded chunk headers plus views of the PCM, in writes of about the transport's
buffer size, so a sentence costs a few ``send`` calls instead of three per chunk.

Protocol, as Home Assistant and wyoming-piper use it:
- ``Synthesize`` alone: AudioStart, AudioChunk..., AudioStop.
- Streaming: ``SynthesizeStart``, ``SynthesizeChunk``..., a compatibility ``Synthesize`` (ignored
  inside a stream), ``SynthesizeStop``; answered by one AudioStart, the chunks of every sentence
  as soon as it is complete, one AudioStop, then ``SynthesizeStopped``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
import functools
from importlib import metadata
import logging
import time
from typing import Final

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice, TtsVoiceSpeaker
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeTextFormat,
    SynthesizeVoice,
)

from custom_components.blip.voice.speakable import SentenceSplitter, speakable_text

from ..audio import PcmAudio
from ..serve import BlipEventHandler, encode_event
from .engine import PiperSynthesizer, TtsEngine, UnknownVoiceError

_LOGGER = logging.getLogger(__name__)

# A sentence is normalised several times on its way (is it a clause? cached? then its key): a
# small memo keeps a cached phrase's first audio off that path (about 0.1 ms a call).
_speakable = functools.lru_cache(maxsize=512)(speakable_text)

PROGRAM_NAME: Final = "blip-piper"
DEFAULT_MAX_TEXT_CHARS: Final = 5000
DEFAULT_SAMPLES_PER_CHUNK: Final = 1024
# An answer may open with a clause this long (about 0.8 s of speech, the same as Blip voice used
# when it asked sentence by sentence) instead of a sentence.
DEFAULT_FIRST_CLAUSE_MIN_CHARS: Final = 12
# Sentences waiting to be spoken on one connection; a client that never reads its audio cannot
# queue more than this (its requests are refused with "queue-full").
MAX_QUEUED_JOBS: Final = 256
# Text events are small; nothing a TTS client sends needs a big payload.
_MAX_TTS_PAYLOAD_BYTES: Final = 64 * 1024
# Audio bytes handed to the transport per write before waiting for it to drain: about asyncio's
# default high-water mark, so a client that reads slowly is not sent a whole sentence at once.
_WRITE_BATCH_BYTES: Final = 64 * 1024
# After an answer's first audio is written, the rest of it waits this long (seconds) with the
# event loop idle: a client on the same CPU core (Home Assistant next to this server on a small
# box) is woken by that write but cannot run until this process blocks, so without the pause
# its first audio waited for the whole clip to be copied out and the answer logged (≈ 0.4 ms of
# a cached phrase's 0.5-0.9 ms). The next write is still far ahead of playback: the first chunk
# alone is 46 ms of audio at 22,050 Hz.
_FIRST_AUDIO_HANDOFF_SECONDS: Final = 0.001


@functools.lru_cache(maxsize=16)
def _audio_start_bytes(rate: int, width: int, channels: int) -> bytes:
    return encode_event(AudioStart(rate=rate, width=width, channels=channels).event())


@functools.lru_cache(maxsize=64)
def _chunk_header_bytes(rate: int, width: int, channels: int, length: int) -> bytes:
    """What precedes ``length`` bytes of PCM in an AudioChunk: the same for every chunk of a
    format and size, so it is encoded once (the payload is the last thing on the wire)."""
    chunk = AudioChunk(rate=rate, width=width, channels=channels, audio=bytes(length))
    return encode_event(chunk.event())[:-length]


def _program_version() -> str | None:
    try:
        return metadata.version("blip")
    except metadata.PackageNotFoundError:
        return None


def build_info(engine: TtsEngine) -> Info:
    """Describe the server.

    No cache statistics: any client may ask, and hit counts that move tell it what was said
    recently (they are in the server's own log instead).
    """
    piper_attribution = Attribution(name="rhasspy", url="https://github.com/OHF-Voice/piper1-gpl")
    voices = [
        TtsVoice(
            name=voice.name,
            description=voice.description,
            attribution=piper_attribution,
            installed=True,
            version=None,
            languages=voice.languages,
            speakers=[TtsVoiceSpeaker(name=speaker) for speaker in voice.speakers] or None,
        )
        for voice in engine.voices
    ]
    program = TtsProgram(
        name=PROGRAM_NAME,
        description="Blip's piper text-to-speech with a phrase cache",
        attribution=Attribution(name="Blip", url="https://github.com/blip-voice/blip"),
        installed=True,
        version=_program_version(),
        voices=voices,
        supports_synthesize_streaming=True,
    )
    return Info(tts=[program])


@dataclass(slots=True)
class TtsHandlerOptions:
    """Per-server limits shared by all connections."""

    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    samples_per_chunk: int = DEFAULT_SAMPLES_PER_CHUNK
    first_clause_min_chars: int = DEFAULT_FIRST_CLAUSE_MIN_CHARS


# -- jobs for the speaking task -------------------------------------------------------------


@dataclass(slots=True)
class _SpeakSentence:
    synthesizer: PiperSynthesizer
    speaker_id: int | None
    text: str
    queued_at: float = field(default_factory=time.monotonic)
    audio: PcmAudio | None = None  # a phrase's audio, when the whole request was one of phrases


@dataclass(slots=True)
class _FinishUtterance:
    streaming: bool
    sample_rate: int


@dataclass(slots=True)
class _RejectRequest:
    text: str
    code: str


type _Job = _SpeakSentence | _FinishUtterance | _RejectRequest


@dataclass(slots=True)
class _TextStream:
    """An open SynthesizeStart ... SynthesizeStop session."""

    synthesizer: PiperSynthesizer
    speaker_id: int | None
    is_ssml: bool
    splitter: SentenceSplitter
    received_chars: int = 0


@dataclass(slots=True)
class _UtteranceLog:
    """Counts for one answer, logged when it finishes (no text: it may quote a child)."""

    sentences: int = 0
    cached: int = 0
    first_audio_ms: float | None = None
    started_at: float | None = None


class TtsEventHandler(BlipEventHandler):
    """Answers Describe, Synthesize and the streaming Synthesize* events for one client."""

    max_payload_bytes = _MAX_TTS_PAYLOAD_BYTES

    def __init__(
        self,
        engine: TtsEngine,
        options: TtsHandlerOptions,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self.engine = engine
        self.options = options
        self._stream: _TextStream | None = None
        self._rejected = False
        self._request_chars = 0  # speakable characters of the request being read
        self._new_jobs: list[_Job] = []  # made by the event being handled, not yet dispatched
        self._jobs: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._speaking = False
        self._speaker_task: asyncio.Task[None] | None = None  # started by the first queued job
        # The answer being spoken (by the handler or the speaking task, never both at once).
        self._audio_started = False
        self._utterance = _UtteranceLog()

    @property
    def busy(self) -> bool:
        """Audio is still being made or sent: the client may rightly be silent meanwhile."""
        return self._speaking or not self._jobs.empty()

    # -- reading ------------------------------------------------------------------------

    async def handle_event(self, event: Event) -> bool:
        if self._rejected:
            return False
        if Describe.is_type(event.type):
            await self.write_event(build_info(self.engine).event())
            return True
        keep_going = self._read_event(event)
        await self._dispatch()
        return keep_going

    def _read_event(self, event: Event) -> bool:
        """Turn one event into jobs (in ``_new_jobs``); False when the connection must close."""
        try:
            if SynthesizeStart.is_type(event.type):
                _check_voice_field(event)
                return self._start_stream(SynthesizeStart.from_event(event))
            if SynthesizeChunk.is_type(event.type):
                return self._add_stream_text(event)
            if SynthesizeStop.is_type(event.type):
                return self._stop_stream()
            if Synthesize.is_type(event.type):
                if self._stream is not None:
                    # The compatibility copy of the streamed text: already being spoken.
                    return True
                _check_voice_field(event)
                return self._synthesize(Synthesize.from_event(event))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            return self._reject(f"Malformed {event.type} event: {err!r}", "bad-event")
        _LOGGER.debug("Ignoring unexpected event type %s", event.type)
        return True

    def _synthesize(self, request: Synthesize) -> bool:
        text = _require_text(request.text)
        if not text.strip():
            return self._reject("Nothing to synthesize: the text is empty", "empty-text")
        if len(text) > self.options.max_text_chars:
            return self._reject(
                f"Text too long: {len(text)} characters (limit {self.options.max_text_chars})",
                "text-too-long",
            )
        try:
            synthesizer, speaker_id = self._resolve_voice(request.voice)
        except UnknownVoiceError as err:
            return self._reject(str(err), "unknown-voice")
        is_ssml = _is_ssml(request.text_format)
        finish = _FinishUtterance(streaming=False, sample_rate=synthesizer.voice.sample_rate)
        if (
            phrases := self.engine.phrase_answer(synthesizer, speaker_id, text, is_ssml)
        ) is not None:
            # Asked before, and nothing but phrases: their audio, without cutting the text again.
            if self._jobs.qsize() + len(phrases) > MAX_QUEUED_JOBS:
                return self._reject_queue_full()
            self._new_jobs += [
                _SpeakSentence(synthesizer, speaker_id, "", audio=audio) for audio in phrases
            ]
            self._new_jobs.append(finish)
            return True
        splitter = self._new_splitter(synthesizer, speaker_id, is_ssml)
        self._request_chars = 0
        for sentence in [*splitter.feed(text), *splitter.flush()]:
            if not self._queue_sentence(synthesizer, speaker_id, sentence, is_ssml):
                return False
        sentences = [job.text for job in self._new_jobs if isinstance(job, _SpeakSentence)]
        self.engine.remember_phrase_answer(synthesizer, speaker_id, text, is_ssml, sentences)
        self._new_jobs.append(finish)
        return True

    def _start_stream(self, start: SynthesizeStart) -> bool:
        if self._stream is not None:
            # A new stream before the old one stopped: finish the old one properly first.
            self._stop_stream()
        try:
            synthesizer, speaker_id = self._resolve_voice(start.voice)
        except UnknownVoiceError as err:
            return self._reject(str(err), "unknown-voice")
        is_ssml = _is_ssml(start.text_format)
        splitter = self._new_splitter(synthesizer, speaker_id, is_ssml)
        self._stream = _TextStream(synthesizer, speaker_id, is_ssml, splitter)
        self._request_chars = 0
        return True

    def _new_splitter(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, is_ssml: bool
    ) -> SentenceSplitter:
        def keep_whole(text: str) -> bool:
            speakable = _speakable(text, is_ssml=is_ssml)
            if speakable[-1:] in ",;:":
                # An opening clause: cut it off (even if it is cached: then it is instant) unless
                # a phrase starts with it, which must stay whole to be found in the cache.
                return self.engine.is_phrase_start(speakable)
            return self.engine.is_cached_or_phrase_start(synthesizer, speaker_id, speakable)

        return SentenceSplitter(
            first_clause_min_chars=self.options.first_clause_min_chars, keep_whole=keep_whole
        )

    def _add_stream_text(self, event: Event) -> bool:
        stream = self._stream
        if stream is None:
            return self._reject(
                "synthesize-chunk outside a synthesize-start/stop stream", "no-stream"
            )
        text = _require_text(SynthesizeChunk.from_event(event).text)
        stream.received_chars += len(text)
        if stream.received_chars > self.options.max_text_chars:
            self._stream = None
            return self._reject(
                f"Streamed text too long (limit {self.options.max_text_chars} characters)",
                "text-too-long",
            )
        for sentence in stream.splitter.feed(text):
            if not self._queue_sentence(
                stream.synthesizer, stream.speaker_id, sentence, stream.is_ssml
            ):
                self._stream = None
                return False
        return True

    def _stop_stream(self) -> bool:
        stream, self._stream = self._stream, None
        if stream is None:
            # A stop without a start: answer it anyway so the client is not left waiting.
            self._new_jobs.append(_FinishUtterance(streaming=True, sample_rate=0))
            return True
        for sentence in stream.splitter.flush():
            if not self._queue_sentence(
                stream.synthesizer, stream.speaker_id, sentence, stream.is_ssml
            ):
                return False
        self._new_jobs.append(
            _FinishUtterance(streaming=True, sample_rate=stream.synthesizer.voice.sample_rate)
        )
        return True

    def _queue_sentence(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, sentence: str, is_ssml: bool
    ) -> bool:
        """Queue one sentence; False (and the request refused) when a limit is reached.

        The length limit applies to the speakable text, what piper is given: Unicode
        normalisation can make a text many times longer than it arrived (U+FDFA is 18
        characters after NFKC).
        """
        if not (text := _speakable(sentence, is_ssml=is_ssml)):
            return True
        self._request_chars += len(text)
        if self._request_chars > self.options.max_text_chars:
            self._reject(
                f"Text too long once normalised: over {self.options.max_text_chars} characters",
                "text-too-long",
            )
            return False
        if self._jobs.qsize() + len(self._new_jobs) >= MAX_QUEUED_JOBS:
            return self._reject_queue_full()
        self._new_jobs.append(_SpeakSentence(synthesizer, speaker_id, text))
        return True

    def _reject_queue_full(self) -> bool:
        return self._reject(
            f"Too many sentences waiting ({MAX_QUEUED_JOBS}): read the audio already sent "
            "before asking for more",
            "queue-full",
        )

    def _resolve_voice(self, voice: SynthesizeVoice | None) -> tuple[PiperSynthesizer, int | None]:
        if voice is None:
            return self.engine.resolve(None, None)
        return self.engine.resolve(voice.name, voice.speaker)

    def _reject(self, text: str, code: str) -> bool:
        """Answer a bad request with an Error event, then close (after earlier answers)."""
        _LOGGER.warning("Rejecting TTS request (%s): %s", code, text)
        self._rejected = True
        self._new_jobs.append(_RejectRequest(text, code))
        return False

    # -- speaking -----------------------------------------------------------------------

    async def _dispatch(self) -> None:
        """Hand the jobs the last event made to the speaking task, saying cached audio here.

        With nothing queued ahead, a cached sentence and the end of an answer are instant: they
        are written right away instead of waiting for the speaking task's turn of the loop.
        The first job that needs synthesis (or an error reply) goes to the queue, with all after
        it, so the order on the wire is always the order of the jobs.
        """
        jobs, self._new_jobs = self._new_jobs, []
        index = 0
        if not self.busy:
            for job in jobs:
                if isinstance(job, _SpeakSentence):
                    audio = job.audio
                    if audio is None:
                        audio = self.engine.cached_audio(job.synthesizer, job.speaker_id, job.text)
                    if audio is None:
                        break
                    self._start_utterance(job)
                    await self._write_audio(audio, from_cache=True)
                elif isinstance(job, _FinishUtterance):
                    await self._finish(job)
                else:
                    break
                index += 1
        for job in jobs[index:]:
            self._jobs.put_nowait(job)
            if self._speaker_task is None:
                self._speaker_task = asyncio.create_task(
                    self._speak_jobs(), name="blip tts speaker"
                )

    async def _speak_jobs(self) -> None:
        try:
            while (job := await self._jobs.get()) is not None:
                self._speaking = True
                if isinstance(job, _SpeakSentence):
                    await self._speak(job)
                elif isinstance(job, _FinishUtterance):
                    await self._finish(job)
                else:
                    await self.write_event(Error(text=job.text, code=job.code).event())
                    return
                self._speaking = False
        except (ConnectionError, RuntimeError) as err:
            # RuntimeError: asyncio refuses writes on a transport that is already closed.
            _LOGGER.debug("Client went away while audio was being sent: %s", err)
        finally:
            # Nothing more can be said on this connection: close it, which also ends the reading
            # side (closing flushes what was already written, such as an Error event).
            self._speaking = False
            await self.stop()

    def _start_utterance(self, job: _SpeakSentence) -> None:
        if self._utterance.started_at is None:
            self._utterance.started_at = job.queued_at

    async def _speak(self, job: _SpeakSentence) -> None:
        self._start_utterance(job)
        if job.audio is not None:
            await self._write_audio(job.audio, from_cache=True)
            return
        try:
            audio, from_cache = await self.engine.sentence_audio(
                job.synthesizer, job.speaker_id, job.text
            )
        except Exception as err:
            # One sentence failing must not silence the rest of the answer.
            _LOGGER.exception("Synthesis failed for one sentence")
            await self.write_event(
                Error(text=f"Synthesis failed: {err}", code="synthesis-failed").event()
            )
            return
        await self._write_audio(audio, from_cache=from_cache)

    async def _write_audio(self, audio: PcmAudio, *, from_cache: bool) -> None:
        """One sentence's audio (after AudioStart, if the answer has none yet) as AudioChunks.

        The first write of an answer carries AudioStart and the first chunk together, then the
        loop idles for ``_FIRST_AUDIO_HANDOFF_SECONDS``; the rest follows in writes of about
        ``_WRITE_BATCH_BYTES``, each waiting for the client to keep up.
        """
        utterance = self._utterance
        utterance.sentences += 1
        utterance.cached += int(from_cache)
        pieces: list[bytes | memoryview] = []
        if not self._audio_started:
            pieces.append(_audio_start_bytes(audio.rate, audio.width, audio.channels))
            self._audio_started = True
        batched = 0
        for header, pcm in self._chunks(audio):
            pieces += (header, pcm)
            batched += len(pcm)
            if utterance.first_audio_ms is None:
                await self.write_encoded(pieces)
                pieces, batched = [], 0
                started_at = utterance.started_at
                utterance.first_audio_ms = (
                    (time.monotonic() - started_at) * 1000 if started_at is not None else 0.0
                )
                await asyncio.sleep(_FIRST_AUDIO_HANDOFF_SECONDS)
            elif batched >= _WRITE_BATCH_BYTES:
                await self.write_encoded(pieces)
                pieces, batched = [], 0
        if pieces:
            await self.write_encoded(pieces)

    def _chunks(self, audio: PcmAudio) -> Iterator[tuple[bytes, memoryview]]:
        """(encoded header, PCM view) of each AudioChunk of a clip: no copy of the audio."""
        pcm = memoryview(audio.pcm)
        step = self.options.samples_per_chunk * audio.width * audio.channels
        for offset in range(0, len(pcm), step):
            piece = pcm[offset : offset + step]
            yield _chunk_header_bytes(audio.rate, audio.width, audio.channels, len(piece)), piece

    async def _finish(self, job: _FinishUtterance) -> None:
        pieces: list[bytes] = []
        if not job.streaming and not self._audio_started:
            # Synthesize clients read until AudioStop and need a format first, even for silence.
            pieces.append(_audio_start_bytes(job.sample_rate, 2, 1))
            self._audio_started = True
        if self._audio_started:
            pieces.append(encode_event(AudioStop().event()))
        if job.streaming:
            pieces.append(encode_event(SynthesizeStopped().event()))
        utterance = self._utterance
        self._audio_started, self._utterance = False, _UtteranceLog()
        # Logged before the stop is sent, so whoever sees the stop can also read the line (all
        # the audio has gone out already; this only orders the log before the last event).
        self._log_utterance(utterance)
        await self.write_encoded(pieces)

    def _log_utterance(self, utterance: _UtteranceLog) -> None:
        first_audio = (
            f"{utterance.first_audio_ms:.0f} ms" if utterance.first_audio_ms is not None else "-"
        )
        _LOGGER.info(
            "Spoke %d sentence(s), %d from cache, first audio after %s; cache %s",
            utterance.sentences,
            utterance.cached,
            first_audio,
            self.engine.cache.stats().summary(),
        )

    # -- connection end -----------------------------------------------------------------

    async def finish_pending(self) -> None:
        if self._stream is not None and not self._rejected:
            # The client hung up mid-stream: still say what it sent, if it is listening.
            self._stop_stream()
        await self._dispatch()
        if self._speaker_task is not None:
            self._jobs.put_nowait(None)
            await asyncio.wait({self._speaker_task})

    async def disconnect(self) -> None:
        if self._speaker_task is not None and not self._speaker_task.done():
            self._speaker_task.cancel()
            await asyncio.wait({self._speaker_task})


def _check_voice_field(event: Event) -> None:
    voice = event.data.get("voice")
    if voice is not None and not isinstance(voice, dict):
        raise TypeError("voice must be an object with a name")
    if isinstance(voice, dict) and not isinstance(voice.get("name", ""), str):
        raise TypeError("voice name must be a string")


def _require_text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"text must be a string, not {type(value).__name__}")
    return value


def _is_ssml(text_format: object) -> bool:
    return text_format in (SynthesizeTextFormat.SSML, SynthesizeTextFormat.SSML.value)
