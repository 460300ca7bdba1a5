"""The one PCM module: formats, streaming conversion (rate, channels, width) and WAV bytes.

Used by both sides: Blip voice in Home Assistant (satellite formats) and the Wyoming servers
(microphones in any format to 16 kHz for speech-to-text and wake words, the inference box's
24 kHz to the voice's rate). It is pure (numpy and the standard library) so a HACS install, which
carries only custom_components/blip/, has it, and the pip-installed servers import it from here.
The resampler is written here rather than taken from python-soxr (LGPL) because soxr publishes no
musllinux wheels (checked for 1.0.0 and 1.1.0): Home Assistant OS and the Home Assistant
container are Alpine (musl), where pip would have to compile it, and they ship no compiler.

Everything works chunk by chunk: audio is converted as it arrives and nothing waits for the end
of a sentence. The resampler holds back only the few input frames its filter needs to see ahead
(about a millisecond); ``flush`` releases them at the end of the stream. Chunks are converted in
pieces of at most CONVERT_PIECE_FRAMES input frames, so the working arrays stay small whatever a
client sends in one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
import io
from typing import Final
import wave

import numpy as np

SUPPORTED_WIDTHS: Final = (1, 2, 3, 4)
# Beyond these no microphone or player goes; a claimed rate of 1 Hz would make the resampler
# turn every byte into thousands of samples.
MAX_CHANNELS: Final = 16
MIN_RATE: Final = 4000
MAX_RATE: Final = 192000
# Input frames converted at a time: bounds the float working arrays (the filter's tap matrix is
# output frames x taps) to a few megabytes, however large a chunk is.
CONVERT_PIECE_FRAMES: Final = 8192

# Resampling filter: a Kaiser-windowed sinc with this many zero crossings on each side.
_ZERO_CROSSINGS: Final = 16
_KAISER_BETA: Final = 8.0
# Lowpass cutoff as a fraction of the lower Nyquist frequency; a little headroom against aliasing.
_CUTOFF: Final = 0.95
# Rate ratios with at most this many phases get a precomputed filter table (all common rates do).
_MAX_TABLE_PHASES: Final = 4096


class AudioFormatError(ValueError):
    """A sample rate, width or channel count Blip voice cannot produce."""


@dataclass(frozen=True, slots=True)
class PcmFormat:
    """Raw little-endian PCM: frames per second, bytes per sample, interleaved channels."""

    rate: int
    width: int
    channels: int

    def __post_init__(self) -> None:
        """Reject formats no player would accept before any audio is produced."""
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise AudioFormatError(f"sample rate {self.rate} Hz is outside {MIN_RATE}-{MAX_RATE}")
        if self.width not in SUPPORTED_WIDTHS:
            raise AudioFormatError(f"sample width {self.width} bytes is not one of 1, 2, 3, 4")
        if not 1 <= self.channels <= MAX_CHANNELS:
            raise AudioFormatError(f"{self.channels} channels is outside 1-{MAX_CHANNELS}")

    @property
    def frame_bytes(self) -> int:
        """Bytes of one frame (one sample of every channel)."""
        return self.width * self.channels

    @property
    def bytes_per_second(self) -> int:
        """Bytes of one second of audio."""
        return self.rate * self.frame_bytes

    def duration(self, byte_count: int) -> float:
        """Seconds of audio in ``byte_count`` bytes."""
        return byte_count / self.bytes_per_second


def check_client_format(rate: object, width: object, channels: object) -> None:
    """Raise ValueError unless a client's claimed audio format is one a microphone can have.

    For values straight off the wire (a Wyoming ``audio-chunk``), before any PcmFormat is built.
    """
    for name, value, low, high in (
        ("rate", rate, MIN_RATE, MAX_RATE),
        ("width", width, min(SUPPORTED_WIDTHS), max(SUPPORTED_WIDTHS)),
        ("channels", channels, 1, MAX_CHANNELS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


@dataclass(frozen=True, slots=True)
class PcmAudio:
    """A whole clip of raw little-endian PCM with its format."""

    pcm: bytes
    rate: int
    width: int
    channels: int

    @property
    def format(self) -> PcmFormat:
        """The clip's format (validated)."""
        return PcmFormat(self.rate, self.width, self.channels)

    @property
    def frames(self) -> int:
        """Whole frames in the clip."""
        return len(self.pcm) // (self.width * self.channels)

    @property
    def duration_seconds(self) -> float:
        """Length of the clip."""
        return self.frames / self.rate


def decode_samples(data: bytes, width: int) -> np.ndarray:
    """Little-endian PCM bytes to float32 samples in [-1, 1) (8-bit PCM is unsigned, as in WAV)."""
    if width == 1:
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    if width == 3:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float32) / float(1 << 23)
    return (np.frombuffer(data, dtype="<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)


def encode_samples(samples: np.ndarray, width: int, *, signed_8bit: bool = False) -> bytes:
    """Float samples to little-endian PCM bytes, clipped; 8-bit is unsigned unless asked."""
    clipped = np.clip(samples.astype(np.float64), -1.0, 1.0)
    if width == 1:
        value = np.clip(np.round(clipped * 128.0), -128, 127)
        if signed_8bit:
            return value.astype(np.int8).tobytes()
        return (value + 128).astype(np.uint8).tobytes()
    if width == 2:
        return np.clip(np.round(clipped * 32768.0), -32768, 32767).astype("<i2").tobytes()
    if width == 3:
        value = np.clip(np.round(clipped * float(1 << 23)), -(1 << 23), (1 << 23) - 1)
        as_int = value.astype("<i4").reshape(-1, 1).view(np.uint8)
        return as_int[:, :3].tobytes()
    value = np.clip(np.round(clipped * float(1 << 31)), -(1 << 31), (1 << 31) - 1)
    return value.astype("<i4").tobytes()


def _kaiser(x: np.ndarray, half_width: float) -> np.ndarray:
    ratio = np.clip(x / half_width, -1.0, 1.0)
    return np.i0(_KAISER_BETA * np.sqrt(1.0 - ratio * ratio)) / np.i0(_KAISER_BETA)


class StreamingResampler:
    """Band-limited resampling of float frames, one chunk at a time.

    Output frame ``n`` sits at input position ``n * in_rate / out_rate``, computed exactly with
    integers so a long answer never drifts. The filter reaches ``half_width`` input frames to
    each side, so that many frames of look-ahead are held until more input or ``flush``.
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int) -> None:
        """Prepare a resampler from ``in_rate`` to ``out_rate`` for ``channels`` channels."""
        ratio = Fraction(in_rate, out_rate)
        self._step_num = ratio.numerator
        self._step_den = ratio.denominator
        self._channels = channels
        # Cutoff relative to the input's Nyquist: below the lower of the two rates.
        self._cutoff = _CUTOFF * min(1.0, out_rate / in_rate)
        self._half_width = int(np.ceil(_ZERO_CROSSINGS / self._cutoff))
        # Start with silence before the first frame so output frame 0 has its left context.
        self._offsets = np.arange(-self._half_width + 1, self._half_width + 1, dtype=np.int64)
        # Output positions fall on only `den` distinct fractions of an input frame: one row each.
        self._table: np.ndarray | None = None
        if self._step_den <= _MAX_TABLE_PHASES:
            phases = np.arange(self._step_den, dtype=np.float64) / self._step_den
            self._table = self._weights(phases)
        self._buffer = np.zeros((self._half_width, channels), dtype=np.float32)
        self._buffer_start = -self._half_width  # input index of self._buffer[0]
        self._next_out = 0  # index of the next output frame
        self._input_frames = 0

    def _out_frames_up_to(self, input_end: int) -> int:
        """Output frames whose whole filter window lies before input index ``input_end``."""
        # Position of output n is n * num / den; it needs input up to pos + half_width.
        last_position = input_end - self._half_width - 1
        if last_position < 0:
            return 0
        return (last_position * self._step_den) // self._step_num + 1

    def _weights(self, fraction: np.ndarray) -> np.ndarray:
        distance = fraction[:, None] - self._offsets[None, :].astype(np.float64)
        weights = (
            self._cutoff
            * np.sinc(self._cutoff * distance)
            * _kaiser(distance, float(self._half_width))
        )
        return weights.astype(np.float32)

    def _render(self, stop_out: int) -> np.ndarray:
        count = stop_out - self._next_out
        if count <= 0:
            return np.zeros((0, self._channels), dtype=np.float32)
        indices = np.arange(self._next_out, stop_out, dtype=np.int64)
        numerators = indices * self._step_num
        base = numerators // self._step_den  # input frame at or before each output position
        phase = numerators - base * self._step_den
        if self._table is not None:
            weights = self._table[phase]
        else:
            weights = self._weights(phase / self._step_den)
        taps = base[:, None] + self._offsets[None, :] - self._buffer_start
        out = np.empty((count, self._channels), dtype=np.float32)
        for channel in range(self._channels):
            window = self._buffer[:, channel][taps]  # (count, taps)
            out[:, channel] = np.einsum("kt,kt->k", weights, window)
        self._next_out = stop_out
        return out

    def _trim(self) -> None:
        """Drop input frames no future output frame can reach."""
        next_base = (self._next_out * self._step_num) // self._step_den
        keep_from = next_base - self._half_width + 1
        drop = keep_from - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Resample the next ``(frames, channels)`` block; returns what is ready."""
        self._buffer = np.concatenate([self._buffer, frames.astype(np.float32)])
        self._input_frames += len(frames)
        out = self._render(self._out_frames_up_to(self._buffer_start + len(self._buffer)))
        self._trim()
        return out

    def flush(self) -> np.ndarray:
        """Release the held-back tail: as many frames as the input's duration calls for."""
        total_out = (self._input_frames * self._step_den + self._step_num - 1) // self._step_num
        pad = np.zeros((self._half_width + 1, self._channels), dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, pad])
        out = self._render(total_out)
        self._trim()
        return out


def _mix_channels(frames: np.ndarray, channels: int) -> np.ndarray:
    """Mono is copied to every channel; more channels to mono are averaged."""
    current = frames.shape[1]
    if current == channels:
        return frames
    if current == 1:
        return np.repeat(frames, channels, axis=1)
    mono = frames.mean(axis=1, keepdims=True)
    return mono if channels == 1 else np.repeat(mono, channels, axis=1)


class PcmConverter:
    """Convert a stream of PCM bytes from one format to another, chunk by chunk.

    Chunks may split frames anywhere; a partial frame is kept for the next chunk.
    """

    def __init__(self, source: PcmFormat, target: PcmFormat, *, signed_8bit: bool = False) -> None:
        """Convert ``source`` PCM to ``target`` PCM (``signed_8bit`` for CAF's 8-bit)."""
        self.source = source
        self.target = target
        self._signed_8bit = signed_8bit
        self._pending = b""
        self._identity = source == target and not (signed_8bit and target.width == 1)
        # Resample before upmixing and after downmixing: never filter duplicated channels.
        self._resample_channels = min(source.channels, target.channels)
        self._resampler = (
            StreamingResampler(source.rate, target.rate, self._resample_channels)
            if source.rate != target.rate
            else None
        )

    def convert(self, data: bytes) -> bytes:
        """Convert the next chunk; returns the target bytes ready now (may be empty)."""
        if self._identity:
            return data
        data = self._pending + data
        frame_bytes = self.source.frame_bytes
        usable = len(data) - len(data) % frame_bytes
        self._pending = data[usable:]
        if not usable:
            return b""
        piece_bytes = CONVERT_PIECE_FRAMES * frame_bytes
        if usable <= piece_bytes:
            return self._convert_piece(data[:usable])
        view = memoryview(data)[:usable]
        return b"".join(
            self._convert_piece(view[offset : offset + piece_bytes])
            for offset in range(0, usable, piece_bytes)
        )

    def _convert_piece(self, data: bytes | memoryview) -> bytes:
        samples = decode_samples(data, self.source.width)  # type: ignore[arg-type]
        frames = _mix_channels(samples.reshape(-1, self.source.channels), self._resample_channels)
        if self._resampler is not None:
            frames = self._resampler.process(frames)
        frames = _mix_channels(frames, self.target.channels)
        return encode_samples(frames.reshape(-1), self.target.width, signed_8bit=self._signed_8bit)

    def flush(self) -> bytes:
        """End of stream: the resampler's held-back tail (a trailing partial frame is dropped)."""
        self._pending = b""
        if self._resampler is None:
            return b""
        frames = _mix_channels(self._resampler.flush(), self.target.channels)
        return encode_samples(frames.reshape(-1), self.target.width, signed_8bit=self._signed_8bit)


def convert_all(data: bytes, source: PcmFormat, target: PcmFormat) -> bytes:
    """Convert a whole clip (used for the phrase cache)."""
    converter = PcmConverter(source, target)
    return converter.convert(data) + converter.flush()


class StreamConverter:
    """A stream whose chunks each name their own format (Wyoming's ``audio-chunk``), to one target.

    A change of source format mid-stream starts a new conversion (the resampler's state belongs
    to one source rate). ``reset`` forgets the stream, for the next utterance.
    """

    def __init__(self, target: PcmFormat) -> None:
        """Convert whatever arrives to ``target``."""
        self.target = target
        self._converter: PcmConverter | None = None

    def reset(self) -> None:
        """Forget the previous stream."""
        self._converter = None

    def convert(self, data: bytes, source: PcmFormat) -> bytes:
        """The next chunk, in the target format (a torn last frame waits for the next chunk)."""
        if self._converter is None or self._converter.source != source:
            self._converter = PcmConverter(source, self.target)
        return self._converter.convert(data)

    def flush(self) -> bytes:
        """End of stream: the resampler's held-back tail."""
        converter, self._converter = self._converter, None
        return b"" if converter is None else converter.flush()


def convert_pcm(audio: PcmAudio, rate: int, width: int, channels: int) -> PcmAudio:
    """A whole clip in another format."""
    target = PcmFormat(rate, width, channels)
    return PcmAudio(convert_all(audio.pcm, audio.format, target), rate, width, channels)


def silence(seconds: float, rate: int, width: int = 2, channels: int = 1) -> PcmAudio:
    """Digital silence of the given length."""
    frames = round(seconds * rate)
    return PcmAudio(
        encode_samples(np.zeros(frames * channels, dtype=np.float32), width), rate, width, channels
    )


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
