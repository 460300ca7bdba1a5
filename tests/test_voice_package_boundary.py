"""The servers may import the integration's pure voice package, and nothing else of it; the
voice package imports nothing of Home Assistant or the rest of the integration. That is what lets
``pip install 'blip[servers]'`` ship only custom_components/blip/voice/ next to the servers."""

from __future__ import annotations

import ast
from pathlib import Path
import tomllib

ROOT = Path(__file__).resolve().parent.parent
VOICE = ROOT / "custom_components" / "blip" / "voice"


def _imports(path: Path) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_servers_import_only_the_voice_package_of_the_integration() -> None:
    for path in (ROOT / "wyoming_servers").rglob("*.py"):
        for module, level in _imports(path):
            if level == 0 and module.startswith("custom_components"):
                if module == "custom_components":  # wyoming_servers/__init__.py finds the path
                    continue
                assert module.startswith("custom_components.blip.voice"), (path, module)


def test_the_voice_package_stands_alone() -> None:
    for path in VOICE.glob("*.py"):
        for module, level in _imports(path):
            assert not module.startswith(("homeassistant", "custom_components")), (path, module)
            assert level <= 1, (path, module)  # nothing from the integration above it


def test_the_wheel_carries_the_voice_package_but_not_the_integration() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert "custom_components.blip.voice" in include
    assert not any(pattern in ("custom_components", "custom_components*") for pattern in include)


def test_one_audio_converter_serves_the_integration_and_the_servers() -> None:
    """Blip voice and the three servers convert PCM with the very same code."""
    from custom_components.blip.voice import audio as voice_audio
    from wyoming_servers import audio as server_audio
    from wyoming_servers.stt import handler as stt_handler
    from wyoming_servers.tts import engine as tts_engine
    from wyoming_servers.wake import handler as wake_handler

    for name in server_audio.__all__:
        assert getattr(server_audio, name) is getattr(voice_audio, name), name
    assert stt_handler.StreamConverter is voice_audio.StreamConverter
    assert wake_handler.StreamConverter is voice_audio.StreamConverter
    assert tts_engine.convert_pcm is voice_audio.convert_pcm


def test_no_second_resampler_anywhere() -> None:
    """Resampling lives in voice/audio.py only (no interpolation, audioop or soxr elsewhere)."""
    single = VOICE / "audio.py"
    paths = [*(ROOT / "wyoming_servers").rglob("*.py"), *(ROOT / "custom_components").rglob("*.py")]
    for path in paths:
        if path == single:
            continue
        source = path.read_text(encoding="utf-8")
        for marker in ("np.interp", "import audioop", "import soxr", "AudioChunkConverter"):
            assert marker not in source, (path, marker)
        tree = ast.parse(source)
        names = [
            node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef | ast.FunctionDef)
        ]
        assert not [name for name in names if "resampl" in name.lower()], path


def test_servers_run_from_a_checkout_do_not_load_home_assistant() -> None:
    """A checkout's custom_components/blip/__init__.py is the integration, which imports Home
    Assistant (~200 MB per server in benchmarks/soak.py); the servers must load only the voice
    package, as they do from the wheel."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import wyoming_servers.tts.__main__, wyoming_servers.stt.__main__\n"
        "import wyoming_servers.wake.__main__\n"
        "from custom_components.blip.voice.speakable import speakable_text\n"
        "assert speakable_text('Hi *there*') == 'Hi there', speakable_text('Hi *there*')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
