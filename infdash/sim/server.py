"""Running the simulator: :class:`SimServer` (a daemon thread with its own loop, for tests and
``--demo``) and :func:`run_foreground` (``infdash sim``)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import uvicorn

from infdash.sim.app import build_app
from infdash.sim.config import SimConfig
from infdash.sim.world import World

T = TypeVar("T")


class _Uvicorn(uvicorn.Server):
    """uvicorn's server plus an event set once it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = asyncio.Event()
        self.exit_requested = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.up.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown always sleeps 0.1 s; tests start and stop hundreds of servers.
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        steps = int(self.config.timeout_graceful_shutdown or 2) * 200
        for _ in range(steps):
            if not self.server_state.connections and not self.server_state.tasks:
                break
            await asyncio.sleep(0.005)
        for task in list(self.server_state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()

    async def main_loop(self) -> None:
        # uvicorn polls should_exit every 0.1 s; an event makes stop() immediate.
        await self.exit_requested.wait()


class SimServer:
    """A real HTTP simulator on a loopback port, served from its own thread and event loop."""

    def __init__(
        self, config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SimConfig()
        self.host = host
        self.port = port
        self.api_key = self.config.api_key
        self.base_url = ""
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Uvicorn | None = None
        self._world: World | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopped = False

    # lifecycle -------------------------------------------------------------------------
    def start(self) -> str:
        """Bind, start serving and return the base URL once the server listens.

        Raises OSError when the address is in use."""
        if self._thread is not None:
            return self.base_url
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by accepted connections: uvicorn writes headers and body separately, and
        # Nagle + delayed ACK would add ~40 ms to every small response.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"infdash-sim-{self.port}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise RuntimeError("simulator failed to start") from self._error
        return self.base_url

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(sock))
        except BaseException as exc:  # reported to start() or lost after stop
            self._error = exc
        finally:
            self._ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            sock.close()

    async def _main(self, sock: socket.socket) -> None:
        world = World(self.config)
        world.start()
        self._world = world
        config = uvicorn.Config(
            build_app(world),
            log_level="warning",
            access_log=False,
            date_header=False,
            server_header=False,
            http="h11",
            ws="none",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = _Uvicorn(config)
        self._server = server
        serve = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        started = asyncio.get_running_loop().create_task(server.up.wait())
        await asyncio.wait([serve, started], return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        self._ready.set()
        await serve
        await world.stop()

    def stop(self) -> None:
        """Close streams, stop serving and join the thread; safe to call twice."""
        if self._thread is None or self._stopped:
            return
        self._stopped = True
        loop, server, world = self._loop, self._server, self._world
        if loop is not None and server is not None and world is not None and loop.is_running():

            async def shut() -> None:
                await world.stop()
                server.should_exit = True
                server.exit_requested.set()

            with contextlib.suppress(RuntimeError, TimeoutError):
                asyncio.run_coroutine_threadsafe(shut(), loop).result(timeout=5)
        self._thread.join(timeout=10)

    def __enter__(self) -> SimServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # driving the world -----------------------------------------------------------------
    def call(self, fn: Callable[[World], T]) -> T:
        """Run ``fn(world)`` on the server loop and return its result (thread-safe)."""
        loop, world = self._loop, self._world
        if loop is None or world is None:
            raise RuntimeError("simulator is not running")

        async def invoke() -> T:
            return fn(world)

        return asyncio.run_coroutine_threadsafe(invoke(), loop).result(timeout=30)

    def advance(self, seconds: float) -> None:
        """Manual clock: move simulated time forward, running every due transition."""
        if not self.config.manual_clock:
            raise RuntimeError("advance() needs SimConfig(manual_clock=True)")
        self.call(lambda w: w.sched.advance(seconds))

    @property
    def world(self) -> World:
        """The world (touch it only through :meth:`call` from other threads)."""
        if self._world is None:
            raise RuntimeError("simulator is not running")
        return self._world


def run_foreground(config: SimConfig, host: str, port: int) -> int:
    """Serve until Ctrl-C or SIGTERM; 0 on a clean stop, 2 when the port is unavailable."""
    server = SimServer(config, host=host, port=port)
    try:
        server.start()
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        print(f"infdash sim: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, on_signal)
    try:
        print(f"infdash simulator on {server.base_url}  (api key: {config.api_key})", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
