"""The kid's page in a real browser: headless Chromium with a fake microphone fed from a WAV.

Real Home Assistant (its HTTP server on a loopback port), Blip voice on the project's Wyoming
TTS server, the project's Wyoming STT server through HA's wyoming integration, loopback Claude
that takes a second. The page pairs with a code, the button is held with real (trusted) mouse
events while the fake microphone speaks, and the test reads what the page showed and which
audio it played — and transcribes that audio back to check what the child heard.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import wave

import aiohttp
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests import device_helpers, voice_fixtures
from tests.device_helpers import BASE, speech_pcm, start_pairing, use_wyoming_stt
from tests.devtools import Page, chromium_page
from tests.llm_servers import FakeAnthropic
from tests.test_end_to_end import transcribe, words
from tests.voice_fixtures import ffmpeg_decode, setup_blip_with_voice
from tests.wyoming_fixtures import ServerAddress, ServerProcess
from wyoming_servers.audio import PcmAudio

pytestmark = pytest.mark.slow

blip_tts_engine = voice_fixtures.blip_tts_engine
tts_server = voice_fixtures.tts_server
stt_server = device_helpers.stt_server

THINKING_SECONDS = 1.0
RATE = 22050
SCREENSHOT = Path(__file__).parent.parent / "docs" / "kid-page.png"


def microphone_file(path: Path, text: str) -> tuple[Path, float]:
    """A WAV of piper saying ``text``; its length in seconds."""
    pcm, rate = speech_pcm(text, lead=0.3, trail=0.6)
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(pcm)
    return path, len(pcm) / 2 / rate


async def hold_to_talk(page: Page, seconds: float) -> None:
    """Press the big button, keep it down while the child speaks, let go."""
    x, y = await page.center_of("talk-button")
    await page.mouse("mouseMoved", x, y)
    await page.mouse("mousePressed", x, y)
    await page.wait_for("document.getElementById('app').dataset.state === 'listening'", "mic")
    # The child speaks for as long as the WAV lasts, holding the button down (this is the
    # length of the speech, not a wait for something to happen).
    await asyncio.sleep(seconds)
    await page.mouse("mouseReleased", x, y)


async def answer_played(page: Page) -> dict:
    """Wait until the turn is done and its audio played to the end; what the page recorded."""
    await page.wait_for(
        "window.blipLog.some(e => e.event === 'done')"
        " && window.blipPlayed.length && window.blipPlayed.at(-1).endedAt !== null",
        "the answer to be spoken",
        60,
    )
    return await page.evaluate(
        "({answer: document.getElementById('answer').textContent,"
        " heard: document.getElementById('heard').textContent,"
        " state: document.getElementById('app').dataset.state,"
        " played: window.blipPlayed.at(-1),"
        " log: window.blipLog})"
    )


async def heard_by_stt(base: str, url: str, stt: ServerAddress) -> str:
    """The played audio (fetched again: a turn's audio stays for a few minutes), transcribed."""
    async with aiohttp.ClientSession() as session, session.get(base + url) as response:
        assert response.status == 200
        data = await response.read()
    frames = ffmpeg_decode(data, "wav", RATE, 1)  # the page asked for WAV (Web Audio)
    return await transcribe(stt, PcmAudio(pcm=frames.tobytes(), rate=RATE, width=2, channels=1))


async def test_a_child_pairs_the_page_and_talks_to_blip_by_voice(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    tts_server: ServerAddress,
    stt_server: ServerProcess,
    hass_client_no_auth: ClientSessionGenerator,
    tmp_path: Path,
) -> None:
    anthropic_server.script.first_token_delay = THINKING_SECONDS
    from homeassistant.setup import async_setup_component

    from tests.agent_helpers import blip_entry

    assert await async_setup_component(hass, "assist_pipeline", {})
    entry = await setup_blip_with_voice(hass, tts_server, blip_entry(anthropic_server))
    await use_wyoming_stt(hass, stt_server)
    client = await hass_client_no_auth()
    base = str(client.make_url("")).rstrip("/")
    code = (await start_pairing(hass, entry.entry_id))["code"]
    profile = tmp_path / "chromium-profile"

    # 1. Pair with the code from the QR link, then ask a spelling question by voice.
    spell_wav, spell_seconds = microphone_file(tmp_path / "spell.wav", "How do you spell cat?")
    async with chromium_page(profile, spell_wav) as page:
        await page.call("Page.navigate", url=f"{base}{BASE}/?code={code}")
        await page.wait_for(f"document.getElementById('code')?.value === '{code}'", "code")
        # Only the pairing screen shows until the device is paired.
        assert await page.evaluate("document.getElementById('talk').offsetParent === null")
        await page.evaluate("document.getElementById('pair').click()")
        greeting = await page.wait_for(
            "!document.getElementById('talk').hidden && document.getElementById('greeting')"
            ".textContent",
            "the talk screen",
        )
        assert greeting == "Hi Ada!"
        assert await page.evaluate("document.getElementById('pairing').offsetParent === null")
        assert await page.evaluate("location.search") == ""  # the used code left the address

        await hold_to_talk(page, spell_seconds)
        shown = await answer_played(page)
        assert "spell" in shown["heard"].lower() and "cat" in shown["heard"].lower()
        assert "C, A, T" in shown["answer"]
        assert shown["state"] == "ready" and shown["played"]["seconds"] > 1.0
        assert shown["played"]["playingAt"] is not None and "error" not in shown["played"]
        heard = await heard_by_stt(base, shown["played"]["url"], stt_server.address)
        # Whisper (tiny) hears single letters loosely ("C, AT", "C, and T"); the answer's
        # sentences around them it hears reliably.
        assert {"starts", "letter"} <= set(words(heard)), heard
        await page.evaluate("document.getElementById('talk-button').blur()")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        await page.screenshot(SCREENSHOT)

    # 2. The same device later (token kept by the page), a question for slow Claude.
    sky_wav, sky_seconds = microphone_file(tmp_path / "sky.wav", "Why is the sky blue?")
    async with chromium_page(profile, sky_wav) as page:
        await page.call("Page.navigate", url=f"{base}{BASE}/")
        await page.wait_for(
            "document.getElementById('app')?.dataset.state === 'ready'", "the paired page"
        )
        await hold_to_talk(page, sky_seconds)
        shown = await answer_played(page)
        assert "sky" in shown["heard"].lower()
        assert "scatters blue light" in shown["answer"]
        texts = [e for e in shown["log"] if e.get("event") == "text"]
        done = next(e for e in shown["log"] if e.get("event") == "done")
        # The filler was shown and its audio playing before Claude's answer came.
        assert texts[0]["at"] < done["at"] - THINKING_SECONDS * 1000 / 2
        assert shown["played"]["playingAt"] < done["at"]
        assert shown["played"]["seconds"] > 4.0
        heard = words(await heard_by_stt(base, shown["played"]["url"], stt_server.address))
        assert "blue" in heard and "light" in heard, heard

        # 3. The Wi-Fi drops: the page says so kindly, and comes back by itself.
        await page.call("Network.enable")
        offline = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
        await page.call("Network.emulateNetworkConditions", offline=True, **offline)
        await page.wait_for(
            "document.getElementById('app').dataset.state === 'offline'", "the offline state"
        )
        assert "can't hear" in await page.evaluate("document.getElementById('status').textContent")
        await page.call("Network.emulateNetworkConditions", offline=False, **offline)
        await page.wait_for("document.getElementById('app').dataset.state === 'ready'", "online")

        # 4. A grown-up pauses Blip: the page shows Blip napping.
        switch = next(s.entity_id for s in hass.states.async_all("switch"))
        await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
        await page.call("Page.reload")
        await page.wait_for(
            "document.getElementById('app')?.dataset.state === 'napping'", "Blip napping"
        )
        label = await page.evaluate("document.getElementById('talk-label').textContent")
        assert label == "Blip is napping"
    assert len(anthropic_server.chat_requests) == 1
