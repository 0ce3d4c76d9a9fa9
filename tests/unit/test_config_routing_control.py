"""Contract 1.1's routing-control keys: `dns[].routing_control` and
`routing_control_cluster.endpoints`, parsed, and refused with their key path when wrong."""

from __future__ import annotations

import pytest

from dr import config
from dr.config.model import ClusterEndpoint, Sided
from dr.errors import ConfigError
from tests.support.contract import CONTRACT_YAML

PANEL = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b"
CONTROLS = f"""\
    routing_control:
      primary: {PANEL}/routingcontrol/aa11
      secondary: {PANEL}/routingcontrol/bb22
"""
CLUSTER = """\
routing_control_cluster:
  endpoints:
    - {region: us-east-1, url: https://host-aaaaaa.us-east-1.example.aws/v1}
    - {region: us-west-2, url: https://host-bbbbbb.us-west-2.example.aws/v1}
"""
AFTER_RECORD = "    secondary: api.usw2.timeline.example.net\n"


def with_controls(cluster: str = CLUSTER, controls: str = CONTROLS) -> str:
    return CONTRACT_YAML.replace(AFTER_RECORD, AFTER_RECORD + controls, 1) + cluster


def test_the_contract_example_parses() -> None:
    parsed = config.parse(with_controls())
    assert parsed.dns[0].routing_control == Sided(f"{PANEL}/routingcontrol/aa11",
                                                  f"{PANEL}/routingcontrol/bb22")
    assert parsed.routing_control_cluster == (
        ClusterEndpoint("us-east-1", "https://host-aaaaaa.us-east-1.example.aws/v1"),
        ClusterEndpoint("us-west-2", "https://host-bbbbbb.us-west-2.example.aws/v1"))


@pytest.mark.parametrize(("text", "said"), [
    (with_controls(cluster=""), "routing_control_cluster: required when dns[0] has "
                                "routing_control"),
    (with_controls(controls=CONTROLS.replace("routingcontrol/aa11", "rc/aa11")),
     "dns[0].routing_control.primary: must be a routing control ARN"),
    (with_controls(cluster=CLUSTER.replace("https://host-aaaaaa", "http://host-aaaaaa")),
     "routing_control_cluster.endpoints[0].url: must be an https:// URL"),
    (with_controls(controls=CONTROLS.replace("bb22", "aa11")),
     "dns[0].routing_control.secondary: must differ from its primary"),
])
def test_wrong_routing_control_keys_are_named(text: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config.parse(text)
    assert any(said in problem for problem in refused.value.problems), refused.value.problems


def test_a_loopback_cluster_may_use_http() -> None:
    text = with_controls(cluster=CLUSTER.replace("https://host-aaaaaa.us-east-1.example.aws",
                                                 "http://127.0.0.1:40123"))
    assert config.parse(text).routing_control_cluster[0].url == "http://127.0.0.1:40123/v1"
