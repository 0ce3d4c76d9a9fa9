"""The runbooks `dr` runs, as step graphs built from the configuration.

failover --to R (unplanned; the other region may be dead):

    readiness ─┬─ fence old primary ── promote replica ─┐   (per database, in parallel)
               ├─ scale up R services ──────────────────┤
               │                                        ├─ set parameters in R
               │                                        │     ├─ DNS switch ─┐
               │                                        │     ├─ CDN switch ─┼─ scale down
               │                                        │     └─ health R ───┘   other side
    Fencing comes before promotion so no client can write to both sides. Scale-up runs beside
    promotion (both take minutes) so capacity is there when traffic moves. Parameters change
    only once every database is writable, and traffic (DNS, CDN) moves only once R has both
    capacity and configuration. The health checks of R end the RTO clock. The other side is
    scaled down last, after traffic has left it, where that region answers.

failback = failover --to primary, then (after recovery, best effort) the secondary's fenced
instances are retired and re-created as replicas of the primary: the original topology.

reprotect: after a failover, retire the fenced old primaries and re-create them as replicas
of the new primaries, under their original identifiers.

drill: failover, reprotect, failback — one run, one report.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from dr.aws.gateway import CallLog, Gateway
from dr.config.model import Config, Role, other
from dr.errors import UsageError
from dr.runbook.graph import Node, Runbook, needs_all
from dr.runbook.steptype import Direction
from dr.steps import cloudfront, ecs, health, rds, route53, ssm

if TYPE_CHECKING:
    from dr.runbook.run import Request

RUNBOOKS = ("failover", "failback", "reprotect", "drill")


def direction(config: Config, to: Role) -> Direction:
    return Direction(to=to, to_region=config.regions.of(to),
                     from_region=config.regions.of(other(to)))


def failover(config: Config, to: Role) -> Runbook:
    d = direction(config, to)
    nodes: list[Node] = []
    promotes = []
    for db in config.databases:
        fence = Node(rds.FencePrimary(db, d), frozenset())
        promote = Node(rds.PromoteReplica(db, d), frozenset({fence.id}))
        nodes += [fence, promote]
        promotes.append(promote)
    scale_ups = [Node(ecs.ScaleUp(s, d), frozenset()) for s in config.services]
    params = [Node(ssm.PutParameter(p, d), needs_all(promotes)) for p in config.parameters]
    ready = needs_all(promotes + scale_ups + params)
    traffic = [Node(route53.SwitchRecords(z, d), ready)
               for z in route53.group_by_zone(config.dns)]
    traffic += [Node(cloudfront.SwitchOrigin(o, d), ready)
                for o in cloudfront.group_by_distribution(config.cdn)]
    checks = [Node(health.VerifyHealth(h, d), ready) for h in config.health]
    recovered = needs_all(nodes + scale_ups + params + traffic + checks)
    after = [Node(ecs.ScaleDown(s, d), recovered) for s in config.services]
    nodes += scale_ups + params + traffic + checks + after
    if to == "primary":
        for db in config.databases:
            retire = Node(rds.RetireOldPrimary(db, d, best_effort=True), recovered)
            nodes += [retire, Node(rds.CreateReplica(db, d, best_effort=True),
                                   frozenset({retire.id}))]
        return Runbook("failback", d, tuple(nodes))
    return Runbook("failover", d, tuple(nodes))


def reprotect(config: Config, active: Role) -> Runbook:
    d = direction(config, active)
    nodes: list[Node] = []
    for db in config.databases:
        retire = Node(rds.RetireOldPrimary(db, d), frozenset())
        nodes += [retire, Node(rds.CreateReplica(db, d), frozenset({retire.id}))]
    return Runbook("reprotect", d, tuple(nodes))


def active_role(config: Config, gateway: Gateway) -> Role:
    """The side whose databases are the writable ones (for `dr reprotect`)."""
    aws = gateway.for_step(time.monotonic() + 60, CallLog())
    votes: set[Role] = set()
    for db in config.databases:
        for role in ("primary", "secondary"):
            region = config.regions.of(role)
            try:
                instance = aws.client("rds", region).describe_db_instances(
                    DBInstanceIdentifier=db.side(role))["DBInstances"][0]
            except Exception:  # noqa: BLE001 - a missing or unreachable side is no vote
                continue
            fenced = rds.fenced_from(aws, region, instance) is not None
            if rds.source_of(instance) is None and not fenced:
                votes.add(role)
    if len(votes) != 1:
        raise UsageError("cannot tell which region is active from the databases "
                         f"(writable, unfenced sides: {sorted(votes) or 'none'})",
                         hint="reprotect runs after a failover has completed")
    return votes.pop()


def phases(config: Config, request: Request, gateway: Gateway) -> list[tuple[str, Runbook]]:
    if request.command in ("failover", "plan"):
        book = failover(config, request.to)
        return [(book.name, book)]
    if request.command == "reprotect":
        return [("reprotect", reprotect(config, active_role(config, gateway)))]
    if request.command in ("drill", "gameday"):
        steps = [("failover", failover(config, request.to))]
        if not request.no_failback:
            steps += [("reprotect", reprotect(config, request.to)),
                      ("failback", failover(config, other(request.to)))]
        return steps
    raise UsageError(f"unknown runbook command {request.command!r}")
