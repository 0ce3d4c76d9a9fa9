"""An outside observer that is a user: what users see, measured without asking `dr` and
without `dr`'s code.

It is one client machine: its own caching resolver (dnspython pointed at the lab's DNS,
each answer kept for its TTL, as a stub resolver with a cache does) and, for each public
URL (the DNS name, the CloudFront domain), a request every ~100 ms to the address its
resolver gives. A path counts as served by the recovery region from the first of
`required_passes` answers in a row that are 200 with the recovery region named in the
body, after the outage began; the user's RTO is when the last path is served.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import dns.exception
import dns.resolver

_JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Observation:
    at: datetime  # when the request began
    path: str
    address: str | None
    status: int | None
    region: str | None
    ok: bool
    error: str | None = None


class Observer:
    """Requests each of `urls` (name -> URL) in its own thread; names resolve through the DNS
    server `nameserver` ("HOST:PORT")."""

    def __init__(
        self,
        urls: dict[str, str],
        nameserver: str,
        region: str,
        *,
        region_key: str = "region",
        required_passes: int = 3,
        interval: float = 0.1,
        timeout: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if required_passes < 1:
            raise ValueError("required_passes must be at least 1")
        self.urls = dict(urls)
        self.region = region
        self.region_key = region_key
        self.required_passes = required_passes
        self.interval = interval
        self.timeout = timeout
        self._clock = clock
        host, port = nameserver.rsplit(":", 1)
        self._resolver = dns.resolver.Resolver(configure=False)
        self._resolver.nameservers = [host]
        self._resolver.port = int(port)
        self._resolver.lifetime = timeout
        self._resolver.cache = dns.resolver.Cache()
        self._observations: list[Observation] = []
        self._outage_at: datetime | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for name in self.urls:
            thread = threading.Thread(target=self._run, args=(name,), daemon=True,
                                      name=f"dr-observer-{name}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT_S)

    def __enter__(self) -> Observer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def mark_outage(self, at: datetime) -> None:
        """The moment the outage began; only requests from then on count towards recovery."""
        with self._lock:
            self._outage_at = at

    @property
    def outage_at(self) -> datetime | None:
        with self._lock:
            return self._outage_at

    @property
    def observations(self) -> list[Observation]:
        with self._lock:
            return list(self._observations)

    def served_at(self, path: str) -> datetime | None:
        """First request of the first run of `required_passes` served by the recovery
        region on `path` after the outage."""
        with self._lock:
            outage_at, observations = self._outage_at, list(self._observations)
        if outage_at is None:
            return None
        streak: list[Observation] = []
        for observation in observations:
            if observation.path != path or observation.at < outage_at:
                continue
            streak = [*streak, observation] if observation.ok else []
            if len(streak) == self.required_passes:
                return streak[0].at
        return None

    @property
    def paths_seconds(self) -> dict[str, float | None]:
        """Per path, seconds from the outage until the recovery region served it."""
        outage_at = self.outage_at
        found = {}
        for path in self.urls:
            served = self.served_at(path)
            found[path] = (round((served - outage_at).total_seconds(), 3)
                           if served is not None and outage_at is not None else None)
        return found

    @property
    def rto_seconds(self) -> float | None:
        """The user's RTO: until the last path was served by the recovery region."""
        seconds = list(self.paths_seconds.values())
        if not seconds or any(s is None for s in seconds):
            return None
        return max(s for s in seconds if s is not None)

    def wait_served(self, timeout: float) -> float | None:
        """Blocks until every path is served or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.rto_seconds is None:
            if self._stop.wait(self.interval):
                break
        return self.rto_seconds

    def _run(self, path: str) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            observation = self._request(path)
            with self._lock:
                self._observations.append(observation)
            next_at = max(next_at + self.interval, time.monotonic())
            self._stop.wait(next_at - time.monotonic())

    def _request(self, path: str) -> Observation:
        at = self._clock()
        parts = urlsplit(self.urls[path])
        host, port = parts.hostname or "", parts.port or 80
        try:
            address = str(self._resolver.resolve(host, "A", search=False)[0].address)
        except dns.exception.DNSException as error:
            return Observation(at, path, None, None, None, False, f"dns: {error}")
        conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            conn.sock = socket.create_connection((address, port), self.timeout)
            conn.request("GET", parts.path or "/", headers={"Host": parts.netloc})
            answer = conn.getresponse()
            status, body = answer.status, answer.read()
        except (OSError, http.client.HTTPException) as error:
            return Observation(at, path, address, None, None, False, str(error))
        finally:
            conn.close()
        try:
            region = json.loads(body).get(self.region_key)
        except (ValueError, AttributeError):
            region = None
        return Observation(at, path, address, status, region,
                           status == 200 and region == self.region)
