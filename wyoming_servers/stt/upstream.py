"""Forwarding an utterance to a bigger remote recogniser (the inference box).

Two kinds: a Wyoming ASR server (audio forwarded as it streams), or an OpenAI-compatible
``/v1/audio/transcriptions`` endpoint (vLLM serving Voxtral, a faster-whisper server), posted
the whole utterance at AudioStop.

The upstream hears the audio while the child speaks, so its answer can be ready soon after
AudioStop. Whatever goes wrong there (refused connection, a stall, bytes that are not Wyoming, a
transcript that is not text) ends as `None`, and the caller uses its local transcript instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final
from urllib.parse import urlparse

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event, async_write_event

from wyoming_servers import WyomingProtocolError, read_event_bounded
from wyoming_servers.openai_audio import RemoteAudioError, RemoteEndpoint, transcribe

_LOGGER = logging.getLogger(__name__)

_RATE, _WIDTH, _CHANNELS = 16000, 2, 1
# A spoken request never needs more; a longer "transcript" is a confused upstream.
MAX_TRANSCRIPT_CHARS: Final = 2000
_END = object()


def parse_upstream_uri(uri: str) -> tuple[str, int]:
    """Host and port of a `tcp://host:port` URI; ValueError otherwise."""
    parsed = urlparse(uri)
    if parsed.scheme != "tcp" or not parsed.hostname or parsed.port is None:
        raise ValueError(f"upstream must look like tcp://host:port, got {uri!r}")
    return parsed.hostname, parsed.port


def is_plausible_transcript(text: object) -> bool:
    """Text a speech recogniser could have produced (not binary noise or a runaway answer)."""
    if not isinstance(text, str) or len(text) > MAX_TRANSCRIPT_CHARS:
        return False
    if "\ufffd" in text:  # undecodable bytes were replaced on the way in
        return False
    return all(char.isprintable() or char in "\n\t" for char in text)


class UpstreamRecognizer:
    """One utterance forwarded to the upstream server.

    Audio is queued and written by a background task, so a slow or stuck upstream never holds up
    the local path. `result()` waits at most until its deadline.
    """

    def __init__(
        self, host: str, port: int, transcribe: Transcribe, connect_timeout: float
    ) -> None:
        self._host = host
        self._port = port
        self._transcribe = transcribe
        self._connect_timeout = connect_timeout
        self._queue: asyncio.Queue[bytes | object] = asyncio.Queue()
        self._writer: asyncio.StreamWriter | None = None
        self._task = asyncio.create_task(self._run(), name="blip-stt-upstream")

    def send_audio(self, pcm16: bytes) -> None:
        """Queue 16 kHz mono 16-bit audio for the upstream."""
        if not self._task.done():
            self._queue.put_nowait(pcm16)

    async def result(self, wait_seconds: float) -> str | None:
        """Finish the stream and wait up to `wait_seconds` for the upstream's transcript."""
        self._queue.put_nowait(_END)
        try:
            return await asyncio.wait_for(asyncio.shield(self._task), wait_seconds)
        except TimeoutError:
            _LOGGER.warning(
                "Upstream gave no transcript within %.2f s; using the local one", wait_seconds
            )
            return None
        finally:
            await self.close()

    async def close(self) -> None:
        """Drop the upstream connection (idempotent)."""
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def _run(self) -> str | None:
        try:
            return await self._exchange()
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            _LOGGER.warning("Upstream %s:%s did not accept in time", self._host, self._port)
        except (OSError, asyncio.IncompleteReadError) as err:
            _LOGGER.warning("Upstream %s:%s unavailable: %s", self._host, self._port, err)
        except (WyomingProtocolError, KeyError, TypeError, ValueError) as err:
            _LOGGER.warning("Upstream %s:%s sent garbage: %s", self._host, self._port, err)
        return None

    async def _exchange(self) -> str | None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self._host, self._port), self._connect_timeout
        )
        self._writer = writer
        await self._write(self._transcribe.event())
        await self._write(AudioStart(rate=_RATE, width=_WIDTH, channels=_CHANNELS).event())
        while (item := await self._queue.get()) is not _END:
            assert isinstance(item, bytes)
            await self._write(AudioChunk(_RATE, _WIDTH, _CHANNELS, item).event())
        await self._write(AudioStop().event())

        while True:
            event = await read_event_bounded(reader)
            if event is None:
                _LOGGER.warning("Upstream closed the connection without a transcript")
                return None
            if not Transcript.is_type(event.type):
                continue  # transcript streaming events, or anything else a newer server sends
            text = event.data.get("text")
            if not is_plausible_transcript(text):
                _LOGGER.warning("Upstream sent an implausible transcript; ignoring it")
                return None
            assert isinstance(text, str)
            return text.strip()

    async def _write(self, event: Event) -> None:
        assert self._writer is not None
        await async_write_event(event, self._writer)


class HttpUpstreamRecognizer:
    """One utterance sent to the inference box's ``/v1/audio/transcriptions`` at AudioStop.

    The endpoint takes a whole file, so audio is collected while the child speaks and posted
    once; the request runs in a worker thread. A box that is down, resets the connection or
    answers nonsense ends as ``None`` at once, and the caller uses the local transcript.
    """

    def __init__(
        self,
        endpoint: RemoteEndpoint,
        *,
        model: str,
        language: str | None,
        prompt: str | None,
        timeout: float,
    ) -> None:
        self._endpoint = endpoint
        self._model = model
        self._language = language
        self._prompt = prompt
        self._timeout = timeout
        self._audio = bytearray()
        self._task: asyncio.Task[str | None] | None = None

    def send_audio(self, pcm16: bytes) -> None:
        """Collect 16 kHz mono 16-bit audio."""
        if self._task is None:
            self._audio.extend(pcm16)

    def start(self) -> asyncio.Task[str | None]:
        """Post the utterance (once); the task's result is the transcript or None."""
        if self._task is None:
            self._task = asyncio.create_task(self._post(), name="blip-stt-box")
        return self._task

    async def result(self, wait_seconds: float) -> str | None:
        """The box's transcript, or None if it failed or took longer than ``wait_seconds``."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.start()), wait_seconds)
        except TimeoutError:
            _LOGGER.warning(
                "Inference box gave no transcript within %.2f s; using the local one",
                wait_seconds,
            )
            return None

    async def _post(self) -> str | None:
        audio = bytes(self._audio)
        try:
            text = await asyncio.to_thread(
                transcribe,
                self._endpoint,
                audio,
                model=self._model,
                language=self._language,
                prompt=self._prompt,
                timeout=self._timeout,
            )
        except RemoteAudioError as err:
            _LOGGER.warning("Inference box unavailable, using the local model: %s", err)
            return None
        if not is_plausible_transcript(text):
            _LOGGER.warning("Inference box sent an implausible transcript; ignoring it")
            return None
        return text

    async def close(self) -> None:
        """Nothing to close: a request still running ends by its own timeout."""
