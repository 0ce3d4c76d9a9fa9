"""One region's application, as far as failover can see it: a health endpoint.

`/health` answers 200 only when the database named by the region's `db_host` parameter
accepts a write. A promoted database alone is not enough, nor is a switched parameter
alone: as in production, the application is healthy after both.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

_LOOPBACK = "127.0.0.1"
PROBE_TABLE = "dr_lab_health"
# psycopg will not wait less than 2 s for a connection, so the probe's answer is
# bounded by waiting on it instead.
_PROBE_DEADLINE_S = 1.0
_CONNECT_TIMEOUT_S = 2
_STATEMENT_TIMEOUT_MS = 1000


class RegionalApp:
    """An HTTP server on 127.0.0.1 whose `/health` checks that its database takes writes.

    `db_host()` returns the region's current `db_host` parameter (the lab reads SSM);
    `resolve(db_host)` maps it to a DSN, or None when it names no reachable database.
    """

    def __init__(
        self,
        region: str,
        db_host: Callable[[], str | None],
        resolve: Callable[[str], str | None],
    ) -> None:
        self.region = region
        self._db_host = db_host
        self._resolve = resolve
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._probes: ThreadPoolExecutor | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self.region} app is not started")
        return self._server.server_address[1]

    @property
    def health_url(self) -> str:
        return f"http://{_LOOPBACK}:{self.port}/health"

    def start(self) -> None:
        self._probes = ThreadPoolExecutor(4, thread_name_prefix=f"dr-health-{self.region}")
        self._server = ThreadingHTTPServer((_LOOPBACK, 0), _handler_for(self))
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

    def check(self) -> tuple[bool, dict[str, str | None]]:
        """(healthy, detail): whether the parameter's database accepted a write now."""
        probes = self._probes
        if probes is None:
            raise RuntimeError(f"the {self.region} app is not started")
        # The callables come from the lab (SSM reads against the emulator, which may be
        # down): any failure of theirs is an unhealthy answer, never a crashed handler.
        try:
            host = self._db_host()
            dsn = self._resolve(host) if host else None
        except Exception as error:  # noqa: BLE001
            return False, {"db_host": None, "error": f"db_host lookup: {error}"}
        detail: dict[str, str | None] = {"db_host": host, "error": None}
        if dsn is None:
            detail["error"] = "db_host names no known database"
            return False, detail
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
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            # Ten requests a second from the observer would drown the lab's console.
            return

    return HealthHandler
