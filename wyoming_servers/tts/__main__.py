"""Command line: ``python -m wyoming_servers.tts --uri tcp://127.0.0.1:10200`` (or blip-wyoming-tts).

Loads the voices and prepares the phrase cache before accepting connections, so every problem
with a voice shows at start-up and the first request is already fast.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
from functools import partial
from importlib import resources
import logging
import os
from pathlib import Path

from custom_components.blip.voice.speakable import speakable_text, split_sentences

from ..discovery import add_zeroconf_argument, announce_over_zeroconf
from ..openai_audio import API_KEY_ENV, RemoteEndpoint
from ..serve import (
    ServeLimits,
    WyomingServer,
    add_serve_arguments,
    ask_for_a_short_time_slice,
    collect_cycles_when_trimming,
    keep_large_buffers_off_the_heap,
    limits_from_args,
)
from .cache import DEFAULT_RECENT_BYTES, DEFAULT_RECENT_ENTRIES, SentenceAudioCache
from .engine import (
    LETTER_NOISE_SCALE,
    LETTER_NOISE_W_SCALE,
    RemoteVoice,
    SynthesisSettings,
    TtsEngine,
)
from .handler import (
    DEFAULT_FIRST_CLAUSE_MIN_CHARS,
    DEFAULT_MAX_TEXT_CHARS,
    DEFAULT_SAMPLES_PER_CHUNK,
    PROGRAM_NAME,
    TtsEventHandler,
    TtsHandlerOptions,
)
from .voices import DEFAULT_VOICE, LoadedVoice, VoiceNotFoundError, find_voice, load_voice

_LOGGER = logging.getLogger("wyoming_servers.tts")

DEFAULT_PORT = 10200


def default_phrases_path() -> Path:
    """The phrase list shipped with the package."""
    return Path(str(resources.files("wyoming_servers.tts").joinpath("phrases.txt")))


def default_cache_dir() -> Path:
    """Per-user cache folder (XDG), for phrase audio kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "blip" / "wyoming-tts"


def load_phrase_sentences(paths: Sequence[Path]) -> list[str]:
    """Speakable sentences of phrase files (one phrase per line, # comments), without repeats."""
    sentences: dict[str, None] = {}
    for path in paths:
        for raw_line in path.read_text(encoding="utf-8").splitlines():
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            for sentence in split_sentences(line):
                if text := speakable_text(sentence):
                    sentences.setdefault(text, None)
    return list(sentences)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blip-wyoming-tts",
        description="Wyoming text-to-speech server (piper) with a phrase cache and streaming.",
    )
    add_serve_arguments(parser, DEFAULT_PORT)
    parser.add_argument(
        "--voice",
        action="append",
        help=f"voice name or path to a .onnx model; repeat for more voices, the first is the default (default {DEFAULT_VOICE})",
    )
    parser.add_argument(
        "--data-dir",
        action="append",
        default=[],
        type=Path,
        help="folder with NAME.onnx + NAME.onnx.json voices; repeatable",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help=f"phrase audio kept between runs (default {default_cache_dir()})",
    )
    parser.add_argument(
        "--no-disk-cache", action="store_true", help="keep phrase audio in memory only"
    )
    parser.add_argument(
        "--phrases",
        action="append",
        type=Path,
        help="phrase list file(s) to pre-synthesize (default: the packaged phrases.txt)",
    )
    parser.add_argument(
        "--no-phrases", action="store_true", help="do not pre-synthesize any phrase"
    )
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=max(1, min(2, os.cpu_count() or 1)),
        help="sentences synthesized at the same time, across all clients (default: up to 2)",
    )
    parser.add_argument(
        "--max-text-chars",
        type=int,
        default=DEFAULT_MAX_TEXT_CHARS,
        help="longest text accepted per request",
    )
    parser.add_argument(
        "--first-clause-min-chars",
        type=int,
        default=DEFAULT_FIRST_CLAUSE_MIN_CHARS,
        help="let an answer open with a clause at least this long instead of a whole sentence, "
        "for earlier first audio; 0 turns it off",
    )
    parser.add_argument(
        "--samples-per-chunk",
        type=int,
        default=DEFAULT_SAMPLES_PER_CHUNK,
        help="audio samples per AudioChunk",
    )
    parser.add_argument(
        "--recent-cache-entries",
        type=int,
        default=DEFAULT_RECENT_ENTRIES,
        help="recently synthesized sentences kept; 0 turns this cache off, so that how fast a "
        "sentence is answered cannot tell a client it was said recently (phrases stay cached)",
    )
    parser.add_argument(
        "--recent-cache-mb",
        type=float,
        default=DEFAULT_RECENT_BYTES / (1024 * 1024),
        help="memory bound of that LRU in MiB",
    )
    parser.add_argument("--length-scale", type=float, help="speaking pace (> 1 is slower)")
    parser.add_argument("--noise-scale", type=float, help="piper generator noise")
    parser.add_argument("--noise-w-scale", type=float, help="piper phoneme width noise")
    parser.add_argument(
        "--letter-noise-scale",
        type=float,
        default=LETTER_NOISE_SCALE,
        help="generator noise for a sentence with spelled letters (default %(default)s)",
    )
    parser.add_argument(
        "--letter-noise-w-scale",
        type=float,
        default=LETTER_NOISE_W_SCALE,
        help="phoneme width noise for a sentence with spelled letters (default %(default)s)",
    )
    remote = parser.add_argument_group(
        "remote voice (the inference box)",
        "Speak with a bigger voice on a GPU box through an OpenAI-compatible "
        "POST /v1/audio/speech, e.g. --remote-voice-url http://box:8000 --remote-voice-model "
        f"omnivoice --remote-voice kid-friendly. An API key is read from ${API_KEY_ENV}. The "
        "phrase cache is generated with the remote voice; piper speaks whenever the box fails.",
    )
    remote.add_argument("--remote-voice-url", help="http(s)://host:port of the box")
    remote.add_argument(
        "--remote-voice-model", default="tts-1", help="model name sent to the box (default tts-1)"
    )
    remote.add_argument(
        "--remote-voice", default="alloy", help="voice name sent to the box (default alloy)"
    )
    remote.add_argument(
        "--remote-voice-format",
        choices=("pcm", "wav"),
        default="pcm",
        help="response_format asked for: pcm (24 kHz 16-bit mono) or wav (default pcm)",
    )
    remote.add_argument(
        "--remote-voice-timeout",
        type=float,
        default=10.0,
        help="seconds one sentence may take on the box before piper speaks it (default 10)",
    )
    add_zeroconf_argument(parser, PROGRAM_NAME)
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level")
    return parser


def build_engine(args: argparse.Namespace) -> TtsEngine:
    """Load every voice and create the engine; raises VoiceNotFoundError with a clear message."""
    voices: list[LoadedVoice] = []
    for name in args.voice or [DEFAULT_VOICE]:
        voices.append(load_voice(find_voice(name, args.data_dir)))
    disk_dir = None if args.no_disk_cache else (args.cache_dir or default_cache_dir())
    cache = SentenceAudioCache(
        disk_dir=disk_dir,
        max_recent_entries=args.recent_cache_entries,
        max_recent_bytes=int(args.recent_cache_mb * 1024 * 1024),
    )
    settings = SynthesisSettings(
        length_scale=args.length_scale,
        noise_scale=args.noise_scale,
        noise_w_scale=args.noise_w_scale,
        letter_noise_scale=args.letter_noise_scale,
        letter_noise_w_scale=args.letter_noise_w_scale,
    )
    remote = None
    if args.remote_voice_url:
        remote = RemoteVoice(
            endpoint=RemoteEndpoint.parse(args.remote_voice_url),
            model=args.remote_voice_model,
            voice=args.remote_voice,
            response_format=args.remote_voice_format,
            timeout=args.remote_voice_timeout,
        )
    return TtsEngine(
        voices,
        cache=cache,
        settings=settings,
        max_concurrent=args.max_concurrent,
        remote=remote,
    )


async def serve(engine: TtsEngine, args: argparse.Namespace, limits: ServeLimits) -> None:
    """Accept Wyoming clients until stopped."""
    options = TtsHandlerOptions(
        max_text_chars=args.max_text_chars,
        samples_per_chunk=args.samples_per_chunk,
        first_clause_min_chars=args.first_clause_min_chars,
    )
    server = WyomingServer(args.uri, partial(TtsEventHandler, engine, options), limits)
    collect_cycles_when_trimming()
    await server.start()
    if args.zeroconf:
        await announce_over_zeroconf(server, args.zeroconf)
    _LOGGER.info(
        "Ready on %s with voice(s): %s", server.uri, ", ".join(v.name for v in engine.voices)
    )
    await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_large_buffers_off_the_heap()
    # The thread that runs the event loop (this one): see ask_for_a_short_time_slice.
    ask_for_a_short_time_slice()
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    limits = limits_from_args(parser, args)
    if args.first_clause_min_chars < 0:
        parser.error("--first-clause-min-chars must not be negative")
    if args.max_concurrent < 1 or args.max_text_chars < 1 or args.samples_per_chunk < 1:
        parser.error("--max-concurrent, --max-text-chars and --samples-per-chunk must be positive")

    try:
        engine = build_engine(args)
    except ValueError as err:  # a --remote-voice-url that is not an http(s) URL
        parser.error(str(err))
    except VoiceNotFoundError as err:
        parser.exit(1, f"{parser.prog}: error: {err}\n")

    if not args.no_phrases:
        phrase_files = args.phrases or [default_phrases_path()]
        try:
            sentences = load_phrase_sentences(phrase_files)
        except OSError as err:
            parser.exit(1, f"{parser.prog}: error: cannot read phrase list: {err}\n")
        engine.prepare_phrases(sentences)

    try:
        asyncio.run(serve(engine, args, limits))
    finally:
        engine.close()


def run() -> None:
    """Console script entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        main()


if __name__ == "__main__":
    run()
