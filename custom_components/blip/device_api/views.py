"""Blip's device endpoint: HTTP views under Home Assistant's own server, outside its login.

Every view has ``requires_auth = False`` and checks Blip's own device token instead, so a
paired tablet reaches one child's Blip and nothing else in Home Assistant (Home Assistant's
auth is untouched; a Blip token is no Home Assistant token). Paths:

- ``GET  /api/blip/device/``            the kid's page (and its files under the same path)
- ``POST /api/blip/device/pair``        ``{"code", "name"}`` → ``{"token", "child", …}``
- ``GET  /api/blip/device/hello``       who the token is for, and whether Blip is paused
- ``POST /api/blip/device/turn``        JSON ``{"text"}`` or a recording (``audio/*``) →
  NDJSON events: ``heard``, ``start`` (with the audio URL), ``text`` deltas, ``done``
- ``GET  /api/blip/device/audio/{id}``  the turn's spoken answer, streamed as it is made
"""

from __future__ import annotations

from http import HTTPStatus
import json
import logging
from pathlib import Path
import re
from typing import Any, ClassVar, Final

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.core import HomeAssistant

from .access import DeviceAccess, async_get_access
from .audio_in import AudioInputError, async_transcribe, decode_to_pcm
from .pairing import DeviceRecord, PairingError
from .turn import AUDIO_FORMATS, DEFAULT_AUDIO_FORMAT, async_run_turn, child_agent_id

_LOGGER = logging.getLogger(__name__)

BASE: Final = "/api/blip/device"
WWW: Final = Path(__file__).parent / "www"
# The page's files: name -> content type. Nothing else under WWW is served.
PAGE_FILES: Final = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}
MAX_TEXT: Final = 500
NO_STORE: Final = {"Cache-Control": "no-store"}
_TURN_ID: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def async_register_views(hass: HomeAssistant) -> None:
    """Register the device views (once per Home Assistant run)."""
    for view in (PageView, PairView, HelloView, TurnView, AudioView):
        hass.http.register_view(view())


def _json(data: dict[str, Any], status: int = HTTPStatus.OK) -> web.Response:
    return web.json_response(data, status=status, headers=NO_STORE)


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


def _refused(request: web.Request, err: PairingError) -> web.Response:
    """401 (or 429) with the reason; logged with the address, never with what was said."""
    _LOGGER.warning(
        "Blip device request to %s refused (%s) from %s", request.path, err.reason, _client(request)
    )
    if err.reason == "rate_limited":
        return _json({"error": "rate_limited"}, HTTPStatus.TOO_MANY_REQUESTS)
    response = _json({"error": "unauthorized", "reason": err.reason}, HTTPStatus.UNAUTHORIZED)
    response.headers["WWW-Authenticate"] = 'Bearer realm="blip-device"'
    return response


def _access(request: web.Request) -> DeviceAccess | None:
    return async_get_access(request.app["hass"])


def _authenticate(request: web.Request, access: DeviceAccess) -> DeviceRecord:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    record = access.book.authenticate(token, _client(request))
    entry = request.app["hass"].config_entries.async_get_entry(access.entry_id)
    if entry is None or record.child_id not in entry.subentries:
        # The child was removed from Blip: their devices go with them.
        access.book.revoke(record.device_id)
        access.forget(record)
        raise PairingError("revoked")
    access.book.touch(record)
    access.save()
    return record


def _not_loaded() -> web.Response:
    return _json({"error": "not_loaded"}, HTTPStatus.SERVICE_UNAVAILABLE)


def _paired_device(request: web.Request) -> tuple[DeviceAccess, DeviceRecord] | web.Response:
    """The device a request's token belongs to, or the response that refuses it."""
    if (access := _access(request)) is None:
        return _not_loaded()
    try:
        return access, _authenticate(request, access)
    except PairingError as err:
        return _refused(request, err)


class _BadTurn(Exception):
    """A turn that cannot be taken: the error sent back, and its HTTP status."""

    def __init__(self, error: str, status: int) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


_RECORDING_STATUS: Final = {
    "too_big": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    "no_stt": HTTPStatus.SERVICE_UNAVAILABLE,
}


async def _turn_input(
    request: web.Request, hass: HomeAssistant, record: DeviceRecord
) -> tuple[str, str | None, str]:
    """What the child said: (text, what was heard if they spoke, audio format wanted).

    JSON ``{"text", "format"}`` is typed text; any other body is a recording, transcribed with
    the child's own speech-to-text. Raises ``_BadTurn``.
    """
    audio_format = request.query.get("format", DEFAULT_AUDIO_FORMAT)
    if request.content_type == "application/json":
        try:
            body = await request.json()
            text = str(body.get("text") or "").strip()[:MAX_TEXT]
            audio_format = body.get("format", audio_format)
        except (ValueError, AttributeError):
            raise _BadTurn("bad_request", HTTPStatus.BAD_REQUEST) from None
        if not text:
            raise _BadTurn("no_text", HTTPStatus.BAD_REQUEST)
        heard = None
    else:
        try:
            if request.content_length and request.content_length > 8 * 1024 * 1024:
                raise AudioInputError("too_big")
            pcm = await decode_to_pcm(hass, await request.read())
            text = heard = await async_transcribe(
                hass, child_agent_id(hass, record.child_id) or "", pcm
            )
        except AudioInputError as err:
            _LOGGER.info("A device's recording was not understood (%s)", err.reason)
            status = _RECORDING_STATUS.get(err.reason, HTTPStatus.UNPROCESSABLE_ENTITY)
            raise _BadTurn(err.reason, status) from None
    if audio_format not in AUDIO_FORMATS:
        audio_format = DEFAULT_AUDIO_FORMAT
    return text, heard, str(audio_format)


class PageView(HomeAssistantView):
    """The kid's page and its files; public (they hold no secret)."""

    url = BASE + "/"
    extra_urls: ClassVar[list[str]] = [BASE + "/{filename}"]
    name = "api:blip:device:page"
    requires_auth = False

    def __init__(self) -> None:
        """Files are read once, off the event loop."""
        self._files: dict[str, bytes] = {}

    async def get(self, request: web.Request, filename: str = "index.html") -> web.Response:
        """Serve one of the page's files."""
        if filename not in PAGE_FILES:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if (body := self._files.get(filename)) is None:
            body = await request.app["hass"].async_add_executor_job((WWW / filename).read_bytes)
            self._files[filename] = body
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return web.Response(
            body=body, content_type=None, headers=headers | {"Content-Type": PAGE_FILES[filename]}
        )


class PairView(HomeAssistantView):
    """Trade a pairing code for a device token."""

    url = BASE + "/pair"
    name = "api:blip:device:pair"
    requires_auth = False

    async def post(self, request: web.Request) -> web.Response:
        """``{"code": "123456", "name": "Ada's tablet"}`` → the token, shown once."""
        if (access := _access(request)) is None:
            return _not_loaded()
        try:
            body = await request.json()
            code = str(body.get("code", ""))
            name = body.get("name")
        except (ValueError, AttributeError):
            return _json({"error": "bad_request"}, HTTPStatus.BAD_REQUEST)
        try:
            token, record = access.book.redeem(code, _client(request), name)
        except PairingError as err:
            return _refused(request, err)
        access.save()
        hass = request.app["hass"]
        entry = hass.config_entries.async_get_entry(access.entry_id)
        subentry = entry.subentries.get(record.child_id) if entry else None
        _LOGGER.info("A device was paired with Blip (device %s)", record.device_id)
        return _json(
            {
                "token": token,
                "device_id": record.device_id,
                "child": subentry.title if subentry else "",
                "expire_after_days": record.expire_after_days,
            }
        )


class HelloView(HomeAssistantView):
    """Who a token belongs to: the page greets the child by name."""

    url = BASE + "/hello"
    name = "api:blip:device:hello"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """``{"child", "device", "paused"}`` for a good token; 401 otherwise."""
        if isinstance(device := _paired_device(request), web.Response):
            return device
        access, record = device
        hass = request.app["hass"]
        entry = hass.config_entries.async_get_entry(access.entry_id)
        subentry = entry.subentries[record.child_id]
        progress = getattr(getattr(entry, "runtime_data", None), "progress", None)
        child_progress = progress.progress(record.child_id) if progress is not None else None
        return _json(
            {
                "child": subentry.title,
                "device": record.name,
                "paused": bool(getattr(child_progress, "paused", False)),
            }
        )


class TurnView(HomeAssistantView):
    """One turn: text or a recording in, NDJSON events out while the answer is spoken."""

    url = BASE + "/turn"
    name = "api:blip:device:turn"
    requires_auth = False

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Answer the child; the ``start`` event's audio URL plays the answer as it streams."""
        if isinstance(device := _paired_device(request), web.Response):
            return device
        access, record = device
        if not access.book.allow_turn(record):
            _LOGGER.warning("Blip device %s asks too often; turn refused", record.device_id)
            return _json({"error": "rate_limited"}, HTTPStatus.TOO_MANY_REQUESTS)
        hass = request.app["hass"]
        try:
            text, heard, audio_format = await _turn_input(request, hass, record)
        except _BadTurn as err:
            return _json({"error": err.error}, err.status)

        response = web.StreamResponse(
            headers={
                "Content-Type": "application/x-ndjson",
                "X-Content-Type-Options": "nosniff",
                **NO_STORE,
            }
        )
        await response.prepare(request)
        if heard is not None:
            await _send(response, {"type": "heard", "text": heard})
        events = async_run_turn(hass, access, record, text, audio_format)
        try:
            async for event in events:
                if not await _send(response, event):
                    break
        finally:
            await events.aclose()
        return response


async def _send(response: web.StreamResponse, event: dict[str, Any]) -> bool:
    """One NDJSON line; False once the device has gone."""
    try:
        await response.write((json.dumps(event) + "\n").encode())
    except (ConnectionResetError, RuntimeError):
        return False
    return True


class AudioView(HomeAssistantView):
    """A turn's spoken answer, streamed while Blip voice makes it.

    The turn id in the path is a fresh 192-bit secret handed only to the device that asked (an
    audio element cannot send a token header); it expires with the turn.
    """

    url = BASE + "/audio/{turn_id}"
    name = "api:blip:device:audio"
    requires_auth = False

    async def get(self, request: web.Request, turn_id: str) -> web.StreamResponse:
        """Chunked audio, first bytes as soon as the filler or answer is spoken."""
        access = _access(request)
        turn = access.audio_turn(turn_id) if access and _TURN_ID.match(turn_id) else None
        if turn is None:
            return web.Response(status=HTTPStatus.NOT_FOUND, headers=NO_STORE)
        response = web.StreamResponse(
            headers={"Content-Type": turn.content_type, "Accept-Ranges": "none", **NO_STORE}
        )
        await response.prepare(request)
        try:
            async for chunk in turn.stream.async_stream_result():
                await response.write(chunk)
        except (ConnectionResetError, RuntimeError):
            pass  # the device stopped listening
        except Exception:
            _LOGGER.exception("Blip voice failed while speaking to a device")
        return response
