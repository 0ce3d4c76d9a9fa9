"""A loopback HTTP proxy in front of the emulator that can lose a Region or misbehave.

Every AWS request names its Region and service in its SigV4 credential scope, so one proxy
in front of one emulator can make a single Region's regional APIs stop answering while
global services (Route 53, CloudFront, IAM, STS) keep working, as in a real Region outage.
A lost Region accepts connections and reads requests but never answers: clients hang until
their own timeouts, which is what `dr` must survive (a refused connection would be an easier
failure than the real one).

It also injects faults into a fraction of AWS requests: throttling and 500/503 errors in the
wire format of the request's protocol, so botocore parses them as AWS's own, and TCP resets.
And it can answer every request of named operations with a malformed body (HTTP 200, cut
short), for the operations whose name a request carries: query, JSON and CBOR protocols
(RDS, EC2, ECS, SSM, CloudWatch, SNS...), not the REST ones (Route 53, CloudFront).

A small JSON control API under `/_dr_lab/` on the same port lets another process (`dr lab
outage primary`) drive it; `RegionFrontControl` is its client.
"""

from __future__ import annotations

import http.client
import io
import json
import random
import re
import select
import socket
import struct
import sys
import threading
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"
CONTROL_PREFIX = "/_dr_lab/"
GLOBAL_SERVICES = frozenset({"route53", "cloudfront", "iam", "sts"})
FAULT_KINDS = ("throttle", "500", "503", "reset")

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Not forwarded: they describe this hop (the body is re-sent whole, with its own length).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "proxy-connection",
        "expect",
    }
)
_REST_XML_SERVICES = frozenset({"route53", "cloudfront", "s3"})
# How often a hanging request checks whether its client gave up or the proxy is stopping.
_HANG_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Scope:
    """Region and service signing name of a request, from its SigV4 credential scope."""

    region: str
    service: str


def request_scope(path: str, headers: Any) -> Scope | None:
    """The credential scope of a request (Authorization header or presigned query), or
    None for an unsigned request."""
    match = _SCOPE.search(headers.get("Authorization", ""))
    if match is None:
        credential = parse_qs(urlsplit(path).query).get("X-Amz-Credential", [""])[0]
        match = _SCOPE.search("Credential=" + credential)
    if match is None:
        return None
    return Scope(region=match.group(1), service=match.group(2))


def _protocol(scope: Scope, headers: Any) -> str:
    """The AWS wire protocol of a request, as botocore will parse the answer."""
    if headers.get("smithy-protocol", "").startswith("rpc-v2-cbor"):
        return "cbor"
    if headers.get("X-Amz-Target"):
        return "json"
    if scope.service in _REST_XML_SERVICES:
        return "rest-xml"
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return "query"
    return "rest-json"


def request_operation(path: str, headers: Any, body: bytes) -> str | None:
    """The API operation a request calls, where the request names it (not REST)."""
    target = headers.get("X-Amz-Target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    if headers.get("smithy-protocol", "").startswith("rpc-v2-cbor"):
        return urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1]
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return parse_qs(body.decode(errors="replace")).get("Action", [None])[0]
    return None


# A successful answer cut short, per protocol: what a broken middlebox or a truncated read
# would hand the SDK.
# (REST requests do not name their operation, so only these protocols are garbled.)
_MALFORMED = {
    "query": ("text/xml", b"<Response><Result><Item><Name>cut sh"),
    "json": ("application/x-amz-json-1.1", b'{"items": [{"name": "cut sh'),
    "cbor": ("application/cbor", b"\xbf\x65items\x9f\xbf"),
}


def malformed_response(protocol: str) -> tuple[int, dict[str, str], bytes]:
    content_type, body = _MALFORMED[protocol]
    headers = {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())}
    if protocol == "cbor":
        headers["smithy-protocol"] = "rpc-v2-cbor"
    return 200, headers, body


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 | len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + struct.pack(">H", len(data)) + data


def _cbor_map(items: dict[str, str]) -> bytes:
    # Only the few string-to-string entries of an error body; len(items) < 24.
    out = bytes([0xA0 | len(items)])
    for key, value in items.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


@dataclass(frozen=True)
class _Fault:
    status: int
    code: str
    query_code: str  # the code of query-compatible services (CloudWatch over CBOR)
    message: str
    sender: bool


_FAULTS = {
    "throttle": _Fault(400, "ThrottlingException", "Throttling", "Rate exceeded", True),
    "500": _Fault(500, "InternalFailure", "InternalFailure", "Injected internal error", False),
    "503": _Fault(503, "ServiceUnavailable", "ServiceUnavailable", "Injected unavailable", False),
}


def error_response(kind: str, protocol: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of an injected error, in the format of `protocol`."""
    fault = _FAULTS[kind]
    request_id = str(uuid.uuid4())
    side = "Sender" if fault.sender else "Receiver"
    if protocol in ("query", "rest-xml"):
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{side}</Type><Code>{fault.query_code}</Code>"
            f"<Message>{fault.message}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
        return fault.status, headers, body
    if protocol == "cbor":
        headers = {
            "Content-Type": "application/cbor",
            "smithy-protocol": "rpc-v2-cbor",
            "x-amzn-RequestId": request_id,
            "x-amzn-query-error": f"{fault.query_code};{side}",
        }
        body = _cbor_map({"__type": fault.code, "message": fault.message})
        return fault.status, headers, body
    headers = {
        "Content-Type": "application/x-amz-json-1.1" if protocol == "json" else "application/json",
        "x-amzn-ErrorType": fault.code,
        "x-amzn-RequestId": request_id,
    }
    payload = {"message": fault.message}
    if protocol == "json":
        payload["__type"] = fault.code
    return fault.status, headers, json.dumps(payload).encode()


class _State:
    """What the proxy does to requests; shared by all handler threads."""

    def __init__(self, global_services: frozenset[str]) -> None:
        self.lock = threading.Lock()
        self.global_services = global_services
        self.down: set[str] = set()
        # Regions lost with the global control planes signed for them (us-east-1's Route 53,
        # CloudFront, IAM, STS): "Losing us-east-1" in contract 1.1.
        self.down_with_global: set[str] = set()
        self.fraction = 0.0
        self.kinds: tuple[str, ...] = FAULT_KINDS
        self.rng = random.Random()
        self.injected: Counter[str] = Counter()
        self.malformed: frozenset[str] = frozenset()
        self.forwarded = 0
        self.operations: Counter[str] = Counter()  # forwarded, "service:Operation"
        self.hung = 0

    def hangs(self, scope: Scope) -> bool:
        with self.lock:
            if scope.region in self.down and (scope.service not in self.global_services
                                              or scope.region in self.down_with_global):
                self.hung += 1
                return True
            return False

    def garbles(self, operation: str | None) -> bool:
        with self.lock:
            if operation is None or operation not in self.malformed:
                return False
            self.injected["malformed"] += 1
            return True

    def draw_fault(self) -> str | None:
        with self.lock:
            if self.fraction <= 0 or self.rng.random() >= self.fraction:
                return None
            kind = self.rng.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "down": sorted(self.down),
                "down_with_global": sorted(self.down_with_global),
                "faults": {"fraction": self.fraction, "kinds": list(self.kinds)},
                "malformed": sorted(self.malformed),
                "injected": dict(self.injected),
                "forwarded": self.forwarded,
                "operations": dict(self.operations),
                "hung": self.hung,
            }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A runbook opens many connections at once (parallel steps, one pool per client); the
    # default backlog of 5 would drop SYNs and add a 1 s retransmit to some calls.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], state: _State):
        super().__init__(address, _Handler)
        self.upstream = upstream
        self.state = state
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanishes mid-request (a killed `dr`, a reset) is not the proxy's
        error: no traceback for it. Anything else is still printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _upstream_connection: http.client.HTTPConnection | None = None

    def setup(self) -> None:
        super().setup()
        # Requests are small and many; Nagle's delay would cost 40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        if self._upstream_connection is not None:
            self._upstream_connection.close()
        try:
            super().finish()
        except OSError:
            pass  # the socket was reset on purpose, or the client is gone

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a drill makes thousands of requests; counters say what happened."""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline().strip():
            pass  # trailers
        return b"".join(chunks)

    def _handle(self) -> None:
        body = self._read_body()
        if self.path.startswith(CONTROL_PREFIX):
            self._control(body)
            return
        state = self.server.state
        scope = request_scope(self.path, self.headers)
        operation = request_operation(self.path, self.headers, body)
        if scope is not None:
            if state.hangs(scope):
                self._hang()
                return
            if state.garbles(operation):
                self._answer(*malformed_response(_protocol(scope, self.headers)))
                return
            kind = state.draw_fault()
            if kind == "reset":
                self._reset()
                return
            if kind is not None:
                self._answer(*error_response(kind, _protocol(scope, self.headers)))
                return
        self._forward(body, f"{scope.service}:{operation or self.command}" if scope else None)

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _hang(self) -> None:
        """Never answer: wait until the client gives up (closes) or the proxy stops."""
        self.close_connection = True
        sock = self.connection
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([sock], [], [], _HANG_POLL_SECONDS)
            if not readable:
                continue
            try:
                if not sock.recv(1, socket.MSG_PEEK):
                    return
            except OSError:
                return

    def _reset(self) -> None:
        """Close with SO_LINGER 0, so the client gets a TCP RST instead of an answer."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket's file objects hold references; close them first or no RST is sent,
        # and leave inert ones for the base class, which flushes and closes them after us.
        self.rfile.close()
        self.wfile.close()
        self.connection.close()
        self.rfile = self.wfile = io.BytesIO()

    def _upstream(self, fresh: bool) -> http.client.HTTPConnection:
        if fresh and self._upstream_connection is not None:
            self._upstream_connection.close()
            self._upstream_connection = None
        if self._upstream_connection is None:
            host, port = self.server.upstream
            self._upstream_connection = http.client.HTTPConnection(host, port, timeout=120)
        return self._upstream_connection

    def _forward(self, body: bytes, counted_as: str | None) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in (0, 1):
            connection = self._upstream(fresh=attempt > 0)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive upstream connection closed while idle; one retry, fresh.
                if attempt:
                    raise
        with self.server.state.lock:
            self.server.state.forwarded += 1
            if counted_as:
                self.server.state.operations[counted_as] += 1
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _control(self, body: bytes) -> None:
        action = self.path[len(CONTROL_PREFIX) :].split("?", 1)[0].strip("/")
        state = self.server.state
        try:
            args = json.loads(body) if body else {}
            if action == "outage":
                _set_down(state, args["region"], down=True,
                          with_global=bool(args.get("with_global")))
            elif action == "restore":
                _set_down(state, args["region"], down=False)
            elif action == "faults":
                _set_faults(
                    state, args["fraction"], args.get("kinds", FAULT_KINDS), args.get("seed")
                )
            elif action != "status":
                raise KeyError(action)
        except (KeyError, TypeError, ValueError) as error:
            message = json.dumps({"error": f"bad control request {action!r}: {error}"})
            self._answer(400, {"Content-Type": "application/json"}, message.encode())
            return
        self._answer(
            200, {"Content-Type": "application/json"}, json.dumps(state.snapshot()).encode()
        )


def _set_down(state: _State, region: str, down: bool, with_global: bool = False) -> None:
    with state.lock:
        if down:
            state.down.add(region)
            if with_global:
                state.down_with_global.add(region)
        else:
            state.down.discard(region)
            state.down_with_global.discard(region)


def _set_faults(state: _State, fraction: float, kinds: Iterable[str], seed: int | None) -> None:
    kinds = tuple(kinds)
    unknown = set(kinds) - set(FAULT_KINDS)
    if not 0.0 <= fraction <= 1.0 or unknown or not kinds:
        raise ValueError(f"fraction must be in [0, 1] and kinds among {FAULT_KINDS}")
    with state.lock:
        state.fraction = fraction
        state.kinds = kinds
        state.rng = random.Random(seed)


class RegionFront:
    """The proxy, on 127.0.0.1 (a free port unless `port` is given), forwarding to the
    emulator at `upstream_url`. Use as a context manager, or start() and stop()."""

    def __init__(
        self,
        upstream_url: str,
        port: int = 0,
        global_services: frozenset[str] = GLOBAL_SERVICES,
    ) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream_url!r}")
        self._upstream = (parts.hostname, parts.port)
        self._port = port
        self._state = _State(global_services)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RegionFront:
        self._server = _Server((LOOPBACK, self._port), self._upstream, self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="regionfront", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release hanging and idle connections, close the listening port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        with server.connections_lock:
            connections = list(server.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler
        if self._thread is not None:
            self._thread.join()

    def outage(self, region: str, with_global: bool = False) -> None:
        """Regional services of `region` stop answering (requests hang); `with_global`: so
        do the global services' requests signed for it (us-east-1 homes their control
        planes)."""
        _set_down(self._state, region, down=True, with_global=with_global)

    def restore(self, region: str) -> None:
        """Requests to `region` are answered again (ones already hanging stay unanswered)."""
        _set_down(self._state, region, down=False)

    def faults(
        self, fraction: float, kinds: Iterable[str] = FAULT_KINDS, seed: int | None = None
    ) -> None:
        """From now on, `fraction` of AWS requests get one of `kinds` instead of an answer;
        fraction 0 turns faults off. `seed` makes the sequence of draws repeatable."""
        _set_faults(self._state, fraction, kinds, seed)

    def malformed(self, operations: Iterable[str]) -> None:
        """From now on, every request of these operations (by API name, e.g.
        `DescribeDBInstances`) gets a malformed answer; an empty list turns it off."""
        with self._state.lock:
            self._state.malformed = frozenset(operations)

    @property
    def injected(self) -> dict[str, int]:
        """Faults injected so far, per kind ("malformed" counts malformed answers)."""
        with self._state.lock:
            return dict(self._state.injected)

    def status(self) -> dict[str, Any]:
        """Down Regions, fault settings and counters (the control API's `status`)."""
        return self._state.snapshot()

    def __enter__(self) -> RegionFront:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class RegionFrontControl:
    """Client of a running proxy's control API, for another process (`dr lab outage`)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self._base = url.rstrip("/") + CONTROL_PREFIX
        self._timeout = timeout

    def _call(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self._base + action,
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def outage(self, region: str, with_global: bool = False) -> dict[str, Any]:
        return self._call("outage", {"region": region, "with_global": with_global})

    def restore(self, region: str) -> dict[str, Any]:
        return self._call("restore", {"region": region})

    def faults(
        self, fraction: float, kinds: Iterable[str] = FAULT_KINDS, seed: int | None = None
    ) -> dict[str, Any]:
        return self._call("faults", {"fraction": fraction, "kinds": list(kinds), "seed": seed})

    def status(self) -> dict[str, Any]:
        return self._call("status")
