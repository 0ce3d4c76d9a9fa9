"""The lab's DNS: an authoritative server on loopback (UDP and TCP) that answers as Route 53's
name servers do, and the CloudFront domain names as CloudFront's DNS does.

- Hosted zones come from the emulator's Route 53 state as its name servers see it
  (`fidelity.route53.published_zones()`): a change is answered only once it is INSYNC, each
  record with its own TTL.
- Failover and weighted records are answered by the state of their health checks
  (`HealthCheckers`), as Route 53 documents: the primary while it is healthy, else the
  secondary; a weighted record among the healthy ones in proportion to its weight.
- A distribution's domain name (`d111111abcdef8.cloudfront.net`) answers the address of the
  lab's CloudFront edge, once the distribution is deployed.

It is also the lab's recursive resolver: a CNAME or alias whose target lies in a zone it
serves is followed in the same answer (at most 8 links), so a stub resolver (dnspython, the
observer, `dr` with DR_RESOLVER) gets the whole chain from one query.
"""

from __future__ import annotations

import random
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

from dr.lab.fidelity import cloudfront, route53
from dr.lab.fidelity.route53 import PublishedRecord, PublishedZone

CLOUDFRONT_ZONE = "cloudfront.net."
# CloudFront answers its domain names with a 60 s TTL.
CLOUDFRONT_TTL = 60
_MAX_LINKS = 8
# How soon a stopped server notices (socketserver's default is half a second).
_POLL_SECONDS = 0.05
_QUIET = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data")


@dataclass(frozen=True)
class Answer:
    rcode: int
    answers: tuple[RR, ...] = ()
    authority: tuple[RR, ...] = ()


def _rr(record: PublishedRecord, value: str, name: str | None = None) -> RR:
    return RR.fromZone(f"{name or record.name} {record.ttl} IN {record.type} {value}")[0]


class Records:
    """What the name servers answer for a name, from the published zones."""

    def __init__(self, healthy: Callable[[str], bool], edge_address: Callable[[], str | None]
                 ) -> None:
        self._healthy = healthy
        self._edge_address = edge_address

    def zones(self) -> list[PublishedZone]:
        zones = route53.published_zones()
        edge = self._edge_address()
        if edge is not None:
            records = tuple(PublishedRecord(d.domain_name.lower().rstrip(".") + ".", "A",
                                            CLOUDFRONT_TTL, (edge,))
                            for d in cloudfront.deployed())
            zones.append(PublishedZone("cloudfront", CLOUDFRONT_ZONE, records))
        return zones

    def answer(self, name: str, qtype: str) -> Answer:
        name = name.lower().rstrip(".") + "."
        zones = self.zones()
        chain: list[RR] = []
        for _ in range(_MAX_LINKS):
            zone = _zone_for(zones, name)
            if zone is None:
                # A link out of the zones served here ends the answer; a first name is not ours.
                return Answer(RCODE.NOERROR, tuple(chain)) if chain else Answer(RCODE.REFUSED)
            here = [r for r in zone.records if r.name == name]
            chosen = self._route(here, qtype)
            if chosen:
                for record in chosen:
                    if record.alias_dns_name:
                        target = self.answer(record.alias_dns_name, qtype)
                        chain += [RR(name, rr.rtype, rdata=rr.rdata, ttl=rr.ttl)
                                  for rr in target.answers if QTYPE[rr.rtype] == qtype]
                    else:
                        chain += [_rr(record, value) for value in record.values]
                return Answer(RCODE.NOERROR, tuple(chain))
            cname = self._route(here, "CNAME")
            if not cname or not cname[0].values:
                rcode = RCODE.NOERROR if here or _has_below(zone, name) else RCODE.NXDOMAIN
                return Answer(rcode, tuple(chain), _soa(zone))
            chain.append(_rr(cname[0], cname[0].values[0]))
            name = cname[0].values[0].lower().rstrip(".") + "."
        return Answer(RCODE.SERVFAIL, tuple(chain))

    def _route(self, records: list[PublishedRecord], qtype: str) -> list[PublishedRecord]:
        """The records of one type Route 53 answers, by their routing policy."""
        group = [r for r in records if r.type == qtype]
        if len(group) <= 1 or not any(r.set_identifier for r in group):
            return group
        healthy = [r for r in group if r.health_check_id is None
                   or self._healthy(r.health_check_id)]
        if any(r.failover for r in group):
            # The primary while it is healthy, else a healthy secondary; with neither,
            # Route 53 answers the primary.
            for role in ("PRIMARY", "SECONDARY"):
                found = [r for r in healthy if r.failover == role]
                if found:
                    return found[:1]
            return [r for r in group if r.failover == "PRIMARY"][:1]
        # Weighted: among healthy records (all, when none is), in proportion to weight;
        # records of weight 0 only when every candidate weighs 0.
        candidates = healthy or group
        weights = [r.weight or 0 for r in candidates]
        if not any(weights):
            weights = [1] * len(candidates)
        return random.choices(candidates, weights)[:1]  # noqa: S311 - routing, not secrets


def _zone_for(zones: list[PublishedZone], name: str) -> PublishedZone | None:
    inside = [z for z in zones if name == z.name or name.endswith("." + z.name)]
    return max(inside, key=lambda z: len(z.name), default=None)


def _has_below(zone: PublishedZone, name: str) -> bool:
    return any(r.name.endswith("." + name) for r in zone.records)


def _soa(zone: PublishedZone) -> tuple[RR, ...]:
    return tuple(_rr(r, r.values[0]) for r in zone.records
                 if r.type == "SOA" and r.name == zone.name and r.values)


class _Resolver(BaseResolver):
    def __init__(self, records: Records) -> None:
        self.records = records

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        found = self.records.answer(str(request.q.qname), QTYPE[request.q.qtype])
        reply.header.rcode = found.rcode
        reply.header.aa = int(found.rcode != RCODE.REFUSED)
        for rr in found.answers:
            reply.add_answer(rr)
        for rr in found.authority:
            reply.add_auth(rr)
        return reply


class _Quiet:
    """socketserver servers that neither log nor wait for their handler threads."""

    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        return


class _UDP(_Quiet, socketserver.ThreadingUDPServer):
    pass


class _TCP(_Quiet, socketserver.ThreadingTCPServer):
    pass


class LabDns:
    """The DNS server on `address`, one port for UDP and TCP. `nameserver` is what a client
    is pointed at (`DR_RESOLVER`)."""

    def __init__(self, records: Records, address: str = "127.0.0.1") -> None:
        self.records = records
        self.address = address
        self._servers: list[DNSServer] = []

    @property
    def port(self) -> int:
        return int(self._servers[0].server.server_address[1])

    @property
    def nameserver(self) -> str:
        return f"{self.address}:{self.port}"

    def start(self) -> LabDns:
        resolver = _Resolver(self.records)
        for _ in range(20):
            udp = DNSServer(resolver, self.address, 0, logger=_QUIET, server=_UDP)
            port = udp.server.server_address[1]
            try:
                tcp = DNSServer(resolver, self.address, port, tcp=True, logger=_QUIET,
                                server=_TCP)
            except OSError:  # that port is taken for TCP: another pair
                udp.server.server_close()
                continue
            self._servers = [udp, tcp]
            for server in self._servers:
                threading.Thread(target=server.server.serve_forever,
                                 kwargs={"poll_interval": _POLL_SECONDS}, daemon=True,
                                 name="lab-dns").start()
            return self
        raise OSError(f"no port free for both UDP and TCP on {self.address}")

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        self._servers = []
