"""Documented AWS behaviour restored on top of moto: the one place where moto is corrected.

moto answers the right API shapes but many operations complete at once and some leave
state AWS would not leave (see docs/emulator-notes.md). `dr` must be tested against what
AWS does, so each patch below restores one documented behaviour, names it, and cites the
AWS page. Durations come from a `TimingProfile` (dr/lab/timing.py); state changes are
computed lazily from a clock when the emulator is asked, so the `instant` profile really is
instant and no background thread runs, except timers that fire `on_rds` and `on_task`
hooks on time when nobody is polling.

Route 53 and CloudFront also keep what their data planes serve: `route53.published_zones()`
(each zone as of its last INSYNC change) and `cloudfront.deployed()` (each distribution's
last deployed configuration), which the lab's DNS server and CloudFront edge answer from.

One module per service (`rds`, `rds_tags`, `route53`, `cloudfront`, `cloudwatch` (the
ReplicaLag RDS publishes), `ecs`, `elasticache`: the global datastores moto lacks), their shared
state in `layer`; `terraform.py` holds the patches the Terraform emulator apply needs
(resources `dr` itself never touches); the emulator test applies those alone. Every patch
reaches into moto's private parts, so `compat` checks moto's version before any is made.

The patches are installed on moto's classes, so they act in-process: on `mock_aws`, and on
a `ThreadedMotoServer` started in this process. `apply()` is idempotent; `set_profile()`
changes the durations of operations started afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dr.lab.fidelity.compat import require_written_for
from dr.lab.fidelity.layer import Clock, RdsEvent, RdsHook, TaskHook, layer
from dr.lab.timing import TimingProfile

__all__ = ["Clock", "RdsEvent", "RdsHook", "TaskHook", "apply", "break_replication", "clear",
           "on_rds", "on_task", "set_profile"]


def apply(profile: TimingProfile, clock: Clock = time.monotonic) -> None:
    """Install every patch (once) and use `profile` and `clock` from now on. Raises
    `LabDependencyMismatch`, having patched nothing, when moto is not the version the
    patches were written for."""
    with layer.lock:
        if not layer.installed:
            require_written_for("moto")
            from dr.lab.fidelity import (
                cloudfront,
                cloudwatch,
                ecs,
                elasticache,
                rds,
                rds_tags,
                route53,
                route53_recovery,
            )

            for service in (rds, rds_tags, route53, route53_recovery, cloudfront, cloudwatch,
                            ecs, elasticache):
                service.install()
            layer.installed = True
        layer.profile = profile
        layer.clock = clock


def set_profile(profile: TimingProfile) -> None:
    """Durations of operations started from now on follow `profile`."""
    with layer.lock:
        layer.profile = profile


def on_rds(callback: RdsHook) -> Callable[[], None]:
    """Call `callback(event)` as modelled RDS changes take effect (an `RdsEvent`: promoted,
    security groups changed, rebooting, replica created), before the instance is shown
    `available` (a reboot: as it begins). It runs on a moto request thread or a timer thread.
    Returns a function that unregisters it."""
    with layer.lock:
        layer.rds_hooks.append(callback)

    def unregister() -> None:
        with layer.lock:
            if callback in layer.rds_hooks:
                layer.rds_hooks.remove(callback)

    return unregister


def break_replication(region: str, identifier: str) -> None:
    """The read replica `identifier` no longer replicates (its link is cut): its ReplicaLag
    reads -1 from now on (fidelity/cloudwatch.py), until `clear()`."""
    with layer.lock:
        layer.broken_replication.add((region, identifier))


def on_task(callback: TaskHook) -> Callable[[], None]:
    """Call `callback(event, region, cluster, service, task_id)` as modelled ECS tasks reach
    RUNNING (event "running": the task reads its parameters now) and leave their load
    balancer to stop ("draining"), in that order per task, on a timer thread. Tasks already
    running are announced at once. Returns a function that unregisters it."""
    from dr.lab.fidelity import ecs

    with layer.lock:
        layer.task_hooks.append(callback)
    ecs.announce()
    ecs.schedule()

    def unregister() -> None:
        with layer.lock:
            if callback in layer.task_hooks:
                layer.task_hooks.remove(callback)

    return unregister


def clear() -> None:
    """Forget modelled transitions and pending timers, for use after moto's reset (which
    drops the resources they refer to)."""
    with layer.lock:
        for timer in layer.timers:
            timer.cancel()
        layer.timers.clear()
        layer.rds.clear()
        layer.quiesced.clear()
        layer.broken_replication.clear()
        layer.changes.clear()
        layer.published.clear()
        layer.deployed.clear()
        layer.fleets.clear()
        layer.datastores.clear()
        layer.cache_pending.clear()
