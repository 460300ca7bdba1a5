"""Zeroconf (mDNS) announcement, so Home Assistant's Wyoming integration discovers a server."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .serve import WyomingServer

_LOGGER = logging.getLogger(__name__)


def add_zeroconf_argument(parser: argparse.ArgumentParser, default_name: str) -> None:
    """``--zeroconf [NAME]``: announce the server (tcp:// URIs only)."""
    parser.add_argument(
        "--zeroconf",
        nargs="?",
        const=default_name,
        metavar="NAME",
        help="announce the server over mDNS (tcp:// URIs only)",
    )


async def announce_over_zeroconf(server: WyomingServer, name: str) -> None:
    """Register a started ``server`` as a Wyoming service; exit clearly when it can't be."""
    if server.host is None:
        raise SystemExit("--zeroconf needs a tcp:// URI")
    try:
        from wyoming.zeroconf import HomeAssistantZeroconf
    except ImportError as err:
        raise SystemExit("--zeroconf needs the zeroconf package: pip install zeroconf") from err
    host = None if server.host in ("0.0.0.0", "::") else server.host
    await HomeAssistantZeroconf(name=name, port=server.port, host=host).register_server()
    _LOGGER.info("Announced %s over zeroconf", name)
