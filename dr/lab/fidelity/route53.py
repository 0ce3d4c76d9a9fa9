"""Route 53 as AWS runs it: a change is PENDING until it has propagated, then INSYNC; until
then the DNS servers answer as before it.

The API shows a change at once (ListResourceRecordSets reads the new value while the change
is PENDING); the name servers only once it is INSYNC. Each change therefore publishes a
snapshot of its zone that the lab's DNS server (dr/lab/edge/dns.py) answers from once the
change's INSYNC moment has come: `published_zones()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.route53.exceptions import Route53ClientError
from moto.route53.models import FakeZone, HealthCheck, route53_backends
from moto.route53.responses import Route53

from dr.lab import timing
from dr.lab.fidelity.layer import aws_id, layer


@dataclass(frozen=True)
class PublishedRecord:
    """One resource record set as the name servers answer it."""

    name: str  # lower case, with the root dot
    type: str
    ttl: int
    values: tuple[str, ...]
    set_identifier: str | None = None
    weight: int | None = None
    failover: str | None = None  # PRIMARY or SECONDARY
    health_check_id: str | None = None
    alias_dns_name: str | None = None


@dataclass(frozen=True)
class PublishedZone:
    zone_id: str
    name: str  # lower case, with the root dot
    records: tuple[PublishedRecord, ...]


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _snapshot(zone: FakeZone) -> PublishedZone | None:
    if zone.private_zone:
        return None  # answered inside its VPCs only: not by the lab's public servers
    records = []
    for rrset in zone.rrsets:
        values = tuple(v["Value"] if isinstance(v, dict) else str(v) for v in rrset.records or ())
        alias = rrset.alias_target or {}
        weight = rrset.weight
        records.append(PublishedRecord(
            name=_fqdn(rrset.name), type=str(rrset.type), ttl=int(rrset.ttl or 0), values=values,
            set_identifier=rrset.set_identifier,
            weight=None if weight is None else int(weight), failover=rrset.failover,
            health_check_id=rrset.health_check_id,
            alias_dns_name=_fqdn(alias["DNSName"]) if alias.get("DNSName") else None))
    return PublishedZone(zone.resource_id, _fqdn(zone.name), tuple(records))


def _publish(zone_id: str, zone: FakeZone | None, insync_at: float) -> None:
    view = _snapshot(zone) if zone is not None else None
    with layer.lock:
        layer.published.setdefault(zone_id, []).append((insync_at, view))


def published_zones() -> list[PublishedZone]:
    """The public hosted zones as Route 53's name servers answer them now: each as of its
    last change that is INSYNC (a change still PENDING is not seen)."""
    now = layer.clock()
    zones = []
    with layer.lock:
        for zone_id, history in layer.published.items():
            due = [entry for entry in history if entry[0] <= now]
            if not due:
                continue
            # Older snapshots are never answered again.
            layer.published[zone_id] = history[history.index(due[-1]):]
            if due[-1][1] is not None:
                zones.append(due[-1][1])
    return zones


def health_check(health_check_id: str) -> HealthCheck | None:
    """The configuration of a Route 53 health check (the lab has one account)."""
    backend = route53_backends[DEFAULT_ACCOUNT_ID]["aws"]
    return backend.health_checks.get(health_check_id)


def _zone_of(handler: Route53, result: Any) -> tuple[str, FakeZone | None] | None:
    """The zone a handled request changed, and its state now (None once deleted)."""
    created = result.get("HostedZone") if isinstance(result, dict) else None
    if isinstance(created, FakeZone):
        return created.resource_id, created
    raw = handler._get_param("HostedZoneId") or handler._get_param("Id")
    if not raw:
        return None
    zone_id = str(raw).rsplit("/", 1)[-1]
    return zone_id, handler.backend.zones.get(zone_id)


class _NoSuchChange(Route53ClientError):
    def __init__(self, change_id: str) -> None:
        super().__init__(
            "NoSuchChange", f"A change with the specified change ID does not exist: {change_id}"
        )


def install() -> None:
    def pending(original: Callable[[Route53], ActionResult]) -> Callable[[Route53], ActionResult]:
        def answer(self: Route53) -> ActionResult:
            result = original(self)
            info = result.result.get("ChangeInfo") if isinstance(result.result, dict) else None
            if info is None:
                return result
            change_id = aws_id("C")
            submitted = datetime.now(UTC)
            insync_at = layer.clock() + layer.duration(timing.ROUTE53_CHANGE)
            with layer.lock:
                layer.changes[change_id] = (submitted, insync_at)
            changed = _zone_of(self, result.result)
            if changed is not None:
                _publish(*changed, insync_at)
            info.update(
                {"Id": f"/change/{change_id}", "Status": "PENDING", "SubmittedAt": submitted}
            )
            return result

        answer.__doc__ = (
            "AWS: every change batch starts `PENDING` with its own change id, and is "
            "`INSYNC` once propagated to all Route 53 DNS servers (within 60 s normally); "
            "the name servers answer with the change from then on. "
            "https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html "
            "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html"
        )
        return answer

    def get_change(self: Route53) -> ActionResult:
        """AWS: GetChange answers `PENDING` until the change has propagated, then `INSYNC`;
        an unknown id is `NoSuchChange`.
        https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html"""
        change_id = self._get_param("Id").removeprefix("/change/")
        with layer.lock:
            known = layer.changes.get(change_id)
        if known is None:
            raise _NoSuchChange(change_id)
        submitted, insync_at = known
        status = "INSYNC" if layer.clock() >= insync_at else "PENDING"
        return ActionResult(
            {
                "ChangeInfo": {
                    "Id": f"/change/{change_id}",
                    "Status": status,
                    "SubmittedAt": submitted,
                }
            }
        )

    for name in (
        "change_resource_record_sets",
        "create_hosted_zone",
        "delete_hosted_zone",
        "associate_vpc_with_hosted_zone",
        "disassociate_vpc_from_hosted_zone",
    ):
        setattr(Route53, name, pending(getattr(Route53, name)))
    Route53.get_change = get_change  # type: ignore[method-assign]


