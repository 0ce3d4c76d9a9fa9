"""One region's application, as failover and its users can see it: the region's load
balancer in front of the ECS tasks of its service, each with a health endpoint.

A task reads the region's `db_host` parameter when it starts, as an ECS task reads its
parameters (`secrets`/`valueFrom`) at container start, and keeps that value: a parameter
switched later reaches only tasks started after it. `/health` answers, from one task in
turn (round robin, as a load balancer does), 200 only when the database that task's
`db_host` names accepts a write; with no task running, 503 as a load balancer with no
target does. Its JSON body names the region, so a client can tell who served it.

The lab starts and stops tasks as the emulator's ECS model does (`task_started`,
`task_leaving`, driven by `fidelity.on_task`); the app listens on its own loopback address,
so that a DNS answer decides which region serves.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

PROBE_TABLE = "dr_lab_health"
# psycopg will not wait less than 2 s for a connection, so the probe's answer is
# bounded by waiting on it instead; well inside the lab's health[].timeout_seconds
# (HEALTH_TIMEOUT_S in world.py), so a slow database is a 503, never a check that timed out.
_PROBE_DEADLINE_S = 1.0
_CONNECT_TIMEOUT_S = 2
_STATEMENT_TIMEOUT_MS = 1000

Detail = dict[str, str | None]


class RegionalApp:
    """An HTTP server on `address` (a free port unless `port` is given).

    `db_host()` reads the region's `db_host` parameter now (the lab reads SSM): a task calls
    it once, when it starts. `resolve(db_host)` maps a value to a DSN, or None when it names
    no reachable database; `writable(db_host)` may replace the real write probe (the lab
    without PostgreSQL).
    """

    def __init__(
        self,
        region: str,
        db_host: Callable[[], str | None],
        resolve: Callable[[str], str | None],
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        writable: Callable[[str], tuple[bool, str | None]] | None = None,
    ) -> None:
        self.region = region
        self.address = address
        self._db_host = db_host
        self._resolve = resolve
        self._writable = writable
        self._wanted_port = port
        self._tasks: dict[str, Detail] = {}
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._probes: ThreadPoolExecutor | None = None

    @property
    def port(self) -> int:
        """The port it listens on (or listened on, once stopped: a lost region's URL)."""
        if self._server is not None:
            self._wanted_port = self._server.server_address[1]
        if not self._wanted_port:
            raise RuntimeError(f"the {self.region} app is not started")
        return self._wanted_port

    @property
    def health_url(self) -> str:
        return f"http://{self.address}:{self.port}/health"

    def start(self) -> None:
        self._probes = ThreadPoolExecutor(4, thread_name_prefix=f"dr-health-{self.region}")
        self._server = ThreadingHTTPServer((self.address, self._wanted_port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"dr-app-{self.region}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stops serving and frees the port; safe to call more than once."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()
        if self._probes is not None:
            # A probe still waiting on a hung database ends by its own timeouts.
            self._probes.shutdown(wait=False, cancel_futures=True)
        self._server = self._thread = self._probes = None

    def __enter__(self) -> RegionalApp:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def task_started(self, task_id: str) -> None:
        """A task reached RUNNING: it reads the parameter now, once, and joins the
        rotation. A task already known keeps what it read."""
        with self._lock:
            if task_id in self._tasks:
                return
        # The callable reaches the emulator, which an outage may break in any way: such a
        # task runs with no value (every request it serves fails), as a real one would.
        try:
            detail: Detail = {"db_host": self._db_host(), "error": None}
        except Exception as error:  # noqa: BLE001
            detail = {"db_host": None, "error": f"db_host lookup at start: {error}"}
        with self._lock:
            self._tasks.setdefault(task_id, detail)

    def task_leaving(self, task_id: str) -> None:
        """A task left the load balancer (draining, then stopping)."""
        with self._lock:
            self._tasks.pop(task_id, None)

    @property
    def tasks(self) -> dict[str, str | None]:
        """Each running task's db_host, as it read it at its start."""
        with self._lock:
            return {task: detail["db_host"] for task, detail in self._tasks.items()}

    def check(self) -> tuple[bool, dict[str, str | None]]:
        """(healthy, detail) from the next task in turn."""
        with self._lock:
            if not self._tasks:
                return False, {"task": None, "db_host": None, "error": "no running task"}
            ids = list(self._tasks)
            task = ids[next(self._turn) % len(ids)]
            read = dict(self._tasks[task])
        detail: dict[str, str | None] = {"task": task, **read}
        host = read["db_host"]
        if read["error"] or host is None:
            detail["error"] = read["error"] or "no db_host"
            return False, detail
        if self._writable is not None:
            ok, error = self._writable(host)
            detail["error"] = error
            return ok, detail
        dsn = self._resolve(host)
        if dsn is None:
            detail["error"] = "db_host names no known database"
            return False, detail
        probes = self._probes
        if probes is None:
            raise RuntimeError(f"the {self.region} app is not started")
        try:
            probes.submit(_write_probe, dsn, self.region).result(_PROBE_DEADLINE_S)
        except FutureTimeout:
            detail["error"] = f"no answer within {_PROBE_DEADLINE_S} s"
            return False, detail
        except psycopg.Error as error:
            detail["error"] = f"{type(error).__name__}: {str(error).strip()}"
            return False, detail
        return True, detail


def _write_probe(dsn: str, region: str) -> None:
    """Upserts this region's row: fails on a read-only standby, as the app's writes would."""
    upsert = (
        f"INSERT INTO {PROBE_TABLE} (region, checked_at) VALUES (%s, now()) "
        "ON CONFLICT (region) DO UPDATE SET checked_at = excluded.checked_at"
    )
    with psycopg.connect(
        dsn,
        autocommit=True,
        connect_timeout=_CONNECT_TIMEOUT_S,
        options=f"-c statement_timeout={_STATEMENT_TIMEOUT_MS}",
    ) as conn:
        try:
            conn.execute(upsert, (region,))
        except psycopg.errors.UndefinedTable:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} "
                "(region text PRIMARY KEY, checked_at timestamptz NOT NULL)"
            )
            conn.execute(upsert, (region,))


def _handler_for(app: RegionalApp) -> type[BaseHTTPRequestHandler]:
    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] != "/health":
                self._reply(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            healthy, detail = app.check()
            status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
            self._reply(status, {"region": app.region, "healthy": healthy, **detail})

        def _reply(self, status: HTTPStatus, body: dict[str, object]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            # Ten requests a second from the observer would drown the lab's console.
            return

    return HealthHandler
