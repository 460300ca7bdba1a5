"""The serve path's memory trim: it frees what reference cycles held, no timer outlives it.

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

from tests.wyoming_fixtures import figures_from_a_fresh_interpreter
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


_CYCLE_SCRIPT = """
import gc, json
from wyoming_servers.serve import collect_cycles_when_trimming, release_free_memory, resident_bytes

def drop_a_cycle_holding(megabytes):
    # What a failed request left: its frames (and their audio) in a cycle through the traceback.
    holder = [bytearray(b"\\x01") * (megabytes << 20)]
    holder.append(holder)

gc.disable()  # the automatic collector must not be what frees it
figures = {"start": resident_bytes()}
drop_a_cycle_holding(64)
release_free_memory()
figures["trim_alone"] = resident_bytes()
collect_cycles_when_trimming()
figures["frozen"] = gc.get_freeze_count()
figures["after_freeze"] = resident_bytes()
drop_a_cycle_holding(64)
figures["held"] = resident_bytes()
release_free_memory()
figures["trim_collecting"] = resident_bytes()
print(json.dumps(figures))
"""


def test_a_servers_trim_frees_what_reference_cycles_held() -> None:
    """glibc's trim alone cannot hand back memory a cycle still holds; a server's own process
    (which froze its start-up objects) collects cycles first."""
    figures = figures_from_a_fresh_interpreter(_CYCLE_SCRIPT)
    megabyte = 1 << 20
    assert figures["trim_alone"] - figures["start"] > 60 * megabyte
    assert figures["frozen"] > 1000  # what the imports made, out of every later collection
    assert figures["held"] - figures["after_freeze"] > 60 * megabyte
    assert figures["trim_collecting"] - figures["after_freeze"] < 4 * megabyte
