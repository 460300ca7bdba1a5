"""Headless Chromium driven over the DevTools protocol (aiohttp websocket), for page tests.

Chromium gets a fake microphone fed from a WAV file (``--use-file-for-fake-audio-capture``) and
grants it without a prompt, so a page's MediaRecorder records exactly that speech.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import itertools
import json
from pathlib import Path
import socket
import time
from typing import Any

import aiohttp

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",  # as root in a container
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
)


class Page:
    """One page of Chromium."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read replies in the background."""
        self.ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if (future := self._waiting.pop(data.get("id", 0), None)) is not None:
                if "error" in data:
                    future.set_exception(RuntimeError(f"DevTools: {data['error']}"))
                else:
                    future.set_result(data.get("result", {}))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command."""
        message_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        await self.ws.send_json({"id": message_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 30)

    async def evaluate(self, expression: str) -> Any:
        """The value of a page expression (promises awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str, seconds: float = 30.0) -> Any:
        """Poll until the expression is truthy (bounded)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if value := await self.evaluate(expression):
                return value
            await asyncio.sleep(0.1)
        raise TimeoutError(f"waited {seconds:.0f} s for {what}")

    async def mouse(self, kind: str, x: float, y: float) -> None:
        """A real (trusted) mouse event: it counts as a user gesture."""
        await self.call(
            "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
        )

    async def center_of(self, element_id: str) -> tuple[float, float]:
        """Where an element is on screen."""
        box = await self.evaluate(
            f"(() => {{ const r = document.getElementById({element_id!r})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        return float(box[0]), float(box[1])

    async def screenshot(self, path: Path) -> None:
        """A PNG of the viewport."""
        import base64

        data = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))

    async def close(self) -> None:
        """Stop reading and close the socket."""
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.ws.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def chromium_page(
    profile: Path, microphone_wav: Path, width: int = 390, height: int = 844
) -> AsyncIterator[Page]:
    """Chromium (profile kept in ``profile``) whose microphone says ``microphone_wav`` once."""
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *FLAGS,
        # %noloop: the file plays once from the start each time the microphone opens.
        f"--use-file-for-fake-audio-capture={microphone_wav}%noloop",
        f"--user-data-dir={profile}",
        f"--remote-debugging-port={port}",
        f"--window-size={width},{height}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
    page: Page | None = None
    try:
        url = await _page_websocket(session, port)
        page = Page(await session.ws_connect(url, max_msg_size=64 * 1024 * 1024))
        await page.call("Page.enable")
        await page.call("Runtime.enable")
        await page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=2,
            mobile=True,
        )
        yield page
    finally:
        if page is not None:
            await page.close()
        await session.close()
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _page_websocket(session: aiohttp.ClientSession, port: int) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                pages = [t for t in await response.json() if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
        await asyncio.sleep(0.2)
    raise TimeoutError("Chromium did not open its DevTools endpoint")
