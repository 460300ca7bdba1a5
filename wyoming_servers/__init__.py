"""Blip's Wyoming voice servers (text-to-speech, speech-to-text, wake word).

Besides marking the package, this module holds the one piece every server shares: an event
handler base that reads the Wyoming wire format defensively. The ``wyoming`` library's own reader
trusts ``data_length``/``payload_length`` and lets malformed headers escape as stray exceptions;
a server on a household network must survive a confused or hostile client and keep serving the
others, so each connection reads through :func:`read_event_bounded` instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Final

from wyoming.error import Error
from wyoming.event import Event
from wyoming.server import AsyncEventHandler

_LOGGER = logging.getLogger(__name__)

# Events carry small JSON headers; audio payloads are chunks of at most a few seconds.
DEFAULT_MAX_DATA_BYTES: Final = 1024 * 1024
DEFAULT_MAX_PAYLOAD_BYTES: Final = 8 * 1024 * 1024


class WyomingProtocolError(ValueError):
    """A client sent bytes that are not a valid Wyoming event."""


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
    try:
        header_line = await reader.readline()
    except ValueError as err:  # the line exceeded the reader's limit (64 KiB by default)
        raise WyomingProtocolError("event header line too long") from err
    if not header_line:
        return None
    if not header_line.endswith(b"\n"):
        # readline() returns a partial line only when the peer closed mid-header.
        raise asyncio.IncompleteReadError(header_line, None)

    try:
        header = json.loads(header_line)
    except ValueError as err:
        raise WyomingProtocolError("event header is not valid JSON") from err
    if not isinstance(header, dict):
        raise WyomingProtocolError("event header is not a JSON object")

    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise WyomingProtocolError("event header has no type")

    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise WyomingProtocolError("event data is not a JSON object")

    data_length = _read_length(header, "data_length", max_data_bytes)
    if data_length:
        data_bytes = await reader.readexactly(data_length)
        try:
            extra_data = json.loads(data_bytes)
        except ValueError as err:
            raise WyomingProtocolError("event data is not valid JSON") from err
        if not isinstance(extra_data, dict):
            raise WyomingProtocolError("event data is not a JSON object")
        data.update(extra_data)

    payload_length = _read_length(header, "payload_length", max_payload_bytes)
    payload = await reader.readexactly(payload_length) if payload_length else None

    return Event(type=event_type, data=data, payload=payload)


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


class GuardedEventHandler(AsyncEventHandler):
    """Event handler whose connection loop survives any client behaviour.

    Malformed input gets an ``Error`` event and a clean close; a vanished client ends only its
    own connection; an unexpected exception is logged with its traceback, reported to that
    client and never reaches the server.
    """

    max_data_bytes: int = DEFAULT_MAX_DATA_BYTES
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    async def run(self) -> None:
        """Receive events until the client leaves, misbehaves or handle_event returns False."""
        self._is_running = True
        ended_cleanly = False
        try:
            while self._is_running:
                try:
                    event = await read_event_bounded(
                        self.reader,
                        max_data_bytes=self.max_data_bytes,
                        max_payload_bytes=self.max_payload_bytes,
                    )
                except WyomingProtocolError as err:
                    _LOGGER.warning("Closing connection after a malformed event: %s", err)
                    await self.send_error_quietly(f"Malformed event: {err}", "bad-event")
                    break
                if event is None or not await self.handle_event(event):
                    ended_cleanly = True
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            _LOGGER.debug("Client disconnected")
        except Exception:
            _LOGGER.exception("Unexpected error while handling a client; closing its connection")
            await self.send_error_quietly("Internal server error", "internal-error")
        finally:
            try:
                if ended_cleanly:
                    await self.finish_pending()
                await self.disconnect()
            finally:
                self.writer.close()

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
