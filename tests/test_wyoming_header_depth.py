"""Deeply nested JSON in a Wyoming event is refused before the parser recurses into it.

Python 3.14's JSON parser recurses as deep as the thread's stack allows: one header of 60,000
"[" took 7.4 MB of the event loop thread's stack, resident for good (the wake server's +17 %
after benchmarks/soak.py). Measured in a fresh interpreter, from /proc/self/smaps.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from wyoming.event import Event

from tests.wyoming_fixtures import figures_from_a_fresh_interpreter
from wyoming_servers.serve import (
    DEFAULT_MAX_DATA_BYTES,
    DEFAULT_MAX_PAYLOAD_BYTES,
    MAX_JSON_DEPTH,
    WyomingProtocolError,
    _nested_too_deep,
    parse_header,
    read_event_bounded,
)

_STACK_SCRIPT = """
import json, re
from wyoming_servers.serve import WyomingProtocolError, parse_header

def stack_kib():
    smaps = open("/proc/self/smaps").read()
    return int(re.search(r"\\[stack\\]\\n(?:.*\\n)*?Rss:\\s+(\\d+) kB", smaps).group(1))

before = stack_kib()
try:
    parse_header(b"[" * 60000 + b"\\n", max_data_bytes=1 << 20, max_payload_bytes=1 << 23)
    refused = ""
except WyomingProtocolError as err:
    refused = str(err)
print(json.dumps({"before": before, "after": stack_kib(), "refused": refused}))
"""


def _parse(line: bytes) -> dict:
    return parse_header(
        line, max_data_bytes=DEFAULT_MAX_DATA_BYTES, max_payload_bytes=DEFAULT_MAX_PAYLOAD_BYTES
    )


def test_a_header_nested_60000_deep_costs_no_stack() -> None:
    figures = figures_from_a_fresh_interpreter(_STACK_SCRIPT)
    assert figures["refused"] == f"event header nested over {MAX_JSON_DEPTH} deep"
    # Before: 7,508 KiB on Python 3.14 (RecursionError near 1,400 KiB on 3.13).
    assert figures["after"] - figures["before"] < 256


def test_brackets_in_a_text_are_not_nesting() -> None:
    text = "[laughs] " * 200 + "{[(" * 100
    header = _parse(json.dumps({"type": "synthesize", "data": {"text": text}}).encode() + b"\n")
    assert header["data"]["text"] == text


@pytest.mark.parametrize(
    ("arrays", "refused"), [(MAX_JSON_DEPTH - 2, False), (MAX_JSON_DEPTH - 1, True)]
)
def test_the_depth_limit(arrays: int, refused: bool) -> None:
    """The header object and its data are two levels, then ``arrays`` arrays inside each other."""
    nested = "[" * arrays + "]" * arrays
    line = ('{"type": "x", "data": {"v": ' + nested + "}}\n").encode()
    if refused:
        with pytest.raises(WyomingProtocolError, match="nested"):
            _parse(line)
    else:
        assert _parse(line)["type"] == "x"


async def test_event_data_nested_too_deep_is_refused() -> None:
    data = b"[" * 60000
    reader = asyncio.StreamReader()
    reader.feed_data(json.dumps({"type": "x", "data_length": len(data)}).encode() + b"\n" + data)
    reader.feed_eof()
    with pytest.raises(WyomingProtocolError, match="event data nested"):
        await read_event_bounded(reader)


async def test_an_ordinary_event_with_data_still_reads() -> None:
    data = json.dumps({"text": "Hello [there]", "voice": {"name": "joe"}}).encode()
    reader = asyncio.StreamReader()
    reader.feed_data(json.dumps({"type": "synthesize", "data_length": len(data)}).encode() + b"\n")
    reader.feed_data(data)
    reader.feed_eof()
    event = await read_event_bounded(reader)
    assert event == Event(
        type="synthesize", data={"text": "Hello [there]", "voice": {"name": "joe"}}
    )


def _unclosed_string_of_quotes(size: int) -> bytes:
    """64 "[" (at the limit, so the full scan runs), then a string that never closes, full of
    escaped quotes and brackets: a regex stripping strings rescanned it from every quote."""
    opening = b"[" * MAX_JSON_DEPTH + b'"'
    return opening + b'\\"[' * ((size - len(opening)) // 3)


def _best_of(text: bytes, runs: int) -> tuple[float, bool]:
    best, judged = float("inf"), False
    for _ in range(runs):
        start = time.perf_counter()
        judged = _nested_too_deep(text)
        best = min(best, time.perf_counter() - start)
    return best, judged


def test_an_unclosed_string_is_judged_in_linear_work() -> None:
    """8x the bytes must cost about 8x, not 64x (before: 0.7 s at 16 KiB, 11.8 s at 64 KiB, all
    on the event loop). Compared with itself in the same run, so load on the machine cancels."""
    small, small_judged = _best_of(_unclosed_string_of_quotes(8 * 1024), runs=40)
    large, large_judged = _best_of(_unclosed_string_of_quotes(64 * 1024), runs=5)
    assert large / small < 24, f"8 KiB {small * 1e3:.2f} ms, 64 KiB {large * 1e3:.2f} ms"
    # Brackets in the string are not nesting; the 64 before it are at the limit, not over.
    assert small_judged is large_judged is False


def test_deep_brackets_before_an_unclosed_string_are_refused() -> None:
    line = b"[" * (MAX_JSON_DEPTH + 1) + b'"' + b'\\"\\\\' * (16 * 1024) + b"\n"
    with pytest.raises(WyomingProtocolError, match="nested"):
        _parse(line)


def test_an_unclosed_string_at_the_depth_limit_is_not_json() -> None:
    with pytest.raises(WyomingProtocolError, match="not valid JSON"):
        _parse(_unclosed_string_of_quotes(64 * 1024) + b"\n")


def test_escaped_quotes_do_not_end_a_string() -> None:
    """Brackets after an escaped quote are still inside the string."""
    text = '"' + "[" * 100 + '\\"' + "{" * 100
    header = _parse(json.dumps({"type": "synthesize", "data": {"text": text}}).encode() + b"\n")
    assert header["data"]["text"] == text


def test_an_escaped_backslash_ends_before_the_quote() -> None:
    """``"x\\\\"`` closes: the brackets after it nest, and too many are refused."""
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    line = ('{"type": "x", "data": {"t": "x\\\\", "v": ' + nested + "}}\n").encode()
    assert json.loads(line)["data"]["t"] == "x\\"
    with pytest.raises(WyomingProtocolError, match="nested"):
        _parse(line)
