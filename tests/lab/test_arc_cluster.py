"""The lab's ARC cluster data plane, driven with boto3's own route53-recovery-cluster client:
five endpoints over one state; an update through one is read through another; a whole
update is refused when one control is unknown; a lost region's endpoint never answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from dr.lab.arc import ArcCluster

PANEL = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b"
EAST, WEST = f"{PANEL}/routingcontrol/aa11", f"{PANEL}/routingcontrol/bb22"


@pytest.fixture
def cluster() -> Iterator[ArcCluster]:
    with ArcCluster() as running:
        running.add_control(EAST, "east", "On", PANEL)
        running.add_control(WEST, "west", "Off", PANEL)
        yield running


def client(endpoint: dict[str, str], **config: Any) -> Any:
    return boto3.client("route53-recovery-cluster", region_name=endpoint["region"],
                        endpoint_url=endpoint["url"], aws_access_key_id="lab",
                        aws_secret_access_key="lab",
                        config=Config(retries={"total_max_attempts": 1}, **config))


def test_five_endpoints_share_one_state(cluster: ArcCluster) -> None:
    first, *_, last = cluster.endpoints
    assert len(cluster.endpoints) == 5
    client(first).update_routing_control_states(UpdateRoutingControlStateEntries=[
        {"RoutingControlArn": WEST, "RoutingControlState": "On"},
        {"RoutingControlArn": EAST, "RoutingControlState": "Off"}])
    read = client(last)
    assert read.get_routing_control_state(RoutingControlArn=WEST)["RoutingControlState"] == "On"
    assert read.get_routing_control_state(RoutingControlArn=EAST)["RoutingControlState"] == "Off"
    listed = read.list_routing_controls(ControlPanelArn=PANEL)["RoutingControls"]
    assert {c["RoutingControlName"]: c["RoutingControlState"] for c in listed} == {
        "east": "Off", "west": "On"}


def test_an_update_naming_an_unknown_control_changes_nothing(cluster: ArcCluster) -> None:
    with pytest.raises(ClientError) as refused:
        client(cluster.endpoints[0]).update_routing_control_states(
            UpdateRoutingControlStateEntries=[
                {"RoutingControlArn": WEST, "RoutingControlState": "On"},
                {"RoutingControlArn": f"{PANEL}/routingcontrol/nope",
                 "RoutingControlState": "Off"}])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert cluster.states() == {EAST: "On", WEST: "Off"}


def test_a_lost_regions_endpoint_never_answers(cluster: ArcCluster) -> None:
    east = next(e for e in cluster.endpoints if e["region"] == "us-east-1")
    cluster.outage("us-east-1")
    with pytest.raises(ReadTimeoutError):
        client(east, read_timeout=0.5, connect_timeout=0.5).get_routing_control_state(
            RoutingControlArn=EAST)
    other = next(e for e in cluster.endpoints if e["region"] == "us-west-2")
    assert client(other).get_routing_control_state(
        RoutingControlArn=EAST)["RoutingControlState"] == "On"


def test_changes_are_told_to_the_lab(cluster: ArcCluster) -> None:
    seen: list[dict[str, str]] = []
    cluster.on_change = seen.append
    client(cluster.endpoints[1]).update_routing_control_state(
        RoutingControlArn=WEST, RoutingControlState="On")
    assert seen == [{EAST: "On", WEST: "On"}]
