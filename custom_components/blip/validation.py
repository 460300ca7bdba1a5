"""Checks that the backends a family enters are reachable and accept Blip's credentials.

Used by the config flow (to show a form error) and at entry setup (to start a reauth when the
Anthropic key stops working).
"""

from __future__ import annotations

import asyncio
from functools import partial

import aiohttp
import anthropic
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import httpx
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info

from .const import LOCAL_API_OLLAMA, VALIDATE_TIMEOUT


class BackendError(Exception):
    """A backend could not be used; ``reason`` is the config-flow error key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        """Keep the form error key and a human detail for the log."""
        super().__init__(detail or reason)
        self.reason = reason


async def async_create_claude_client(
    hass: HomeAssistant, api_key: str, base_url: str | None = None
) -> anthropic.AsyncAnthropic:
    """Create the Anthropic client off the event loop (it loads SSL certificates).

    Raise BackendError("cannot_connect") for a base URL that is not a URL at all.
    """
    try:
        return await hass.async_add_executor_job(
            partial(
                anthropic.AsyncAnthropic,
                api_key=api_key,
                base_url=base_url or None,
                max_retries=0,  # Blip has its own fallbacks; a retry is silence for a child.
            )
        )
    except httpx.InvalidURL as err:
        raise BackendError("cannot_connect", f"Not a valid Claude API URL: {err}") from err


async def async_validate_claude(client: anthropic.AsyncAnthropic) -> None:
    """List models with the key; raise BackendError("invalid_auth"|"cannot_connect"|"unknown")."""
    try:
        await client.models.list(timeout=VALIDATE_TIMEOUT)
    except anthropic.AuthenticationError as err:
        raise BackendError(
            "invalid_auth", f"Anthropic rejected the API key: {err.status_code}"
        ) from err
    except anthropic.PermissionDeniedError as err:
        raise BackendError("invalid_auth", "The API key may not use the models API") from err
    except (anthropic.APIConnectionError, anthropic.APITimeoutError) as err:
        raise BackendError("cannot_connect", f"Cannot reach Anthropic: {err}") from err
    except anthropic.APIStatusError as err:
        raise BackendError("unknown", f"Anthropic answered {err.status_code}") from err
    except (ValueError, AttributeError, TypeError) as err:
        # Something answered 200 that is not Anthropic's API (a web page, a captive portal):
        # the SDK fails parsing it with these.
        raise BackendError("unknown", "The Claude API URL did not answer like Anthropic") from err


def normalize_local_url(url: str, api: str) -> str:
    """Return the base URL requests are built on.

    OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) serve under ``/v1``; families often
    paste the bare host, so ``/v1`` is added when missing. Ollama serves at its root.
    """
    url = url.strip().rstrip("/")
    if api != LOCAL_API_OLLAMA and not url.endswith("/v1"):
        url += "/v1"
    return url


async def async_list_local_models(hass: HomeAssistant, base_url: str, api: str) -> list[str]:
    """List the model names the local server offers; raise BackendError when it can't."""
    session = async_get_clientsession(hass)
    path = "/api/tags" if api == LOCAL_API_OLLAMA else "/models"
    try:
        async with session.get(
            base_url + path, timeout=aiohttp.ClientTimeout(total=VALIDATE_TIMEOUT)
        ) as response:
            if response.status in (401, 403):
                raise BackendError("invalid_auth", f"Local model server answered {response.status}")
            if response.status != 200:
                raise BackendError(
                    "cannot_connect", f"Local model server answered {response.status}"
                )
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as err:
        raise BackendError("cannot_connect", f"Cannot reach the local model server: {err}") from err
    except ValueError as err:
        raise BackendError("unknown", "The local model server did not answer with JSON") from err
    try:
        if api == LOCAL_API_OLLAMA:
            return [str(model["name"]) for model in body["models"]]
        return [str(model["id"]) for model in body["data"]]
    except (KeyError, TypeError) as err:
        raise BackendError("unknown", "Unexpected model list from the local server") from err


def local_model_available(model: str, available: list[str]) -> bool:
    """Whether ``model`` is served; Ollama names carry a ``:latest`` tag when none is given."""
    return model in available or f"{model}:latest" in available


async def async_validate_voice(host: str, port: int) -> Info:
    """Ask the Wyoming TTS server to describe itself; it must offer text-to-speech."""
    try:
        async with asyncio.timeout(VALIDATE_TIMEOUT), AsyncTcpClient(host, port) as client:
            await client.write_event(Describe().event())
            while True:
                event = await client.read_event()
                if event is None:
                    raise BackendError(
                        "voice_cannot_connect", "The voice server closed the connection"
                    )
                if Info.is_type(event.type):
                    info = Info.from_event(event)
                    break
    except (OSError, TimeoutError) as err:
        raise BackendError("voice_cannot_connect", f"Cannot reach the voice server: {err}") from err
    if not any(program.installed for program in info.tts):
        raise BackendError("voice_not_tts", "The Wyoming server offers no text-to-speech")
    return info
