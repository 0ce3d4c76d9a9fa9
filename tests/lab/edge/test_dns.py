"""The lab's DNS answers the emulator's hosted zones as Route 53's name servers do: a change
only once it is INSYNC, each record with its TTL, failover and weighted records by their
health checks; and CloudFront domain names at the edge, once deployed."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import boto3
import dns.message
import dns.query
import dns.rcode
import dns.resolver

from dr.lab.edge import Edge
from tests.support.clock import FakeClock
from tests.support.lab_aws import LabAws

from .conftest import RegionApp, a_record, cname, zone


def ask(edge: Edge, name: str, qtype: str = "A", tcp: bool = False) -> Any:
    query = dns.message.make_query(name, qtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, edge.dns.address, timeout=10, port=edge.dns.port)


def answers(reply: Any) -> list[tuple[str, int, str]]:
    return [(rrset.name.to_text(), rrset.ttl, item.to_text())
            for rrset in reply.answer for item in rrset]


def test_a_change_is_answered_only_once_it_is_insync(
        aws: LabAws, clock: FakeClock, edge: Edge) -> None:
    route53 = aws.client("route53")
    zone_id = zone(aws, "timeline.example.com", [cname("api.timeline.example.com", "old.net")])
    clock.now += 60  # the creation's own propagation
    assert answers(ask(edge, "api.timeline.example.com", "CNAME")) == [
        ("api.timeline.example.com.", 60, "old.net.")]

    change = route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": cname(
            "api.timeline.example.com", "new.net", ttl=30)}]})["ChangeInfo"]["Id"]
    # The API shows the new value at once; the name servers do not, until INSYNC.
    assert route53.get_change(Id=change)["ChangeInfo"]["Status"] == "PENDING"
    assert answers(ask(edge, "api.timeline.example.com", "CNAME")) == [
        ("api.timeline.example.com.", 60, "old.net.")]
    clock.now += 59.9
    assert route53.get_change(Id=change)["ChangeInfo"]["Status"] == "PENDING"
    assert answers(ask(edge, "api.timeline.example.com", "CNAME", tcp=True)) == [
        ("api.timeline.example.com.", 60, "old.net.")]
    clock.now += 0.1
    assert route53.get_change(Id=change)["ChangeInfo"]["Status"] == "INSYNC"
    assert answers(ask(edge, "api.timeline.example.com", "CNAME")) == [
        ("api.timeline.example.com.", 30, "new.net.")]


def test_a_cname_chain_into_another_served_zone_comes_whole(aws: LabAws, edge: Edge) -> None:
    zone(aws, "timeline.example.com", [cname("api.timeline.example.com",
                                              "api.euw1.timeline.example.net", ttl=3)])
    zone(aws, "timeline.example.net", [a_record("api.euw1.timeline.example.net", "127.0.0.11")])
    reply = ask(edge, "api.timeline.example.com")
    assert answers(reply) == [("api.timeline.example.com.", 3, "api.euw1.timeline.example.net."),
                              ("api.euw1.timeline.example.net.", 60, "127.0.0.11")]
    # A stub resolver keeps the whole answer for the shortest TTL of its chain.
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = [edge.dns.address], edge.dns.port
    asked = time.time()
    assert resolver.resolve("api.timeline.example.com").expiration <= asked + 3 + 0.5


def test_unknown_names_are_nxdomain_and_other_zones_refused(aws: LabAws, edge: Edge) -> None:
    zone(aws, "timeline.example.com", [a_record("www.timeline.example.com", "127.0.0.11")])
    assert ask(edge, "nothing.timeline.example.com").rcode() == dns.rcode.NXDOMAIN
    nodata = ask(edge, "www.timeline.example.com", "TXT")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer and nodata.authority
    assert ask(edge, "www.example.org").rcode() == dns.rcode.REFUSED


def health_check(aws: LabAws, app: RegionApp, address: str) -> str:
    route53 = aws.client("route53")
    return route53.create_health_check(CallerReference=f"hc-{address}", HealthCheckConfig={
        "IPAddress": address, "Port": app.port, "Type": "HTTP", "ResourcePath": "/health",
        "RequestInterval": 10, "FailureThreshold": 1})["HealthCheck"]["Id"]


def wait_for_answer(edge: Edge, name: str, expected: str, timeout: float = 5) -> list[str]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(answers(ask(edge, name))[-1][2])
        if seen[-1] == expected:
            return seen
        time.sleep(0.05)
    return seen


def test_failover_records_follow_their_health_checks(
        aws: LabAws, edge: Edge, apps: dict[str, RegionApp]) -> None:
    checks = {role: health_check(aws, app, f"127.0.0.{11 + i}")
              for i, (role, app) in enumerate(apps.items())}
    zone(aws, "timeline.example.com", [
        {**a_record("api.timeline.example.com", f"127.0.0.{11 + i}", ttl=1),
         "SetIdentifier": role, "Failover": role.upper(), "HealthCheckId": checks[role]}
        for i, role in enumerate(("primary", "secondary"))])
    assert wait_for_answer(edge, "api.timeline.example.com", "127.0.0.11")[-1] == "127.0.0.11"

    apps["primary"].status = 503
    seen = wait_for_answer(edge, "api.timeline.example.com", "127.0.0.12")
    assert seen[-1] == "127.0.0.12" and set(seen) <= {"127.0.0.11", "127.0.0.12"}

    apps["secondary"].status = 503  # both unhealthy: Route 53 answers the primary
    assert wait_for_answer(edge, "api.timeline.example.com", "127.0.0.11")[-1] == "127.0.0.11"


def test_weighted_records_answer_healthy_ones_by_weight(
        aws: LabAws, edge: Edge, apps: dict[str, RegionApp]) -> None:
    checks = {role: health_check(aws, app, f"127.0.0.{11 + i}")
              for i, (role, app) in enumerate(apps.items())}
    zone(aws, "timeline.example.com", [
        {**a_record("api.timeline.example.com", "127.0.0.11"), "SetIdentifier": "a",
         "Weight": 3, "HealthCheckId": checks["primary"]},
        {**a_record("api.timeline.example.com", "127.0.0.12"), "SetIdentifier": "b",
         "Weight": 1, "HealthCheckId": checks["secondary"]},
        {**a_record("api.timeline.example.com", "127.0.0.13"), "SetIdentifier": "c",
         "Weight": 0}])
    counts = Counter(answers(ask(edge, "api.timeline.example.com"))[0][2] for _ in range(200))
    assert set(counts) == {"127.0.0.11", "127.0.0.12"}  # weight 0 only when all weigh 0
    assert counts["127.0.0.11"] > counts["127.0.0.12"]

    apps["primary"].status = 500
    deadline = time.monotonic() + 5
    while edge.checkers.healthy(checks["primary"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    after = Counter(answers(ask(edge, "api.timeline.example.com"))[0][2] for _ in range(50))
    assert set(after) == {"127.0.0.12"}


def test_a_distribution_resolves_to_the_edge_once_deployed(
        aws: LabAws, clock: FakeClock, edge: Edge) -> None:
    domain = aws.client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "d", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "api", "DomainName": "alb.example.net",
                                              "CustomOriginConfig": {
                                                  "HTTPPort": 80, "HTTPSPort": 443,
                                                  "OriginProtocolPolicy": "http-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "api", "ViewerProtocolPolicy": "allow-all",
                                 "MinTTL": 0, "ForwardedValues": {
                                     "QueryString": False, "Cookies": {"Forward": "none"}}},
    })["Distribution"]["DomainName"]
    assert ask(edge, domain).rcode() == dns.rcode.NXDOMAIN
    clock.now += 300
    assert answers(ask(edge, domain)) == [(domain + ".", 60, "127.0.0.20")]


def test_failover_records_follow_their_routing_controls(aws: LabAws, edge: Edge) -> None:
    """RECOVERY_CONTROL health checks: the record whose control is On is answered; turning
    the controls through the cluster's data plane moves the answer, no Route 53 call."""
    from dr.lab.arc import ArcCluster
    from dr.lab.fidelity import route53_recovery

    panel = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b"
    controls = {"primary": f"{panel}/routingcontrol/aa11",
                "secondary": f"{panel}/routingcontrol/bb22"}
    route53 = aws.client("route53")
    checks = {role: route53.create_health_check(CallerReference=f"rc-{role}", HealthCheckConfig={
        "Type": "RECOVERY_CONTROL", "RoutingControlArn": arn})["HealthCheck"]
        for role, arn in controls.items()}
    assert checks["primary"]["HealthCheckConfig"]["RoutingControlArn"] == controls["primary"]
    with ArcCluster() as cluster:
        for role, arn in controls.items():
            cluster.add_control(arn, role, "On" if role == "primary" else "Off", panel)
        route53_recovery.set_routing_controls(lambda arn: cluster.states().get(arn))
        try:
            zone(aws, "timeline.example.com", [
                {**a_record("api.timeline.example.com", f"127.0.0.{11 + i}", ttl=1),
                 "SetIdentifier": role, "Failover": role.upper(),
                 "HealthCheckId": checks[role]["Id"]}
                for i, role in enumerate(("primary", "secondary"))])
            assert wait_for_answer(edge, "api.timeline.example.com", "127.0.0.11")[-1] == \
                "127.0.0.11"
            boto3.client("route53-recovery-cluster", region_name="us-west-2",
                         endpoint_url=cluster.endpoints[1]["url"], aws_access_key_id="lab",
                         aws_secret_access_key="lab").update_routing_control_states(
                UpdateRoutingControlStateEntries=[
                    {"RoutingControlArn": controls["secondary"], "RoutingControlState": "On"},
                    {"RoutingControlArn": controls["primary"], "RoutingControlState": "Off"}])
            assert wait_for_answer(edge, "api.timeline.example.com", "127.0.0.12")[-1] == \
                "127.0.0.12"
        finally:
            route53_recovery.set_routing_controls(None)
