"""20 % of calls throttled, failed with 500/503 or reset: 20 consecutive failovers, back and
forth between the regions (so each one really changes the estate), all succeed, and the
reports show the retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from dr import config as drconfig
from dr import runbooks
from dr.lab.regionfront import RegionFront
from dr.runbook.run import Request, Runner
from tests.steps.conftest import World
from tests.support import end_state

RUNS = 20


@pytest.mark.slow
def test_twenty_consecutive_failovers_succeed_with_20_percent_faults(
        small_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = drconfig.load(small_world.path)
    retried = 0
    with RegionFront(small_world.aws.endpoint_url) as front:
        front.faults(0.2, seed=7)
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
        for run in range(RUNS):
            to = "secondary" if run % 2 == 0 else "primary"
            # No reprotect between: each run after the first promotes the former primary the
            # run before fenced, which lacks that run's writes, so the loss is accepted.
            result = Runner(config, planner=runbooks.phases, state_dir=tmp_path / ".dr").run(
                Request(command="failover", to=to, accept_data_loss=run > 0))
            assert result.outcome == "succeeded", (run, [
                (s["id"], s["status"], s["error"]) for s in result.report["steps"]])
            retried += sum(len(s["detail"].get("retries", [])) for s in result.report["steps"])
        injected = sum(front.injected.values())
    monkeypatch.setenv("AWS_ENDPOINT_URL", small_world.aws.endpoint_url)
    end_state.assert_failed_over(small_world.aws, small_world.config, "primary")
    assert injected > 0 and retried > 0
    print(f"{RUNS} failovers with 20% faults: {injected} faults injected, {retried} retries "
          "shown in the reports")
