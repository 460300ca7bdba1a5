"""Zeroconf announcement shared by the three Wyoming servers."""

from __future__ import annotations

import argparse

import pytest

from wyoming_servers.discovery import add_zeroconf_argument, announce_over_zeroconf
from wyoming_servers.serve import WyomingServer


def test_zeroconf_flag_defaults_to_the_program_name() -> None:
    parser = argparse.ArgumentParser()
    add_zeroconf_argument(parser, "blip-piper")
    assert parser.parse_args([]).zeroconf is None
    assert parser.parse_args(["--zeroconf"]).zeroconf == "blip-piper"
    assert parser.parse_args(["--zeroconf", "kids-room"]).zeroconf == "kids-room"


async def test_zeroconf_needs_a_tcp_uri(tmp_path) -> None:
    """A unix-socket server cannot be announced: a clear exit, not a traceback."""
    server = WyomingServer(f"unix://{tmp_path / 'tts.sock'}", lambda reader, writer: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(SystemExit, match="tcp://"):
        await announce_over_zeroconf(server, "blip-piper")
