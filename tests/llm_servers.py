"""Loopback HTTP servers that speak the real wire formats of Blip's LLM backends.

They stand in for Anthropic's API and for the blip-edu server (OpenAI-compatible or Ollama) in
tests and benchmarks. Behaviour is set per test through plain attributes (which key is valid,
what status to answer) so a test reads as what the server does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field

from aiohttp import web

VALID_KEY = "sk-ant-valid-test-key"


@contextlib.asynccontextmanager
async def start_fake_server(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port; yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class FakeAnthropic:
    """Anthropic's API: key check, models list."""

    valid_key: str = VALID_KEY
    models: list[str] = field(default_factory=lambda: ["claude-haiku-4-5-20251001"])
    status_override: int | None = None  # answer every request with this status
    base_url: str = ""
    requests: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        return app

    def _error(self, status: int, kind: str, message: str) -> web.Response:
        return web.json_response(
            {"type": "error", "error": {"type": kind, "message": message}}, status=status
        )

    def _check(self, request: web.Request) -> web.Response | None:
        self.requests.append(request.path)
        if self.status_override is not None:
            kinds = {429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
            return self._error(
                self.status_override, kinds.get(self.status_override, "api_error"), "fail"
            )
        if request.headers.get("x-api-key") != self.valid_key:
            return self._error(401, "authentication_error", "invalid x-api-key")
        return None

    async def _models(self, request: web.Request) -> web.Response:
        if (error := self._check(request)) is not None:
            return error
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-10-01T00:00:00Z"}
            for m in self.models
        ]
        return web.json_response(
            {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        )


@dataclass
class FakeLocalModel:
    """The blip-edu server: OpenAI-compatible (``/v1/...``) or Ollama (``/api/...``)."""

    api: str = "openai"
    models: list[str] = field(default_factory=lambda: ["blip-edu"])
    status_override: int | None = None
    base_url: str = ""
    requests: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        if self.api == "ollama":
            app.router.add_get("/api/tags", self._ollama_tags)
        else:
            app.router.add_get("/v1/models", self._openai_models)
        return app

    async def _openai_models(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.status_override is not None:
            return web.json_response({"error": {"message": "fail"}}, status=self.status_override)
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "blip"} for m in self.models],
            }
        )

    async def _ollama_tags(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.status_override is not None:
            return web.json_response({"error": "fail"}, status=self.status_override)
        return web.json_response(
            {"models": [{"name": f"{m}:latest", "model": f"{m}:latest"} for m in self.models]}
        )
