"""The lab's data plane in front of the emulator, as users meet AWS: a DNS server answering
the hosted zones as Route 53's name servers do (with Route 53's health checkers) and a
CloudFront edge serving each distribution's deployed configuration. Loopback only.

`Edge` starts and stops them together; `nameserver` is what a client's resolver is pointed
at (`DR_RESOLVER` for `dr`), and the edge's address is what CloudFront domain names resolve
to.
"""

from __future__ import annotations

from dr.lab.edge.cdn import CloudFrontEdge
from dr.lab.edge.dns import LabDns, Records
from dr.lab.edge.healthcheck import HealthCheckers
from dr.lab.timing import TimingProfile

__all__ = ["Edge"]


class Edge:
    def __init__(self, profile: TimingProfile, *, dns_address: str = "127.0.0.1",
                 edge_address: str = "127.0.0.1") -> None:
        self._edge_address = edge_address
        self.cdn: CloudFrontEdge | None = None
        self.records = Records(self._healthy, self._cdn_address)
        self.checkers = HealthCheckers(self._address_of, profile)
        self.dns = LabDns(self.records, dns_address)

    def _healthy(self, health_check_id: str) -> bool:
        return self.checkers.healthy(health_check_id)

    def _cdn_address(self) -> str | None:
        return self.cdn.address if self.cdn is not None else None

    def _address_of(self, name: str) -> str | None:
        answers = self.records.answer(name, "A").answers
        found = [str(rr.rdata) for rr in answers if rr.rtype == 1]
        return found[0] if found else None

    @property
    def nameserver(self) -> str:
        return self.dns.nameserver

    def start(self) -> Edge:
        self.dns.start()
        try:
            self.checkers.start()
            self.cdn = CloudFrontEdge(self.nameserver, self._edge_address).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.cdn is not None:
            self.cdn.stop()
            self.cdn = None
        self.checkers.stop()
        self.dns.stop()

    def __enter__(self) -> Edge:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
