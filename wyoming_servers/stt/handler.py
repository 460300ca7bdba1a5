"""Wyoming event handler: one client connection of the speech-to-text server."""

from __future__ import annotations

import asyncio
import logging

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe

from wyoming_servers.audio import PcmFormat, StreamConverter, check_client_format
from wyoming_servers.serve import BadEventError, BlipEventHandler

from .partials import partial_event, pause_event, speaking_event, wants_partials
from .service import Outcome, SttService, Utterance

_LOGGER = logging.getLogger(__name__)


class SttEventHandler(BlipEventHandler):
    """Transcribe → AudioStart → AudioChunk* → AudioStop, answered with a transcript.

    The connection stays open afterwards for another request. A bad event follows the servers'
    one policy (wyoming_servers.serve): an `Error` event and the connection closes.
    """

    def __init__(
        self,
        service: SttService,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self._service = service
        self._transcribe: Transcribe | None = None
        self._utterance: Utterance | None = None
        self._converter = StreamConverter(PcmFormat(rate=16000, width=2, channels=1))
        # A chunk may end mid-frame; its torn bytes wait here for the next chunk of that format.
        self._torn_frame = b""
        self._torn_format: tuple[int, int, int] | None = None
        # Partial results waiting to be written, in order (see partials.py).
        self._outbox: list[Event] = []
        self._outbox_lock = asyncio.Lock()

    async def handle_event(self, event: Event) -> bool:
        try:
            await self._dispatch(event)
        except BadEventError:
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise BadEventError(str(err) or type(err).__name__) from err
        return True

    async def _dispatch(self, event: Event) -> None:
        if AudioChunk.is_type(event.type):
            self._add_audio(AudioChunk.from_event(event))
        elif AudioStart.is_type(event.type):
            await self._start_utterance()
        elif AudioStop.is_type(event.type):
            await self._finish_utterance()
        elif Transcribe.is_type(event.type):
            self._transcribe = Transcribe.from_event(event)
            if self._utterance is not None:
                self._utterance.update_request(self._transcribe)
        elif Describe.is_type(event.type):
            await self.write_event(self._service.info.event())
        else:
            _LOGGER.debug("Ignoring unexpected %s event", event.type)

    async def _start_utterance(self) -> Utterance:
        if self._utterance is not None:
            _LOGGER.debug("AudioStart before AudioStop; starting over")
            await self._utterance.abandon()
        self._reset_audio()
        self._utterance = self._new_utterance()
        return self._utterance

    def _new_utterance(self) -> Utterance:
        utterance = self._service.new_utterance(self._transcribe)
        if wants_partials(self._transcribe):
            utterance.on_pause = lambda end: self._send_later(pause_event(end))
            utterance.on_partial = lambda text, end, seconds: self._send_later(
                partial_event(text, end, seconds)
            )
            utterance.on_speech_resumed = lambda: self._send_later(speaking_event())
        return utterance

    def _send_later(self, event: Event) -> None:
        """Queue a partial result; written at once, in order, by one flush at a time."""
        self._outbox.append(event)
        task = asyncio.get_running_loop().create_task(self._flush_outbox())
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _flush_outbox(self) -> None:
        async with self._outbox_lock:
            while self._outbox:
                await self.write_event(self._outbox.pop(0))

    def _add_audio(self, chunk: AudioChunk) -> None:
        check_client_format(chunk.rate, chunk.width, chunk.channels)
        if self._utterance is None:
            # Some clients skip AudioStart; the chunk says all we need to know.
            _LOGGER.debug("Audio without AudioStart; starting an utterance")
            self._reset_audio()
            self._utterance = self._new_utterance()
        audio_format = (chunk.rate, chunk.width, chunk.channels)
        if audio_format != self._torn_format:
            self._torn_frame, self._torn_format = b"", audio_format
        frame_bytes = chunk.width * chunk.channels
        audio = self._torn_frame + chunk.audio
        whole = len(audio) - len(audio) % frame_bytes
        # The utterance cap is checked before conversion: only the frames that still fit are
        # converted (8 MiB of 4 kHz 8-bit audio is 35 minutes; the cap is 60 s).
        room = self._utterance.room_samples
        if room <= 0:
            self._utterance.buffer.truncated = True  # the rest of the stream is dropped
            self._torn_frame = b""
            return
        fits = -(-room * chunk.rate // 16000) + 1  # source frames for `room` output samples
        if whole > fits * frame_bytes:
            whole = fits * frame_bytes
            self._torn_frame = b""
        else:
            self._torn_frame = audio[whole:]
        source = PcmFormat(chunk.rate, chunk.width, chunk.channels)
        pcm16 = self._converter.convert(audio[:whole], source)
        self._utterance.add_audio(pcm16)

    def _reset_audio(self) -> None:
        self._converter.reset()
        self._torn_frame, self._torn_format = b"", None

    async def _finish_utterance(self) -> None:
        utterance, self._utterance = self._utterance, None
        if utterance is not None:
            utterance.on_partial = utterance.on_speech_resumed = utterance.on_pause = None
        await self._flush_outbox()
        transcribe, self._transcribe = self._transcribe, None
        if utterance is None:
            # AudioStop with no audio at all: nothing was said.
            language = self._service.decode_options(transcribe).language
            await self._send_outcome(Outcome("", (), "empty", language))
            return
        try:
            outcome = await utterance.finish()
        except Exception:
            _LOGGER.exception("Speech recognition failed")
            await utterance.abandon()
            await self.send_error_quietly("Speech recognition failed", "stt-failed")
            # Still answer, so a client waiting for a transcript is never left hanging.
            outcome = Outcome("", (), "empty", utterance.options.language)
        await self._send_outcome(outcome)

    async def _send_outcome(self, outcome: Outcome) -> None:
        language = outcome.language
        streaming = self._service.settings.transcript_streaming
        if streaming:
            # Wyoming's order: start, chunks, the classic transcript for older clients, stop.
            await self.write_event(TranscriptStart(language=language).event())
            for index, text in enumerate(outcome.chunks):
                chunk_text = text.lstrip() if index == 0 else text
                if chunk_text:
                    await self.write_event(TranscriptChunk(text=chunk_text).event())
        await self.write_event(Transcript(text=outcome.text, language=language).event())
        if streaming:
            await self.write_event(TranscriptStop().event())

    async def disconnect(self) -> None:
        utterance, self._utterance = self._utterance, None
        if utterance is not None:
            _LOGGER.debug("Client left mid-utterance")
            await utterance.abandon()
