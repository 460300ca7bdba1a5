"""The servers' names for the one PCM module, ``custom_components/blip/voice/audio.py``.

Blip voice (in Home Assistant) and the three servers convert audio with the same code: the
servers import it from the integration's pure voice package (never the other way round; see
tests/test_voice_package_boundary.py). Nothing is implemented here.

``wyoming``'s own converter falls back to a pure-Python ``audioop`` on Python 3.13, too slow for
real-time streams, so no server uses it.
"""

from __future__ import annotations

from custom_components.blip.voice.audio import (
    CONVERT_PIECE_FRAMES,
    PcmAudio,
    PcmFormat,
    StreamConverter,
    check_client_format,
    convert_pcm,
    decode_samples,
    encode_samples,
    pcm_to_wav_bytes,
    silence,
    wav_bytes_to_pcm,
)

__all__ = [
    "CONVERT_PIECE_FRAMES",
    "PcmAudio",
    "PcmFormat",
    "StreamConverter",
    "check_client_format",
    "convert_pcm",
    "decode_samples",
    "encode_samples",
    "pcm_to_wav_bytes",
    "silence",
    "wav_bytes_to_pcm",
]
