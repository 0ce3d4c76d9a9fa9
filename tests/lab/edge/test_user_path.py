"""`dr` resolves a public URL as a client does, through the DNS server DR_RESOLVER names: an
answer is kept for its TTL, so after a change is INSYNC the old region may still be called,
for at most that TTL."""

from __future__ import annotations

import time

import pytest

from dr import publicurl
from dr.errors import UsageError
from dr.lab.edge import Edge
from tests.support.lab_aws import LabAws

from .conftest import RegionApp, a_record, cname, zone

NAME = "api.timeline.example.com"


def test_a_cached_answer_outlives_the_change_by_at_most_its_ttl(
        aws: LabAws, edge: Edge, apps: dict[str, RegionApp]) -> None:
    zone_id = zone(aws, "timeline.example.com", [cname(NAME, "api.euw1.timeline.example.net",
                                                       ttl=1)])
    zone(aws, "timeline.example.net", [a_record("api.euw1.timeline.example.net", "127.0.0.11"),
                                       a_record("api.euc1.timeline.example.net", "127.0.0.12")])
    client = publicurl.PublicClient(("127.0.0.1", edge.dns.port), timeout=1)
    url = f"http://{NAME}:{apps['primary'].port}/health"
    first = client.get(url, "region")
    cached_until = time.monotonic() + 1  # the answer's TTL, from when it was resolved
    assert (first.status, first.region, first.address) == (200, "eu-west-1", "127.0.0.11")

    # The instant profile: the change is INSYNC when the call returns.
    aws.client("route53").change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": cname(
            NAME, "api.euc1.timeline.example.net", ttl=1)}]})
    changed_at = time.monotonic()
    seen = []
    while time.monotonic() < changed_at + 3:
        asked = time.monotonic()  # when asked, not answered: a loaded machine answers late
        answer = client.get(url, "region")
        seen.append((asked, answer.region))
        if answer.region == "eu-central-1":
            break
        time.sleep(0.02)
    old = [at for at, region in seen if region == "eu-west-1"]
    new = [at for at, region in seen if region == "eu-central-1"]
    assert old, "the cached answer was not used after the change"
    assert new, "the new answer was never used"
    assert max(old) <= cached_until + 0.05  # never beyond the cached answer's TTL
    assert new[0] <= cached_until + 0.5  # and asked again once it has run out


def test_a_name_that_does_not_exist_says_so(aws: LabAws, edge: Edge) -> None:
    zone(aws, "timeline.example.com", [])
    client = publicurl.PublicClient(("127.0.0.1", edge.dns.port), timeout=1)
    answer = client.get(f"http://nope.{NAME}/health")
    assert answer.status is None and "NXDOMAIN" in (answer.error or "")


@pytest.mark.parametrize("value", ["dns.example.com", "127.0.0.1:x", "127.0.0.1:70000"])
def test_a_malformed_dr_resolver_is_a_usage_error(value: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(publicurl.ENV, value)
    with pytest.raises(UsageError, match="DR_RESOLVER"):
        publicurl.nameserver_from_env()


def test_dr_resolver_takes_an_address_and_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(publicurl.ENV, "127.0.0.1:5353")
    assert publicurl.nameserver_from_env() == ("127.0.0.1", 5353)
    monkeypatch.setenv(publicurl.ENV, "10.0.0.2")
    assert publicurl.nameserver_from_env() == ("10.0.0.2", 53)
    monkeypatch.delenv(publicurl.ENV)
    assert publicurl.nameserver_from_env() is None
