"""20 % of calls throttled, failed with 500/503 or reset: failovers still succeed, and the
report shows the retries."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml

from dr import config as drconfig
from dr import runbooks
from dr.lab.estate import Shape, provision
from dr.lab.regionfront import RegionFront
from dr.runbook.run import Request, Runner
from tests.steps.conftest import PRIMARY, SECONDARY
from tests.support import end_state
from tests.support.health import HealthServer
from tests.support.lab_aws import LabAws

RUNS = 20


def test_twenty_consecutive_failovers_succeed_with_20_percent_faults(
        aws: LabAws, emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    health = HealthServer()
    session = boto3.session.Session()
    retried = 0
    try:
        with RegionFront(aws.endpoint_url) as front:
            for run in range(RUNS):
                emulator.reset()
                monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint_url)
                estate = provision(session, primary=PRIMARY,
                                   secondary=SECONDARY, shape=Shape(),
                                   health={"api": (health.url, health.url)})
                path = tmp_path / f"dr-{run}.yaml"
                path.write_text(yaml.safe_dump(estate.config))
                front.faults(0.2, seed=run)
                monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
                runner = Runner(drconfig.load(path), planner=runbooks.phases,
                                state_dir=tmp_path / ".dr")
                result = runner.run(Request(command="failover", to="secondary"))
                front.faults(0.0)
                monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint_url)
                assert result.outcome == "succeeded", (run, result.report["steps"])
                end_state.assert_failed_over(aws, estate.config, "secondary")
                retried += sum(len(s["detail"].get("retries", []))
                               for s in result.report["steps"])
            injected = sum(front.injected.values())
    finally:
        health.stop()
    assert injected > 0 and retried > 0
    print(f"{RUNS} failovers with 20% faults: {injected} faults injected, {retried} retries "
          "in the reports")
