"""`dr config render`: a valid dr.yaml from two stacks' outputs, or an error naming what
does not pair up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dr.cli.main import main
from dr.config import parse


def inventory(region: str, role: str, suffix: str) -> dict[str, Any]:
    return {"dr_inventory": {"sensitive": False, "type": "object", "value": {
        "app": "timeline", "environment": "staging", "region": region, "role": role,
        "databases": [{"name": "main", "identifier": f"timeline-main{suffix}"}],
        "dns": [{"zone_id": "Z0123456789ABC", "name": "app.timeline.example.com",
                 "type": "CNAME", "ttl": 60, "value": f"alb.{region}.example.net"}],
        "cdn": [{"distribution_id": "E2ABCDEFGHIJK", "origin_id": "api",
                 "domain": f"alb.{region}.example.net"}],
        "services": [{"cluster": "timeline", "service": "api", "active_count": 4,
                      "standby_count": 1}],
        "parameters": [{"name": "/timeline/staging/db_host",
                        "value": f"timeline-main{suffix}.{region}.rds.amazonaws.com"}],
        "health": [{"name": "api", "url": f"https://api.{region}.example.net/health",
                    "expect_status": 200}],
        "sns_topic_arn": f"arn:aws:sns:{region}:123456789012:dr-events",
        "lock_table": "dr-locks"}}}


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_render_prints_a_valid_dr_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    p = write(tmp_path, "p.json", inventory("us-east-1", "primary", ""))
    s = write(tmp_path, "s.json", inventory("us-west-2", "secondary", "-dr"))
    assert main(["config", "render", "--primary", str(p), "--secondary", str(s)]) == 0
    text = capsys.readouterr().out
    config = parse(text)
    assert config.regions.secondary == "us-west-2"
    assert config.databases[0].secondary == "timeline-main-dr"
    assert config.dns[0].secondary == "alb.us-west-2.example.net"
    assert yaml.safe_load(text)["lock"] == {"dynamodb_table": "dr-locks"}


def test_render_names_what_is_on_one_side_only(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    secondary = inventory("us-west-2", "secondary", "-dr")
    secondary["dr_inventory"]["value"]["databases"] = []
    p = write(tmp_path, "p.json", inventory("us-east-1", "primary", ""))
    s = write(tmp_path, "s.json", secondary)
    assert main(["config", "render", "--primary", str(p), "--secondary", str(s)]) == 2
    assert "databases ('main',): in the primary stack only" in capsys.readouterr().err


def test_render_needs_the_inventory_output(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    p = write(tmp_path, "p.json", {"vpc_id": {"value": "vpc-1"}})
    s = write(tmp_path, "s.json", inventory("us-west-2", "secondary", "-dr"))
    assert main(["config", "render", "--primary", str(p), "--secondary", str(s)]) == 2
    assert "dr_inventory: required" in capsys.readouterr().err


CONTROL = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b/routingcontrol/"
CLUSTER = {"endpoints": [{"region": "us-east-1", "url": "https://host-a.us-east-1.example.aws/v1"},
                         {"region": "us-west-2", "url": "https://host-b.us-west-2.example.aws/v1"}],
           "controls": {"primary": CONTROL + "aa11", "secondary": CONTROL + "bb22"}}


def full(region: str, role: str, suffix: str, subnet: str) -> dict[str, Any]:
    """An inventory with every key the stacks emit beyond the first version's: a record
    driven by routing controls, a global datastore member, the journal table, the runner."""
    data = inventory(region, role, suffix)
    value = data["dr_inventory"]["value"]
    value["dns"][0]["routing_control"] = CLUSTER["controls"][role]
    value["routing_control_cluster"] = CLUSTER
    value["caches"] = [{"name": "redis", "global_group": "timeline-staging",
                        "replication_group_id": "timeline-staging"}]
    value["journal_table"] = "timeline-staging-dr-journal"
    value["runner"] = {"cluster": "timeline-staging",
                       "task_definition": "timeline-staging-dr-gameday", "container": "dr",
                       "subnets": [subnet], "security_groups": [f"sg-{subnet[7:]}"]}
    return data


def render_both(tmp_path: Path, primary: dict[str, Any], secondary: dict[str, Any],
                capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    p = write(tmp_path, "p.json", primary)
    s = write(tmp_path, "s.json", secondary)
    code = main(["config", "render", "--primary", str(p), "--secondary", str(s)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_render_emits_routing_controls_caches_journal_and_runner(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = render_both(tmp_path, full("us-east-1", "primary", "", "subnet-0a1"),
                                 full("us-west-2", "secondary", "-dr", "subnet-0b2"), capsys)
    assert code == 0, err
    config = parse(out)
    record = config.dns[0]
    assert record.routing_control is not None
    assert (record.routing_control.primary, record.routing_control.secondary) == (
        CONTROL + "aa11", CONTROL + "bb22")
    assert [(e.region, e.url) for e in config.routing_control_cluster] == [
        ("us-east-1", "https://host-a.us-east-1.example.aws/v1"),
        ("us-west-2", "https://host-b.us-west-2.example.aws/v1")]
    [cache] = config.caches
    assert (cache.name, cache.global_group, cache.primary, cache.secondary) == (
        "redis", "timeline-staging", "timeline-staging", "timeline-staging")
    assert config.journal is not None
    assert config.journal.dynamodb_table == "timeline-staging-dr-journal"
    runner = config.runner
    assert runner is not None
    assert (runner.cluster, runner.task_definition, runner.container) == (
        "timeline-staging", "timeline-staging-dr-gameday", "dr")
    assert runner.subnets.side("primary") == ("subnet-0a1",)
    assert runner.subnets.side("secondary") == ("subnet-0b2",)
    assert runner.security_groups is not None
    assert runner.security_groups.side("secondary") == ("sg-0b2",)


def test_render_without_the_new_keys_emits_none_of_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = render_both(tmp_path, inventory("us-east-1", "primary", ""),
                                 inventory("us-west-2", "secondary", "-dr"), capsys)
    assert code == 0, err
    rendered = yaml.safe_load(out)
    assert not {"journal", "runner", "routing_control_cluster"} & set(rendered)
    assert rendered["caches"] == []
    assert "routing_control" not in rendered["dns"][0]


def test_render_names_what_the_stacks_disagree_on(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    primary = full("us-east-1", "primary", "", "subnet-0a1")
    secondary = full("us-west-2", "secondary", "-dr", "subnet-0b2")
    value = secondary["dr_inventory"]["value"]
    value["caches"][0]["global_group"] = "timeline-other"
    value["runner"]["task_definition"] = "timeline-other-dr-gameday"
    del value["dns"][0]["routing_control"]
    code, _, err = render_both(tmp_path, primary, secondary, capsys)
    assert code == 2
    assert "caches 'redis': global_group differs between the stacks" in err
    assert "runner.task_definition differs between the stacks" in err
    assert "routing_control in the primary stack only" in err


def test_render_refuses_a_runner_on_one_side_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    primary = full("us-east-1", "primary", "", "subnet-0a1")
    secondary = full("us-west-2", "secondary", "-dr", "subnet-0b2")
    secondary["dr_inventory"]["value"]["runner"] = None
    code, _, err = render_both(tmp_path, primary, secondary, capsys)
    assert code == 2
    assert "runner: in the primary stack only" in err
