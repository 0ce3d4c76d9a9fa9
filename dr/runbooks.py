"""The runbooks `dr` runs, as step graphs built from the configuration.

failover --to R (unplanned; the other region may be dead):

    readiness ─┬─ fence old primary ─┬─ promote replica ──────────────┐  (per database)
               │                     ├─ cache member writable ────────┤  (per cache, after
               │                     ├─ DNS switch ─┬─ user's path ───┤   every fence: so
               │                     └─ CDN switch ─┘                 │   are DNS and CDN)
               └─ set parameters in R ── scale up R (new tasks) ──────┼─ health R ─ scale down
                                                                      │              other side
The order puts every wait that users feel beside the promotion, the longest one, instead of
after it, and lets no client write to two databases:

- Fence before promote: once the replica takes writes, the old primary takes none (split
  brain is the one order that is never allowed). When the old region does not answer, the
  fence is skipped at once and the outage itself has cut that database off.
- Traffic (Route 53, CloudFront) moves as soon as every fence is done or skipped, not after
  the promotion: from then on the old region serves nobody (its database refuses
  everyone), so moving users away loses nothing, and Route 53 propagation plus the TTL of
  cached answers, and CloudFront's deployment (5 minutes modelled), run under the promotion
  rather than after it. Users who arrive at R before its database is promoted get errors,
  as they would have from the fenced old side. It also narrows the window where a client
  with a cached answer reaches an old side that could not be fenced: by the time R takes
  writes, its TTL has mostly run out.
- Parameters in R change first: they point R's application at R's own database, which
  refuses writes until promoted, so switching early lets no client write anywhere new. ECS
  tasks read parameters when they start, so the scale-up comes after the parameters and
  starts a new deployment: every task of R (the standby ones too) reads the new values, and
  the tasks start beside the promotion instead of after it.
- Each ElastiCache global datastore's member in R is made writable once the fences are done
  or skipped, beside the promotion: failed over to while the old region answers (its member
  becomes a secondary, nothing lost), detached as a standalone primary when it does not.
  From the fences on the old side serves nobody, so demoting its cache takes nothing from a
  user. The app's tasks in R write sessions and cached relationships, so R's health and the
  user's path wait for the cache: R does not count as serving users (the RTO clock runs
  on) before its cache takes writes.
- The recovery region's own health check needs promotion, the caches, parameters and
  capacity; the user's path (a public URL, contract 1.1) needs the traffic changes and the
  caches, and ends the RTO clock. The other side is scaled down last, after traffic has
  left it, where that region answers.

failback = failover --to primary, then (after recovery, best effort) the secondary's fenced
instances are retired and re-created as replicas of the primary: the original topology.

reprotect: after a failover, retire the fenced old primaries and re-create them as replicas
of the new primaries, under their original identifiers; and where a failover detached a
cache's member (its region lost), delete the stale old member with the datastore it was left
heading, create the global datastore again around the active member, and the old member
again as its secondary (in that order: the datastore's name and the member's are reused).

drill: failover, reprotect, failback — one run, one report.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from dr import publicurl
from dr.aws.gateway import CallLog, Gateway, StepAws
from dr.config.model import Config, Role, other
from dr.errors import UsageError
from dr.runbook.graph import Node, Runbook, needs_all
from dr.runbook.steptype import Direction
from dr.steps import arc, cloudfront, ecs, elasticache, health, rds, route53, ssm

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
    fences = needs_all(n for n in nodes if n not in promotes)
    caches = [Node(elasticache.PromoteMember(c, d), fences) for c in config.caches]
    params = [Node(ssm.PutParameter(p, d), frozenset()) for p in config.parameters]
    scale_ups = [Node(ecs.ScaleUp(s, d), needs_all(params)) for s in config.services]
    ready = needs_all(promotes + caches + scale_ups + params)
    # Records driven by ARC routing controls move through the cluster's data plane, the
    # others through the Route 53 control plane; both as soon as the fences are done.
    traffic = [Node(route53.SwitchRecords(z, d), fences) for z in route53.group_by_zone(
        tuple(r for r in config.dns if not r.routing_control))]
    controls = arc.controlled(config)
    if controls:
        traffic.append(Node(arc.SetRoutingControls(controls, d), fences))
    traffic += [Node(cloudfront.SwitchOrigin(o, d), fences)
                for o in cloudfront.group_by_distribution(config.cdn)]
    checks = [Node(health.VerifyHealth(h, d), ready) for h in config.health]
    checks += [Node(health.VerifyUserPath(h, d), needs_all(traffic + caches))
               for h in config.health if h.public]
    recovered = needs_all(nodes + caches + scale_ups + params + traffic + checks)
    after = [Node(ecs.ScaleDown(s, d), recovered) for s in config.services]
    nodes += caches + params + scale_ups + traffic + checks + after
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
    for cache in config.caches:
        retire = Node(elasticache.RetireOldMember(cache, d), frozenset())
        recreate = Node(elasticache.RecreateGlobalDatastore(cache, d), frozenset({retire.id}))
        nodes += [retire, recreate, Node(elasticache.CreateSecondary(cache, d),
                                         frozenset({recreate.id}))]
    return Runbook("reprotect", d, tuple(nodes))


def active_role(config: Config, gateway: Gateway) -> Role:
    """The side whose databases are the writable ones (for `dr reprotect`); without
    databases, the side whose caches are."""
    aws = gateway.for_step(time.monotonic() + 60, CallLog())
    votes: set[Role] = set() if config.databases else _cache_votes(config, aws)
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
        raise UsageError("cannot tell which region is active from the "
                         f"{'databases' if config.databases else 'caches'} "
                         f"(writable, unfenced sides: {sorted(votes) or 'none'})",
                         hint="reprotect runs after a failover has completed")
    return votes.pop()


def _cache_votes(config: Config, aws: StepAws) -> set[Role]:
    """A member dr detached (standalone, with the detach tag) outranks the primary it left
    behind in the lost region; otherwise the side whose member is its datastore's primary."""
    detached: set[Role] = set()
    primaries: set[Role] = set()
    for cache in config.caches:
        for role in ("primary", "secondary"):
            region = config.regions.of(role)
            try:
                group = aws.client("elasticache", region).describe_replication_groups(
                    ReplicationGroupId=cache.side(role))["ReplicationGroups"][0]
                gid, member_role = elasticache.membership(group)
                if gid is None and elasticache.is_ours(
                        elasticache.detached_from(aws, region, group), cache):
                    detached.add(role)
                elif member_role == "PRIMARY" and elasticache.is_ours(gid, cache):
                    primaries.add(role)
            except Exception:  # noqa: BLE001 - a missing or unreachable side is no vote
                continue
    return detached or primaries


def phases(config: Config, request: Request, gateway: Gateway) -> list[tuple[str, Runbook]]:
    if any(h.public for h in config.health):
        publicurl.nameserver_from_env()  # a malformed DR_RESOLVER: exit 2, nothing changed
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
