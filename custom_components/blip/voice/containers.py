"""Stream headers for raw PCM: WAV for players, CAF for Home Assistant's own ffmpeg.

Both are written before the length of the audio is known, so their size fields say "unknown"
(0xFFFFFFFF in WAV, as ffmpeg writes to a pipe; -1 in CAF, which the format defines as "to the
end of the file"). Nothing waits for the end of the speech to fill them in.
"""

from __future__ import annotations

import struct
from typing import Final

from .audio import PcmFormat

WAV_HEADER_BYTES: Final = 44
_UNKNOWN_WAV_SIZE: Final = 0xFFFFFFFF
_WAVE_FORMAT_PCM: Final = 1

_CAF_LINEAR_PCM_LITTLE_ENDIAN: Final = 2  # kCAFLinearPCMFormatFlagIsLittleEndian
_CAF_UNKNOWN_DATA_SIZE: Final = -1


def wav_header(pcm: PcmFormat) -> bytes:
    """A 44-byte WAV header for a stream of unknown length."""
    fmt_chunk = struct.pack(
        "<HHIIHH",
        _WAVE_FORMAT_PCM,
        pcm.channels,
        pcm.rate,
        pcm.bytes_per_second,
        pcm.frame_bytes,
        pcm.width * 8,
    )
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", _UNKNOWN_WAV_SIZE),
            b"WAVE",
            b"fmt ",
            struct.pack("<I", len(fmt_chunk)),
            fmt_chunk,
            b"data",
            struct.pack("<I", _UNKNOWN_WAV_SIZE),
        )
    )


def caf_header(pcm: PcmFormat) -> bytes:
    """A Core Audio Format header for little-endian signed PCM of unknown length.

    Why CAF: Home Assistant 2026.2 pipes every satellite's TTS stream through ffmpeg with its
    default probing. Fed WAV (or raw PCM, FLAC, Ogg), that ffmpeg emits nothing until it has
    about five seconds of audio or the end of input; fed CAF, whose packets carry timestamps,
    it starts within one packet. 8-bit CAF PCM is signed, unlike WAV's.
    """
    description = struct.pack(
        ">d4sIIIII",
        float(pcm.rate),
        b"lpcm",
        _CAF_LINEAR_PCM_LITTLE_ENDIAN,
        pcm.frame_bytes,  # bytes per packet
        1,  # frames per packet
        pcm.channels,
        pcm.width * 8,
    )
    return b"".join(
        (
            b"caff",
            struct.pack(">HH", 1, 0),  # file version, flags
            b"desc",
            struct.pack(">q", len(description)),
            description,
            b"data",
            struct.pack(">q", _CAF_UNKNOWN_DATA_SIZE),
            struct.pack(">I", 0),  # edit count
        )
    )
