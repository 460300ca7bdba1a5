"""Blip's Wyoming voice servers (text-to-speech, speech-to-text, wake word).

What the three servers share lives in modules of this package: ``serve`` (the one serve path:
who may connect, connection limits, idle timeouts, the defensive event reader and the
malformed-event policy), ``audio`` (PCM conversion) and ``discovery`` (zeroconf).
"""

from __future__ import annotations

from .serve import (
    DEFAULT_MAX_DATA_BYTES,
    DEFAULT_MAX_PAYLOAD_BYTES,
    WyomingProtocolError,
    read_event_bounded,
)

__all__ = [
    "DEFAULT_MAX_DATA_BYTES",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "WyomingProtocolError",
    "read_event_bounded",
]
