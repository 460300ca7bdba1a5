"""Building the service from settings and serving it over TCP."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import logging

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
    """A TCP server for one service, started with `start_tcp_server`."""

    service: SttService
    server: asyncio.Server
    host: str
    port: int
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop accepting clients and end the connections still open."""
        self.server.close()
        for task in list(self.handlers):
            task.cancel()
        for task in list(self.handlers):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.server.wait_closed()


async def start_tcp_server(
    service: SttService, host: str = "127.0.0.1", port: int = 0
) -> RunningServer:
    """Serve `service` on host:port (port 0 picks a free one) without blocking."""
    handlers: set[asyncio.Task[None]] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await SttEventHandler(service, reader, writer).run()
        finally:
            handlers.discard(task)

    server = await asyncio.start_server(on_connect, host=host, port=port)
    bound_port = server.sockets[0].getsockname()[1]
    return RunningServer(service, server, host, bound_port, handlers)
