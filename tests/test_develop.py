"""scripts/develop brings up a real Home Assistant with Blip, offline, and seeds it for use.

Slow: it starts Home Assistant (and Blip's Wyoming servers) as separate processes, exactly as a
developer does, on free ports and a throwaway config directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import os
from pathlib import Path
import re
import signal
import sys

import aiohttp
import pytest

from tests.llm_servers import FakeLocalModel

ROOT = Path(__file__).parent.parent
READY = re.compile(r"develop: ready")

pytestmark = pytest.mark.slow


async def _read_until_ready(stream: asyncio.StreamReader, lines: list[str], seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await _read_lines(stream, lines)
    except TimeoutError:
        raise AssertionError(
            "scripts/develop was not ready in time:\n" + "".join(lines[-40:])
        ) from None


async def _read_lines(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError(
                "scripts/develop exited before it was ready:\n" + "".join(lines[-40:])
            )
        line = raw.decode(errors="replace")
        lines.append(line)
        if READY.search(line):
            return


@contextlib.asynccontextmanager
async def _develop(env: dict[str, str]) -> AsyncIterator[None]:
    """Run scripts/develop until it says it is ready; stop it (and its children) afterwards."""
    process = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts/develop"),
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        await _read_until_ready(process.stdout, lines, seconds=240)
        # Keep draining output so Home Assistant never blocks on a full pipe.
        drain = asyncio.create_task(_drain(process.stdout))
        yield
        drain.cancel()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


async def test_develop_serves_home_assistant_with_blip(
    tmp_path: Path, openai_server: FakeLocalModel, unused_tcp_port_factory
) -> None:
    """HA answers over HTTP, Blip's entry and agent load without errors, and the agent answers.

    A second start on the same, now onboarded, configuration is ready again without seeding twice.
    """
    port = unused_tcp_port_factory()
    config = (ROOT / "config/configuration.yaml").read_text()
    (tmp_path / "configuration.yaml").write_text(
        config.replace("server_port: 8123", f"server_port: {port}")
    )
    env = {
        **os.environ,
        "BLIP_CONFIG_DIR": str(tmp_path),
        # The Home Assistant under test: scripts/develop runs either end of the supported window.
        "BLIP_HA_END": "newest" if sys.version_info >= (3, 14) else "oldest",
        "BLIP_HA_URL": f"http://127.0.0.1:{port}",
        "BLIP_LOCAL_URL": openai_server.base_url,
        "BLIP_NO_VOICE_SERVERS": "1",
    }
    base = f"http://127.0.0.1:{port}"
    async with _develop(env), aiohttp.ClientSession() as session:
        async with session.get(base + "/") as response:
            assert response.status == 200  # the frontend, served by a real HA
        headers = {"Authorization": f"Bearer {await _login(session, base)}"}
        async with session.get(
            base + "/api/config/config_entries/entry", headers=headers
        ) as response:
            entries = {e["domain"]: e for e in await response.json()}
        assert entries["blip"]["state"] == "loaded"
        async with session.post(
            base + "/api/conversation/process",
            json={"text": "how do you spell cat", "agent_id": "conversation.blip_for_ada"},
            headers=headers,
        ) as response:
            reply = await response.json()
        speech = reply["response"]["speech"]["plain"]["speech"]
        assert "C, A, T" in speech or "C A T" in speech, speech  # the drill engine answered

    log = (tmp_path / "home-assistant.log").read_text()
    assert "Setting up blip" in log
    # develop-seed must not probe with a missing token: HA would log this and show a red
    # "Login attempt failed" notification on the first screen.
    assert "invalid authentication" not in log
    blip_errors = [
        line
        for line in log.splitlines()
        if " ERROR " in line and ("blip" in line.lower() or "custom_components" in line)
    ]
    assert not blip_errors, blip_errors

    async with _develop(env), aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {await _login(session, base)}"}
        async with session.get(
            base + "/api/config/config_entries/entry", headers=headers
        ) as response:
            domains = [e["domain"] for e in await response.json()]
        assert domains.count("blip") == 1


async def _login(session: aiohttp.ClientSession, base: str) -> str:
    """Log in as the developer account develop-seed created, as the frontend does."""
    client_id = base + "/"
    async with session.post(
        base + "/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    ) as response:
        flow = await response.json()
    async with session.post(
        base + f"/auth/login_flow/{flow['flow_id']}",
        json={"client_id": client_id, "username": "blip", "password": "blip-develop"},
    ) as response:
        code = (await response.json())["result"]
    async with session.post(
        base + "/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
    ) as response:
        return (await response.json())["access_token"]
