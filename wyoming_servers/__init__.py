"""Blip's Wyoming voice servers (text-to-speech, speech-to-text, wake word).

What the three servers share lives in modules of this package: ``serve`` (the one serve path:
who may connect, connection limits, idle timeouts, the defensive event reader and the
malformed-event policy), ``audio`` (PCM conversion) and ``discovery`` (zeroconf).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys


def _voice_package_without_integration() -> None:
    """Make ``custom_components.blip`` a bare package, so its ``voice`` modules load alone.

    The servers import the pure modules of ``custom_components/blip/voice`` (one sentence
    splitter, one PCM module for integration and servers alike). The wheel ships only that
    subpackage, but in a checkout ``custom_components/blip/__init__.py`` is the Home Assistant
    integration: importing it pulls in Home Assistant (about 3,200 modules, ~200 MB per
    server, measured by ``benchmarks/soak.py``). Registering the package without running its
    ``__init__`` makes a checkout behave like the wheel. A process that hosts Home Assistant
    (Home Assistant itself, the test suite, the benchmarks that run both) must keep the real
    integration, or Home Assistant would find a package without ``async_setup_entry``.
    """
    if "custom_components.blip" in sys.modules or "homeassistant" in sys.modules:
        return
    try:
        import custom_components  # an empty namespace package in a checkout
    except ImportError:
        return  # the voice modules are not installed; their own import will say so
    spec = importlib.machinery.PathFinder.find_spec(
        "custom_components.blip", list(custom_components.__path__)
    )
    if spec is None or not spec.submodule_search_locations:
        return  # installed from the wheel: already a namespace package without __init__
    package = importlib.util.module_from_spec(spec)  # created, deliberately not executed
    sys.modules["custom_components.blip"] = package
    custom_components.blip = package  # type: ignore[attr-defined]


_voice_package_without_integration()

from .serve import (  # noqa: E402 - needs the package registered above
    DEFAULT_MAX_DATA_BYTES,
    DEFAULT_MAX_PAYLOAD_BYTES,
    WyomingProtocolError,
    read_event_bounded,
)

__all__ = [
    "DEFAULT_MAX_DATA_BYTES",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "WyomingProtocolError",
    "read_event_bounded",
]
