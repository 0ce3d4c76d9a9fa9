"""Documented AWS behaviour restored on top of moto: the one place where moto is corrected.

moto answers the right API shapes but many operations complete at once and some leave
state AWS would not leave (see docs/emulator-notes.md). `dr` must be tested against what
AWS does, so each patch below restores one documented behaviour, names it, and cites the
AWS page. Durations come from a `TimingProfile` (dr/lab/timing.py); state changes are
computed lazily from a clock when the emulator is asked, so the `instant` profile really is
instant and no background thread runs, except a timer that fires `on_promoted` hooks on
time when nobody is polling.

`terraform.py` holds the patches the Terraform emulator apply needs (resources `dr` itself
never touches); the emulator test applies those alone.

The patches are installed on moto's classes, so they act in-process: on `mock_aws`, and on
a `ThreadedMotoServer` started in this process. `apply()` is idempotent; `set_profile()`
changes the durations of operations started afterwards.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from moto.cloudfront.exceptions import (
    CloudFrontException,
    InvalidIfMatchVersion,
    NoSuchDistribution,
)
from moto.cloudfront.models import CloudFrontBackend, Distribution
from moto.core.responses import ActionResult
from moto.ecs.models import EC2ContainerServiceBackend, Service
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance, RDSBackend, rds_backends
from moto.route53.exceptions import Route53ClientError
from moto.route53.responses import Route53

from dr.lab import timing
from dr.lab.timing import TimingProfile

Clock = Callable[[], float]
PromotedHook = Callable[[str, str], None]

log = structlog.get_logger(__name__)

# Share of a promotion spent `rebooting` after `modifying`: RDS reboots the instance at the
# end of a promotion; the split is an assumption, the total comes from the timing table.
_PROMOTION_REBOOT_SHARE = 0.2
# A timer that fires a hair late is harmless; one that fires early finds nothing due.
_TIMER_SLACK_SECONDS = 0.01


def _change_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "C" + "".join(secrets.choice(alphabet) for _ in range(13))


def _etag() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "E" + "".join(secrets.choice(alphabet) for _ in range(13))


@dataclass
class _RdsTransition:
    """An RDS instance passing through transient statuses until `complete` runs."""

    instance: DBInstance
    phases: tuple[tuple[float, str], ...]  # (ends at, status shown until then), in order
    complete: Callable[[], None]  # final state, run under the layer's lock
    hook_args: tuple[str, str] | None = None  # (region, identifier) for on_promoted
    finishing: bool = False

    @property
    def ends_at(self) -> float:
        return self.phases[-1][0]

    def status_at(self, now: float) -> str:
        for ends_at, status in self.phases:
            if now < ends_at:
                return status
        return self.phases[-1][1]


@dataclass
class _Fleet:
    """The tasks of one ECS service: when each started one becomes RUNNING, and when each
    stopping one stops."""

    starting: list[float] = field(default_factory=list)
    stopping: list[float] = field(default_factory=list)

    def scale_to(self, desired: int, now: float, start: float, stop: float) -> None:
        self.stopping = [at for at in self.stopping if at > now]
        surplus = len(self.starting) - desired
        if surplus < 0:
            new = -surplus
            # Tasks of one scale-out reach RUNNING spread over [start, 2*start), not at once.
            self.starting += [now + start * (1 + k / new) for k in range(new)]
            return
        # Scale-in drops tasks that are not yet running first, as ECS does.
        self.starting.sort()
        for _ in range(surplus):
            ready_at = self.starting.pop()
            if ready_at <= now:
                self.stopping.append(now + stop)

    def counts(self, now: float) -> tuple[int, int]:
        running = sum(at <= now for at in self.starting) + sum(at > now for at in self.stopping)
        pending = sum(at > now for at in self.starting)
        return running, pending


class _Layer:
    """Process-wide state of the patches (moto's backends are process-wide too)."""

    def __init__(self) -> None:
        self.profile: TimingProfile = timing.INSTANT
        self.clock: Clock = time.monotonic
        self.lock = threading.RLock()
        self.installed = False
        self.rds: dict[int, _RdsTransition] = {}
        self.changes: dict[str, tuple[datetime, float]] = {}
        self.hooks: list[PromotedHook] = []
        self.timers: list[threading.Timer] = []

    def duration(self, operation: str) -> float:
        return self.profile.duration(operation)


_layer = _Layer()


def apply(profile: TimingProfile, clock: Clock = time.monotonic) -> None:
    """Install every patch (once) and use `profile` and `clock` from now on."""
    with _layer.lock:
        _layer.profile = profile
        _layer.clock = clock
        if _layer.installed:
            return
        for install in (_install_rds, _install_route53, _install_cloudfront, _install_ecs,
                        _install_request_decompression):
            install()
        _layer.installed = True


def set_profile(profile: TimingProfile) -> None:
    """Durations of operations started from now on follow `profile`."""
    with _layer.lock:
        _layer.profile = profile


def on_promoted(callback: PromotedHook) -> Callable[[], None]:
    """Call `callback(region, db_instance_identifier)` when a modelled RDS promotion
    completes, before the instance is shown `available` (until the callback returns,
    describe calls show it `rebooting`). The callback runs on a moto request thread or a
    timer thread. Returns a function that unregisters it."""
    with _layer.lock:
        _layer.hooks.append(callback)

    def unregister() -> None:
        with _layer.lock:
            if callback in _layer.hooks:
                _layer.hooks.remove(callback)

    return unregister


def clear() -> None:
    """Forget modelled transitions and pending timers, for use after moto's reset (which
    drops the resources they refer to)."""
    with _layer.lock:
        for timer in _layer.timers:
            timer.cancel()
        _layer.timers.clear()
        _layer.rds.clear()
        _layer.changes.clear()


# --- RDS -------------------------------------------------------------------------------


def _rds_settle() -> None:
    """Bring every modelled RDS instance's status up to the clock, completing transitions
    that are due. on_promoted hooks run outside the lock, while the instance still shows
    `rebooting`, so nobody sees it `available` before the hook (pg_promote) has run."""
    now = _layer.clock()
    due: list[tuple[int, _RdsTransition]] = []
    with _layer.lock:
        for key, transition in list(_layer.rds.items()):
            transition.instance.status = transition.status_at(now)
            if transition.finishing or now < transition.ends_at:
                continue
            if transition.hook_args is None:
                transition.complete()
                del _layer.rds[key]
            else:
                transition.finishing = True
                due.append((key, transition))
        hooks = list(_layer.hooks)
    for key, transition in due:
        assert transition.hook_args is not None
        for hook in hooks:
            try:
                hook(*transition.hook_args)
            except Exception:  # a broken lab hook must not break the emulator's API
                log.exception("fidelity.promoted_hook_failed", args=transition.hook_args)
        with _layer.lock:
            if _layer.rds.get(key) is transition:
                transition.complete()
                del _layer.rds[key]


def _rds_begin(
    instance: DBInstance,
    phases: tuple[tuple[str, float], ...],
    complete: Callable[[], None],
    hook_args: tuple[str, str] | None = None,
) -> None:
    now = _layer.clock()
    ends: list[tuple[float, str]] = []
    at = now
    for status, seconds in phases:
        at += seconds
        ends.append((at, status))
    transition = _RdsTransition(instance, tuple(ends), complete, hook_args)
    with _layer.lock:
        _layer.rds[id(instance)] = transition
        if hook_args is not None and at > now:
            timer = threading.Timer(at - now + _TIMER_SLACK_SECONDS, _rds_settle)
            timer.daemon = True
            _layer.timers = [t for t in _layer.timers if t.is_alive()] + [timer]
            timer.start()
    _rds_settle()


def _require_available(instance: DBInstance) -> None:
    if instance.status != "available":
        raise RDSClientError(
            "InvalidDBInstanceState",
            f"Instance {instance.db_instance_identifier} is not in available state "
            f"(it is {instance.status}).",
        )


def _find_instance(backend: RDSBackend, identifier_or_arn: str) -> DBInstance | None:
    if identifier_or_arn.startswith("arn:"):
        _, _, _, region, account, _, name = identifier_or_arn.split(":", 6)
        return rds_backends[account][region].databases.get(name)
    return backend.databases.get(identifier_or_arn)


def _detach(backend: RDSBackend, replica: DBInstance) -> None:
    """A promoted replica no longer names its source, and the source (perhaps in another
    Region's backend) no longer lists it."""
    source_id = replica.source_db_instance_identifier
    replica.source_db_instance_identifier = None
    replica.is_replica = False
    source = _find_instance(backend, source_id) if source_id else None
    if source is not None:
        _unlist(source, replica)


def _unlist(source: DBInstance, replica: DBInstance) -> None:
    # A source lists a same-Region replica by identifier and a cross-Region one by ARN.
    names = {replica.db_instance_identifier, replica.db_instance_arn}
    source.replicas = [entry for entry in source.replicas if entry not in names]


def _install_rds() -> None:
    describe = RDSBackend.describe_db_instances
    promote = RDSBackend.promote_read_replica
    create_replica = RDSBackend.create_db_instance_read_replica
    modify = RDSBackend.modify_db_instance

    def describe_db_instances(self: RDSBackend, *args: Any, **kwargs: Any) -> list[DBInstance]:
        """AWS: statuses move on with time (describe shows `modifying`, `rebooting`,
        `creating`, `renaming` while an operation runs).
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html"""
        _rds_settle()
        return describe(self, *args, **kwargs)

    def promote_read_replica(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        """AWS: only a read replica can be promoted (otherwise `InvalidDBInstanceState`);
        RDS reboots the instance before making it available, over several minutes; the
        promoted instance is standalone: `ReadReplicaSourceDBInstanceIdentifier` is gone and
        the source no longer lists it in `ReadReplicaDBInstanceIdentifiers`.
        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html"""
        instance = describe_db_instances(self, db_kwargs["db_instance_identifier"])[0]
        if not instance.source_db_instance_identifier:
            raise RDSClientError(
                "InvalidDBInstanceState",
                f"DB Instance {instance.db_instance_identifier} is not a read replica.",
            )
        _require_available(instance)
        promote(self, db_kwargs)
        total = _layer.duration(timing.PROMOTE_READ_REPLICA)
        reboot = total * _PROMOTION_REBOOT_SHARE

        def complete() -> None:
            _detach(self, instance)
            instance.status = "available"

        _rds_begin(
            instance,
            (("modifying", total - reboot), ("rebooting", reboot)),
            complete,
            hook_args=(self.region_name, instance.db_instance_identifier),
        )
        return instance

    def create_db_instance_read_replica(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        """AWS: a new read replica is `creating` (snapshot, restore, start replication)
        before it is `available`.
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html"""
        replica = create_replica(self, db_kwargs)

        def complete() -> None:
            replica.status = "available"

        _rds_begin(replica, (("creating", _layer.duration(timing.CREATE_READ_REPLICA)),), complete)
        return replica

    def modify_db_instance(
        self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]
    ) -> DBInstance:
        """AWS: a modification needs an `available` instance; a rename shows `renaming`
        until the new name is effective (about 10 minutes), a security-group change shows
        `modifying` briefly.
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Modifying.html"""
        current = describe_db_instances(self, db_instance_identifier)[0]
        if id(current) in _layer.rds:
            _require_available(current)
        renamed = bool(db_kwargs.get("new_db_instance_identifier"))
        regrouped = any(
            db_kwargs.get(key) for key in ("vpc_security_group_ids", "db_security_groups")
        )
        instance = modify(self, db_instance_identifier, db_kwargs)
        if renamed or regrouped:
            status, operation = (
                ("renaming", timing.RENAME_DB_INSTANCE)
                if renamed
                else ("modifying", timing.MODIFY_DB_INSTANCE)
            )

            def complete() -> None:
                instance.status = "available"

            _rds_begin(instance, ((status, _layer.duration(operation)),), complete)
        return instance

    RDSBackend.describe_db_instances = describe_db_instances  # type: ignore[method-assign]
    RDSBackend.promote_read_replica = promote_read_replica  # type: ignore[method-assign]
    RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica  # type: ignore[method-assign]

    def remove_replica(self: DBInstance, replica: DBInstance) -> None:
        """AWS: deleting a read replica, also a cross-Region one, removes it from its
        source's `ReadReplicaDBInstanceIdentifiers` (moto fails with a 500 on the latter).
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html"""
        _unlist(self, replica)

    RDSBackend.modify_db_instance = modify_db_instance  # type: ignore[method-assign]
    DBInstance.remove_replica = remove_replica  # type: ignore[method-assign]


# --- Route 53 --------------------------------------------------------------------------


class _NoSuchChange(Route53ClientError):
    def __init__(self, change_id: str) -> None:
        super().__init__(
            "NoSuchChange", f"A change with the specified change ID does not exist: {change_id}"
        )


def _install_route53() -> None:
    def pending(original: Callable[[Route53], ActionResult]) -> Callable[[Route53], ActionResult]:
        def answer(self: Route53) -> ActionResult:
            result = original(self)
            info = result.result.get("ChangeInfo") if isinstance(result.result, dict) else None
            if info is None:
                return result
            change_id = _change_id()
            submitted = datetime.now(UTC)
            with _layer.lock:
                _layer.changes[change_id] = (
                    submitted,
                    _layer.clock() + _layer.duration(timing.ROUTE53_CHANGE),
                )
            info.update(
                {"Id": f"/change/{change_id}", "Status": "PENDING", "SubmittedAt": submitted}
            )
            return result

        answer.__doc__ = (
            "AWS: every change batch starts `PENDING` with its own change id, and is "
            "`INSYNC` once propagated to all Route 53 DNS servers (within 60 s normally). "
            "https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html"
        )
        return answer

    def get_change(self: Route53) -> ActionResult:
        """AWS: GetChange answers `PENDING` until the change has propagated, then `INSYNC`;
        an unknown id is `NoSuchChange`.
        https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html"""
        change_id = self._get_param("Id").removeprefix("/change/")
        with _layer.lock:
            known = _layer.changes.get(change_id)
        if known is None:
            raise _NoSuchChange(change_id)
        submitted, insync_at = known
        status = "INSYNC" if _layer.clock() >= insync_at else "PENDING"
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


# --- CloudFront ------------------------------------------------------------------------


class _PreconditionFailed(CloudFrontException):
    def __init__(self) -> None:
        super().__init__(
            "PreconditionFailed",
            "The precondition given in one or more of the request header fields "
            "evaluated to false.",
        )


def _install_cloudfront() -> None:
    create = CloudFrontBackend.create_distribution_with_tags
    update = CloudFrontBackend.update_distribution

    def deploying(dist: Distribution) -> None:
        dist._dr_deployed_at = _layer.clock() + _layer.duration(timing.CLOUDFRONT_DEPLOY)

    def status(self: Distribution) -> str:
        """AWS: a distribution is `InProgress` after a create or update until the
        configuration has propagated to every edge location (within 5 minutes), then
        `Deployed`.
        https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Distribution.html"""
        deployed_at: float | None = getattr(self, "_dr_deployed_at", None)
        if deployed_at is None or _layer.clock() >= deployed_at:
            return "Deployed"
        return "InProgress"

    def create_distribution_with_tags(
        self: CloudFrontBackend, distribution_config: dict[str, Any], tags: list[dict[str, str]]
    ) -> tuple[Distribution, str, str]:
        dist, location, etag = create(self, distribution_config, tags)
        deploying(dist)
        return dist, location, etag

    def update_distribution(
        self: CloudFrontBackend, dist_config: dict[str, Any], _id: str, if_match: str
    ) -> tuple[Distribution, str, str]:
        """AWS: UpdateDistribution requires the ETag of the current configuration in
        If-Match (missing: `InvalidIfMatchVersion`; stale: `PreconditionFailed`), and each
        update gives the distribution a new ETag.
        https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html"""
        dist = self.distributions.get(_id)
        if dist is None:
            raise NoSuchDistribution
        if not if_match:
            raise InvalidIfMatchVersion
        if if_match != dist.etag:
            raise _PreconditionFailed
        dist, location, _ = update(self, dist_config, _id, if_match)
        dist.etag = _etag()
        dist.last_modified_time = datetime.now(UTC).isoformat(timespec="milliseconds")
        deploying(dist)
        return dist, location, dist.etag

    Distribution.status = property(status)  # type: ignore[assignment]
    CloudFrontBackend.create_distribution_with_tags = create_distribution_with_tags  # type: ignore[method-assign]
    CloudFrontBackend.update_distribution = update_distribution  # type: ignore[method-assign]


# --- ECS -------------------------------------------------------------------------------


def _fleet(service: Service) -> _Fleet:
    fleet: _Fleet | None = getattr(service, "_dr_fleet", None)
    if fleet is None:
        # A service that existed before the patches: its tasks are already running.
        fleet = _Fleet(starting=[float("-inf")] * int(service.running_count or 0))
        service._dr_fleet = fleet
    return fleet


def _show_counts(service: Service) -> None:
    running, pending = _fleet(service).counts(_layer.clock())
    service.running_count = running
    service.pending_count = pending
    for deployment in service.deployments[:1]:
        deployment.update(
            desiredCount=service.desired_count,
            runningCount=running,
            pendingCount=pending,
            rolloutState="COMPLETED"
            if running == service.desired_count and not pending
            else "IN_PROGRESS",
        )


def _install_ecs() -> None:
    create = EC2ContainerServiceBackend.create_service
    update = EC2ContainerServiceBackend.update_service
    describe = EC2ContainerServiceBackend.describe_services

    def scale(service: Service, desired: int) -> None:
        with _layer.lock:
            _fleet(service).scale_to(
                desired,
                _layer.clock(),
                _layer.duration(timing.ECS_TASK_START),
                _layer.duration(timing.ECS_TASK_STOP),
            )
        _show_counts(service)

    def create_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Service:
        """AWS: the scheduler starts `desiredCount` tasks for a new service; they reach
        RUNNING after provisioning (a minute or two on Fargate).
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html"""
        service = create(self, *args, **kwargs)
        service._dr_fleet = _Fleet()
        scale(service, int(service.desired_count or 0))
        return service

    def update_service(
        self: EC2ContainerServiceBackend, service_properties: dict[str, Any]
    ) -> Service:
        """AWS: changing desiredCount starts or stops tasks; runningCount climbs (or falls)
        as tasks reach RUNNING (or stop), with pendingCount for tasks still starting.
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html"""
        desired = service_properties.get("desired_count")
        service = update(self, service_properties)
        if desired is None:
            _show_counts(service)
        else:
            scale(service, int(desired))
        return service

    def describe_services(
        self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any
    ) -> tuple[list[Service], list[dict[str, str]]]:
        services, failures = describe(self, *args, **kwargs)
        for service in services:
            _show_counts(service)
        return services, failures

    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.describe_services = describe_services  # type: ignore[method-assign]


def _install_request_decompression() -> None:
    """A gzip-compressed request is accepted, as AWS accepts it. botocore gzips bodies of
    10 KiB or more for operations that allow it, such as a PutMetricData with many metrics
    (https://docs.aws.amazon.com/sdkref/latest/guide/feature-compression.html). moto's server
    un-gzips the body on the way in (moto_server/utilities.py) and its response class then
    un-gzips it again because Content-Encoding still says gzip, failing with a 500; a body
    that is no longer gzip is passed through."""
    import moto.core.responses as responses

    ungzip = responses.gzip_decompress

    def once(body: bytes) -> bytes:
        return ungzip(body) if body[:2] == b"\x1f\x8b" else body

    responses.gzip_decompress = once

