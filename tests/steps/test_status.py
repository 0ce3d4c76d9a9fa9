"""`dr status` shows where everything points, before and after a failover, and answers
quickly when the primary region's APIs hang."""

from __future__ import annotations

import json

import pytest

from dr.cli.main import main
from dr.lab.regionfront import RegionFront
from tests.steps.conftest import World


def status(world: World, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["status", "--json", "--config", str(world.path)]) == 0
    return json.loads(capsys.readouterr().out)


def test_status_follows_a_failover(small_world: World, capsys: pytest.CaptureFixture[str]
                                   ) -> None:
    before = status(small_world, capsys)
    assert before["active"] == "primary"
    assert before["databases"][0]["secondary"]["role"] == "replica"
    assert before["databases"][0]["secondary"]["replica_lag_seconds"] == 1.0
    assert main(["failover", "--to", "secondary", "--yes", "--config",
                 str(small_world.path)]) == 0
    after = status(small_world, capsys)
    assert after["active"] == "secondary"
    assert after["databases"][0]["primary"]["role"] == "fenced"
    assert after["services"][0]["secondary"]["desired"] == 4
    assert main(["status", "--config", str(small_world.path)]) == 0
    assert "active secondary" in capsys.readouterr().out


def test_status_reports_a_hanging_region_as_unreachable(
        small_world: World, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with RegionFront(small_world.aws.endpoint_url) as front:
        front.outage(small_world.config["regions"]["primary"])
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
        state = status(small_world, capsys)
    assert small_world.config["regions"]["primary"] in state["unreachable_regions"]
    assert "error" in state["databases"][0]["primary"]
    assert state["dns"][0]["points_to"] == "primary"
