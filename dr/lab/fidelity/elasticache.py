"""ElastiCache global datastores as AWS runs them; moto has none (`NotImplementedError` for
every *GlobalReplicationGroup* operation), lets a replication group name a datastore that
does not exist, keeps a deleted group `deleting` for ever, and lists no group's member
clusters in DescribeCacheClusters.

Restored, from the ElastiCache API Reference:
- CreateGlobalReplicationGroup makes `<region prefix>-<suffix>` around an existing primary
  ("Amazon ElastiCache automatically applies a prefix to the Global datastore ID when it is
  created. Each Amazon Region has its own prefix"): `creating`, then `primary-only` until a
  secondary is associated, then `available`.
  https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateGlobalReplicationGroup.html
- FailoverGlobalReplicationGroup: "The secondary region will become primary, and all other
  clusters will become secondary"; refused (InvalidGlobalReplicationGroupState) when the
  datastore "is not available or in primary-only state".
  https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_FailoverGlobalReplicationGroup.html
- DisassociateGlobalReplicationGroup: the secondary "will no longer receive updates from the
  primary cluster, but will remain as a standalone cluster in that Amazon region".
  https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DisassociateGlobalReplicationGroup.html
- DeleteGlobalReplicationGroup only once the datastore "contains only the primary cluster",
  with RetainPrimaryReplicationGroup; "The primary cluster is never deleted when deleting a
  Global Datastore. It can only be deleted when it no longer is associated with any Global
  Datastore" (so DeleteReplicationGroup refuses a member).
  https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DeleteGlobalReplicationGroup.html
- CreateReplicationGroup with GlobalReplicationGroupId joins an existing datastore as a
  secondary (GlobalReplicationGroupNotFoundFault otherwise), `creating` until `available`;
  DeleteReplicationGroup: `deleting`, then gone.

Durations come from dr/lab/timing.py. Assumptions where AWS says nothing: a datastore is
described only in a region that holds one of its members; a datastore is `modifying` during
a failover or a disassociation, and the roles change when it ends; the operations are
answered by any member region's endpoint, the lost primary region's included (AWS documents
no behaviour for a region that does not answer).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.elasticache.exceptions import (
    ElastiCacheException,
    InvalidParameterValueException,
    ReplicationGroupNotFound,
)
from moto.elasticache.models import (
    CacheCluster,
    ElastiCacheBackend,
    ReplicationGroup,
    elasticache_backends,
)
from moto.elasticache.responses import ElastiCacheResponse

from dr.lab import timing
from dr.lab.fidelity.layer import layer

PRIMARY, SECONDARY = "PRIMARY", "SECONDARY"


class GlobalNotFound(ElastiCacheException):
    code = "GlobalReplicationGroupNotFoundFault"


class GlobalExists(ElastiCacheException):
    code = "GlobalReplicationGroupAlreadyExistsFault"


class GlobalState(ElastiCacheException):
    code = "InvalidGlobalReplicationGroupState"


class GroupState(ElastiCacheException):
    code = "InvalidReplicationGroupState"


@dataclass
class _Member:
    region: str
    group_id: str
    role: str
    status: str = "associated"


@dataclass
class _Datastore:
    account: str
    gid: str
    description: str
    node_type: str
    engine: str
    members: list[_Member] = field(default_factory=list)
    status: str = "creating"

    def member(self, region: str, group_id: str) -> _Member | None:
        return next((m for m in self.members if (m.region, m.group_id) == (region, group_id)),
                    None)

    def answer(self, with_members: bool = True) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "GlobalReplicationGroupId": self.gid,
            "GlobalReplicationGroupDescription": self.description,
            "Status": self.status, "CacheNodeType": self.node_type, "Engine": self.engine,
            "ClusterEnabled": False,
            "ARN": f"arn:aws:elasticache::{self.account}:globalreplicationgroup:{self.gid}"}
        if with_members:
            shown["Members"] = [{"ReplicationGroupId": m.group_id,
                                 "ReplicationGroupRegion": m.region, "Role": m.role,
                                 "Status": m.status} for m in self.members]
        return shown


def prefix(region: str) -> str:
    """The lab's five-letter prefix of datastores created in `region`. AWS gives each Region
    its own; the lab derives one from the Region's name, stable across runs."""
    digest = hashlib.sha256(region.encode()).digest()
    return "".join(chr(ord("a") + b % 26) for b in digest[:5])


def _settle() -> None:
    """Complete every modelled transition that is due by the clock."""
    now = layer.clock()
    with layer.lock:
        for key, (ends_at, complete) in list(layer.cache_pending.items()):
            if now >= ends_at:
                del layer.cache_pending[key]
                complete()


def _begin(key: str, operation: str, complete: Callable[[], None]) -> None:
    with layer.lock:
        layer.cache_pending[key] = (layer.clock() + layer.duration(operation), complete)
    _settle()


def _backend(account: str, region: str) -> ElastiCacheBackend:
    return elasticache_backends[account][region]


def _join(group: ReplicationGroup, gid: str, role: str) -> None:
    group.global_replication_group_id = gid
    group.global_replication_group_member_role = role


def _leave(account: str, region: str, group_id: str) -> None:
    """The group is standalone: moto omits GlobalReplicationGroupInfo without the role."""
    group = _backend(account, region).replication_groups.get(group_id)
    if group is not None:
        group.global_replication_group_id = ""
        group.__dict__.pop("global_replication_group_member_role", None)


def _set_role(account: str, member: _Member) -> None:
    group = _backend(account, member.region).replication_groups.get(member.group_id)
    if group is not None:
        group.global_replication_group_member_role = member.role


def _visible(account: str, region: str, gid: str) -> _Datastore:
    _settle()
    with layer.lock:
        found = layer.datastores.get(gid)
    if found is None or found.account != account or not any(
            m.region == region for m in found.members):
        raise GlobalNotFound(f"Global datastore {gid} not found.")
    return found


def _require_status(datastore: _Datastore, *allowed: str) -> None:
    if datastore.status not in allowed:
        raise GlobalState(f"Global datastore {datastore.gid} is {datastore.status}: the "
                          "Global datastore is not available or in primary-only state.")


# --- the global datastore operations ---------------------------------------------------


def create_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    suffix = self._get_param("GlobalReplicationGroupIdSuffix")
    primary_id = self._get_param("PrimaryReplicationGroupId")
    account, region = self.current_account, self.region
    _settle()
    group = _backend(account, region).replication_groups.get(primary_id)
    if group is None:
        raise ReplicationGroupNotFound(primary_id)
    if group.status != "available" or group.global_replication_group_id:
        raise GroupState(f"Replication group {primary_id} is {group.status}"
                         + (f" and a member of {group.global_replication_group_id}"
                            if group.global_replication_group_id else ""))
    gid = f"{prefix(region)}-{suffix}"
    datastore = _Datastore(account, gid, self._get_param("GlobalReplicationGroupDescription")
                           or "", group.cache_node_type, group.engine,
                           [_Member(region, primary_id, PRIMARY)])
    with layer.lock:
        if gid in layer.datastores:
            raise GlobalExists(f"Global datastore {gid} already exists.")
        layer.datastores[gid] = datastore
    _join(group, gid, PRIMARY)

    def created() -> None:
        datastore.status = "primary-only"

    _begin(f"global:{gid}", timing.CACHE_CREATE_GLOBAL, created)
    return ActionResult({"GlobalReplicationGroup": datastore.answer()})


def describe_global_replication_groups(self: ElastiCacheResponse) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    with_members = self._get_param("ShowMemberInfo") in (True, "true")
    account, region = self.current_account, self.region
    if gid:
        found = [_visible(account, region, gid)]
    else:
        _settle()
        with layer.lock:
            found = [d for d in layer.datastores.values() if d.account == account
                     and any(m.region == region for m in d.members)]
    return ActionResult({"GlobalReplicationGroups": [d.answer(with_members) for d in found]})


def failover_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    account = self.current_account
    datastore = _visible(account, self.region, self._get_param("GlobalReplicationGroupId"))
    to_region = self._get_param("PrimaryRegion")
    chosen = datastore.member(to_region, self._get_param("PrimaryReplicationGroupId"))
    with layer.lock:
        _require_status(datastore, "available")
        if chosen is None or chosen.role != SECONDARY:
            raise InvalidParameterValueException(
                f"{self._get_param('PrimaryReplicationGroupId')} in {to_region} is not a "
                f"secondary member of {datastore.gid}.")
        datastore.status = "modifying"

    def failed_over() -> None:
        for member in datastore.members:
            member.role = PRIMARY if member is chosen else SECONDARY
            _set_role(account, member)
        datastore.status = "available"

    _begin(f"global:{datastore.gid}", timing.CACHE_FAILOVER_GLOBAL, failed_over)
    return ActionResult({"GlobalReplicationGroup": datastore.answer()})


def disassociate_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    account = self.current_account
    datastore = _visible(account, self.region, self._get_param("GlobalReplicationGroupId"))
    region = self._get_param("ReplicationGroupRegion")
    leaving = datastore.member(region, self._get_param("ReplicationGroupId"))
    with layer.lock:
        _require_status(datastore, "available")
        if leaving is None or leaving.role != SECONDARY:
            raise InvalidParameterValueException(
                f"{self._get_param('ReplicationGroupId')} in {region} is not a secondary "
                f"member of {datastore.gid}: only a secondary cluster can be removed.")
        datastore.status, leaving.status = "modifying", "disassociating"

    def left() -> None:
        datastore.members.remove(leaving)
        _leave(account, leaving.region, leaving.group_id)
        datastore.status = "available" if len(datastore.members) > 1 else "primary-only"

    _begin(f"global:{datastore.gid}", timing.CACHE_DISASSOCIATE_GLOBAL, left)
    return ActionResult({"GlobalReplicationGroup": datastore.answer()})


def delete_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    account = self.current_account
    datastore = _visible(account, self.region, self._get_param("GlobalReplicationGroupId"))
    if self._get_param("RetainPrimaryReplicationGroup") not in (True, "true"):
        raise InvalidParameterValueException(
            "RetainPrimaryReplicationGroup must be true: the primary cluster is never deleted "
            "when deleting a Global Datastore.")
    with layer.lock:
        _require_status(datastore, "primary-only")
        datastore.status = "deleting"

    def deleted() -> None:
        for member in datastore.members:
            _leave(account, member.region, member.group_id)
        layer.datastores.pop(datastore.gid, None)

    _begin(f"global:{datastore.gid}", timing.CACHE_DISASSOCIATE_GLOBAL, deleted)
    return ActionResult({"GlobalReplicationGroup": datastore.answer()})


# --- replication groups ----------------------------------------------------------------


def _member_clusters(backend: ElastiCacheBackend, group: ReplicationGroup,
                     subnet_group: str | None, security_group_ids: list[str] | None) -> None:
    """The group's nodes as DescribeCacheClusters shows them (their subnet group and VPC
    security groups are found there, not in DescribeReplicationGroups)."""
    names = [p for p in inspect.signature(CacheCluster.__init__).parameters if p != "self"]
    for cluster_id in group.member_clusters:
        cluster = CacheCluster(**{**dict.fromkeys(names), **{
            "account_id": backend.account_id, "region_name": backend.region_name,
            "cache_cluster_id": cluster_id, "cache_node_type": group.cache_node_type,
            "replication_group_id": group.replication_group_id, "engine": "redis",
            "cache_subnet_group_name": subnet_group,
            "security_group_ids": security_group_ids, "log_delivery_configurations": [],
            "transit_encryption_enabled": group.transit_encryption_enabled}})
        cluster.security_groups = [{"SecurityGroupId": sg, "Status": "active"}
                                   for sg in security_group_ids or []]
        backend.cache_clusters[cluster_id] = cluster


def install() -> None:
    create = ElastiCacheBackend.create_replication_group
    delete = ElastiCacheBackend.delete_replication_group
    describe = ElastiCacheBackend.describe_replication_groups
    describe_clusters = ElastiCacheBackend.describe_cache_clusters

    def create_replication_group(self: ElastiCacheBackend, **kwargs: Any) -> ReplicationGroup:
        """Joins the named global datastore as a secondary; `creating` until `available`."""
        _settle()
        gid = kwargs.get("global_replication_group_id")
        datastore = None
        if gid:
            with layer.lock:
                datastore = layer.datastores.get(gid)
            if datastore is None or datastore.account != self.account_id:
                raise GlobalNotFound(f"Global datastore {gid} not found.")
            _require_status(datastore, "available", "primary-only")
            if any(m.region == self.region_name for m in datastore.members):
                raise InvalidParameterValueException(
                    f"Global datastore {gid} already has a member in {self.region_name}.")
        group = create(self, **kwargs)
        _member_clusters(self, group, kwargs.get("cache_subnet_group_name"),
                         kwargs.get("security_group_ids"))
        group.status = "creating"
        member = None
        if datastore is not None:
            member = _Member(self.region_name, group.replication_group_id, SECONDARY,
                             "associating")
            with layer.lock:
                datastore.members.append(member)

        def created() -> None:
            group.status = "available"
            if datastore is not None and member is not None:
                member.status = "associated"
                if datastore.status == "primary-only":
                    datastore.status = "available"

        _begin(f"group:{group.arn}", timing.CACHE_CREATE_GROUP, created)
        return group

    def delete_replication_group(self: ElastiCacheBackend, replication_group_id: str,
                                 retain_primary_cluster: bool | None) -> ReplicationGroup:
        """Refused for a member of a global datastore; `deleting`, then gone."""
        _settle()
        group = self.replication_groups.get(replication_group_id)
        if group is not None and group.global_replication_group_id:
            raise GroupState(f"Replication group {replication_group_id} is a member of global "
                             f"datastore {group.global_replication_group_id}: remove it "
                             "from the datastore first.")
        if group is not None and group.status != "available":
            raise GroupState(f"Replication group {replication_group_id} is {group.status}.")
        deleted = delete(self, replication_group_id, retain_primary_cluster)

        def gone() -> None:
            if self.replication_groups.get(replication_group_id) is deleted:
                del self.replication_groups[replication_group_id]
            for cluster_id in [c for c, cluster in self.cache_clusters.items()
                               if getattr(cluster, "replication_group_id", None)
                               == replication_group_id]:
                del self.cache_clusters[cluster_id]

        _begin(f"group:{deleted.arn}", timing.CACHE_DELETE_GROUP, gone)
        return deleted

    def describe_replication_groups(self: ElastiCacheBackend,
                                    replication_group_id: str | None = None
                                    ) -> list[ReplicationGroup]:
        _settle()
        return describe(self, replication_group_id)

    def describe_cache_clusters(self: ElastiCacheBackend, cache_cluster_id: str | None = None
                                ) -> list[CacheCluster]:
        _settle()
        return describe_clusters(self, cache_cluster_id)

    ElastiCacheBackend.create_replication_group = create_replication_group  # type: ignore[method-assign]
    ElastiCacheBackend.delete_replication_group = delete_replication_group  # type: ignore[method-assign]
    ElastiCacheBackend.describe_replication_groups = describe_replication_groups  # type: ignore[method-assign]
    ElastiCacheBackend.describe_cache_clusters = describe_cache_clusters  # type: ignore[method-assign]
    for operation in (create_global_replication_group, describe_global_replication_groups,
                      failover_global_replication_group, disassociate_global_replication_group,
                      delete_global_replication_group):
        setattr(ElastiCacheResponse, operation.__name__, operation)
