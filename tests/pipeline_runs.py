"""Drive one run of Home Assistant's real Assist pipeline on a microphone stream.

Shared by tests/listening_fixtures.py (from the STT stage, the child's wait) and
tests/test_end_to_end.py (from the wake word). The reply is read from HA's TTS stream the way
Wyoming satellites read it: from the moment streaming starts, or when TTS ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
import time
from typing import Any

from homeassistant.components import assist_pipeline, stt, tts
from homeassistant.components.assist_pipeline.pipeline import (
    PipelineEvent,
    PipelineEventType,
    PipelineInput,
    PipelineRun,
    PipelineStage,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session

MIC_METADATA = stt.SpeechMetadata(
    language="en",
    format=stt.AudioFormats.WAV,
    codec=stt.AudioCodecs.PCM,
    bit_rate=stt.AudioBitRates.BITRATE_16,
    sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
    channel=stt.AudioChannels.CHANNEL_MONO,
)


@dataclass
class DrivenRun:
    run_id: str = ""
    stream_closed: bool = False  # the reply's TTS stream was read to its end


async def drive_pipeline(
    hass: HomeAssistant,
    mic: AsyncIterator[bytes],
    tts_audio_output: dict[str, Any],
    *,
    start_stage: PipelineStage,
    on_event: Callable[[float, PipelineEvent], None],
    on_audio: Callable[[float, bytes], None],
    limit_seconds: float,
) -> DrivenRun:
    """Run the preferred pipeline from ``start_stage`` to TTS on ``mic`` (closed at the end).

    ``on_event`` and ``on_audio`` get each pipeline event and each reply chunk with the
    monotonic time it arrived.
    """
    pipeline = assist_pipeline.async_get_pipeline(hass)
    driven = DrivenRun()
    token: str | None = None
    reader: asyncio.Task[None] | None = None

    async def read() -> None:
        assert token is not None
        stream = tts.async_get_stream(hass, token)
        assert stream is not None
        async for chunk in stream.async_stream_result():
            on_audio(time.monotonic(), chunk)
        driven.stream_closed = True

    def event_callback(event: PipelineEvent) -> None:
        nonlocal token, reader
        on_event(time.monotonic(), event)
        data = event.data or {}
        if event.type is PipelineEventType.RUN_START:
            token = data["tts_output"]["token"]
        elif (
            (event.type is PipelineEventType.INTENT_PROGRESS and data.get("tts_start_streaming"))
            or event.type is PipelineEventType.TTS_END
        ) and reader is None:
            reader = hass.async_create_task(read())

    try:
        with chat_session.async_get_chat_session(hass) as session:
            run = PipelineRun(
                hass,
                context=Context(),
                pipeline=pipeline,
                start_stage=start_stage,
                end_stage=PipelineStage.TTS,
                event_callback=event_callback,
                tts_audio_output=dict(tts_audio_output),
            )
            driven.run_id = run.id
            pipeline_input = PipelineInput(
                run=run, session=session, stt_metadata=MIC_METADATA, stt_stream=mic
            )
            await pipeline_input.validate()
            await asyncio.wait_for(pipeline_input.execute(), limit_seconds)
        if reader is not None:
            await asyncio.wait_for(reader, limit_seconds)
    finally:
        await mic.aclose()  # type: ignore[attr-defined]
    return driven
