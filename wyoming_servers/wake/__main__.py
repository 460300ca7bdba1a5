"""Command line: ``python -m wyoming_servers.wake --uri tcp://127.0.0.1:10400`` (or blip-wyoming-wake)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
import contextlib
from functools import partial
import logging
import os
from pathlib import Path

from ..discovery import add_zeroconf_argument, announce_over_zeroconf
from ..serve import (
    ServeLimits,
    WyomingServer,
    add_serve_arguments,
    ask_for_a_short_time_slice,
    collect_cycles_when_trimming,
    keep_large_buffers_off_the_heap,
    limits_from_args,
)
from .handler import PROGRAM_NAME, WakeEventHandler, WakeServerContext
from .models import DetectionSettings, WakeWordDetector, discover_models

_LOGGER = logging.getLogger("wyoming_servers.wake")

DEFAULT_PORT = 10400
# Each connection's detector holds about 5 MB of models and buffers: 32 are about 170 MB.
DEFAULT_MAX_WAKE_CONNECTIONS = 32


def build_parser() -> argparse.ArgumentParser:
    defaults = DetectionSettings()
    parser = argparse.ArgumentParser(
        prog="blip-wyoming-wake", description="Wyoming wake word server (openWakeWord models)."
    )
    add_serve_arguments(parser, DEFAULT_PORT, max_connections=DEFAULT_MAX_WAKE_CONNECTIONS)
    parser.add_argument(
        "--custom-model-dir",
        action="append",
        default=[],
        type=Path,
        help="folder of extra .tflite wake word models; repeatable",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=defaults.threshold,
        help=f"activation probability, 0-1 (default {defaults.threshold})",
    )
    parser.add_argument(
        "--trigger-level",
        type=int,
        default=defaults.trigger_level,
        help=f"activations needed before a detection (default {defaults.trigger_level})",
    )
    parser.add_argument(
        "--refractory-seconds",
        type=float,
        default=defaults.refractory_seconds,
        help=f"seconds before the same wake word can fire again (default {defaults.refractory_seconds})",
    )
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=os.cpu_count() or 1,
        help="inference threads shared by all connections (default: CPU count)",
    )
    add_zeroconf_argument(parser, PROGRAM_NAME)
    parser.add_argument("--debug", action="store_true", help="log at DEBUG level")
    return parser


async def serve(context: WakeServerContext, args: argparse.Namespace, limits: ServeLimits) -> None:
    server = WyomingServer(args.uri, partial(WakeEventHandler, context), limits)
    collect_cycles_when_trimming()
    await server.start()
    if args.zeroconf:
        await announce_over_zeroconf(server, args.zeroconf)
    _LOGGER.info(
        "Ready on %s with wake words: %s", server.uri, ", ".join(m.name for m in context.models)
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
    if not 0.0 < args.threshold < 1.0:
        parser.error("--threshold must be between 0 and 1")
    if args.trigger_level < 1 or args.refractory_seconds < 0 or args.max_concurrent < 1:
        parser.error(
            "--trigger-level and --max-concurrent must be positive, --refractory-seconds not negative"
        )

    settings = DetectionSettings(
        threshold=args.threshold,
        trigger_level=args.trigger_level,
        refractory_seconds=args.refractory_seconds,
    )
    try:
        models = discover_models(args.custom_model_dir)
        # Load every model once now, so a broken file stops the server here, not mid-stream.
        WakeWordDetector(models, settings).close()
    except (OSError, RuntimeError, ValueError) as err:
        parser.exit(1, f"{parser.prog}: error: cannot load wake word models: {err}\n")

    with ThreadPoolExecutor(args.max_concurrent, thread_name_prefix="wake") as executor:
        asyncio.run(serve(WakeServerContext(models, settings, executor), args, limits))


def run() -> None:
    """Console script entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        main()


if __name__ == "__main__":
    run()
