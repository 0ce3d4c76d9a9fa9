"""Known AWS regions, from botocore's own endpoint data (no hand-kept list to go stale)."""

from __future__ import annotations

from functools import cache

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@cache
def known_regions() -> frozenset[str]:
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in PARTITIONS:
        for service in ("ec2", "rds"):
            regions.update(session.get_available_regions(service, partition_name=partition))
    return frozenset(regions)
