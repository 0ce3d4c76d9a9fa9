"""CloudFront as AWS runs it: an update needs the current ETag, gets a new one, and is
InProgress until it has reached every edge location; until then the edges serve the
configuration deployed before it.

Each create and update records the configuration the edges will serve once it is deployed;
the lab's edge (dr/lab/edge/cdn.py) serves `deployed()` configurations only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudfront.exceptions import (
    CloudFrontException,
    InvalidIfMatchVersion,
    NoSuchDistribution,
)
from moto.cloudfront.models import CloudFrontBackend, Distribution, DistributionConfig

from dr.lab import timing
from dr.lab.fidelity.layer import aws_id, layer


@dataclass(frozen=True)
class DeployedOrigin:
    id: str
    domain_name: str
    origin_path: str
    protocol_policy: str  # http-only, https-only, match-viewer; S3 origins: https-only
    http_port: int
    https_port: int


@dataclass(frozen=True)
class DeployedOriginGroup:
    id: str
    members: tuple[str, ...]  # origin ids, primary first
    failover_status_codes: frozenset[int]


@dataclass(frozen=True)
class DeployedDistribution:
    """What the edges serve for one distribution."""

    distribution_id: str
    domain_name: str
    aliases: tuple[str, ...]
    enabled: bool
    origins: dict[str, DeployedOrigin]
    origin_groups: dict[str, DeployedOriginGroup]
    behaviors: tuple[tuple[str, str], ...]  # (path pattern, target id), in order
    default_target: str


def _items(section: Any) -> list[Any]:
    items = (section or {}).get("Items") or []
    return items if isinstance(items, list) else [items]


def _snapshot(dist: Distribution) -> DeployedDistribution:
    config = dist.distribution_config
    origins = {}
    for origin in _items(config.Origins):
        custom = getattr(origin, "custom_origin_config", None)
        origins[origin.id] = DeployedOrigin(
            origin.id, origin.domain_name, origin.origin_path or "",
            custom.origin_protocol_policy if custom else "https-only",
            int(custom.http_port or 80) if custom else 80,
            int(custom.https_port or 443) if custom else 443)
    groups = {}
    for group in _items(config.OriginGroups):
        codes = _items(group.get("FailoverCriteria", {}).get("StatusCodes"))
        groups[group["Id"]] = DeployedOriginGroup(
            group["Id"], tuple(m["OriginId"] for m in _items(group.get("Members"))),
            frozenset(int(c) for c in codes))
    behaviors = tuple((b.path_pattern, b.target_origin_id)
                      for b in _items(config.CacheBehaviors) if hasattr(b, "path_pattern"))
    return DeployedDistribution(
        dist.distribution_id, dist.domain_name, tuple(_items(config.Aliases)),
        bool(config.Enabled) and str(config.Enabled).lower() != "false", origins, groups,
        behaviors, config.DefaultCacheBehavior.target_origin_id)


def deployed() -> list[DeployedDistribution]:
    """Every distribution as the edges serve it now: its last configuration that is
    deployed (one still InProgress is not served yet)."""
    now = layer.clock()
    found = []
    with layer.lock:
        for distribution_id, history in layer.deployed.items():
            due = [entry for entry in history if entry[0] <= now]
            if not due:
                continue
            layer.deployed[distribution_id] = history[history.index(due[-1]):]
            if due[-1][1] is not None:
                found.append(due[-1][1])
    return found


class _PreconditionFailed(CloudFrontException):
    def __init__(self) -> None:
        super().__init__(
            "PreconditionFailed",
            "The precondition given in one or more of the request header fields "
            "evaluated to false.",
        )


def install() -> None:
    create = CloudFrontBackend.create_distribution_with_tags
    update = CloudFrontBackend.update_distribution

    config_init = DistributionConfig.__init__
    delete = CloudFrontBackend.delete_distribution

    def deploying(dist: Distribution) -> None:
        dist._dr_deployed_at = layer.clock() + layer.duration(timing.CLOUDFRONT_DEPLOY)
        with layer.lock:
            layer.deployed.setdefault(dist.distribution_id, []).append(
                (dist._dr_deployed_at, _snapshot(dist)))

    def distribution_config(self: DistributionConfig, config: dict[str, Any]) -> None:
        """AWS: a cache behaviour's `TargetOriginId` may name an origin group (moto accepts
        origins only: `NoSuchOrigin`).
        https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html"""
        behavior = config.get("DefaultCacheBehavior") or {}
        groups = {g["Id"]: g for g in _items(config.get("OriginGroups"))}
        target = behavior.get("TargetOriginId")
        members = _items(groups[target].get("Members")) if target in groups else []
        if not members:
            config_init(self, config)
            return
        behavior["TargetOriginId"] = members[0]["OriginId"]
        config_init(self, config)
        self.DefaultCacheBehavior.target_origin_id = target

    def delete_distribution(self: CloudFrontBackend, distribution_id: str, if_match: bool
                            ) -> None:
        """AWS: a deleted distribution is no longer served."""
        delete(self, distribution_id, if_match)
        with layer.lock:
            layer.deployed.setdefault(distribution_id, []).append((layer.clock(), None))

    def status(self: Distribution) -> str:
        """AWS: a distribution is `InProgress` after a create or update until the
        configuration has propagated to every edge location (within 5 minutes), then
        `Deployed`.
        https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Distribution.html"""
        deployed_at: float | None = getattr(self, "_dr_deployed_at", None)
        if deployed_at is None or layer.clock() >= deployed_at:
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
        dist.etag = aws_id("E")
        dist.last_modified_time = datetime.now(UTC).isoformat(timespec="milliseconds")
        deploying(dist)
        return dist, location, dist.etag

    Distribution.status = property(status)  # type: ignore[assignment]
    DistributionConfig.__init__ = distribution_config  # type: ignore[method-assign]
    CloudFrontBackend.delete_distribution = delete_distribution  # type: ignore[method-assign]
    CloudFrontBackend.create_distribution_with_tags = create_distribution_with_tags  # type: ignore[method-assign]
    CloudFrontBackend.update_distribution = update_distribution  # type: ignore[method-assign]


