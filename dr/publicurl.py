"""The user's path: a public URL fetched as a client fetches it.

A client resolves the URL's name through DNS and keeps the answer for its TTL, so after a
Route 53 change it may go on calling the old region until that TTL has run out. `dr` does
the same: one `PublicClient` per check, whose resolver caches each answer for its TTL
(dnspython's cache), follows the CNAME chain, and connects to the address it got, sending
the URL's host name (Host header, TLS SNI and certificate check) as a browser would.

`DR_RESOLVER` names the DNS server to ask (`HOST` or `HOST:PORT`; the lab sets it to its own
DNS server); without it, the name servers of the system's resolv.conf. An IP address in the
URL needs no DNS.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import dns.exception
import dns.resolver

from dr.errors import UsageError

ENV = "DR_RESOLVER"
DNS_PORT = 53


@dataclass(frozen=True)
class PublicAnswer:
    """One request to a public URL: the address it went to and what came back."""

    status: int | None
    address: str | None = None
    region: str | None = None  # the body's region_key value, where asked and present
    error: str | None = None


def nameserver_from_env() -> tuple[str, int] | None:
    """`DR_RESOLVER` as (host, port), None when unset; a malformed value is a usage error."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    host, _, port = raw.rpartition(":") if raw.count(":") == 1 else (raw, "", "")
    try:
        ipaddress.ip_address(host)
        number = int(port) if port else DNS_PORT
        if not 0 < number < 65536:
            raise ValueError(number)
    except ValueError:
        raise UsageError(f"{ENV}={raw!r}: must be an IP address, optionally with :PORT "
                         "(the DNS server that resolves public URLs)") from None
    return host, number


class PublicClient:
    """Fetches public URLs with a resolver that honours TTLs; one per client."""

    def __init__(self, nameserver: tuple[str, int] | None, timeout: float) -> None:
        self.timeout = timeout
        if nameserver is None:
            self._resolver = dns.resolver.Resolver()
        else:
            self._resolver = dns.resolver.Resolver(configure=False)
            self._resolver.nameservers = [nameserver[0]]
            self._resolver.port = nameserver[1]
        self._resolver.lifetime = timeout
        self._resolver.cache = dns.resolver.Cache()

    def address(self, host: str) -> str:
        """The address `host` resolves to now, from the cache while its TTL runs."""
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            pass
        answer = self._resolver.resolve(host, "A", search=False)
        return str(answer[0].address)

    def get(self, url: str, region_key: str | None = None) -> PublicAnswer:
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            address = self.address(host)
        except dns.resolver.NXDOMAIN:
            return PublicAnswer(None, error=f"{host} does not exist (NXDOMAIN)")
        except dns.exception.DNSException as exc:
            return PublicAnswer(None, error=f"{host} does not resolve: {exc}")
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        conn = _connection(secure, host, port, address, self.timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", path, headers={"Host": parts.netloc.rsplit("@", 1)[-1],
                                               "User-Agent": "dr-user-path/1"})
            answer = conn.getresponse()
            body = answer.read(65536)
        except (OSError, http.client.HTTPException) as exc:
            return PublicAnswer(None, address, error=f"no answer from {address}: {exc}")
        finally:
            conn.close()
        return PublicAnswer(answer.status, address, _region(body, region_key) if region_key
                            else None)


def _region(body: bytes, key: str) -> str | None:
    try:
        value = json.loads(body).get(key)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _connection(secure: bool, host: str, port: int, address: str, timeout: float
                ) -> http.client.HTTPConnection:
    """A connection to `address` for a request named for `host`."""
    context = ssl.create_default_context() if secure else None
    conn = (http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
            if context else http.client.HTTPConnection(host, port, timeout=timeout))

    def connect() -> None:
        raw = socket.create_connection((address, port), timeout)
        conn.sock = context.wrap_socket(raw, server_hostname=host) if context else raw

    conn.connect = connect  # type: ignore[method-assign]
    return conn
