"""The observer is a user: its own resolver keeps answers for their TTL, and a path counts
as recovered only when the recovery region serves it N times in a row after the outage."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from dr.lab.edge import Edge
from dr.lab.observer import Observation, Observer
from tests.support.lab_aws import LabAws

from .conftest import RegionApp, a_record, cname, zone

NAME = "api.timeline.example.com"


def test_a_path_is_served_once_the_cached_answer_expires_and_the_region_answers(
        aws: LabAws, edge: Edge, apps: dict[str, RegionApp]) -> None:
    zone_id = zone(aws, "timeline.example.com", [cname(NAME, "api.euw1.timeline.example.net",
                                                       ttl=1)])
    zone(aws, "timeline.example.net", [a_record("api.euw1.timeline.example.net", "127.0.0.11"),
                                       a_record("api.euc1.timeline.example.net", "127.0.0.12")])
    apps["secondary"].status = 503
    url = f"http://{NAME}:{apps['primary'].port}/health"
    with Observer({"dns": url}, f"127.0.0.1:{edge.dns.port}", "eu-central-1",
                  interval=0.05) as seen:
        seen.mark_outage(datetime.now(UTC))
        time.sleep(0.2)
        aws.client("route53").change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": cname(
                NAME, "api.euc1.timeline.example.net", ttl=1)}]})
        changed_at = datetime.now(UTC)
        time.sleep(1.3)  # past the cached answer's TTL: the new region, still failing
        assert seen.rto_seconds is None
        apps["secondary"].status = 200
        healthy_at = datetime.now(UTC)
        assert seen.wait_served(timeout=5) is not None
    served = seen.served_at("dns")
    assert served is not None and served >= healthy_at - timedelta(seconds=0.06)
    regions = [(o.region, o.status) for o in seen.observations]
    assert ("eu-west-1", 200) in regions and ("eu-central-1", 503) in regions
    # The old region was called after the change, but not beyond the answer's TTL.
    late = [o.at for o in seen.observations if o.region == "eu-west-1" and o.at > changed_at]
    assert all(at <= changed_at + timedelta(seconds=1.1) for at in late)
    assert seen.paths_seconds["dns"] == seen.rto_seconds


def observation(second: int, ok: bool, path: str = "dns") -> Observation:
    return Observation(datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC), path, "127.0.0.12",
                       200, "r", ok)


def test_served_at_is_the_first_request_of_the_first_full_streak_per_path() -> None:
    seen = Observer({"dns": "http://x/", "cdn": "http://y/"}, "127.0.0.1:53", "r")
    pattern = [True, True, False, True, True, False, True, True, True, True]
    seen._observations = [observation(s, ok) for s, ok in enumerate(pattern)]
    seen._observations += [observation(s, True, "cdn") for s in range(3, 6)]
    assert seen.served_at("dns") is None and seen.rto_seconds is None
    seen.mark_outage(datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC))
    assert seen.served_at("dns") == datetime(2026, 1, 1, 0, 0, 6, tzinfo=UTC)
    assert seen.paths_seconds == {"dns": 4.0, "cdn": 1.0}
    assert seen.rto_seconds == 4.0  # the last path served
