"""Route 53 health checkers, as the lab's DNS consults them: each health check that a
published record names is probed at its request interval (on the lab's time scale), and
flips after `FailureThreshold` results in a row that disagree with its status.

As Route 53 documents: an HTTP(S) check passes on a 2xx or 3xx answer (with the search
string in the first 5,120 bytes for *_STR_MATCH), a TCP check on a connection; HTTPS
certificates are not validated; `Inverted` flips the result and `Disabled` counts as
healthy; a CALCULATED check is healthy while at least `HealthThreshold` of its children are.
A new health check starts healthy. One checker stands for Route 53's many.
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dr.lab.fidelity import route53, route53_recovery
from dr.lab.timing import TimingProfile

_TICK_SECONDS = 0.05
_MIN_INTERVAL_SECONDS = 0.1
_CONNECT_TIMEOUT_SECONDS = 1.0
_SEARCH_BYTES = 5120


@dataclass
class _State:
    healthy: bool = True
    streak: int = 0  # results in a row that disagree with `healthy`
    next_at: float = 0.0
    running: bool = False


class HealthCheckers:
    """Probes the health checks named by published records; `healthy(id)` is their state.
    `resolve(name)` gives the address a checker connects to for an FQDN endpoint."""

    def __init__(self, resolve: Callable[[str], str | None], profile: TimingProfile,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._resolve = resolve
        self._profile = profile
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="lab-r53-checker")
        self._thread = threading.Thread(target=self._run, name="lab-r53-checkers", daemon=True)

    def start(self) -> HealthCheckers:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def healthy(self, health_check_id: str) -> bool:
        config = route53.health_check(health_check_id)
        if config is None or config.disabled:
            return True
        if config.type_ == "RECOVERY_CONTROL":
            # Healthy exactly while its routing control is On: no probe, the control decides.
            return route53_recovery.routing_control_on(getattr(config, "routing_control_arn",
                                                               None))
        if config.type_ == "CALCULATED":
            children = config.children or []
            needed = int(config.health_threshold or len(children))
            return sum(self.healthy(c) for c in children) >= needed
        with self._lock:
            state = self._states.setdefault(health_check_id, _State())
            return state.healthy

    def _run(self) -> None:
        while not self._stop.wait(_TICK_SECONDS):
            named = {r.health_check_id for zone in route53.published_zones()
                     for r in zone.records if r.health_check_id}
            now = self._clock()
            for check_id in named:
                with self._lock:
                    state = self._states.setdefault(check_id, _State())
                    if state.running or now < state.next_at:
                        continue
                    state.running = True
                self._pool.submit(self._check, check_id, state)

    def _check(self, check_id: str, state: _State) -> None:
        config = route53.health_check(check_id)
        passed = True if config is None else self._probe(config)
        if config is not None and config.inverted:
            passed = not passed
        # The request interval (10 or 30 s) on the lab's clock, like every modelled wait.
        scale = self._profile.time_scale if self._profile.name == "realistic" else 0.0
        interval = max(_MIN_INTERVAL_SECONDS,
                       float(config.request_interval if config else 30) * scale)
        threshold = int(config.failure_threshold if config else 3)
        with self._lock:
            state.streak = 0 if passed == state.healthy else state.streak + 1
            if state.streak >= threshold:
                state.healthy, state.streak = passed, 0
            state.next_at = self._clock() + interval
            state.running = False

    def _probe(self, config: route53.HealthCheck) -> bool:
        kind = str(config.type_ or "HTTP")
        if kind not in ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"):
            return True  # not modelled (CloudWatch alarms, recovery controls): healthy
        host = config.fqdn or config.ip_address
        address = config.ip_address or (self._resolve(config.fqdn) if config.fqdn else None)
        if not address:
            return False
        port = int(config.port or (443 if kind.startswith("HTTPS") else 80))
        try:
            if kind == "TCP":
                socket.create_connection((address, port), _CONNECT_TIMEOUT_SECONDS).close()
                return True
            return self._http(kind, address, port, host or address, config)
        except (OSError, http.client.HTTPException):
            return False

    @staticmethod
    def _http(kind: str, address: str, port: int, host: str, config: route53.HealthCheck
              ) -> bool:
        if kind.startswith("HTTPS"):
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                address, port, timeout=_CONNECT_TIMEOUT_SECONDS, context=context)
        else:
            conn = http.client.HTTPConnection(address, port, timeout=_CONNECT_TIMEOUT_SECONDS)
        try:
            conn.request("GET", config.resource_path or "/",
                         headers={"Host": host, "User-Agent": "Amazon-Route53-Health-Check"})
            answer = conn.getresponse()
            body = answer.read(_SEARCH_BYTES)
        finally:
            conn.close()
        if not 200 <= answer.status < 400:
            return False
        return not kind.endswith("STR_MATCH") or str(config.search_string or "").encode() in body
