"""The one door every AWS call of a run goes through.

It makes one boto3 client per service and region for the whole run, sends reads, records
mutating calls as intentions in a dry run instead of sending them, retries transient errors
(one policy, `dr.aws.retry`), and remembers which regions stopped answering so that a run
stops calling them: the first call that gets no answer marks the region down for the rest
of the run.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import structlog

from dr.aws.retry import call_with_retries, error_code, is_no_answer, is_transient
from dr.errors import (
    ControlPlaneUnavailable,
    EndpointUnavailable,
    MalformedAnswer,
    RegionUnavailable,
)

log = structlog.get_logger("dr.aws")

READ_PREFIXES = ("Describe", "Get", "List", "Head", "Query", "Scan", "BatchGet", "Lookup")
GLOBAL_SERVICES = frozenset({"route53", "cloudfront", "iam", "sts", "organizations"})
# Where the control planes of the global services live: losing it loses them too.
GLOBAL_HOME = "us-east-1"


def is_mutating(operation: str) -> bool:
    """True for an API operation that can change something (anything not a read)."""
    return not operation.startswith(READ_PREFIXES)


@dataclass(frozen=True)
class Timeouts:
    """Client timeouts. A region the run moves away from gets short ones, and a call there
    that gets no answer at all is not retried: in an outage its endpoints hang, and waiting
    on them would spend the RTO budget. Throttling, 5xx and resets are retried everywhere."""

    connect: float
    read: float
    attempts: int

    def scaled(self, factor: float, floor: float = 0.3) -> Timeouts:
        """The same on a faster clock (the lab's time scale), never below `floor`."""
        return Timeouts(max(floor, self.connect * factor), max(floor, self.read * factor),
                        self.attempts)


# Where the run must succeed, throttling and 5xx are outlasted: 12 attempts (0.2^12 ≈ 4e-9
# of a call failing at a 20 % fault rate), and always within the step's deadline.
PATIENT = Timeouts(connect=5, read=30, attempts=12)
IMPATIENT = Timeouts(connect=2, read=3, attempts=6)


# Connections kept per client: every step thread (16) and readiness check may call the same
# service and region at once, and botocore's default (10) would discard the surplus.
POOL_CONNECTIONS = 32


@dataclass(frozen=True)
class Intention:
    """A mutating call a dry run did not send."""

    service: str
    region: str
    operation: str
    params: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "region": self.region, "operation": self.operation,
                "params": self.params}


SessionFactory = Callable[[], Any]


@cache
def shared_loader() -> Any:
    import botocore.loaders

    return botocore.loaders.create_loader()


def default_session_factory() -> Any:
    """A boto3 session with the process's shared model loader: parsing a service model
    (ec2's is large) costs about a second, and a process may run several runs."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.register_component("data_loader", shared_loader())
    return boto3.session.Session(botocore_session=core)


def reject_unparseable_json(operation_model: Any, response_dict: dict[str, Any],
                            **_: Any) -> None:
    """botocore reads a successful JSON answer that is not JSON (cut short, mangled) as an
    empty one, with no error; `dr` must not act on that as if AWS had said "nothing". XML
    and CBOR answers already fail to parse."""
    import json

    from botocore.parsers import ResponseParserError

    protocol = operation_model.service_model.resolved_protocol
    if protocol not in ("json", "rest-json") or response_dict["status_code"] >= 300 \
            or operation_model.has_streaming_output:
        return
    body = response_dict.get("body") or b""
    if not body.strip():
        return
    try:
        json.loads(body)
    except ValueError as exc:
        raise ResponseParserError(f"invalid JSON received ({exc}): {body[:60]!r}") from None


@dataclass
class CallLog:
    """What a step's calls did: for the journal and the report."""

    intentions: list[Intention] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)


class Gateway:
    """Run-wide: the session, region liveness, dry-run switch. Steps use a `StepAws` view.

    One client per (service, region), shared by every thread: botocore clients are
    thread-safe, a session is not, so clients are made under a lock, each once. Building a
    client per thread instead serialised ~100 constructions behind that lock in a large run.
    """

    def __init__(self, *, dry_run: bool, patient_regions: frozenset[str],
                 session_factory: SessionFactory = default_session_factory,
                 impatient: Timeouts = IMPATIENT, impatient_global: bool = False) -> None:
        self.dry_run = dry_run
        self.patient_regions = patient_regions
        # True when the run leaves the global services' home (GLOBAL_HOME): their control
        # planes are treated as part of the region being left (contract 1.1, "Losing
        # us-east-1"), as they are by `dr status`, which must never hang.
        self.impatient_global = impatient_global
        self._planes_down: dict[str, str] = {}
        self.impatient = impatient
        self._session_factory = session_factory
        self._clients: dict[tuple[str, str, str | None], Any] = {}
        self._session: Any = None
        self._session_lock = threading.Lock()
        self._down: dict[str, str] = {}
        self._lock = threading.Lock()
        # Asked before every mutating call is sent: the run's lock raises once it is lost.
        self.before_mutating: Callable[[], None] | None = None

    def timeouts(self, service: str, region: str) -> Timeouts:
        if service in GLOBAL_SERVICES:
            return self.impatient if self.impatient_global else PATIENT
        if region in self.patient_regions:
            return PATIENT
        return self.impatient

    def plane_down(self, service: str) -> str | None:
        with self._lock:
            return self._planes_down.get(service)

    def mark_plane_down(self, service: str, reason: str) -> None:
        with self._lock:
            first = service not in self._planes_down
            self._planes_down.setdefault(service, reason)
        if first:
            log.warning("control_plane.unavailable", service=service, reason=reason)

    def client(self, service: str, region: str, endpoint_url: str | None = None) -> Any:
        """The run's client for `service` in `region`; with `endpoint_url`, one for that
        endpoint (an ARC cluster's regional endpoints), with short timeouts: the caller
        tries the next endpoint rather than wait on one."""
        key = (service, region, endpoint_url)
        client = self._clients.get(key)
        if client is not None:
            return client
        from botocore.config import Config

        t = self.impatient if endpoint_url else self.timeouts(service, region)
        with self._session_lock:
            if key not in self._clients:
                if self._session is None:
                    self._session = self._session_factory()
                client = self._session.client(
                    service, region_name=region, endpoint_url=endpoint_url,
                    config=Config(connect_timeout=t.connect, read_timeout=t.read,
                                  max_pool_connections=POOL_CONNECTIONS,
                                  retries={"total_max_attempts": 1, "mode": "standard"}))
                client.meta.events.register("before-parse", reject_unparseable_json)
                self._clients[key] = client
            return self._clients[key]

    def down_reason(self, region: str) -> str | None:
        with self._lock:
            return self._down.get(region)

    def mark_down(self, region: str, reason: str) -> None:
        with self._lock:
            first = region not in self._down
            self._down.setdefault(region, reason)
        if first:
            log.warning("region.unavailable", region=region, reason=reason)

    @property
    def down_regions(self) -> dict[str, str]:
        with self._lock:
            return dict(self._down)

    def for_step(self, deadline: float, calls: CallLog) -> StepAws:
        return StepAws(self, deadline, calls)


class StepAws:
    """The AWS door as one step sees it: its deadline, and a log of its calls."""

    def __init__(self, gateway: Gateway, deadline: float, calls: CallLog) -> None:
        self.gateway = gateway
        self.deadline = deadline
        self.calls = calls

    @property
    def dry_run(self) -> bool:
        return self.gateway.dry_run

    def client(self, service: str, region: str) -> _GuardedClient:
        return _GuardedClient(self, service, region)

    def region_down(self, region: str) -> str | None:
        return self.gateway.down_reason(region)

    def call(self, service: str, region: str, method: str, /, **params: Any) -> dict[str, Any]:
        client = self._raw(service, region)
        operation = client.meta.method_to_api_mapping.get(method, method)
        if is_mutating(operation):
            if self.dry_run:
                self.calls.intentions.append(Intention(service, region, operation, params))
                log.info("aws.intention", service=service, region=region, operation=operation)
                return {}
            if self.gateway.before_mutating is not None:
                self.gateway.before_mutating()
        return self._send(service, region, operation, lambda: getattr(client, method)(**params))

    def call_endpoint(self, service: str, region: str, endpoint_url: str, method: str, /,
                      **params: Any) -> dict[str, Any]:
        """A call to one named endpoint of `service` (an ARC cluster's, in `region`): short
        timeouts, and no answer raises `EndpointUnavailable` without marking the region
        down (one endpoint's silence says nothing of the region's other services)."""
        client = self.gateway.client(service, region, endpoint_url)
        operation = client.meta.method_to_api_mapping.get(method, method)
        if is_mutating(operation):
            if self.dry_run:
                self.calls.intentions.append(Intention(
                    service, region, operation, {**params, "EndpointUrl": endpoint_url}))
                log.info("aws.intention", service=service, region=region, operation=operation)
                return {}
            if self.gateway.before_mutating is not None:
                self.gateway.before_mutating()
        try:
            return self._send(service, region, operation,
                              lambda: getattr(client, method)(**params), endpoint=True)
        except RegionUnavailable as exc:
            raise EndpointUnavailable(endpoint_url, exc.reason) from exc

    def paginate(self, service: str, region: str, method: str, result_key: str, /,
                 **params: Any) -> list[Any]:
        """Every item of a paginated read, fetched whole under the retry policy."""
        client = self._raw(service, region)
        operation = client.meta.method_to_api_mapping.get(method, method)

        def fetch() -> list[Any]:
            pages: Iterator[dict[str, Any]] = client.get_paginator(method).paginate(**params)
            return [item for page in pages for item in page.get(result_key, [])]

        return self._send(service, region, operation, fetch)

    def _raw(self, service: str, region: str) -> Any:
        if service in GLOBAL_SERVICES:
            reason = self.gateway.plane_down(service)
            if reason:
                raise ControlPlaneUnavailable(service, reason)
        else:
            reason = self.gateway.down_reason(region)
            if reason:
                raise RegionUnavailable(region, reason)
        return self.gateway.client(service, region)

    def _send(self, service: str, region: str, operation: str, fn: Callable[[], Any],
              endpoint: bool = False) -> Any:
        timeouts = self.gateway.impatient if endpoint else self.gateway.timeouts(service, region)
        regional = service not in GLOBAL_SERVICES
        impatient = timeouts is not PATIENT

        def retryable(exc: BaseException) -> bool:
            return is_transient(exc) and not (impatient and is_no_answer(exc))

        def on_retry(attempt: int, exc: BaseException | None, wait: float) -> None:
            reason = error_code(exc) or type(exc).__name__
            self.calls.retries.append({"operation": operation, "region": region,
                                       "attempt": attempt, "error": reason,
                                       "wait_seconds": round(wait, 3)})
            log.info("step.retry", service=service, region=region, operation=operation,
                     attempt=attempt, error=reason, wait_seconds=round(wait, 3))

        def counted() -> Any:
            self.calls.sent[f"{service}:{operation}"] += 1
            return fn()

        from botocore.parsers import ResponseParserError

        try:
            return call_with_retries(counted, deadline=self.deadline,
                                     max_attempts=timeouts.attempts, on_retry=on_retry,
                                     retryable=retryable)
        except ResponseParserError as exc:
            raise MalformedAnswer(f"{operation} in {region}: the answer could not be parsed "
                                  f"({str(exc).splitlines()[0]})") from exc
        except Exception as exc:
            if impatient and (is_no_answer(exc) or is_transient(exc)):
                reason = f"{operation}: {error_code(exc) or type(exc).__name__}"
                if endpoint:
                    raise RegionUnavailable(region, reason) from exc
                if not regional:
                    self.gateway.mark_plane_down(service, reason)
                    raise ControlPlaneUnavailable(service, reason) from exc
                self.gateway.mark_down(region, reason)
                raise RegionUnavailable(region, reason) from exc
            raise


class _GuardedClient:
    """`aws.client("rds", region).describe_db_instances(...)`, routed through the gateway."""

    def __init__(self, aws: StepAws, service: str, region: str) -> None:
        self._aws, self._service, self._region = aws, service, region

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        def invoke(**params: Any) -> dict[str, Any]:
            return self._aws.call(self._service, self._region, method, **params)

        return invoke

    def paginate(self, method: str, result_key: str, /, **params: Any) -> list[Any]:
        return self._aws.paginate(self._service, self._region, method, result_key, **params)
