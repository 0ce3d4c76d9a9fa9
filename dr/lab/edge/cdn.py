"""The lab's CloudFront edge: one edge location on loopback that serves every distribution,
chosen by the request's Host (the distribution's domain name or one of its aliases), as
CloudFront's edges do.

It serves a distribution's *deployed* configuration (`fidelity.cloudfront.deployed()`): an
update reaches it only when the distribution leaves InProgress. A request goes to the origin
of the matching cache behaviour, whose domain name is resolved through the lab's DNS
(honouring its TTL, as an edge's resolver does); an origin group tries its members in turn,
failing over on the group's status codes or when an origin cannot be reached. It caches
nothing (the lab's apps answer `Cache-Control: no-store`, as a health endpoint must).
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html
"""

from __future__ import annotations

import fnmatch
import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.exception
import dns.resolver

from dr.lab.fidelity import cloudfront
from dr.lab.fidelity.cloudfront import DeployedDistribution, DeployedOrigin

_ORIGIN_TIMEOUT_SECONDS = 2.0
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate"}
POP = "LAB1-P1"


class OriginUnreachable(Exception):
    pass


class _OriginNames:
    """Origin domain names resolved through the lab's DNS, cached for their TTL."""

    def __init__(self, nameserver: str) -> None:
        host, port = nameserver.rsplit(":", 1)
        self._resolver = dns.resolver.Resolver(configure=False)
        self._resolver.nameservers = [host]
        self._resolver.port = int(port)
        self._resolver.lifetime = _ORIGIN_TIMEOUT_SECONDS
        self._resolver.cache = dns.resolver.Cache()

    def address(self, name: str) -> str:
        try:
            return str(self._resolver.resolve(name, "A")[0].address)
        except dns.exception.DNSException as error:
            raise OriginUnreachable(f"origin {name} does not resolve: {error}") from error


class CloudFrontEdge:
    def __init__(self, nameserver: str, address: str = "127.0.0.1", port: int = 0) -> None:
        self._names = _OriginNames(nameserver)
        self._server = ThreadingHTTPServer((address, port), _handler_for(self))
        self._server.daemon_threads = True
        # A stopped edge notices within 50 ms (socketserver's default poll is half a second).
        self._thread = threading.Thread(target=self._server.serve_forever, name="lab-cdn-edge",
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def address(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> CloudFrontEdge:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def distribution(host: str) -> DeployedDistribution | None:
        name = host.rsplit(":", 1)[0].lower().rstrip(".")
        for dist in cloudfront.deployed():
            if name == dist.domain_name.lower() or name in (a.lower() for a in dist.aliases):
                return dist
        return None

    def forward(self, dist: DeployedDistribution, method: str, path: str,
                headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        target = next((t for pattern, t in dist.behaviors
                       if fnmatch.fnmatchcase(path.split("?")[0], pattern)), dist.default_target)
        group = dist.origin_groups.get(target)
        members = group.members if group else (target,)
        failure = (502, "no origin")
        for index, origin_id in enumerate(members):
            last = index == len(members) - 1
            try:
                status, answer_headers, body = self._fetch(dist.origins[origin_id], method,
                                                           path, headers)
            except (OriginUnreachable, OSError, http.client.HTTPException) as error:
                # CloudFront: 504 when the origin did not answer in time, else 502.
                failure = (504 if isinstance(error, TimeoutError) else 502, str(error))
                if last:
                    break
                continue
            if group is None or last or status not in group.failover_status_codes:
                return status, answer_headers, body
        return failure[0], [("Content-Type", "text/plain")], failure[1].encode()

    def _fetch(self, origin: DeployedOrigin, method: str, path: str, headers: dict[str, str]
               ) -> tuple[int, list[tuple[str, str]], bytes]:
        if origin.protocol_policy == "https-only":
            raise OriginUnreachable(f"origin {origin.id}: the lab's origins speak HTTP only")
        address = self._names.address(origin.domain_name)
        conn = _Pinned(origin.domain_name, origin.http_port, address)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            # Without a Host forwarding policy, CloudFront sends the origin's own name.
            sent["Host"] = origin.domain_name
            sent["Via"] = f"1.1 {POP}.cloudfront.net (CloudFront)"
            conn.request(method, origin.origin_path + path, headers=sent)
            answer = conn.getresponse()
            body = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP
                    and k.lower() != "content-length"]
            return answer.status, kept, body
        finally:
            conn.close()


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to `address`, for a request named for `host`."""

    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=_ORIGIN_TIMEOUT_SECONDS)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _handler_for(edge: CloudFrontEdge) -> type[BaseHTTPRequestHandler]:
    class Edge(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            dist = edge.distribution(self.headers.get("Host", ""))
            if dist is None or not dist.enabled:
                self._reply(403, [("Content-Type", "text/plain")],
                            b"The request could not be satisfied: no such distribution.",
                            method)
                return
            status, headers, body = edge.forward(dist, method, self.path, dict(self.headers))
            self._reply(status, headers, body, method)

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes,
                   method: str) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("X-Cache", "Miss from cloudfront" if status < 500
                             else "Error from cloudfront")
            self.send_header("X-Amz-Cf-Pop", POP)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._serve("GET")

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
            self._serve("HEAD")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Edge
