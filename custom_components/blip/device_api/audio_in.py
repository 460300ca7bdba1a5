"""A device's recorded question (webm/opus, mp4/aac, wav…) to text, through Home Assistant's STT.

Browsers record whole containers (Safari's mp4 may keep its index at the end), so the upload is
written to a temporary file and ffmpeg decodes it to the 16 kHz mono PCM every STT engine takes.
The engine is the one of the child's Assist pipeline, else the preferred pipeline's, else Home
Assistant's default STT entity.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import logging
import os
import tempfile
from typing import Final

from homeassistant.components import stt
from homeassistant.core import HomeAssistant

_LOGGER = logging.getLogger(__name__)

MAX_UPLOAD_BYTES: Final = 8 * 1024 * 1024
MAX_SECONDS: Final = 60
RATE: Final = 16000
DECODE_TIMEOUT: Final = 30.0
STT_CHUNK_BYTES: Final = 3200  # 100 ms


class AudioInputError(Exception):
    """The recording could not be turned into words; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        """``reason``: "too_big", "not_audio", "no_stt" or "not_heard"."""
        super().__init__(reason)
        self.reason = reason


def _ffmpeg_binary(hass: HomeAssistant) -> str:
    try:
        from homeassistant.components.ffmpeg import get_ffmpeg_manager

        return get_ffmpeg_manager(hass).binary
    except (ImportError, KeyError, ValueError):
        return "ffmpeg"


def _write_temp(data: bytes) -> str:
    fd, path = tempfile.mkstemp(prefix="blip-device-", suffix=".audio")
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return path


async def decode_to_pcm(hass: HomeAssistant, data: bytes) -> bytes:
    """16 kHz mono 16-bit PCM of any recording ffmpeg can read."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise AudioInputError("too_big")
    if not data:
        raise AudioInputError("not_audio")
    path = await hass.async_add_executor_job(_write_temp, data)
    try:
        process = await asyncio.create_subprocess_exec(
            _ffmpeg_binary(hass),
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-i",
            path,
            "-t",
            str(MAX_SECONDS),
            "-vn",
            "-f",
            "s16le",
            "-acodec",
            "pcm_s16le",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "pipe:1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            pcm, errors = await asyncio.wait_for(process.communicate(), DECODE_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise AudioInputError("not_audio") from None
    finally:
        await hass.async_add_executor_job(_remove, path)
    if process.returncode != 0 or not pcm:
        _LOGGER.info(
            "A device's recording could not be decoded: %s",
            errors.decode(errors="replace").strip()[:200],
        )
        raise AudioInputError("not_audio")
    return pcm


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def stt_engine_for(hass: HomeAssistant, agent_id: str) -> tuple[str, str | None] | None:
    """(STT entity, language) of the pipeline that talks to ``agent_id``, else a sane default."""
    if "assist_pipeline" in hass.config.components:
        from homeassistant.components import assist_pipeline

        pipelines = assist_pipeline.async_get_pipelines(hass)
        for pipeline in pipelines:
            if pipeline.conversation_engine == agent_id and pipeline.stt_engine:
                return pipeline.stt_engine, pipeline.stt_language
        try:
            preferred = assist_pipeline.async_get_pipeline(hass)
        except Exception:  # no preferred pipeline yet
            preferred = None
        if preferred is not None and preferred.stt_engine:
            return preferred.stt_engine, preferred.stt_language
    if "stt" in hass.config.components and (engine := stt.async_default_engine(hass)):
        return engine, None
    return None


async def async_transcribe(hass: HomeAssistant, agent_id: str, pcm: bytes) -> str:
    """The child's words, from the STT engine their pipeline uses."""
    found = stt_engine_for(hass, agent_id)
    entity = stt.async_get_speech_to_text_entity(hass, found[0]) if found else None
    if entity is None or found is None:
        raise AudioInputError("no_stt")
    language = found[1] or _language_for(entity.supported_languages, hass.config.language)
    metadata = stt.SpeechMetadata(
        language=language,
        format=stt.AudioFormats.WAV,
        codec=stt.AudioCodecs.PCM,
        bit_rate=stt.AudioBitRates.BITRATE_16,
        sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
        channel=stt.AudioChannels.CHANNEL_MONO,
    )

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(pcm), STT_CHUNK_BYTES):
            yield pcm[start : start + STT_CHUNK_BYTES]

    result = await entity.internal_async_process_audio_stream(metadata, chunks())
    text = (result.text or "").strip()
    if result.result is not stt.SpeechResultState.SUCCESS or not text:
        raise AudioInputError("not_heard")
    return text


def _language_for(supported: list[str], wanted: str) -> str:
    """The engine's language closest to Home Assistant's ("en" for "en-GB")."""
    if wanted in supported:
        return wanted
    base = wanted.split("-")[0].split("_")[0]
    for language in supported:
        if language.split("-")[0].split("_")[0] == base:
            return language
    return supported[0] if supported else wanted
