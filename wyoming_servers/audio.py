"""PCM helpers shared by the Wyoming servers: format conversion with numpy and WAV bytes.

Wyoming clients send audio at whatever rate, sample width and channel count their microphone
has; the models want one fixed format (16 kHz mono 16-bit for wake word and speech-to-text).
``wyoming``'s own converter falls back to a pure-Python ``audioop`` on Python 3.13, which is too
slow for real-time streams, so conversion here is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
import wave

import numpy as np

# The one PCM decoder (shared with Blip voice; a pure module of the integration's package).
from custom_components.blip.voice.audio import decode_samples

SUPPORTED_WIDTHS = (1, 2, 3, 4)
# Formats a client may claim: beyond these no microphone goes, and a rate of 1 Hz would make
# the resampler turn every byte into thousands of samples.
MIN_CLIENT_RATE = 4000
MAX_CLIENT_RATE = 192000
MAX_CLIENT_CHANNELS = 16
# Input frames converted at a time (about 1 s at 16 kHz): bounds the float working arrays.
CONVERT_PIECE_FRAMES = 16384


@dataclass(frozen=True, slots=True)
class PcmAudio:
    """Raw little-endian PCM with its format."""

    pcm: bytes
    rate: int
    width: int
    channels: int

    @property
    def frames(self) -> int:
        return len(self.pcm) // (self.width * self.channels)

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.rate


def pcm_to_float32(pcm: bytes, width: int, channels: int = 1) -> np.ndarray:
    """Decode PCM to float32 in [-1, 1], shaped (frames, channels)."""
    _check_format(width, channels)
    frame_bytes = width * channels
    usable = len(pcm) - len(pcm) % frame_bytes  # a torn frame at the end is dropped
    return decode_samples(pcm[:usable], width).reshape(-1, channels)


def float32_to_pcm(samples: np.ndarray, width: int) -> bytes:
    """Encode float samples in [-1, 1] (any shape, interleaved order) to PCM bytes."""
    _check_format(width, 1)
    flat = np.clip(np.asarray(samples, dtype=np.float64).reshape(-1), -1.0, 1.0)
    if width == 1:
        return np.round(flat * 127.0 + 128.0).astype(np.uint8).tobytes()
    if width == 2:
        return np.round(flat * 32767.0).astype("<i2").tobytes()
    if width == 3:
        values = np.round(flat * float((1 << 23) - 1)).astype(np.int32)
        as_bytes = values.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        return as_bytes.tobytes()
    return np.round(flat * float((1 << 31) - 1)).astype("<i4").tobytes()


def check_client_format(rate: object, width: object, channels: object) -> None:
    """Raise ValueError unless a client's claimed audio format is one a microphone can have."""
    for name, value, low, high in (
        ("rate", rate, MIN_CLIENT_RATE, MAX_CLIENT_RATE),
        ("width", width, min(SUPPORTED_WIDTHS), max(SUPPORTED_WIDTHS)),
        ("channels", channels, 1, MAX_CLIENT_CHANNELS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


def _check_format(width: int, channels: int) -> None:
    if width not in SUPPORTED_WIDTHS:
        raise ValueError(f"unsupported sample width {width} (supported: 1-4 bytes)")
    if channels < 1:
        raise ValueError(f"channel count must be at least 1, got {channels}")


class PcmConverter:
    """Streaming converter to one target format.

    Stateful so a stream cut into chunks resamples as if it were one piece: the resampler carries
    its fractional read position and the last input frame across calls.
    """

    def __init__(self, rate: int, width: int, channels: int) -> None:
        _check_format(width, channels)
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, got {rate}")
        self.rate = rate
        self.width = width
        self.channels = channels
        self._source_rate: int | None = None
        self._position = 0.0  # next output frame's position in input frames, relative to _tail
        self._tail: np.ndarray | None = None  # last input frame of the previous chunk

    def reset(self) -> None:
        """Forget the previous stream."""
        self._source_rate = None
        self._position = 0.0
        self._tail = None

    def convert(self, pcm: bytes, rate: int, width: int, channels: int) -> bytes:
        """Convert one chunk of a stream; returns PCM in the target format.

        The chunk is converted in pieces of at most CONVERT_PIECE_FRAMES input frames, so the
        float working arrays stay a few megabytes whatever the chunk's size and format (an
        8 MiB chunk of 4 kHz 8-bit audio, upsampled in one go, cost 1.7 GB).
        """
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, got {rate}")
        if (rate, width, channels) == (self.rate, self.width, self.channels):
            return pcm
        frame_bytes = width * channels
        piece_bytes = CONVERT_PIECE_FRAMES * frame_bytes
        if len(pcm) <= piece_bytes:
            return self._convert_piece(pcm, rate, width, channels)
        out = bytearray()
        view = memoryview(pcm)
        for offset in range(0, len(pcm), piece_bytes):
            out += self._convert_piece(view[offset : offset + piece_bytes], rate, width, channels)
        return bytes(out)

    def _convert_piece(
        self, pcm: bytes | memoryview, rate: int, width: int, channels: int
    ) -> bytes:
        samples = pcm_to_float32(pcm, width, channels)  # type: ignore[arg-type]
        samples = _mix_channels(samples, self.channels)
        if rate != self.rate:
            samples = self._resample(samples, rate)
        return float32_to_pcm(samples, self.width)

    def _resample(self, samples: np.ndarray, source_rate: int) -> np.ndarray:
        if self._source_rate != source_rate:
            self.reset()
            self._source_rate = source_rate
        if len(samples) == 0:
            return samples
        # Prepend the previous chunk's last frame so interpolation spans the chunk boundary;
        # positions are measured in input frames from extended[0].
        extended = samples if self._tail is None else np.concatenate([self._tail, samples])
        step = source_rate / self.rate
        last_index = len(extended) - 1
        positions = np.arange(self._position, last_index + 1e-9, step)
        self._tail = extended[-1:].copy()
        if len(positions) == 0:
            self._position -= last_index  # keep it relative to the new tail
            return np.zeros((0, samples.shape[1]), dtype=np.float32)
        left = np.floor(positions).astype(np.int64)
        right = np.minimum(left + 1, last_index)
        fraction = (positions - left)[:, None]
        resampled = extended[left] * (1.0 - fraction) + extended[right] * fraction
        # Next position, measured from the new tail (the last frame of `extended`).
        self._position = positions[-1] + step - last_index
        return resampled.astype(np.float32)


def _mix_channels(samples: np.ndarray, target_channels: int) -> np.ndarray:
    source_channels = samples.shape[1]
    if source_channels == target_channels:
        return samples
    mono = samples.mean(axis=1, keepdims=True)
    return np.repeat(mono, target_channels, axis=1)


def convert_pcm(audio: PcmAudio, rate: int, width: int, channels: int) -> PcmAudio:
    """Convert a whole clip to another format."""
    converter = PcmConverter(rate, width, channels)
    pcm = converter.convert(audio.pcm, audio.rate, audio.width, audio.channels)
    return PcmAudio(pcm=pcm, rate=rate, width=width, channels=channels)


def pcm_to_wav_bytes(audio: PcmAudio) -> bytes:
    """Wrap PCM in a WAV container, in memory."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav_file:
        wav_file.setframerate(audio.rate)
        wav_file.setsampwidth(audio.width)
        wav_file.setnchannels(audio.channels)
        wav_file.writeframes(audio.pcm)
    return buffer.getvalue()


def wav_bytes_to_pcm(data: bytes) -> PcmAudio:
    """Read a WAV file held in memory; raises wave.Error or EOFError when it is not one."""
    with wave.open(io.BytesIO(data), "rb") as wav_file:
        return PcmAudio(
            pcm=wav_file.readframes(wav_file.getnframes()),
            rate=wav_file.getframerate(),
            width=wav_file.getsampwidth(),
            channels=wav_file.getnchannels(),
        )


def silence(seconds: float, rate: int, width: int = 2, channels: int = 1) -> PcmAudio:
    """Digital silence of the given length."""
    frames = round(seconds * rate)
    return PcmAudio(
        pcm=float32_to_pcm(np.zeros(frames * channels, dtype=np.float32), width),
        rate=rate,
        width=width,
        channels=channels,
    )
