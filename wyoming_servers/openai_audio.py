"""The inference box's OpenAI-compatible audio endpoints, as the Wyoming servers use them.

A household GPU box serves speech-to-text the way vLLM serves Voxtral and faster-whisper servers
serve Whisper (``POST /v1/audio/transcriptions``, multipart with the audio as a WAV file) and
speech the way OpenAI-compatible TTS servers do (``POST /v1/audio/speech``, JSON in, ``pcm``
or ``wav`` out). Plain blocking HTTP from the standard library, run in worker threads by the
callers: nothing here touches the event loop, and nothing extra needs installing.

Every failure (refused, reset, timed out, an HTTP error, a body that is not what was asked for)
is a ``RemoteAudioError`` with a message that names the box but never the words.
"""

from __future__ import annotations

from dataclasses import dataclass
import http.client
import json
import os
from typing import Final
from urllib.parse import urlparse
import uuid
import wave

from .audio import PcmAudio, pcm_to_wav_bytes, wav_bytes_to_pcm

# OpenAI's "pcm" response format: 24 kHz, 16-bit, mono, little-endian.
OPENAI_PCM_RATE: Final = 24000
MAX_TRANSCRIPT_BYTES: Final = 64 * 1024
MAX_SPEECH_BYTES: Final = 32 * 1024 * 1024
API_KEY_ENV: Final = "BLIP_INFERENCE_API_KEY"


class RemoteAudioError(Exception):
    """The inference box could not be used for this request."""


@dataclass(frozen=True, slots=True)
class RemoteEndpoint:
    """Where the box is: ``http(s)://host:port`` with an optional path prefix (``/v1`` added)."""

    scheme: str
    host: str
    port: int
    prefix: str
    api_key: str | None = None

    @classmethod
    def parse(cls, url: str, api_key: str | None = None) -> RemoteEndpoint:
        """ValueError for anything that is not an http(s) URL with a host."""
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"the inference box must be an http(s):// URL, got {url!r}")
        prefix = parsed.path.rstrip("/")
        if not prefix.endswith("/v1"):
            prefix += "/v1"
        return cls(
            scheme=parsed.scheme,
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 80),
            prefix=prefix,
            api_key=api_key or os.environ.get(API_KEY_ENV) or None,
        )

    @property
    def label(self) -> str:
        """For logs: scheme, host and port only."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def post(self, path: str, body: bytes, content_type: str, timeout: float, limit: int) -> bytes:
        """POST and return the whole body (at most ``limit`` bytes)."""
        connection_class = (
            http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(self.host, self.port, timeout=timeout)
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            connection.request("POST", self.prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read(limit + 1)
            if response.status != 200:
                raise RemoteAudioError(f"{self.label} answered HTTP {response.status}")
            if len(data) > limit:
                raise RemoteAudioError(f"{self.label} sent more than {limit} bytes")
            if response.length not in (None, 0):
                raise RemoteAudioError(f"{self.label} ended its answer early")
            return data
        except (OSError, http.client.HTTPException) as err:
            raise RemoteAudioError(f"{self.label} failed: {err!r}") from err
        finally:
            connection.close()


def _multipart(fields: dict[str, str], file_bytes: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="speech.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n".encode()
    )
    parts.extend((file_bytes, f"\r\n--{boundary}--\r\n".encode()))
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def transcribe(
    endpoint: RemoteEndpoint,
    pcm16: bytes,
    *,
    rate: int = 16000,
    model: str,
    language: str | None,
    prompt: str | None,
    timeout: float,
) -> str:
    """The box's transcript of 16-bit mono audio (blocking)."""
    fields = {"model": model, "response_format": "json", "temperature": "0"}
    if language:
        fields["language"] = language
    if prompt:
        fields["prompt"] = prompt
    body, content_type = _multipart(fields, pcm_to_wav_bytes(PcmAudio(pcm16, rate, 2, 1)))
    data = endpoint.post("/audio/transcriptions", body, content_type, timeout, MAX_TRANSCRIPT_BYTES)
    try:
        text = json.loads(data)["text"]
    except (ValueError, KeyError, TypeError) as err:
        raise RemoteAudioError(f"{endpoint.label} sent no transcript") from err
    if not isinstance(text, str):
        raise RemoteAudioError(f"{endpoint.label} sent no transcript")
    return text.strip()


def speech(
    endpoint: RemoteEndpoint,
    text: str,
    *,
    model: str,
    voice: str,
    response_format: str = "pcm",
    timeout: float,
) -> PcmAudio:
    """The box speaking ``text`` (blocking); ``pcm`` is OpenAI's 24 kHz 16-bit mono."""
    body = json.dumps(
        {"model": model, "input": text, "voice": voice, "response_format": response_format}
    ).encode()
    data = endpoint.post("/audio/speech", body, "application/json", timeout, MAX_SPEECH_BYTES)
    if response_format == "pcm":
        if not data or len(data) % 2:
            raise RemoteAudioError(f"{endpoint.label} sent no usable audio")
        return PcmAudio(pcm=data, rate=OPENAI_PCM_RATE, width=2, channels=1)
    try:
        audio = wav_bytes_to_pcm(data)
    except (wave.Error, EOFError) as err:
        raise RemoteAudioError(f"{endpoint.label} sent no usable audio") from err
    if not audio.pcm:
        raise RemoteAudioError(f"{endpoint.label} sent no usable audio")
    return audio
