"""`blip-wyoming-stt --help` tells a family what each option is when they leave it out."""

from __future__ import annotations

import argparse

from wyoming_servers.stt.__main__ import build_parser


def test_every_option_with_a_default_shows_it() -> None:
    """Each option that has a default says so in --help (on/off for the switches)."""
    parser = build_parser()
    text = parser.format_help()
    unexplained = [
        action.option_strings[-1]
        for action in parser._actions
        if action.option_strings
        and action.default not in (None, argparse.SUPPRESS)
        and not isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))
        and "default" not in (action.help or "")
    ]
    assert unexplained == []
    assert "connect timeout; default 1.0)" in " ".join(text.split())
    assert "(default 150)" in " ".join(text.split())
