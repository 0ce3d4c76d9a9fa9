"""Known AWS regions, from botocore's own partition data (no hand-kept list to go stale)."""

from __future__ import annotations

from functools import cache

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@cache
def known_regions() -> frozenset[str]:
    """Read through the gateway's shared model loader: the small partitions file, not the
    endpoint rules, and no botocore session (which cost ~0.3 s before the first step)."""
    from dr.aws.gateway import shared_loader

    partitions = shared_loader().load_data("partitions")["partitions"]
    return frozenset(region for partition in partitions if partition["id"] in PARTITIONS
                     for region in partition["regions"] if not region.endswith("-global"))
