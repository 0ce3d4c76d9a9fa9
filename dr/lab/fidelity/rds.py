"""RDS as AWS runs it: statuses that move on with time, promotions that detach, replicas
that are created, renames that take a while (the new name not found at first), reboots,
identifiers that are taken refused, and tags checked as RDS checks them. The changes a data
plane must follow (a promotion, a security-group change, a reboot, a new replica) are
announced to `on_rds` hooks as they take effect."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from moto.rds.exceptions import DBInstanceNotFoundError, RDSClientError
from moto.rds.models import DBInstance, Event, RDSBackend, rds_backends

from dr.lab import timing
from dr.lab.fidelity.layer import RdsEvent, layer

log = structlog.get_logger("dr.lab.fidelity")

# Share of a promotion spent `rebooting` after `modifying`: RDS reboots the instance at the
# end of a promotion; the split is an assumption, the total comes from the timing table.
_PROMOTION_REBOOT_SHARE = 0.2
# dr's fence group (dr/steps/rds/common.py): a security group that lets nobody in.
_FENCE_GROUP = "dr-fence"
# A timer that fires a hair late is harmless; one that fires early finds nothing due.
_TIMER_SLACK_SECONDS = 0.01
# Share of a rename during which the new name is not found yet; the old one is gone at once.
# RDS says only that "the renamed DB instance is not available until the new name becomes
# effective" (about 10 minutes); the share is an assumption.
_RENAME_UNLISTED_SHARE = 0.5
# RDS-EVENT-0006, which moto's event table lacks.
_RESTARTED = "DB_INSTANCE_RESTARTED"


@dataclass
class _Transition:
    """An RDS instance passing through transient statuses until `complete` runs."""

    instance: DBInstance
    phases: tuple[tuple[float, str], ...]  # (ends at, status shown until then), in order
    complete: Callable[[], None]  # final state, run under the layer's lock
    event: RdsEvent | None = None  # announced to the hooks before `complete`
    finishing: bool = False
    unlisted_until: float = 0.0  # no describe finds the instance before then

    @property
    def ends_at(self) -> float:
        return self.phases[-1][0]

    def status_at(self, now: float) -> str:
        for ends_at, status in self.phases:
            if now < ends_at:
                return status
        return self.phases[-1][1]



def _settle() -> None:
    """Bring every modelled RDS instance's status up to the clock, completing transitions
    that are due. Hooks run outside the lock, while the instance still shows its transient
    status, so nobody sees it `available` before the hook (pg_promote, a closed port, a new
    standby) has run."""
    now = layer.clock()
    due: list[tuple[int, _Transition]] = []
    with layer.lock:
        for key, transition in list(layer.rds.items()):
            transition.instance.status = transition.status_at(now)
            if transition.finishing or now < transition.ends_at:
                continue
            if transition.event is None:
                transition.complete()
                del layer.rds[key]
            else:
                transition.finishing = True
                due.append((key, transition))
    for key, transition in due:
        assert transition.event is not None
        _announce(transition.event)
        with layer.lock:
            if layer.rds.get(key) is transition:
                transition.complete()
                del layer.rds[key]


def _announce(event: RdsEvent) -> None:
    with layer.lock:
        hooks = list(layer.rds_hooks)
    for hook in hooks:
        try:
            hook(event)
        except Exception:  # a broken lab hook must not break the emulator's API
            log.exception("fidelity.rds_hook_failed", kind=event.kind, region=event.region,
                          identifier=event.identifier)


def _begin(
    instance: DBInstance,
    phases: tuple[tuple[str, float], ...],
    complete: Callable[[], None],
    event: RdsEvent | None = None,
    unlisted_for: float = 0.0,
) -> None:
    now = layer.clock()
    ends: list[tuple[float, str]] = []
    at = now
    for status, seconds in phases:
        at += seconds
        ends.append((at, status))
    transition = _Transition(instance, tuple(ends), complete, event, False,
                             now + unlisted_for)
    with layer.lock:
        layer.rds[id(instance)] = transition
        if event is not None and at > now:
            timer = threading.Timer(at - now + _TIMER_SLACK_SECONDS, _settle)
            timer.daemon = True
            layer.timers = [t for t in layer.timers if t.is_alive()] + [timer]
            timer.start()
    _settle()


def _unlisted() -> set[int]:
    """The instances no describe finds now: renamed, their new name not yet effective."""
    now = layer.clock()
    with layer.lock:
        return {key for key, t in layer.rds.items() if now < t.unlisted_until}


def _refuse_taken(backend: RDSBackend, identifier: str | None) -> None:
    if identifier and identifier in backend.databases:
        raise RDSClientError("DBInstanceAlreadyExists",
                             f"DB instance {identifier} already exists.")


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


def _place_in_region(backend: RDSBackend, replica: DBInstance, kwargs: dict[str, Any]) -> None:
    from moto.ec2.models import ec2_backends

    name = kwargs.get("db_subnet_group_name")
    if name:
        replica.db_subnet_group = backend.describe_db_subnet_groups(name)[0]
    else:
        replica.__dict__.pop("db_subnet_group", None)
    if not kwargs.get("vpc_security_group_ids"):
        ec2 = ec2_backends[backend.account_id][backend.region_name]
        vpc = replica.db_subnet_group.vpc_id if name else ec2.default_vpc.id
        replica.vpc_security_group_ids = [ec2.get_default_security_group(vpc).id]


def install() -> None:
    Event.EVENT_MAP[_RESTARTED] = {"Categories": ["availability"],
                                   "Message": "DB instance restarted"}
    describe = RDSBackend.describe_db_instances
    promote = RDSBackend.promote_read_replica
    create_replica = RDSBackend.create_db_instance_read_replica
    modify = RDSBackend.modify_db_instance

    def describe_db_instances(self: RDSBackend, *args: Any, **kwargs: Any) -> list[DBInstance]:
        """AWS: statuses move on with time (describe shows `modifying`, `rebooting`,
        `creating`, `renaming` while an operation runs); a renamed instance is found under
        neither name until its new name is effective (see `modify_db_instance`).
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html"""
        _settle()
        identifier = args[0] if args else kwargs.get("db_instance_identifier")
        unlisted = _unlisted()
        found = [i for i in describe(self, *args, **kwargs) if id(i) not in unlisted]
        if identifier and not found:
            raise DBInstanceNotFoundError(identifier)
        return found

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
        total = layer.duration(timing.PROMOTE_READ_REPLICA)
        reboot = total * _PROMOTION_REBOOT_SHARE

        def complete() -> None:
            _detach(self, instance)
            instance.status = "available"

        _begin(
            instance,
            (("modifying", total - reboot), ("rebooting", reboot)),
            complete,
            event=RdsEvent("promoted", self.region_name, instance.db_instance_identifier),
        )
        return instance

    def create_db_instance_read_replica(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        """AWS: a new read replica is `creating` (snapshot, restore, start replication)
        before it is `available`. A cross-Region replica lives in the destination Region's
        network: its `DBSubnetGroupName` names a subnet group there (moto looks it up in the
        source Region), and without `VpcSecurityGroupIds` it gets the default security group
        of its VPC (moto copies the source's groups, which do not exist in this Region). An
        identifier already taken is refused with `DBInstanceAlreadyExists` (moto started
        the existing instance over as a new replica).
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html
        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html"""
        _refuse_taken(self, db_kwargs.get("db_instance_identifier"))
        replica = create_replica(self, db_kwargs)
        if str(db_kwargs["source_db_instance_identifier"]).startswith("arn:"):
            _place_in_region(self, replica, db_kwargs)

        def complete() -> None:
            replica.status = "available"

        source = str(db_kwargs["source_db_instance_identifier"])
        source_region = source.split(":")[3] if source.startswith("arn:") else self.region_name
        _begin(replica, (("creating", layer.duration(timing.CREATE_READ_REPLICA)),), complete,
               event=RdsEvent("replica_created", self.region_name,
                              replica.db_instance_identifier,
                              source=(source_region, source.rsplit(":", 1)[-1])))
        return replica

    def modify_db_instance(
        self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]
    ) -> DBInstance:
        """AWS: a modification needs an `available` instance; a security-group change shows
        `modifying` briefly. A rename to an identifier already taken is refused
        (`DBInstanceAlreadyExists`: "You can't use an existing DB instance name"); otherwise
        the old name is gone at once, the new one "becomes effective in about 10 minutes"
        and "the renamed DB instance is not available until" then: for the first part of
        that time no describe finds it under either name, then it shows `renaming`.
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html
        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Modifying.html"""
        current = describe_db_instances(self, db_instance_identifier)[0]
        if id(current) in layer.rds:
            _require_available(current)
        renamed = bool(db_kwargs.get("new_db_instance_identifier"))
        if renamed:
            _refuse_taken(self, db_kwargs["new_db_instance_identifier"])
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

            event = None
            if regrouped:
                # New groups apply to new connections once the change is in effect; open
                # connections are kept (a security group tracks established connections).
                with layer.lock:
                    layer.quiesced.pop((self.region_name, instance.db_instance_identifier),
                                       None)
                event = RdsEvent("security_groups", self.region_name,
                                 instance.db_instance_identifier,
                                 security_groups=_group_names(self, instance))
            seconds = layer.duration(operation)
            _begin(instance, ((status, seconds),), complete, event=event,
                   unlisted_for=seconds * _RENAME_UNLISTED_SHARE if renamed else 0.0)
        return instance

    def reboot_db_instance(self: RDSBackend, db_instance_identifier: str) -> DBInstance:
        """AWS: a reboot needs an `available` instance (otherwise `InvalidDBInstanceState`),
        shows `rebooting` until it is `available` again, then records the event
        RDS-EVENT-0006 ("DB instance restarted", availability), and restarts the database
        engine: every session ends (moto's reboot changes nothing, and records no event). A
        source whose sessions a reboot ended while only dr's fence group (no rule) guarded it
        takes no more commits: its replicas' ReplicaLag is then modelled as 0
        (fidelity/cloudwatch.py).
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RebootInstance.html
        https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RebootDBInstance.html
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html"""
        instance = describe_db_instances(self, db_instance_identifier)[0]
        _require_available(instance)
        key = (self.region_name, instance.db_instance_identifier)
        _announce(RdsEvent("rebooting", *key))
        seconds = layer.duration(timing.REBOOT_DB_INSTANCE)

        fenced = _group_names(self, instance) == (_FENCE_GROUP,)

        def complete() -> None:
            instance.status = "available"
            self.add_event(_RESTARTED, instance)
            if fenced:  # nobody can open a session again: it takes no more commits
                layer.quiesced[key] = [layer.clock(), float("-inf")]

        _begin(instance, (("rebooting", seconds),), complete)
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
    RDSBackend.reboot_db_instance = reboot_db_instance  # type: ignore[method-assign]
    DBInstance.remove_replica = remove_replica  # type: ignore[method-assign]


def _group_names(backend: RDSBackend, instance: DBInstance) -> tuple[str, ...]:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[backend.account_id][backend.region_name]
    groups = [(gid, ec2.get_security_group_from_id(gid)) for gid in instance.vpc_security_group_ids]
    return tuple(group.name if group is not None else gid for gid, group in groups)


def quiesced_replicas() -> list[tuple[str, str, float, list[float]]]:
    """(region, identifier, sessions ended at, record) of each replica whose source's
    sessions a reboot ended while fenced: their ReplicaLag is published as 0."""
    _settle()
    found = []
    with layer.lock:
        entries = list(layer.quiesced.items())
    for (region, identifier), record in entries:
        for backend in _backends_of(region):
            source = backend.databases.get(identifier)
            if source is None:
                continue
            for replica in source.replicas:
                name = replica.rsplit(":", 1)[-1]
                replica_region = replica.split(":")[3] if replica.startswith("arn:") else region
                found.append((replica_region, name, record[0], record))
    return found


def _backends_of(region: str) -> list[RDSBackend]:
    return [regions[region] for regions in rds_backends.values() if region in regions]


