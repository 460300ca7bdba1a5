"""The one serve path of Blip's three Wyoming servers: who may connect, how many, for how long,
and how every connection reads events and treats a malformed one.

The ``wyoming`` library's ``AsyncServer``/``AsyncEventHandler.run`` trust the client: its reader
believes ``data_length``/``payload_length``, a malformed header escapes as a stray exception, any
address may connect, as often as it likes, and stay silent forever. A server on a household
network must survive a confused or hostile client and keep serving the others, so here:

- **Who**: loopback clients always; other addresses only when ``--allow`` names them (a
  network such as ``192.168.1.0/24`` or one address). Listening on loopback is the default.
- **How many**: at most ``--max-connections`` at once, ``--max-connections-per-client`` from
  one address; a connection over either limit gets ``Error(code="too-many-connections")``.
- **How long**: a connection with nothing to do that sends no complete event for
  ``--idle-timeout`` seconds is closed (``idle-timeout``), and so is one whose client stops
  reading the audio sent to it for that long. A handler with work outstanding (audio still
  being spoken) is not idle.
- **Malformed events**, one policy for all three servers: bytes that are not a Wyoming event
  (bad JSON, no type, a length over the limit, a header nested too deep), and a well-framed
  event a handler cannot act on (``BadEventError``: a missing field, a format no microphone
  has), get ``Error(code="bad-event")`` and the connection is closed, after whatever was
  already accepted on it has been answered. The other connections never notice.

Handlers are ordinary ``AsyncEventHandler`` subclasses (``BlipEventHandler``) driven through the
library's public methods only: ``handle_event``, ``write_event``, ``disconnect``, ``stop``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
import contextlib
import ctypes
import ctypes.util
from dataclasses import dataclass
import gc
import io
import ipaddress
import json
import logging
import os
from pathlib import Path
import platform
import struct
import time
from typing import Final
from urllib.parse import urlparse

from wyoming.error import Error
from wyoming.event import Event, write_event as write_event_to_file
from wyoming.server import AsyncEventHandler

_LOGGER = logging.getLogger(__name__)

# Events carry small JSON headers; audio payloads are chunks of at most a few seconds.
DEFAULT_MAX_DATA_BYTES: Final = 1024 * 1024
DEFAULT_MAX_PAYLOAD_BYTES: Final = 8 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS: Final = 64
DEFAULT_MAX_CONNECTIONS_PER_CLIENT: Final = 16
DEFAULT_IDLE_TIMEOUT: Final = 60.0

type Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Freed memory is handed back to the operating system once no connection has opened or closed
# for this long (seconds), or at the latest this long after a connection ended: trimming blocks
# the event loop, which a request arriving right after another client left would wait for.
_TRIM_QUIET_SECONDS: Final = 1.0
_TRIM_LATEST_SECONDS: Final = 5.0
# ... and only once the process has grown this much since it last did: pages handed back must
# be faulted in again by the next requests (a cached phrase's first audio measured ~0.5 ms
# later after a trim), which is worth it after a burst, not for the churn of ordinary requests.
_TRIM_GROWTH_BYTES: Final = 8 * 1024 * 1024


class WyomingProtocolError(ValueError):
    """A client sent bytes that are not a valid Wyoming event."""


class BadEventError(ValueError):
    """A well-framed event the handler cannot act on (raise it from ``handle_event``)."""


class _IdleConnection(Exception):
    """The client sent no complete event for the idle timeout while nothing was pending."""


# -- reading events ---------------------------------------------------------------------------


# JSON nested deeper than this is refused before the parser sees it. Python 3.14's parser
# recurses as deep as the thread's stack allows: one header of 60,000 "[" took 7.4 MB of the
# event loop thread's stack, which then stays resident for the life of the process (the wake
# server's +17 % after the soak, docs/benchmarks.md session 6). Wyoming events nest 2-4 deep.
MAX_JSON_DEPTH: Final = 64
_QUOTE: Final = ord('"')
_BACKSLASH: Final = ord("\\")
_OPENING: Final = b"[{"
_CLOSING: Final = b"]}"


def _nested_too_deep(text: bytes) -> bool:
    """Whether JSON ``text`` opens more than MAX_JSON_DEPTH arrays or objects inside each other."""
    if text.count(b"[") + text.count(b"{") <= MAX_JSON_DEPTH:
        return False  # the usual event, a handful of brackets: nothing more to look at
    # One pass, each byte looked at once: a regex stripping strings rescanned an unclosed
    # string from every quote in it (65 "[" then '"\\"\\"...' took 11.8 s at 64 KiB, on the
    # event loop). Brackets inside strings do not nest ("[laughs]" in a text to speak).
    depth = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENING:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif byte in _CLOSING:
            depth -= 1
    return False


def parse_header(header_line: bytes, *, max_data_bytes: int, max_payload_bytes: int) -> dict:
    """Validate one header line; raises WyomingProtocolError."""
    if _nested_too_deep(header_line):
        raise WyomingProtocolError(f"event header nested over {MAX_JSON_DEPTH} deep")
    try:
        header = json.loads(header_line)
    except (ValueError, RecursionError) as err:  # RecursionError: "[[[[..." thousands deep
        raise WyomingProtocolError("event header is not valid JSON") from err
    if not isinstance(header, dict):
        raise WyomingProtocolError("event header is not a JSON object")
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise WyomingProtocolError("event header has no type")
    if not isinstance(header.get("data") or {}, dict):
        raise WyomingProtocolError("event data is not a JSON object")
    _read_length(header, "data_length", max_data_bytes)
    _read_length(header, "payload_length", max_payload_bytes)
    return header


async def read_event_body(reader: asyncio.StreamReader, header: dict) -> Event:
    """The data and payload that follow a validated header."""
    data = dict(header.get("data") or {})
    if data_length := header.get("data_length"):
        data_bytes = await reader.readexactly(data_length)
        if _nested_too_deep(data_bytes):
            raise WyomingProtocolError(f"event data nested over {MAX_JSON_DEPTH} deep")
        try:
            extra_data = json.loads(data_bytes)
        except (ValueError, RecursionError) as err:
            raise WyomingProtocolError("event data is not valid JSON") from err
        if not isinstance(extra_data, dict):
            raise WyomingProtocolError("event data is not a JSON object")
        data.update(extra_data)
    payload_length = header.get("payload_length")
    payload = await reader.readexactly(payload_length) if payload_length else None
    return Event(type=header["type"], data=data, payload=payload)


async def read_header_line(reader: asyncio.StreamReader) -> bytes:
    """One header line (b"" at a clean end of stream); cancelling it loses nothing."""
    try:
        header_line = await reader.readline()
    except ValueError as err:  # the line exceeded the reader's limit (64 KiB by default)
        raise WyomingProtocolError("event header line too long") from err
    if header_line and not header_line.endswith(b"\n"):
        # readline() returns a partial line only when the peer closed mid-header.
        raise asyncio.IncompleteReadError(header_line, None)
    return header_line


async def read_event_bounded(
    reader: asyncio.StreamReader,
    *,
    max_data_bytes: int = DEFAULT_MAX_DATA_BYTES,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> Event | None:
    """Read one Wyoming event; None at a clean end of stream.

    Raises WyomingProtocolError for anything malformed or oversized, and
    asyncio.IncompleteReadError when the peer vanishes mid-event.
    """
    header_line = await read_header_line(reader)
    if not header_line:
        return None
    header = parse_header(
        header_line, max_data_bytes=max_data_bytes, max_payload_bytes=max_payload_bytes
    )
    return await read_event_body(reader, header)


def _read_length(header: dict, key: str, maximum: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    # bool is an int subclass; a JSON `true` is not a length.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WyomingProtocolError(f"{key} must be a non-negative integer")
    if value > maximum:
        raise WyomingProtocolError(f"{key} {value} exceeds the limit of {maximum} bytes")
    return value


# -- writing events ---------------------------------------------------------------------------


def encode_event(event: Event) -> bytes:
    """An event's bytes on the wire, exactly as the wyoming library writes them.

    The library's asyncio writer sends header, data and payload with one ``send`` each (three
    packets for an audio chunk, each waking the client); encoded once, an event (or several)
    leaves in one write. Encoding is the library's own (its file writer), not a copy of it.
    """
    buffer = io.BytesIO()
    write_event_to_file(event, buffer)
    return buffer.getvalue()


# -- handlers ---------------------------------------------------------------------------------


class BlipEventHandler(AsyncEventHandler):
    """Base of Blip's handlers: the hooks the serve path calls besides the library's own.

    Subclasses implement ``handle_event`` (raising ``BadEventError`` for an event they cannot
    act on) and may override ``disconnect``, ``finish_pending`` and ``busy``.
    """

    max_data_bytes: int = DEFAULT_MAX_DATA_BYTES
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    # Seconds a write may wait for a client that does not read; set by the serve path.
    write_timeout: float | None = DEFAULT_IDLE_TIMEOUT

    @property
    def busy(self) -> bool:
        """Work is outstanding for this client (so a silent client is not idle)."""
        return False

    async def write_event(self, event: Event) -> None:
        """Send an event; a client that stops reading for the write timeout is gone."""
        await self.write_encoded((encode_event(event),))

    async def write_encoded(self, pieces: Iterable[bytes | memoryview]) -> None:
        """Send encoded events (``encode_event``, or header and payload pieces) in one write.

        Raises ConnectionError when the client is gone or stopped reading for the write timeout.
        """
        try:
            self.writer.writelines(pieces)
            if not self.writer.transport.get_write_buffer_size():
                # All of it is with the kernel already: drain() has nothing to wait for (it
                # still reports a lost connection), so no timer is armed for it.
                await self.writer.drain()
                return
            async with asyncio.timeout(self.write_timeout):
                await self.writer.drain()
        except TimeoutError as err:
            raise ConnectionError("client stopped reading") from err
        except RuntimeError as err:  # asyncio refuses writes on a transport being closed
            raise ConnectionError(str(err)) from err

    async def finish_pending(self) -> None:
        """The client stopped sending (or the handler asked to close): finish replying.

        A client may half-close its socket right after its request and still wait for the
        answer, so work already accepted is completed here before the connection closes.
        """

    async def send_error_quietly(self, text: str, code: str) -> None:
        """Tell the client what went wrong, ignoring a connection that is already gone."""
        try:
            await self.write_event(Error(text=text, code=code).event())
        except (ConnectionError, RuntimeError):
            _LOGGER.debug("Could not send error %s: client gone", code)


@dataclass(frozen=True, slots=True)
class ServeLimits:
    """Who may connect, how many at once, for how long, and how big an event may be."""

    allow: tuple[Network, ...] = ()  # besides loopback, which is always allowed
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_connections_per_client: int = DEFAULT_MAX_CONNECTIONS_PER_CLIENT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT

    def allows(self, host: str | None) -> bool:
        """Whether a client address may connect (None: a Unix socket, guarded by file mode)."""
        if host is None:
            return True
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_loopback or any(address in network for network in self.allow)


async def serve_connection(handler: BlipEventHandler, idle_timeout: float | None) -> None:
    """Read events for one client until it leaves, misbehaves, idles or the handler is done."""
    ended_cleanly = False
    handler.write_timeout = idle_timeout
    try:
        while True:
            try:
                event = await _next_event(handler, idle_timeout)
            except WyomingProtocolError as err:
                _LOGGER.warning("Closing connection after a malformed event: %s", err)
                await handler.send_error_quietly(f"Malformed event: {err}", "bad-event")
                break
            except _IdleConnection:
                _LOGGER.info("Closing a connection idle for %g s", idle_timeout)
                await handler.send_error_quietly(
                    f"Closing: no complete event for {idle_timeout:g} s", "idle-timeout"
                )
                break
            if event is None:
                ended_cleanly = True
                break
            try:
                keep_going = await handler.handle_event(event)
            except BadEventError as err:
                _LOGGER.warning("Closing connection after a bad %s event: %s", event.type, err)
                await handler.send_error_quietly(f"Bad {event.type} event: {err}", "bad-event")
                ended_cleanly = True  # what was accepted before it is still answered
                break
            if not keep_going:
                ended_cleanly = True
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        _LOGGER.debug("Client disconnected")
    except Exception:
        _LOGGER.exception("Unexpected error while handling a client; closing its connection")
        await handler.send_error_quietly("Internal server error", "internal-error")
    finally:
        try:
            if ended_cleanly:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await handler.finish_pending()
        finally:
            # Also when finishing was cancelled (the server is stopping): the handler's own
            # tasks must end with the connection.
            try:
                await handler.disconnect()
            finally:
                handler.writer.close()


async def _next_event(handler: BlipEventHandler, idle_timeout: float | None) -> Event | None:
    reader = handler.reader
    while True:
        try:
            # Cancelling readline() keeps what it had read in the reader's buffer.
            async with asyncio.timeout(idle_timeout):
                header_line = await read_header_line(reader)
            break
        except TimeoutError:
            if not handler.busy:
                raise _IdleConnection from None
    if not header_line:
        return None
    header = parse_header(
        header_line,
        max_data_bytes=handler.max_data_bytes,
        max_payload_bytes=handler.max_payload_bytes,
    )
    try:
        async with asyncio.timeout(idle_timeout):
            return await read_event_body(reader, header)
    except TimeoutError:
        raise _IdleConnection from None


# -- the server -------------------------------------------------------------------------------

type HandlerFactory = Callable[[asyncio.StreamReader, asyncio.StreamWriter], BlipEventHandler]


class WyomingServer:
    """A TCP or Unix-socket Wyoming server enforcing ``ServeLimits``."""

    def __init__(
        self, uri: str, handler_factory: HandlerFactory, limits: ServeLimits | None = None
    ) -> None:
        """``uri`` is tcp://HOST:PORT (port 0 picks a free one) or unix://PATH."""
        parsed = urlparse(uri)
        if parsed.scheme == "tcp":
            if parsed.hostname is None or parsed.port is None:
                raise ValueError(f"a tcp:// URI needs a host and a port, not {uri!r}")
            self.host: str | None = parsed.hostname
            self.port = parsed.port
            self.socket_path: Path | None = None
        elif parsed.scheme == "unix" and parsed.path:
            self.host, self.port, self.socket_path = None, 0, Path(parsed.path)
        else:
            raise ValueError(f"--uri must be tcp://HOST:PORT or unix://PATH, not {uri!r}")
        self.handler_factory = handler_factory
        self.limits = limits or ServeLimits()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._per_client: Counter[str | None] = Counter()
        self._last_activity = 0.0  # when a connection last opened or closed
        self._trim: asyncio.TimerHandle | None = None
        self._trim_asked_at = 0.0
        self._trimmed_rss: int | None = None  # resident bytes after the last trim (or start)

    @property
    def uri(self) -> str:
        if self.socket_path is not None:
            return f"unix://{self.socket_path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    @property
    def connections(self) -> int:
        """Connections open right now."""
        return sum(self._per_client.values())

    async def start(self) -> None:
        """Bind and start accepting clients (returns at once)."""
        self._trimmed_rss = resident_bytes()
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)
            self._server = await asyncio.start_unix_server(
                self._on_connect, path=str(self.socket_path)
            )
        else:
            self._server = await asyncio.start_server(
                self._on_connect, host=self.host, port=self.port
            )
            self.port = self._server.sockets[0].getsockname()[1]
            if not ipaddress_is_loopback(self.host) and not self.limits.allow:
                _LOGGER.warning(
                    "Listening on %s but only loopback clients may connect: pass --allow "
                    "ADDRESS/RANGE (e.g. --allow 192.168.1.0/24) for the others",
                    self.host,
                )

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def stop(self) -> None:
        """Stop accepting clients and end the connections still open."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
        if self._trim is not None:
            self._trim.cancel()
            self._trim = None
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host = peer[0] if isinstance(peer, tuple) and peer else None
        limits = self.limits
        if not limits.allows(host):
            _LOGGER.warning("Refused a connection from %s: not allowed (see --allow)", host)
            writer.close()
            return
        if (
            self.connections >= limits.max_connections
            or self._per_client[host] >= limits.max_connections_per_client
        ):
            _LOGGER.warning("Refused a connection from %s: too many connections", host)
            with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await _write_refusal(writer)
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._per_client[host] += 1
        self._last_activity = time.monotonic()
        try:
            handler = self.handler_factory(reader, writer)
            await serve_connection(handler, limits.idle_timeout)
        finally:
            self._per_client[host] -= 1
            if self._per_client[host] <= 0:
                del self._per_client[host]
            self._tasks.discard(task)
            self._last_activity = time.monotonic()
            # Not once stop() has closed the server: a connection it did not see (its task not
            # yet started when stop() cancelled the others) must not leave a timer behind.
            serving = self._server is not None and self._server.is_serving()
            if self._trim is None and serving:
                self._trim_asked_at = self._last_activity
                self._trim = asyncio.get_running_loop().call_later(
                    _TRIM_QUIET_SECONDS, self._release_memory
                )

    def _release_memory(self) -> None:
        """Hand memory freed by ended connections back to the system, once clients are quiet.

        glibc keeps freed blocks (a wake word detector's buffers, a request's audio) in its
        heap, so a burst of connections would leave the process at its peak for good.
        """
        now = time.monotonic()
        wait = min(
            _TRIM_QUIET_SECONDS - (now - self._last_activity),
            _TRIM_LATEST_SECONDS - (now - self._trim_asked_at),
        )
        if wait > 0:
            self._trim = asyncio.get_running_loop().call_later(wait, self._release_memory)
            return
        self._trim = None
        rss = resident_bytes()
        if (
            rss is not None
            and self._trimmed_rss is not None
            and rss - self._trimmed_rss < _TRIM_GROWTH_BYTES
        ):
            return
        release_free_memory()
        self._trimmed_rss = resident_bytes()
        if rss is not None and self._trimmed_rss is not None:
            _LOGGER.debug(
                "Returned free memory to the system: %.0f -> %.0f MB",
                rss / 2**20,
                self._trimmed_rss / 2**20,
            )


async def _write_refusal(writer: asyncio.StreamWriter) -> None:
    from wyoming.event import async_write_event

    error = Error(text="Too many connections; try again later", code="too-many-connections")
    await async_write_event(error.event(), writer)


# -- scheduling -------------------------------------------------------------------------------

# Linux's EEVDF scheduler (6.12+) gives a thread that asks for a shorter time slice an earlier
# deadline, so a request that wakes it runs at once instead of after the slice of whatever else
# holds the core (the client itself, on a small box; measured in docs/benchmarks.md, issue 16
# round 4). Asked for the event loop's thread only, the one that reads requests and writes
# audio: SCHED_FLAG_RESET_ON_FORK gives threads it starts later (piper's synthesis) the default
# slice back. The share of CPU is unchanged; only when the thread runs is.
_EVENT_LOOP_SLICE_NS: Final = 100_000  # the kernel's minimum, 0.1 ms
_SCHED_FLAG_RESET_ON_FORK: Final = 0x01
_SCHED_ATTR_FORMAT: Final = "IIQiIQQQ"  # struct sched_attr, version 0 (48 bytes)
_SCHED_SETATTR: Final = {
    "x86_64": 314,
    "aarch64": 274,
    "riscv64": 274,
    "armv7l": 380,
    "armv6l": 380,
}


def ask_for_a_short_time_slice() -> bool:
    """Ask the kernel to wake the calling thread (the event loop's) promptly; best effort.

    Only for an ordinary thread (SCHED_OTHER, nice >= 0): a policy or priority the operator
    chose is left alone, and resetting on fork must not reset a raised priority for the
    threads started later. True when the kernel took it; older kernels accept and ignore it.
    """
    syscall_number = _SCHED_SETATTR.get(platform.machine())
    syscall = getattr(_LIBC, "syscall", None) if _LIBC is not None else None
    if syscall_number is None or syscall is None or not hasattr(os, "sched_getscheduler"):
        return False
    try:
        if os.sched_getscheduler(0) != os.SCHED_OTHER or (nice := os.nice(0)) < 0:
            return False
    except OSError:
        return False
    attr = struct.pack(
        _SCHED_ATTR_FORMAT,
        struct.calcsize(_SCHED_ATTR_FORMAT),
        os.SCHED_OTHER,
        _SCHED_FLAG_RESET_ON_FORK,
        nice,
        0,
        _EVENT_LOOP_SLICE_NS,
        0,
        0,
    )
    buffer = ctypes.create_string_buffer(attr, len(attr))
    syscall.restype = ctypes.c_long
    # Every integer as a C long, as syscall(2) reads its variadic arguments.
    number, this_thread, no_flags = (ctypes.c_long(v) for v in (syscall_number, 0, 0))
    applied = syscall(number, this_thread, buffer, no_flags) == 0
    _LOGGER.debug("Short time slice for the event loop: %s", "on" if applied else "refused")
    return applied


def _load_libc() -> ctypes.CDLL | None:
    # find_library runs ldconfig in a subprocess: done once, at import, for both functions.
    library = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(library) if library else None
    except OSError:
        return None


def _glibc_function(libc: ctypes.CDLL | None, name: str) -> Callable[..., int] | None:
    # Not glibc (musl, macOS): the function is missing and there is nothing to do.
    return getattr(libc, name, None) if libc is not None else None


_LIBC = _load_libc()
_MALLOC_TRIM = _glibc_function(_LIBC, "malloc_trim")
_MALLOPT = _glibc_function(_LIBC, "mallopt")
_M_MMAP_THRESHOLD: Final = -3
# glibc's default: blocks this large or larger get their own mapping, returned on free.
_MMAP_THRESHOLD_BYTES: Final = 128 * 1024


def keep_large_buffers_off_the_heap() -> None:
    """Fix glibc's mmap threshold, so buffers freed after a burst go back to the system.

    glibc raises the threshold each time a mapped block is freed (up to 32 MB), after which
    the megabyte-sized numpy arrays of audio conversion and decoding land on the heap, where
    they fragment and stay. Setting it turns the raise off. Measured with
    ``benchmarks/soak.py`` (docs/benchmarks.md): the STT server's peak went from 587 MB to
    323-342 MB. Capping glibc's heaps per thread as well (M_ARENA_MAX 2) did not help STT and
    left TTS ~100 MB larger, so it is not done.
    """
    if _MALLOPT is not None:
        _MALLOPT(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def resident_bytes() -> int | None:
    """This process's resident memory (Linux; None where /proc does not say)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


_PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _CycleCollection:
    """Whether the trim runs Python's cycle collector first (a server's own process only)."""

    on_trim = False


def collect_cycles_when_trimming() -> None:
    """In a server's own process: freeze what start-up loaded, and collect cycles at each trim.

    Memory held by a reference cycle is not free until Python's cycle collector runs, so
    ``malloc_trim`` cannot hand it back: a request that ends in an exception keeps its frames
    (and their audio) in a cycle through the traceback, and asyncio stores a lost
    connection's error, traceback and all, on its stream reader. Python 3.14's incremental
    collector got round to them only dozens of requests later (docs/benchmarks.md, session 6:
    ~10 MB per failed 60 s decode, STT +113 % after the soak). A full collection costs
    200-450 ms with the models' ~45,000 objects tracked (loaded machine); frozen after start-up
    (``gc.freeze``: they live as long as the process) it costs only what was made since. Call it
    once the models are loaded, before serving. Not for a program that embeds a server (Home
    Assistant): its heap and its collector's schedule are its own.
    """
    gc.collect()
    gc.freeze()
    _CycleCollection.on_trim = True


def release_free_memory() -> None:
    """Return free heap memory to the operating system where the C library can (glibc).

    After ``collect_cycles_when_trimming``, what reference cycles held is freed first.
    """
    if _CycleCollection.on_trim:
        gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def ipaddress_is_loopback(host: str | None) -> bool:
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- command line -----------------------------------------------------------------------------


def add_serve_arguments(
    parser: argparse.ArgumentParser,
    default_port: int,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> None:
    """--uri (loopback by default), --allow, connection limits and the idle timeout."""
    default_uri = f"tcp://127.0.0.1:{default_port}"
    group = parser.add_argument_group("network")
    group.add_argument(
        "--uri",
        default=default_uri,
        help=f"tcp://HOST:PORT or unix://PATH (default {default_uri}, this machine only); "
        f"to serve the network: --uri tcp://0.0.0.0:{default_port} --allow 192.168.1.0/24",
    )
    group.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="ADDRESS/RANGE",
        help="client address or network allowed besides loopback, e.g. 192.168.1.0/24 or "
        "192.168.1.20; repeatable or comma-separated (default: loopback only)",
    )
    group.add_argument(
        "--max-connections",
        type=int,
        default=max_connections,
        help=f"connections open at once, all clients (default {max_connections})",
    )
    group.add_argument(
        "--max-connections-per-client",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
        help="connections open at once from one address "
        f"(default {DEFAULT_MAX_CONNECTIONS_PER_CLIENT})",
    )
    group.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT,
        help="seconds a connection may stay silent with nothing pending, or leave its audio "
        f"unread (default {DEFAULT_IDLE_TIMEOUT:g})",
    )


def parse_allow(values: Sequence[str]) -> tuple[Network, ...]:
    """Networks from --allow values; raises ValueError naming a bad one."""
    networks: list[Network] = []
    for value in values:
        for item in value.split(","):
            if not (item := item.strip()):
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as err:
                raise ValueError(f"--allow {item!r} is not an address or network") from err
    return tuple(networks)


def limits_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> ServeLimits:
    """Validated ServeLimits from the arguments add_serve_arguments added."""
    if urlparse(args.uri).scheme not in ("tcp", "unix"):
        parser.error(f"--uri must be tcp://HOST:PORT or unix://PATH, not {args.uri!r}")
    if args.max_connections < 1 or args.max_connections_per_client < 1:
        parser.error("--max-connections and --max-connections-per-client must be positive")
    if args.idle_timeout <= 0:
        parser.error("--idle-timeout must be positive")
    try:
        allow = parse_allow(args.allow)
    except ValueError as err:
        parser.error(str(err))
    return ServeLimits(
        allow=allow,
        max_connections=args.max_connections,
        max_connections_per_client=args.max_connections_per_client,
        idle_timeout=args.idle_timeout,
    )
