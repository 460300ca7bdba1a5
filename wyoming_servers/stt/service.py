"""One utterance from first chunk to transcript: speculative decoding and upstream failover.

Timeline of a request from Home Assistant::

    speech ......... speech | silence 0.15 s | silence until 0.7 s | AudioStop
                            ^ VAD sees the end   ^ decode of audio[:end] starts
                                                     (in a worker thread)      ^ already done

If speech resumes, the end moves and the stale decode is dropped (cancelled if it has not started,
ignored if it has); the next pause starts another. At AudioStop the transcript is the decode of
`audio[:decode_end()]` — the speculative one when its end is still the utterance's end, a fresh
one otherwise — so both paths give byte-identical input to the model and the same words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
import functools
import logging
import time
from typing import Any, Literal

from wyoming.asr import Transcribe
from wyoming.info import AsrModel, AsrProgram, Attribution, Info

from ..openai_audio import RemoteEndpoint
from .endpointing import (
    SAMPLE_RATE,
    EndpointSettings,
    FrameScorer,
    SileroFrameScorer,
    UtteranceBuffer,
)
from .engine import DecodeOptions, DecodeResult, WhisperEngine
from .upstream import HttpUpstreamRecognizer, UpstreamRecognizer

_LOGGER = logging.getLogger(__name__)

VERSION = "0.1.0"

# Blip's name and the shape of a child's question to it, as Whisper's context for every request.
# benchmarks/stt_vocabulary.py (tiny.en, 30 requests x 3 start offsets, piper at normal pace):
# word error rate 7.4 % -> 4.0 %, exact transcripts 60 -> 73 of 90, Blip's name heard in 15 of
# 18 "Hey Blip" requests instead of 0, +15 ms per decode (5 %), no words invented from room
# noise. No default hotwords: "Blip" as hotwords alone turns room noise into "Blip Blip Blip ...",
# and next to this prompt it adds nothing measurable.
# Round 3 (benchmarks/drill_requests_stt.py, piper pitched up like a child, room noise): with
# the imperative and "can you" forms, drill requests answered 94.9 % -> 96.3 % (held-out
# requests 95.4 -> 98.1 %), general requests as good (word error rate 3.5 -> 2.7 %); the cost:
# pitched non-drill questions bend toward "spell" (exact 79.6 -> 72.2 %: "I smell cookies" heard
# "I spell cookies"), see docs/benchmarks.md, Round 3. No content word a child might mean
# instead ("Can you spell ocean?" made a misheard "elephant" into "ocean"), and no number word
# ("What's fourteen minus six?" made room noise into "One. Two. Three."). Not "Can you spell
# it?" either (round 3's first choice): with it, the partial transcript of "how do you spell…"
# heard during a child's pause came back "How do you spell it?", a complete question, and the
# turn ended before "elephant" (tests/test_blip_listening.py). Without it, in one run of all
# 432 clips: 96.5 % answered (tuning 95.8, held out 97.2) against 94.7 % for the old prompt.
DEFAULT_INITIAL_PROMPT = "Blip, how do you spell dinosaur? Spell cat. What is seven times eight?"


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Per-request behaviour of the server (the model's own settings are in EngineSettings)."""

    language: str | None = None
    # Empty or None: no prompt.
    initial_prompt: str | None = DEFAULT_INITIAL_PROMPT
    hotwords: str | None = None
    speculation: bool = True
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    # Decode with Whisper's encoder window fitted to the audio (~4x faster on this CPU, see
    # engine.FIT_MIN_FRAMES) unless the VAD saw a pause this long between two runs of speech:
    # then Whisper's full window, which does not drop the words after it. 0.25 s: synthesized
    # questions spoken straight through pause at most 0.06 s, the 0.5-1.2 s pauses of
    # benchmarks/end_of_turn.py are seen as 0.32-1.18 s. None: never fitted.
    fit_max_pause_seconds: float | None = 0.25
    max_utterance_seconds: float = 60.0
    transcript_streaming: bool = True
    # A Wyoming ASR (host, port) or an OpenAI-compatible transcription endpoint.
    upstream: tuple[str, int] | RemoteEndpoint | None = None
    upstream_timeout: float = 1.0
    upstream_model: str = "whisper-1"
    # "prefer": wait for the upstream (bounded); "race": the first transcript wins.
    upstream_mode: Literal["prefer", "race"] = "prefer"


@dataclass(slots=True)
class SttStats:
    """Counters for tests, benchmarks and debugging (never holds any words)."""

    utterances: int = 0
    speculations_started: int = 0
    speculations_reused: int = 0
    speculations_dropped: int = 0
    final_decodes: int = 0
    # Decodes (speculative or final) with the encoder window fitted to the audio.
    fitted_decodes: int = 0
    upstream_used: int = 0
    upstream_failed: int = 0
    # Utterances that did not wait for an upstream that failed moments before (see UpstreamHealth).
    upstream_skipped: int = 0


class UpstreamHealth:
    """Whether the upstream is worth waiting for: after a failure it rests, then gets a retry.

    A box that went away without a word (power cut, cable out: no connection refused, only
    silence) would otherwise cost every utterance the whole upstream timeout before the local
    transcript, which was ready at AudioStop, could go out. After a failure the upstream is left
    out for ``rest`` seconds (doubling on each further failure, up to ``max_rest``); the first
    utterance after that tries it again, and one success restores it.
    """

    def __init__(
        self, rest: float = 5.0, max_rest: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._first_rest = rest
        self._max_rest = max_rest
        self._clock = clock
        self._rest = rest
        self._until = 0.0

    def available(self) -> bool:
        """Whether this utterance should use the upstream."""
        return self._clock() >= self._until

    def succeeded(self) -> None:
        self._rest = self._first_rest
        self._until = 0.0

    def failed(self) -> None:
        if self._until:  # failed again on its retry: rest longer
            self._rest = min(self._rest * 2, self._max_rest)
        self._until = self._clock() + self._rest


@dataclass(frozen=True, slots=True)
class Outcome:
    """The transcript of an utterance and where it came from."""

    text: str
    chunks: tuple[str, ...]
    source: Literal["speculative", "final", "upstream", "empty"]
    language: str | None


class SttService:
    """Everything the connections share: the model, the settings, the Info, the counters."""

    def __init__(self, engine: WhisperEngine, settings: ServiceSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.stats = SttStats()
        self.upstream_health = UpstreamHealth()
        self.info = build_info(engine, settings)

    def decode_options(self, transcribe: Transcribe | None) -> DecodeOptions:
        """Options for a request: the client's language and vocabulary over the server's."""
        settings = self.settings
        language = settings.language
        names: list[str] = []
        terms: list[str] = []
        if transcribe is not None:
            if isinstance(transcribe.language, str) and transcribe.language:
                language = transcribe.language
            names = _strings(transcribe.transcript_names)
            terms = _strings(transcribe.transcript_terms)
        return DecodeOptions(
            language=self.engine.normalize_language(language),
            initial_prompt=(settings.initial_prompt or "").strip() or None,
            hotwords=_join_vocabulary([settings.hotwords, *names, *terms]),
        )

    def new_utterance(
        self, transcribe: Transcribe | None, scorer: FrameScorer | None = None
    ) -> Utterance:
        return Utterance(self, transcribe, scorer or SileroFrameScorer())


def _strings(value: object) -> list[str]:
    """The strings of a list a client sent (anything else is ignored)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _join_vocabulary(items: list[str | None]) -> str | None:
    """Comma-joined words for Whisper's hotwords; the first spelling of a word wins, order kept.

    faster-whisper keeps the start of an over-long hotword prompt, so the most important words go
    first: the server's own vocabulary (Blip's name), then Home Assistant's names, then its terms.
    """
    words: dict[str, str] = {}
    for item in items:
        if item and (word := item.strip()):
            words.setdefault(word.lower(), word)
    return ", ".join(words.values()) or None


def build_info(engine: WhisperEngine, settings: ServiceSettings) -> Info:
    """The Describe answer: one ASR program with the loaded model and its languages."""
    model_settings = engine.settings
    return Info(
        asr=[
            AsrProgram(
                name="blip-faster-whisper",
                description="Blip's faster-whisper speech-to-text with speculative decoding",
                attribution=Attribution(
                    name="Blip", url="https://github.com/SYSTRAN/faster-whisper"
                ),
                installed=True,
                version=VERSION,
                supports_transcript_streaming=settings.transcript_streaming,
                models=[
                    AsrModel(
                        name=model_settings.model_name,
                        description=f"Whisper {model_settings.model_name} "
                        f"({model_settings.compute_type}, CTranslate2)",
                        attribution=Attribution(
                            name="OpenAI", url="https://github.com/openai/whisper"
                        ),
                        installed=True,
                        version=None,
                        languages=engine.languages,
                    )
                ],
            )
        ]
    )


def _retrieve_exception(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


@dataclass(slots=True)
class _Speculation:
    end: int
    options: DecodeOptions
    task: asyncio.Task[DecodeResult]


class Utterance:
    """Audio of one request, its speculative decode and, optionally, its upstream stream."""

    def __init__(
        self, service: SttService, transcribe: Transcribe | None, scorer: FrameScorer
    ) -> None:
        self._service = service
        settings = service.settings
        self.options = service.decode_options(transcribe)
        self.buffer = UtteranceBuffer(
            scorer,
            settings.endpoint,
            max_samples=int(settings.max_utterance_seconds * SAMPLE_RATE),
        )
        self._speculation: _Speculation | None = None
        # Partial results for a client that asked for them (see wyoming_servers/stt/partials.py):
        # a current speculative transcript with the sample its speech ended at, and "the child
        # speaks again" (the last partial is out of date).
        self.on_pause: Callable[[int], None] | None = None
        self.on_partial: Callable[[str, int, float], None] | None = None
        self.on_speech_resumed: Callable[[], None] | None = None
        self._upstream: UpstreamRecognizer | HttpUpstreamRecognizer | None = None
        if settings.upstream is not None and not service.upstream_health.available():
            # It failed moments ago: the local model alone answers this one, without a wait.
            service.stats.upstream_skipped += 1
        elif isinstance(settings.upstream, RemoteEndpoint):
            self._upstream = HttpUpstreamRecognizer(
                settings.upstream,
                model=settings.upstream_model,
                language=self.options.language,
                prompt=self.options.initial_prompt,
                timeout=settings.upstream_timeout,
            )
        elif settings.upstream is not None:
            host, port = settings.upstream
            self._upstream = UpstreamRecognizer(
                host,
                port,
                transcribe or Transcribe(language=self.options.language),
                connect_timeout=settings.upstream_timeout,
            )

    def update_request(self, transcribe: Transcribe) -> None:
        """A Transcribe that arrives mid-stream changes what the final decode must use."""
        self.options = self._service.decode_options(transcribe)

    @property
    def room_samples(self) -> int:
        """16 kHz samples still accepted before the utterance cap."""
        return self.buffer.room

    def add_audio(self, pcm16: bytes) -> None:
        """Take 16 kHz mono 16-bit audio; start or drop a speculative decode as the VAD says."""
        if not pcm16:
            return
        self.buffer.append(pcm16)
        if self._upstream is not None:
            self._upstream.send_audio(pcm16)
        if not self._service.settings.speculation:
            return
        speculation = self._speculation
        end = self.buffer.decode_end()
        if speculation is not None and (
            speculation.end != end or speculation.options != self.options
        ):
            # The child went on talking: this decode would miss the rest.
            self._drop_speculation()
            speculation = None
            if self.on_speech_resumed is not None:
                self.on_speech_resumed()
        if speculation is None and self.buffer.ready_to_speculate():
            self._service.stats.speculations_started += 1
            samples = self.buffer.samples[:end]
            task = asyncio.create_task(
                self._service.engine.decode(samples, self.options, self._fit()),
                name="blip-stt-speculative-decode",
            )
            task.add_done_callback(_retrieve_exception)  # a dropped decode's error is moot
            self._speculation = _Speculation(end, self.options, task)
            task.add_done_callback(functools.partial(self._speculation_done, self._speculation))
            if self.on_pause is not None:
                self.on_pause(self.buffer.speech_end)

    def _speculation_done(self, speculation: _Speculation, task: asyncio.Task[Any]) -> None:
        """Tell a client that wants partials what the pause's decode heard, if still current."""
        if task.cancelled() or task.exception() is not None:
            return
        result = task.result()
        # Whether speculation can finish inside the client's end-of-speech silence (no words):
        # benchmarks/stt_finalize.py reads this line.
        _LOGGER.debug(
            "Speculative decode took %.0f ms (%.2f s of audio, %s window)",
            result.seconds * 1000,
            speculation.end / SAMPLE_RATE,
            "fitted" if result.fitted else "full",
        )
        if self.on_partial is None or self._speculation is not speculation:
            return
        self.on_partial(result.text, self.buffer.speech_end, result.seconds)

    def _drop_speculation(self) -> None:
        if self._speculation is not None:
            self._service.stats.speculations_dropped += 1
            self._speculation.task.cancel()
            self._speculation = None

    async def finish(self) -> Outcome:
        """The transcript of everything received (call once, after AudioStop)."""
        service = self._service
        service.stats.utterances += 1
        started = time.perf_counter()
        if self.buffer.truncated:
            _LOGGER.warning(
                "Utterance longer than %.0f s; transcribing its start",
                service.settings.max_utterance_seconds,
            )
        local = asyncio.create_task(self._local_result(), name="blip-stt-local-decode")
        # When the upstream answers, nobody awaits `local`; a failure there is not news then.
        local.add_done_callback(_retrieve_exception)
        try:
            if self._upstream is not None:
                upstream_text = await self._upstream_text(local)
                if upstream_text:
                    service.stats.upstream_used += 1
                    service.upstream_health.succeeded()
                    local.cancel()
                    return Outcome(
                        upstream_text, (upstream_text,), "upstream", self.options.language
                    )
                service.stats.upstream_failed += 1
                if upstream_text is None:  # an empty transcript (silence) is not a failure
                    service.upstream_health.failed()
            outcome = await local
        finally:
            if not local.done():
                local.cancel()
            # A failed decode's traceback runs through this frame; were the frame still holding
            # the task that holds that error, the cycle would keep the audio, its features and
            # the connection itself (~10 MB for 60 s) until Python's cycle collector ran, which
            # in the soak took dozens of requests (benchmarks/soak.py: STT +113 %).
            del local
        _LOGGER.debug(
            "Transcript ready %.0f ms after AudioStop (%s, %.2f s of audio)",
            (time.perf_counter() - started) * 1000,
            outcome.source,
            self.buffer.length / SAMPLE_RATE,
        )
        return outcome

    async def _upstream_text(self, local: asyncio.Task[Outcome]) -> str | None:
        """The upstream's transcript; None when it fails or is too slow, "" when it loses a race."""
        assert self._upstream is not None
        wait = self._service.settings.upstream_timeout
        if self._service.settings.upstream_mode == "prefer":
            return await self._upstream.result(wait)
        upstream = asyncio.ensure_future(self._upstream.result(wait))
        done, _ = await asyncio.wait({upstream, local}, return_when=asyncio.FIRST_COMPLETED)
        if upstream in done:
            return upstream.result()
        if local.exception() is not None:
            return await upstream  # the local model failed: the box is all there is
        upstream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upstream
        return ""  # lost the race: not a failure of the upstream

    async def _local_result(self) -> Outcome:
        language = self.options.language
        if self.buffer.length == 0:
            return Outcome("", (), "empty", language)
        end = self.buffer.decode_end()
        speculation = self._speculation
        self._speculation = None
        if (
            speculation is not None
            and speculation.end == end
            and speculation.options == self.options
        ):
            # Same samples, same options: this is the final decode, already started (or done).
            task, speculation = speculation.task, None
            try:
                result = await task
            finally:
                del task  # no cycle through this frame if it failed (see finish)
            self._service.stats.speculations_reused += 1
            return Outcome(result.text, result.segments, "speculative", language)
        elif speculation is not None:
            self._service.stats.speculations_dropped += 1
            speculation.task.cancel()
        self._service.stats.final_decodes += 1
        result = await self._service.engine.decode(
            self.buffer.samples[:end], self.options, self._fit()
        )
        return Outcome(result.text, result.segments, "final", language)

    def _fit(self) -> bool:
        """Whether the decode of ``samples[:decode_end()]`` may have a fitted encoder window."""
        limit = self._service.settings.fit_max_pause_seconds
        fit = limit is not None and self.buffer.longest_pause_samples < limit * SAMPLE_RATE
        self._service.stats.fitted_decodes += fit
        return fit

    async def abandon(self) -> None:
        """The client left: stop any decode that has not started and close the upstream."""
        if self._speculation is not None:
            self._speculation.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._speculation.task
            self._speculation = None
        if self._upstream is not None:
            await self._upstream.close()
