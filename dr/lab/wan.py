"""A delaying TCP proxy on loopback: the lab's cross-region link.

Bytes are held for `delay` seconds in each direction before they are forwarded, so a
streaming standby behind the proxy trails its primary the way a cross-region replica
does. `cut()` models the loss of a region: whatever is still held is dropped, so data
that the primary acknowledged but had not yet crossed the link is really lost.

Without a delay it is the lab's database endpoint: `upstream` follows the server behind the
endpoint, and `accepting = False` refuses new connections while keeping the open ones, as a
security group that no longer allows a client keeps tracking its established connections.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import TypeVar

_LOOPBACK = "127.0.0.1"
_READ_SIZE = 64 * 1024
_CONTROL_TIMEOUT = 10.0

T = TypeVar("T")


class WanProxy:
    """Forwards 127.0.0.1:`port` to `upstream`, delaying each direction by `delay`.

    The proxy runs an asyncio loop in a background thread; the methods here are safe to
    call from any other thread. `delay` may be changed while connections are open: the
    order of bytes is kept, and bytes received afterwards get the new delay.
    """

    def __init__(self, upstream: tuple[str, int], delay: float = 0.0) -> None:
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay}")
        self.upstream = upstream  # read at each new connection: may be changed
        self.delay = delay
        self.accepting = True  # False: new connections are closed at once, open ones kept
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._cut = False

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the proxy is not started")
        return self._port

    def start(self) -> int:
        """Listens on a free loopback port and returns it."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="dr-wan", daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, _LOOPBACK, 0))
        self._port = self._server.sockets[0].getsockname()[1]
        return self._port

    def cut(self) -> None:
        """Region loss: drop the bytes in flight, close every connection, refuse new ones."""
        if self._loop is None or self._cut:
            return
        self._call(self._cut_all())

    def close(self) -> None:
        """Cuts the link and stops the proxy's thread; safe to call more than once."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self.cut()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CONTROL_TIMEOUT)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> WanProxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, coro: Coroutine[object, object, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CONTROL_TIMEOUT)

    async def _cut_all(self) -> None:
        self._cut = True
        if self._server is not None:
            self._server.close()
        # abort(), unlike close(), discards what the transport still buffers.
        for transport in list(self._transports):
            transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._transports.clear()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._transports.add(client_w.transport)
        try:
            if self._cut or not self.accepting:
                return
            try:
                upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
            except OSError:
                return
            if self._cut:
                upstream_w.transport.abort()
                return
            self._transports.add(upstream_w.transport)
            pipes = [
                asyncio.create_task(self._pipe(client_r, upstream_w)),
                asyncio.create_task(self._pipe(upstream_r, client_w)),
            ]
            # cut() cancels the pipes, never this task: asyncio's stream callback in
            # Python 3.11 reports a cancelled connection task as an error.
            for pipe in pipes:
                self._tasks.add(pipe)
                pipe.add_done_callback(self._tasks.discard)
            try:
                # One direction failing ends the connection, as a broken link would.
                await asyncio.wait(pipes, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
                upstream_w.transport.abort()
                self._transports.discard(upstream_w.transport)
        finally:
            client_w.transport.abort()
            self._transports.discard(client_w.transport)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        """Copies src to dst, each chunk held until `delay` after it was read; then EOF."""
        loop = asyncio.get_running_loop()
        held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await held.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if dst.can_write_eof():
                        dst.write_eof()
                    return
                dst.write(chunk)
                await dst.drain()

        delivery = asyncio.create_task(deliver())
        try:
            while chunk := await src.read(_READ_SIZE):
                held.put_nowait((loop.time() + self.delay, chunk))
            held.put_nowait((loop.time() + self.delay, b""))
            await delivery
        finally:
            delivery.cancel()
