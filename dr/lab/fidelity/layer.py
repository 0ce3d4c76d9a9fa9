"""The process-wide state the fidelity patches share: the timing profile, the clock, the
modelled transitions and the RDS hooks. moto's backends are process-wide, so this is
too. It imports nothing from moto, so it can be read before moto's version is checked."""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dr.lab import timing
from dr.lab.timing import TimingProfile

Clock = Callable[[], float]


@dataclass(frozen=True)
class RdsEvent:
    """An RDS change the lab's data plane follows, as it takes effect: `promoted`,
    `security_groups` (the instance's groups changed: their names), `rebooting` (every session
    ends) and `replica_created` (`source` is the (region, identifier) it replicates)."""

    kind: str
    region: str
    identifier: str
    security_groups: tuple[str, ...] = ()
    source: tuple[str, str] | None = None


RdsHook = Callable[[RdsEvent], None]
# (event, region, cluster, service, task id): event "running" when a task reaches RUNNING
# (it has read its parameters), "draining" when it leaves the load balancer to stop.
TaskHook = Callable[[str, str, str, str, str], None]


class Layer:
    def __init__(self) -> None:
        self.profile: TimingProfile = timing.INSTANT
        self.clock: Clock = time.monotonic
        self.lock = threading.RLock()
        self.installed = False
        self.rds: dict[int, Any] = {}  # id(instance) -> rds._Transition
        self.changes: dict[str, Any] = {}  # Route 53 change id -> (submitted, insync_at)
        # Route 53 zone id -> [(in sync at, route53.PublishedZone or None once deleted)]
        self.published: dict[str, list[tuple[float, Any]]] = {}
        # CloudFront distribution id -> [(deployed at, cloudfront.DeployedDistribution)]
        self.deployed: dict[str, list[tuple[float, Any]]] = {}
        self.task_hooks: list[TaskHook] = []
        self.fleets: list[Any] = []  # ecs._Fleet of every modelled service
        # ElastiCache: global datastore id -> elasticache._Datastore (moto has none), and the
        # transitions under way: key -> (ends at, completion run under the lock)
        self.datastores: dict[str, Any] = {}
        self.cache_pending: dict[str, tuple[float, Callable[[], None]]] = {}
        self.rds_hooks: list[RdsHook] = []
        # (region, source identifier) -> [sessions ended at, last ReplicaLag published at]
        # (layer clock): a fenced source whose reboot ended its sessions, whose replicas'
        # ReplicaLag the model publishes as 0 (fidelity/cloudwatch.py).
        self.quiesced: dict[tuple[str, str], list[float]] = {}
        # (region, replica identifier) whose replication is broken: ReplicaLag -1.
        self.broken_replication: set[tuple[str, str]] = set()
        self.timers: list[threading.Timer] = []
        # The lab's ARC cluster: a routing control ARN -> "On"/"Off" (route53_recovery.py).
        self.routing_controls: Callable[[str], str | None] | None = None

    def duration(self, operation: str) -> float:
        return self.profile.duration(operation)


layer = Layer()


def aws_id(prefix: str) -> str:
    """An identifier in the shape AWS gives changes and ETags: a letter and 13 more."""
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(13))
