"""The lab's CloudFront edge serves each distribution's deployed configuration: an update
reaches users only once the distribution is Deployed; origin names resolve through the lab's
DNS; an origin group fails over as CloudFront documents."""

from __future__ import annotations

import http.client
import json
from typing import Any

from dr.lab.edge import Edge
from tests.support.clock import FakeClock
from tests.support.lab_aws import LabAws

from .conftest import RegionApp, a_record, zone

ALB = {"primary": "alb.euw1.timeline.example.net", "secondary": "alb.euc1.timeline.example.net"}


def origin(origin_id: str, domain: str, port: int) -> dict[str, Any]:
    return {"Id": origin_id, "DomainName": domain, "CustomOriginConfig": {
        "HTTPPort": port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}


def distribution(aws: LabAws, origins: list[dict[str, Any]], target: str,
                 groups: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    config: dict[str, Any] = {
        "CallerReference": "edge-test", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": {"TargetOriginId": target, "ViewerProtocolPolicy": "allow-all",
                                 "MinTTL": 0, "ForwardedValues": {
                                     "QueryString": False, "Cookies": {"Forward": "none"}}}}
    if groups:
        config["OriginGroups"] = {"Quantity": len(groups), "Items": groups}
    created = aws.client("cloudfront").create_distribution(DistributionConfig=config)
    return created["Distribution"]["Id"], created["Distribution"]["DomainName"]


def regional_names(aws: LabAws) -> None:
    zone(aws, "timeline.example.net", [a_record(ALB["primary"], "127.0.0.11"),
                                       a_record(ALB["secondary"], "127.0.0.12")])


def get(edge: Edge, host: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    assert edge.cdn is not None
    conn = http.client.HTTPConnection(edge.cdn.address, edge.cdn.port, timeout=5)
    try:
        conn.request("GET", "/health", headers={"Host": host})
        answer = conn.getresponse()
        body = answer.read()
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = {}
        return answer.status, parsed, dict(answer.getheaders())
    finally:
        conn.close()


def switch_origin(aws: LabAws, distribution_id: str, domain: str) -> None:
    cloudfront = aws.client("cloudfront")
    got = cloudfront.get_distribution_config(Id=distribution_id)
    config = got["DistributionConfig"]
    config["Origins"]["Items"][0]["DomainName"] = domain
    cloudfront.update_distribution(Id=distribution_id, IfMatch=got["ETag"],
                                   DistributionConfig=config)


def test_the_edge_keeps_the_old_origin_until_the_update_is_deployed(
        aws: LabAws, clock: FakeClock, edge: Edge, apps: dict[str, RegionApp]) -> None:
    regional_names(aws)
    dist_id, domain = distribution(aws, [origin("api", ALB["primary"], apps["primary"].port)],
                                   "api")
    assert get(edge, domain)[0] == 403  # InProgress: not served anywhere yet
    clock.now += 300
    status, body, headers = get(edge, domain)
    assert (status, body["region"]) == (200, "eu-west-1")
    assert body["host"] == ALB["primary"]  # the origin's own name, as CloudFront sends it
    assert headers["X-Cache"] == "Miss from cloudfront"

    switch_origin(aws, dist_id, ALB["secondary"])
    status = aws.client("cloudfront").get_distribution(Id=dist_id)["Distribution"]["Status"]
    assert status == "InProgress"
    assert get(edge, domain)[1]["region"] == "eu-west-1"
    clock.now += 299.9
    assert get(edge, domain)[1]["region"] == "eu-west-1"
    clock.now += 0.1
    status = aws.client("cloudfront").get_distribution(Id=dist_id)["Distribution"]["Status"]
    assert status == "Deployed"
    assert get(edge, domain)[1]["region"] == "eu-central-1"


def test_an_unreachable_origin_is_a_502_and_an_unknown_host_a_403(
        aws: LabAws, edge: Edge, apps: dict[str, RegionApp]) -> None:
    regional_names(aws)
    _, domain = distribution(aws, [origin("api", ALB["primary"], apps["primary"].port)], "api")
    apps["primary"].close()
    assert get(edge, domain)[0] == 502
    assert get(edge, "d000000000000.cloudfront.net")[0] == 403


def test_an_origin_group_fails_over_on_its_status_codes_and_on_no_answer(
        aws: LabAws, edge: Edge, apps: dict[str, RegionApp]) -> None:
    regional_names(aws)
    port = apps["primary"].port
    group = {"Id": "both", "FailoverCriteria": {"StatusCodes": {"Quantity": 2,
                                                                "Items": [500, 503]}},
             "Members": {"Quantity": 2, "Items": [{"OriginId": "euw1"}, {"OriginId": "euc1"}]}}
    _, domain = distribution(aws, [origin("euw1", ALB["primary"], port),
                                   origin("euc1", ALB["secondary"], port)], "both", [group])
    assert get(edge, domain)[1]["region"] == "eu-west-1"
    apps["primary"].status = 503
    assert get(edge, domain)[1]["region"] == "eu-central-1"
    apps["primary"].status = 404  # not a failover code: the primary's answer stands
    assert get(edge, domain)[0:2] == (404, {"region": "eu-west-1", "host": ALB["primary"]})
    apps["primary"].close()
    assert get(edge, domain)[1]["region"] == "eu-central-1"
