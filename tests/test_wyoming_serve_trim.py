"""The serve path's memory trim: no timer outlives the server.

A connection ending asks for a trim a second later (``WyomingServer._release_memory``). asyncio
accepts a connection, then calls the server's callback for it on a later turn of the loop, so
``stop()`` can close the server and cancel the connections it sees while one accepted just
before has not started yet. That connection runs, ends after ``stop()`` returned, and must not
leave a timer on the loop (Home Assistant's tests fail on a lingering timer; an embedding
program's loop would run a trim for a server that is gone). Reproduced here on demand: the
callback asyncio calls for a connection, over a real socket, run after ``stop()`` returned.
"""

from __future__ import annotations

import asyncio
import socket

from wyoming.event import Event

from wyoming_servers.serve import BlipEventHandler, WyomingServer


class Answering(BlipEventHandler):
    async def handle_event(self, event: Event) -> bool:
        return True


async def test_a_connection_that_ends_after_stop_leaves_no_trim_timer() -> None:
    server = WyomingServer("tcp://127.0.0.1:0", Answering)
    await server.start()
    await server.stop()

    # The connection stop() did not see: its callback runs only now, and its client is gone.
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    theirs.close()
    await server._on_connect(reader, writer)

    assert server.connections == 0
    assert server._trim is None


async def test_a_connection_that_ends_while_serving_asks_for_a_trim() -> None:
    """The other side of the guard: a served connection's end does schedule one, and stop()
    cancels it."""
    server = WyomingServer("tcp://127.0.0.1:0", Answering)
    await server.start()
    try:
        ours, theirs = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=ours)
        theirs.close()
        await server._on_connect(reader, writer)
        assert server._trim is not None
    finally:
        await server.stop()
    assert server._trim is None
