"""The critical-path bound: the earliest any correct failover can have users served again,
from the modelled AWS durations (dr/lab/timing.py).

It is the longest chain of modelled waits that every correct order must contain, whatever
order a runbook chooses. Users are served by the recovery region when its databases take
writes, its tasks run with its parameters, and their traffic has moved; so:

- per database: fence, then promotion (the other way round, a client could write to both).
  The fence waits for nothing modelled (a security-group change takes effect at once; a
  region that does not answer is skipped), so the chain is the promotion;
- per service: its tasks start after the parameters they read are switched (no wait), and
  the tasks it needs must run: the k-th of n tasks of one scale-out runs after
  (1 + (k-1)/n) × the task start time (the ECS model). With parameters to switch, all n of
  its active tasks are new (a new deployment); without, only those beyond the standby ones;
- per Route 53 zone: the change INSYNC, plus the TTL of the answers it replaces (a client
  may keep one that long);
- records moved by routing controls: the TTL of the answers the controls' change replaces
  (the name servers answer by the controls at once);
- per CloudFront distribution: Deployed.

Each chain can start at once, so the bound is the longest one. Health checks, parameters
and the fence wait for nothing modelled. A runbook whose order adds a wait to a chain (a
DNS change after the promotion, say) cannot reach it.
"""

from __future__ import annotations

import math

from dr.lab import timing
from dr.runbook.graph import Node, Runbook


def chain_seconds(node: Node, runbook: Runbook, profile: timing.TimingProfile) -> float:
    """The modelled wait `node`'s step adds to the user's path, started at once."""
    name = node.step.name
    if name == "rds.promote-replica":
        return profile.duration(timing.PROMOTE_READ_REPLICA)
    if name == "route53.switch-records":
        replaced_ttl = max((r.ttl for r in node.step.item.records), default=0)
        return profile.duration(timing.ROUTE53_CHANGE) + replaced_ttl
    if name == "arc.set-routing-controls":
        return float(max((r.ttl for r in node.step.item.records), default=0))
    if name == "cloudfront.switch-origin":
        return profile.duration(timing.CLOUDFRONT_DEPLOY)
    if name == "ecs.scale-up":
        service = node.step.item
        needed = math.ceil(service.active_count * service.min_running_fraction)
        redeployed = any(n.step.name == "ssm.put-parameter" for n in runbook.nodes)
        already = 0 if redeployed else service.standby_count
        started = service.active_count - already
        kth = needed - already
        if kth <= 0 or started <= 0:
            return 0.0
        return profile.duration(timing.ECS_TASK_START) * (1 + (kth - 1) / started)
    return 0.0


def critical_path_bound(runbook: Runbook, profile: timing.TimingProfile) -> float:
    return max((chain_seconds(n, runbook, profile) for n in runbook.nodes), default=0.0)
