"""Turn streamed text into one continuous stream of PCM, sentence by sentence, in order.

With a server that streams (Blip's own, wyoming-piper), an answer is one synthesis: the
opening sentences found in the phrase cache (a filler, a greeting) go out at once from memory,
and from the first sentence that is not cached the rest of the answer is streamed to the server
as it arrives (``SynthesizeStart``/``Chunk``/``Stop`` over a kept-open connection); the server
splits it the same way (voice/speakable.py), keeps spelled words whole and has the same phrases
cached, so cached sentences later in the answer cost no synthesis either.

With any other server, each sentence is either in the phrase cache (its audio goes out at once)
or sent to the Wyoming server as its own request. Sentences are synthesized one after another as soon as their text is
complete, never waiting for the previous one to be played, so the server's work overlaps the
playback; one at a time, because two at once on a small CPU only delay the first. When a stream
opens with a sentence nobody cached (a drill answer, a quick local reply), its first clause is
synthesized on its own: "Dog is spelled D," is ready in a third of the time of the whole
sentence, and the clause boundary is where a speaker pauses anyway. If the server fails part-way, the child
hears Blip's apology from the cache and the stream ends cleanly: no exception escapes (an
escaped exception would leave Home Assistant's TTS stream open and the satellite waiting).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
import contextlib
from dataclasses import dataclass, field
import logging
from typing import Final

from .audio import PcmConverter, PcmFormat
from .phrase_cache import PhraseCache
from .speakable import SentenceSplitter, split_sentences
from .wyoming_client import SynthesisStream, WyomingTtsClient, WyomingTtsError

_LOGGER = logging.getLogger(__name__)

# Sentences synthesized at the same time (more only pays off on a server with idle cores).
DEFAULT_PARALLEL_SYNTHESIS: Final = 1
# An opening sentence nobody cached may be cut after a first clause this long (never inside a
# spelled word or a number list: the splitter keeps those whole).
OPENING_CLAUSE_MIN_CHARS: Final = 12


@dataclass(slots=True)
class _Cached:
    pcm: bytes


@dataclass(slots=True)
class _Synthesized:
    sentence: str
    audio: asyncio.Queue[bytes | BaseException | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class _TextFailed:
    """The text stream itself raised."""


@dataclass(slots=True)
class _Raw:
    """A piece of the answer passed on as it came (no cached sentence can start with it)."""

    text: str


@dataclass(slots=True)
class SpeechStats:
    """What one stream did; for diagnostics and tests."""

    sentences: int = 0
    from_cache: int = 0
    synthesized: int = 0
    apologized: bool = False
    error: str | None = None


class Speaker:
    """Speaks text streams in one voice setting through a Wyoming server and a phrase cache."""

    def __init__(
        self,
        client: WyomingTtsClient,
        cache: PhraseCache,
        *,
        apology: str,
        parallel_synthesis: int = DEFAULT_PARALLEL_SYNTHESIS,
        streaming: bool = False,
    ) -> None:
        """``apology`` is spoken (from the cache) when the server fails mid-stream;
        ``streaming`` when the server supports ``synthesize-start/chunk/stop``."""
        self.client = client
        self.cache = cache
        self.apology = apology
        self.parallel_synthesis = max(1, parallel_synthesis)
        self.streaming = streaming

    async def speak(
        self,
        text: AsyncIterator[str],
        target: PcmFormat,
        voice: str | None,
        speaker: str | None = None,
        stats: SpeechStats | None = None,
    ) -> AsyncGenerator[bytes]:
        """Yield ``target`` PCM for ``text`` as it arrives; never raises for a server failure."""
        stats = stats if stats is not None else SpeechStats()
        method = self._streamed if self.streaming else self._sentence_by_sentence
        async with contextlib.aclosing(method(text, target, voice, speaker, stats)) as audio:
            async for pcm in audio:
                yield pcm

    async def _streamed(
        self,
        text: AsyncIterator[str],
        target: PcmFormat,
        voice: str | None,
        speaker: str | None,
        stats: SpeechStats,
    ) -> AsyncGenerator[bytes]:
        """Cached opening sentences from memory, then the rest as one streamed synthesis."""
        sentences: asyncio.Queue[str | _Raw | _TextFailed | None] = asyncio.Queue()

        async def read_text() -> None:
            # Whole sentences while the answer may still open with a cached one; from the first
            # text that cannot, the pieces go on as they come, so the server can start on the
            # first clause before the sentence is complete.
            splitter = SentenceSplitter()
            raw = False
            try:
                async for piece in text:
                    if raw:
                        sentences.put_nowait(_Raw(piece))
                        continue
                    for sentence in splitter.feed(piece):
                        sentences.put_nowait(sentence)
                    pending = splitter.pending_text
                    if pending.strip() and not self.cache.could_start(voice, pending):
                        raw = True
                        sentences.put_nowait(_Raw(pending))
                if not raw:
                    for sentence in splitter.flush():
                        sentences.put_nowait(sentence)
            except Exception:  # the text source failing must still end in speech
                _LOGGER.exception("The text to speak failed part-way")
                sentences.put_nowait(_TextFailed())
            finally:
                sentences.put_nowait(None)

        async def send_rest(stream: SynthesisStream, first: str | _Raw) -> bool:
            """Send the answer from ``first`` on; True if the text stream failed."""
            item: str | _Raw | _TextFailed | None = first
            try:
                while isinstance(item, str | _Raw):
                    if isinstance(item, _Raw):
                        await stream.send(item.text)
                    else:
                        stats.synthesized += 1
                        await stream.send(item + " ")
                    item = await sentences.get()
                    if isinstance(item, str):
                        stats.sentences += 1
                await stream.finish()
            except WyomingTtsError:
                pass  # the audio side reports it
            except Exception as err:
                _LOGGER.exception("Unexpected error while sending text to the TTS server")
                stream.fail(WyomingTtsError(f"could not send the text: {err!r}"))
            return isinstance(item, _TextFailed)

        reader = asyncio.create_task(read_text(), name="blip voice text")
        sender: asyncio.Task[bool] | None = None
        stream: SynthesisStream | None = None
        failed = False
        try:
            while (item := await sentences.get()) is not None:
                if isinstance(item, _TextFailed):
                    stats.error = "the text stream failed"
                    failed = True
                    break
                if isinstance(item, str):
                    stats.sentences += 1
                    cached = await self.cache.async_get(voice, item, target)
                    if cached is not None:
                        stats.from_cache += 1
                        yield cached
                        continue
                else:
                    stats.synthesized += 1
                stream = self.client.stream(voice, speaker)
                sender = asyncio.create_task(send_rest(stream, item), name="blip voice send")
                converter: PcmConverter | None = None
                try:
                    async for source_format, pcm in stream.audio():
                        if converter is None or converter.source != source_format:
                            if converter is not None and (tail := converter.flush()):
                                yield tail
                            converter = PcmConverter(source_format, target)
                        if converted := converter.convert(pcm):
                            yield converted
                except WyomingTtsError as err:
                    _LOGGER.warning("Blip voice lost its TTS server mid-answer: %s", err)
                    stats.error = str(err)
                    failed = True
                if converter is not None and (tail := converter.flush()):
                    yield tail
                if not failed and await sender:
                    stats.error = "the text stream failed"
                    failed = True
                break
            if failed:
                async for pcm in self._apology(target, voice, stats):
                    yield pcm
        finally:
            reader.cancel()
            tasks = [reader] if sender is None else [reader, sender]
            if sender is not None:
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
            if stream is not None:
                await stream.close()

    async def _sentence_by_sentence(
        self,
        text: AsyncIterator[str],
        target: PcmFormat,
        voice: str | None,
        speaker: str | None,
        stats: SpeechStats,
    ) -> AsyncGenerator[bytes]:
        """One request per sentence, for servers that do not stream."""
        segments: asyncio.Queue[_Cached | _Synthesized | _TextFailed | None] = asyncio.Queue()
        in_flight = asyncio.Semaphore(self.parallel_synthesis)
        synth_tasks: list[asyncio.Task[None]] = []

        async def synthesize(segment: _Synthesized) -> None:
            converter: PcmConverter | None = None
            try:
                async for source_format, pcm in self.client.synthesize(
                    segment.sentence, voice, speaker
                ):
                    if converter is None or converter.source != source_format:
                        if converter is not None:
                            segment.audio.put_nowait(converter.flush())
                        converter = PcmConverter(source_format, target)
                    if converted := converter.convert(pcm):
                        segment.audio.put_nowait(converted)
                if converter is not None and (tail := converter.flush()):
                    segment.audio.put_nowait(tail)
                segment.audio.put_nowait(None)
            except WyomingTtsError as err:
                segment.audio.put_nowait(err)
            except Exception as err:  # anything else must not escape either
                _LOGGER.exception("Unexpected error while synthesizing")
                segment.audio.put_nowait(err)
            finally:
                in_flight.release()

        async def enqueue(sentence: str) -> None:
            stats.sentences += 1
            cached = await self.cache.async_get(voice, sentence, target)
            if cached is not None:
                stats.from_cache += 1
                segments.put_nowait(_Cached(cached))
                return
            await synthesize_later(sentence)

        async def synthesize_later(sentence: str) -> None:
            stats.synthesized += 1
            await in_flight.acquire()
            segment = _Synthesized(sentence)
            segment.task = asyncio.create_task(synthesize(segment), name="blip voice sentence")
            synth_tasks.append(segment.task)
            segments.put_nowait(segment)

        async def read_text() -> None:
            splitter = SentenceSplitter(
                first_clause_min_chars=OPENING_CLAUSE_MIN_CHARS,
                keep_whole=lambda part: self.cache.contains(voice, part),
            )
            try:
                async for piece in text:
                    for sentence in splitter.feed(piece):
                        await enqueue(sentence)
                for sentence in splitter.flush():
                    await enqueue(sentence)
            except Exception:  # the text source failing must still end in speech
                _LOGGER.exception("The text to speak failed part-way")
                segments.put_nowait(_TextFailed())
            finally:
                segments.put_nowait(None)

        reader = asyncio.create_task(read_text(), name="blip voice text")
        failed = False
        try:
            while (segment := await segments.get()) is not None:
                if isinstance(segment, _TextFailed):
                    stats.error = "the text stream failed"
                    failed = True
                    break
                if isinstance(segment, _Cached):
                    yield segment.pcm
                    continue
                while (item := await segment.audio.get()) is not None:
                    if isinstance(item, BaseException):
                        _LOGGER.warning("Blip voice lost its TTS server mid-answer: %s", item)
                        stats.error = str(item)
                        failed = True
                        break
                    yield item
                if failed:
                    break
            if failed:
                async for pcm in self._apology(target, voice, stats):
                    yield pcm
        finally:
            reader.cancel()
            for task in synth_tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(reader, *synth_tasks, return_exceptions=True)

    async def _apology(
        self, target: PcmFormat, voice: str | None, stats: SpeechStats
    ) -> AsyncIterator[bytes]:
        """The cached apology, sentence by sentence (silence if it was never cached)."""
        for sentence in split_sentences(self.apology):
            if (pcm := await self.cache.async_get(voice, sentence, target)) is not None:
                stats.apologized = True
                yield pcm
