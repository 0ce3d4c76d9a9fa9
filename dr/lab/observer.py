"""An outside observer: what a user would see, measured without asking `dr`.

Every ~100 ms it reads where the DNS record points and fetches the health URL of that
target. The service is back at the first check of the first run of `required_passes`
passing checks after the outage began; the time from the outage to that check is the
true RTO against which `dr`'s own measurement is compared.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

_JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Observation:
    at: datetime  # when the check began
    dns_value: str | None
    url: str | None
    status: int | None
    ok: bool
    error: str | None = None


class Observer:
    """Polls `dns_value()` and GETs `health_url(value)` in a background thread.

    `dns_value` returns where the record points now (the lab reads Route 53);
    `health_url` maps that value to the URL to check, or None when it maps to none.
    """

    def __init__(
        self,
        dns_value: Callable[[], str | None],
        health_url: Callable[[str], str | None],
        *,
        expect_status: int = 200,
        required_passes: int = 3,
        interval: float = 0.1,
        timeout: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if required_passes < 1:
            raise ValueError("required_passes must be at least 1")
        self._dns_value = dns_value
        self._health_url = health_url
        self.expect_status = expect_status
        self.required_passes = required_passes
        self.interval = interval
        self.timeout = timeout
        self._clock = clock
        self._observations: list[Observation] = []
        self._outage_at: datetime | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dr-observer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT_S)

    def __enter__(self) -> Observer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def mark_outage(self, at: datetime) -> None:
        """The moment the outage began; only checks from then on count towards recovery."""
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

    @property
    def recovered_at(self) -> datetime | None:
        """First check of the first run of `required_passes` passes after the outage."""
        with self._lock:
            outage_at, observations = self._outage_at, list(self._observations)
        if outage_at is None:
            return None
        streak: list[Observation] = []
        for observation in observations:
            if observation.at < outage_at:
                continue
            streak = [*streak, observation] if observation.ok else []
            if len(streak) == self.required_passes:
                return streak[0].at
        return None

    @property
    def rto_seconds(self) -> float | None:
        outage_at, recovered_at = self.outage_at, self.recovered_at
        if outage_at is None or recovered_at is None:
            return None
        return (recovered_at - outage_at).total_seconds()

    def wait_recovered(self, timeout: float) -> datetime | None:
        """Blocks until recovery is observed or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            recovered_at = self.recovered_at
            if recovered_at is not None:
                return recovered_at
            if self._stop.wait(self.interval):
                break
        return self.recovered_at

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            observation = self._check()
            with self._lock:
                self._observations.append(observation)
            next_at = max(next_at + self.interval, time.monotonic())
            self._stop.wait(next_at - time.monotonic())

    def _check(self) -> Observation:
        at = self._clock()
        # The callables reach the emulator, which an outage may break in any way; each
        # failure is a failed check, never the observer's end.
        try:
            value = self._dns_value()
            url = self._health_url(value) if value else None
        except Exception as error:  # noqa: BLE001
            return Observation(at, None, None, None, False, f"dns: {error}")
        if url is None:
            return Observation(at, value, None, None, False, "no health URL for this target")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
        except (urllib.error.URLError, OSError) as error:
            return Observation(at, value, url, None, False, str(error))
        return Observation(at, value, url, status, status == self.expect_status)
