"""What bytes Blip voice sends for a request, and the encoders that make them.

Home Assistant 2026.2 passes the satellite's ``preferred_*`` options to an engine that lists
them, but still pipes the result through its own ffmpeg whenever a sample rate, channel count
or sample width was asked for (``tts/__init__.py``, ``needs_conversion``), which every
satellite does. That ffmpeg uses default probing: fed WAV it emits nothing until it has about
five seconds of audio or the end of input. So:

- a request with any sample option gets CAF (little-endian PCM already in the requested rate,
  width and channels), which that ffmpeg starts converting within one packet;
- a request for a format alone gets exactly that format: WAV written here (no ffmpeg at all),
  anything else (MP3, FLAC, Ogg…) from an ffmpeg Blip starts itself with low-latency flags on
  raw PCM, flushing every packet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
import contextlib
from dataclasses import dataclass
import logging
import re
from typing import Any, Final

from .audio import AudioFormatError, PcmFormat
from .containers import caf_header, wav_header

_LOGGER = logging.getLogger(__name__)

# The option names Home Assistant's tts component uses (homeassistant.components.tts).
PREFERRED_FORMAT: Final = "preferred_format"
PREFERRED_SAMPLE_RATE: Final = "preferred_sample_rate"
PREFERRED_SAMPLE_CHANNELS: Final = "preferred_sample_channels"
PREFERRED_SAMPLE_BYTES: Final = "preferred_sample_bytes"
SAMPLE_OPTIONS: Final = (PREFERRED_SAMPLE_RATE, PREFERRED_SAMPLE_CHANNELS, PREFERRED_SAMPLE_BYTES)

# What Home Assistant assumes when no format is asked for.
DEFAULT_CONTAINER: Final = "mp3"
# Formats written here without ffmpeg.
NATIVE_CONTAINERS: Final = frozenset({"wav", "caf"})
_CONTAINER_NAME: Final = re.compile(r"^[a-z0-9_]{1,16}$")
_FFMPEG_READ_BYTES: Final = 4096
_RAW_PCM_FORMATS: Final = {1: "u8", 2: "s16le", 3: "s24le", 4: "s32le"}


class AudioEncodingError(Exception):
    """ffmpeg failed to encode the requested format."""


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """The answer to "what does Blip voice emit for these options"."""

    container: str  # what the listener finally gets
    extension: str  # what Blip voice hands to Home Assistant
    pcm: PcmFormat  # the PCM Blip voice produces (before any container)

    @property
    def runs_own_ffmpeg(self) -> bool:
        """Whether Blip voice needs its own ffmpeg for this request."""
        return self.extension not in NATIVE_CONTAINERS

    @property
    def home_assistant_converts(self) -> bool:
        """Whether Home Assistant will pipe this through its ffmpeg after Blip voice."""
        return self.extension != self.container


def _int_option(options: Mapping[str, Any], name: str, default: int) -> int:
    value = options.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise AudioFormatError(f"{name} must be a whole number, not {value!r}") from err


def plan_output(options: Mapping[str, Any], native: PcmFormat) -> OutputPlan:
    """Decide the bytes for a request; ``native`` is the voice's own format.

    Raises AudioFormatError with a clear message for options no player could use.
    """
    container = str(options.get(PREFERRED_FORMAT) or DEFAULT_CONTAINER).lower()
    if not _CONTAINER_NAME.match(container):
        raise AudioFormatError(f"unknown audio format {container!r}")
    pcm = PcmFormat(
        rate=_int_option(options, PREFERRED_SAMPLE_RATE, native.rate),
        width=_int_option(options, PREFERRED_SAMPLE_BYTES, 2),
        channels=_int_option(options, PREFERRED_SAMPLE_CHANNELS, native.channels),
    )
    if any(options.get(name) is not None for name in SAMPLE_OPTIONS):
        return OutputPlan(container=container, extension="caf", pcm=pcm)
    return OutputPlan(container=container, extension=container, pcm=pcm)


async def encode(
    plan: OutputPlan, pcm_chunks: AsyncIterator[bytes], ffmpeg_binary: str = "ffmpeg"
) -> AsyncIterator[bytes]:
    """Wrap a PCM stream in ``plan.extension``, yielding bytes as soon as they exist."""
    if plan.extension == "wav":
        yield wav_header(plan.pcm)
    elif plan.extension == "caf":
        yield caf_header(plan.pcm)
    else:
        async for data in _ffmpeg_encode(plan, pcm_chunks, ffmpeg_binary):
            yield data
        return
    async for pcm in pcm_chunks:
        if pcm:
            yield pcm


def ffmpeg_command(plan: OutputPlan, ffmpeg_binary: str) -> list[str]:
    """ffmpeg reading raw PCM with no probing and writing ``plan.container``, packet by packet."""
    command = [
        ffmpeg_binary,
        "-hide_banner",
        "-loglevel",
        "error",
        # Raw input needs no probing; without these ffmpeg would wait for seconds of audio.
        "-probesize",
        "32",
        "-analyzeduration",
        "0",
        "-f",
        _RAW_PCM_FORMATS[plan.pcm.width],
        "-ar",
        str(plan.pcm.rate),
        "-ac",
        str(plan.pcm.channels),
        "-i",
        "pipe:0",
        "-f",
        plan.container,
    ]
    if plan.container == "mp3":
        command.extend(["-q:a", "0"])
    command.extend(["-flush_packets", "1", "pipe:1"])
    return command


async def _ffmpeg_encode(
    plan: OutputPlan, pcm_chunks: AsyncIterator[bytes], ffmpeg_binary: str
) -> AsyncIterator[bytes]:
    command = ffmpeg_command(plan, ffmpeg_binary)
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin = process.stdin

    async def feed() -> None:
        try:
            async for pcm in pcm_chunks:
                if pcm:
                    stdin.write(pcm)
                    await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # ffmpeg ended early; its exit code tells why
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    feeder = asyncio.create_task(feed(), name="blip voice ffmpeg input")
    finished = False
    try:
        while data := await process.stdout.read(_FFMPEG_READ_BYTES):
            yield data
        await feeder
        finished = True
    finally:
        if not finished:
            feeder.cancel()
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
        return_code = await process.wait()
    if return_code != 0:
        assert process.stderr is not None
        message = (await process.stderr.read()).decode(errors="replace").strip()
        _LOGGER.error("ffmpeg could not encode %s: %s", plan.container, message)
        raise AudioEncodingError(f"ffmpeg could not encode {plan.container}: {message}")
