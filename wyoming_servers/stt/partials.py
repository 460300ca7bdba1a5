"""Partial results for a client that asks for them: what the speculative decode heard.

Blip's own speech-to-text entity in Home Assistant ends a child's turn early when the question
is complete (``custom_components/blip/brain/end_of_turn.py``). It asks for partials with
``Transcribe(context={"blip_partials": True})``; other clients never see these events.

- ``blip-pause`` ``{"speech_end": float}``: the child paused (speech ended that many seconds
  after the utterance's first sample); a speculative decode of the audio so far has started;
- ``blip-partial`` ``{"text": str, "speech_end": float, "decode_seconds": float}``: that decode,
  still current (nothing was said since);
- ``blip-speaking`` ``{}``: the child speaks again, so the last partial is out of date.

The transcript at AudioStop is unchanged: the speculative decode itself, when nothing followed.
"""

from __future__ import annotations

from typing import Any, Final

from wyoming.asr import Transcribe
from wyoming.event import Event

from .endpointing import SAMPLE_RATE

CONTEXT_KEY: Final = "blip_partials"
PAUSE_TYPE: Final = "blip-pause"
PARTIAL_TYPE: Final = "blip-partial"
SPEAKING_TYPE: Final = "blip-speaking"


def wants_partials(transcribe: Transcribe | None) -> bool:
    """The client asked for partial results."""
    context: Any = transcribe.context if transcribe is not None else None
    return isinstance(context, dict) and context.get(CONTEXT_KEY) is True


def pause_event(speech_end_samples: int) -> Event:
    return Event(type=PAUSE_TYPE, data={"speech_end": round(speech_end_samples / SAMPLE_RATE, 3)})


def partial_event(text: str, speech_end_samples: int, decode_seconds: float) -> Event:
    return Event(
        type=PARTIAL_TYPE,
        data={
            "text": text,
            "speech_end": round(speech_end_samples / SAMPLE_RATE, 3),
            "decode_seconds": round(decode_seconds, 3),
        },
    )


def speaking_event() -> Event:
    return Event(type=SPEAKING_TYPE, data={})
