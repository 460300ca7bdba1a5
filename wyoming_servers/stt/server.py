"""Building the service from settings and serving it (through the servers' one serve path)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
import logging

from ..serve import ServeLimits, WyomingServer
from .engine import EngineSettings, WhisperEngine
from .handler import SttEventHandler
from .service import ServiceSettings, SttService

_LOGGER = logging.getLogger(__name__)


def load_service(engine_settings: EngineSettings, settings: ServiceSettings) -> SttService:
    """Load the model, warm it up and wrap it in a service (blocking; raises ModelLoadError)."""
    engine = WhisperEngine(engine_settings)
    engine.warm_up()
    # The VAD model loads on first use; do it now rather than in the first child's request.
    from faster_whisper.vad import get_vad_model

    get_vad_model()
    return SttService(engine, settings)


@dataclass
class RunningServer:
    """A server for one service, started with `start_server`."""

    service: SttService
    server: WyomingServer

    @property
    def host(self) -> str | None:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def uri(self) -> str:
        return self.server.uri

    async def stop(self) -> None:
        """Stop accepting clients and end the connections still open."""
        await self.server.stop()


async def start_server(
    service: SttService, uri: str = "tcp://127.0.0.1:0", limits: ServeLimits | None = None
) -> RunningServer:
    """Serve `service` at `uri` (port 0 picks a free one) without blocking."""
    server = WyomingServer(uri, partial(SttEventHandler, service), limits)
    await server.start()
    return RunningServer(service, server)


async def start_tcp_server(
    service: SttService, host: str = "127.0.0.1", port: int = 0
) -> RunningServer:
    """Serve `service` on host:port over TCP (port 0 picks a free one) without blocking."""
    return await start_server(service, f"tcp://{host}:{port}")
