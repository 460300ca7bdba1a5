"""The child's last word to the first reply audio on a real Wyoming satellite's speaker.

    .venv/bin/python benchmarks/satellite_end_of_turn.py [--repeat 1]

What a family's satellite does, end to end: rhasspy's ``wyoming-satellite`` 1.0.0 (its own
program, in its own venv, ``.bench-venv``, because it pins wyoming 1.4.1 and Home
Assistant needs 1.10; the benchmark makes that venv on first use) reads its microphone from a
command that plays the child's audio in real time (``benchmarks/satellite_io.py mic``), detects
"Hey Jarvis" with the project's wake word server, and streams the question to Home Assistant over
the Wyoming satellite protocol; HA's own ``wyoming`` integration (added through its config flow,
as a family adds a satellite) runs the Assist pipeline: Blip listening or HA's own wyoming STT
(HA's default end of speech, 0.7 s) on the project's STT server, Blip's agent (the drill
engine), Blip voice. The satellite plays the reply into its speaker command
(``satellite_io.py snd``), which notes when each piece of audio arrived.

The figure is the child's last word (known to the sample in the clip the microphone played) to
the first reply audio the satellite played, for both STT engines in the same run, turn by turn
alternating who goes first. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from homeassistant.components.assist_pipeline.pipeline import KEY_ASSIST_PIPELINE  # noqa: E402
from homeassistant.core import HomeAssistant  # noqa: E402

from benchmarks.end_of_turn import (  # noqa: E402
    BLIP_VOICE,
    COMPLETE,
    add_wyoming,
    blip_home,
    stt_server_process,
)
from tests.agent_helpers import AGENT_ID  # noqa: E402
from tests.listening_fixtures import Question, speak, use_pipeline  # noqa: E402
from tests.wyoming_fixtures import server_process  # noqa: E402

SATELLITE_VENV = REPO / ".bench-venv"
SATELLITE_PACKAGE = "wyoming-satellite==1.0.0"
WAKE_WORD = "Hey Jarvis."
WAKE_MODEL = "hey_jarvis"
AFTER_WAKE_SECONDS = 0.7  # the child waits for the wake sound's moment, then asks
TURN_LIMIT = 40.0
QUIET_AFTER_REPLY = 1.5  # no more audio for this long: the reply is over


def satellite_python() -> Path:
    """The satellite's own venv (made on first use: ``pip install wyoming-satellite``)."""
    python = SATELLITE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SATELLITE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", SATELLITE_PACKAGE], check=True)
    return python


def _speaker_log(path: Path) -> list[tuple[float, int]]:
    """(monotonic, peak) of every piece of audio the satellite played."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        at, _size, peak = line.split()
        rows.append((float(at), int(peak)))
    return rows


async def _clip_started(control: Path, name: str) -> float:
    """When the microphone began playing clip ``name`` (monotonic)."""
    log = control / "played.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                clip, at = line.split()
                if clip == name:
                    return float(at)
        await asyncio.sleep(0.02)
    raise TimeoutError("the satellite's microphone never played the clip")


async def _reply_audio(speaker: Path, after: float) -> float | None:
    """The first audible reply after ``after``; waits until the reply has finished."""
    deadline = time.monotonic() + TURN_LIMIT
    first: float | None = None
    while time.monotonic() < deadline:
        played = [at for at, peak in _speaker_log(speaker) if at > after and peak > 200]
        if played:
            first = first or played[0]
            if time.monotonic() - played[-1] > QUIET_AFTER_REPLY:
                return first
        await asyncio.sleep(0.05)
    return first


def _last_run(hass: HomeAssistant, since: datetime) -> dict[str, Any]:
    """The transcript of the pipeline's latest run after ``since``, and its error, if any."""
    runs = [
        run
        for by_pipeline in hass.data[KEY_ASSIST_PIPELINE].pipeline_debug.values()
        for run in by_pipeline.values()
        if datetime.fromisoformat(run.timestamp) >= since
    ]
    if not runs:
        return {"transcript": None, "error": "no pipeline run"}
    events = max(runs, key=lambda run: run.timestamp).events
    found: dict[str, Any] = {"transcript": None, "error": None}
    for event in events:
        data = event.data or {}
        if event.type.value == "stt-end":
            found["transcript"] = data["stt_output"]["text"]
        elif event.type.value == "error":
            found["error"] = data.get("code")
    return found


async def _fresh_connection(satellite_log: Path, seen: int) -> int:
    """Wait for Home Assistant's next connection to the satellite; the connections so far.

    wyoming-satellite 1.0.0 (wyoming 1.4.1) does not answer Home Assistant's pings, so HA drops
    an idle satellite after 5 s and reconnects: a turn starts on a fresh connection, and the
    satellite's streaming keeps it alive from the wake word to the reply.
    """
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        count = satellite_log.read_text(encoding="utf-8").count("Server set")
        if count > seen:
            return count
        await asyncio.sleep(0.02)
    raise TimeoutError("Home Assistant did not reconnect to the satellite")


def _median(values: list[float]) -> int | None:
    return round(statistics.median(values) * 1000) if values else None


async def run(repeat: int, questions: int = len(COMPLETE)) -> dict[str, Any]:
    python = satellite_python()
    waits: dict[str, list[float]] = {"blip_listening": [], "ha_default": []}
    failures: list[str] = []
    with (
        tempfile.TemporaryDirectory() as ha_tts_cache,
        tempfile.TemporaryDirectory() as logs,
        tempfile.TemporaryDirectory() as control_dir,
        stt_server_process(logs) as stt_server,
        server_process("wyoming_servers.wake", log_path=Path(logs) / "wake.log") as wake_server,
    ):
        control = Path(control_dir)
        speaker = Path(logs) / "speaker.log"
        io = f"{python} {REPO / 'benchmarks' / 'satellite_io.py'}"
        with server_process(
            "wyoming_satellite",
            "--mic-command",
            f"{io} mic {control}",
            "--snd-command",
            f"{io} snd {speaker}",
            "--wake-uri",
            wake_server.address.uri,
            "--wake-word-name",
            WAKE_MODEL,
            "--no-zeroconf",
            "--debug",
            "--name",
            "kitchen satellite",
            log_path=Path(logs) / "satellite.log",
            python=str(python),
        ) as satellite:
            async with blip_home(stt_server, ha_tts_cache) as (hass, engines):
                await add_wyoming(hass, satellite.address)
                satellite_log = Path(logs) / "satellite.log"
                connections = 0
                seed = 0
                for _ in range(repeat):
                    for index, text in enumerate(COMPLETE[:questions]):
                        order = list(engines.items())
                        for mode, stt_engine in order if index % 2 else order[::-1]:
                            seed += 1
                            await use_pipeline(
                                hass,
                                stt_engine=stt_engine,
                                agent_id=AGENT_ID,
                                tts_engine=BLIP_VOICE,
                            )
                            spoken = speak(Question((WAKE_WORD, text), (AFTER_WAKE_SECONDS,)), seed)
                            name = f"{seed:04d}"
                            connections = await _fresh_connection(satellite_log, connections)
                            since = datetime.now().astimezone()
                            staging = control / f"{name}.tmp"
                            staging.write_bytes(spoken.pcm)
                            staging.rename(control / f"{name}.pcm")
                            started = await _clip_started(control, name)
                            last_word = started + spoken.last_word
                            first_audio = await _reply_audio(speaker, last_word)
                            heard = _last_run(hass, since)
                            if first_audio is None or heard["error"]:
                                failures.append(f"{mode} {text!r}: no reply {heard}")
                                continue
                            waits[mode].append(first_audio - last_word)
                            if heard["transcript"] is None:
                                failures.append(f"{mode} {text!r}: no transcript")
                        print(
                            f"{text!r}: {[round(w[-1], 3) for w in waits.values() if w]}",
                            flush=True,
                        )
        for line in failures:
            print(line, flush=True)
        if failures:
            print((Path(logs) / "satellite.log").read_text()[-6000:], flush=True)
    blip, stock = _median(waits["blip_listening"]), _median(waits["ha_default"])
    return {
        "benchmark": "satellite_end_of_turn",
        "satellite": SATELLITE_PACKAGE,
        "turns": {mode: len(values) for mode, values in waits.items()},
        "last_word_to_first_played_audio_median_ms": {
            "blip_listening": blip,
            "ha_default": stock,
        },
        "ratio_blip_vs_ha_default": round(blip / stock, 2) if blip and stock else None,
        "failures": len(failures),
        "target_median_ms": 500,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the complete questions")
    parser.add_argument(
        "--questions", type=int, default=len(COMPLETE), help="the first N complete questions"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.repeat, args.questions))))


if __name__ == "__main__":
    main()
