"""Wyoming event handler for wake word detection: one instance and one detector per connection.

Protocol, as Home Assistant and satellites use it: optional ``Detect`` (which wake words),
``AudioStart``, ``AudioChunk``... at any format, ``AudioStop``. Every detection is answered with
``Detection`` (name, timestamp); a stream that ends without one gets ``NotDetected``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait as wait_for_jobs
from dataclasses import dataclass
from importlib import metadata
import logging
from typing import Final

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, WakeModel, WakeProgram
from wyoming.wake import Detect, Detection, NotDetected

from ..audio import PcmFormat, StreamConverter, check_client_format
from ..serve import BadEventError, BlipEventHandler
from .models import (
    CHANNELS,
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    Detected,
    DetectionSettings,
    WakeWordDetector,
    WakeWordModel,
    match_models,
)

_LOGGER = logging.getLogger(__name__)

PROGRAM_NAME: Final = "blip-openwakeword"
# Longest audio one chunk may hold. Satellites send 10-100 ms; the limit is checked on the
# chunk's byte length before anything is converted.
MAX_CHUNK_SECONDS: Final = 10.0
_OPENWAKEWORD_ATTRIBUTION: Final = Attribution(
    name="dscripka", url="https://github.com/dscripka/openWakeWord"
)


def _program_version() -> str | None:
    try:
        return metadata.version("blip")
    except metadata.PackageNotFoundError:
        return None


def build_info(models: list[WakeWordModel]) -> Info:
    """Describe the server and every wake word it can listen for."""
    return Info(
        wake=[
            WakeProgram(
                name=PROGRAM_NAME,
                description="openWakeWord wake word detection (pyopen-wakeword)",
                attribution=_OPENWAKEWORD_ATTRIBUTION,
                installed=True,
                version=_program_version(),
                models=[
                    WakeModel(
                        name=model.name,
                        description=model.phrase,
                        phrase=model.phrase,
                        attribution=_OPENWAKEWORD_ATTRIBUTION
                        if model.builtin
                        else Attribution(name="local", url=""),
                        installed=True,
                        languages=["en"] if model.builtin else [],
                        version=model.version,
                    )
                    for model in models
                ],
            )
        ]
    )


@dataclass(slots=True)
class WakeServerContext:
    """What all connections share: the model list, settings and the inference threads."""

    models: list[WakeWordModel]
    settings: DetectionSettings
    executor: Executor


class WakeEventHandler(BlipEventHandler):
    """Runs this client's detector off the event loop and reports detections."""

    def __init__(
        self,
        context: WakeServerContext,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        super().__init__(reader, writer)
        self.context = context
        self._selected: list[WakeWordModel] = list(context.models)
        self._detector: WakeWordDetector | None = None
        self._converter = StreamConverter(PcmFormat(SAMPLE_RATE, SAMPLE_WIDTH, CHANNELS))
        self._streaming = False
        self._detected_in_stream = False
        self._last_client_timestamp: int | None = None
        self._last_job: Future | None = None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(build_info(self.context.models).event())
            return True
        try:
            if Detect.is_type(event.type):
                await self._select(Detect.from_event(event))
            elif AudioStart.is_type(event.type):
                await self._start_stream()
            elif AudioChunk.is_type(event.type):
                await self._process_chunk(AudioChunk.from_event(event))
            elif AudioStop.is_type(event.type):
                await self._stop_stream()
            else:
                _LOGGER.debug("Ignoring unexpected event type %s", event.type)
        except BadEventError:
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise BadEventError(str(err) or type(err).__name__) from err
        return True

    async def _select(self, detect: Detect) -> None:
        if detect.names is None:
            selected = list(self.context.models)
        else:
            if isinstance(detect.names, str) or not isinstance(detect.names, list):
                raise TypeError("names must be a list of wake word names")
            selected, unknown = match_models(self.context.models, detect.names)
            if unknown:
                available = ", ".join(model.name for model in self.context.models)
                await self.write_event(
                    Error(
                        text=f"Unknown wake word(s) {', '.join(unknown)}; available: {available}",
                        code="unknown-wake-word",
                    ).event()
                )
        if [m.name for m in selected] != [m.name for m in self._selected]:
            self._selected = selected
            await self._close_detector()

    async def _start_stream(self) -> None:
        if self._detector is None:
            self._detector = await self._run(
                WakeWordDetector, self._selected, self.context.settings
            )
        else:
            await self._run(self._detector.reset)
        self._converter.reset()
        self._streaming = True
        self._detected_in_stream = False
        self._last_client_timestamp = None

    async def _process_chunk(self, chunk: AudioChunk) -> None:
        check_client_format(chunk.rate, chunk.width, chunk.channels)
        seconds = len(chunk.audio) / (chunk.rate * chunk.width * chunk.channels)
        if seconds > MAX_CHUNK_SECONDS:
            raise BadEventError(
                f"an audio chunk may hold at most {MAX_CHUNK_SECONDS:g} s of audio; this one "
                f"holds {seconds:.1f} s ({len(chunk.audio)} bytes at {chunk.rate} Hz, "
                f"{chunk.width} byte(s) x {chunk.channels} channel(s)): send shorter chunks"
            )
        if not self._streaming:
            await self._start_stream()  # tolerate clients that skip AudioStart
        source = PcmFormat(chunk.rate, chunk.width, chunk.channels)
        pcm = self._converter.convert(chunk.audio, source)
        if chunk.timestamp is not None:
            self._last_client_timestamp = chunk.timestamp
        assert self._detector is not None
        await self._report(await self._run(self._detector.process, pcm))

    async def _stop_stream(self) -> None:
        if self._streaming and self._detector is not None:
            await self._report(await self._run(self._detector.process, b"", final=True))
        if not self._detected_in_stream:
            await self.write_event(NotDetected().event())
        self._streaming = False
        self._detected_in_stream = False

    async def _report(self, detections: list[Detected]) -> None:
        for detected in detections:
            self._detected_in_stream = True
            timestamp = (
                self._last_client_timestamp
                if self._last_client_timestamp is not None
                else detected.audio_ms
            )
            _LOGGER.info("Wake word %s detected (p=%.2f)", detected.name, detected.probability)
            await self.write_event(Detection(name=detected.name, timestamp=timestamp).event())

    async def _run[**P, R](self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        job = self.context.executor.submit(function, *args, **kwargs)
        self._last_job = job
        return await asyncio.wrap_future(job)

    async def _close_detector(self) -> None:
        detector, self._detector = self._detector, None
        if detector is None:
            return
        last_job = self._last_job

        def close_when_idle() -> None:
            # Freeing TFLite interpreters while a cancelled request still runs them would crash.
            if last_job is not None:
                wait_for_jobs([last_job])
            detector.close()

        try:
            await asyncio.wrap_future(self.context.executor.submit(close_when_idle))
        except RuntimeError:  # the executor is shut down: the server is stopping
            close_when_idle()

    async def disconnect(self) -> None:
        await self._close_detector()
