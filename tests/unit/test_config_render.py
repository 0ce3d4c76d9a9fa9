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
