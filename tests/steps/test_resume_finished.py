"""`--resume` of a run that had already finished (contract 1.1): no AWS call, the run's own
report copied into `--report-dir`, and the exit code of its outcome, for each outcome. A
wrapper that lost track of `dr` (its own crash, a dropped SSH session) gets the answer of
the run, not a usage error."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from dr import config as dr_config
from dr import runbooks
from dr.cli.main import main
from dr.lab.regionfront import RegionFront
from dr.runbook.run import Request, Runner
from dr.runbook.waiting import PollPolicy
from tests.engine.report_checks import check_report_dir
from tests.steps.conftest import World
from tests.steps.test_readiness import lag_above_target


def only_run_id() -> str:
    [run] = list(Path(".dr/runs").iterdir())
    return run.name


def resume_finished(world: World, front: RegionFront, run_id: str, outcome: str, code: int,
                    capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    original = (Path(".dr/runs") / run_id / "report.json").read_text()
    forwarded = front.status()["forwarded"]
    out = Path("copied")
    assert main(["failover", "--resume", run_id, "--config", str(world.path),
                 "--report-dir", str(out)]) == code
    said = capsys.readouterr()
    assert front.status()["forwarded"] == forwarded  # nothing sent to AWS
    assert f"run {run_id} had already finished ({outcome})" in said.err
    assert (out / "report.json").read_text() == original
    report = check_report_dir(out)
    assert report["run_id"] == run_id and report["outcome"] == outcome
    journal = (Path(".dr/runs") / run_id / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in journal].count("run.finished") == 1


def test_a_succeeded_run_answers_0(world: World, regionfront: RegionFront,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["failover", "--to", "secondary", "--yes", "--config", str(world.path)]) == 0
    resume_finished(world, regionfront, only_run_id(), "succeeded", 0, capsys)


def test_a_run_that_missed_its_target_answers_4(world: World, regionfront: RegionFront,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    lag_above_target(world)
    regionfront.outage(world.config["regions"]["primary"])  # an outage: the lag is lost
    assert main(["failover", "--to", "secondary", "--yes", "--accept-data-loss",
                 "--config", str(world.path)]) == 4
    resume_finished(world, regionfront, only_run_id(), "targets_missed", 4, capsys)


def test_a_failed_run_answers_1(small_world: World, regionfront: RegionFront,
                                capsys: pytest.CaptureFixture[str]) -> None:
    abort = threading.Event()

    def stop_after_the_first_step(record: dict[str, Any]) -> None:
        if record["event"] == "step.finished":
            abort.set()

    runner = Runner(dr_config.load(small_world.path), planner=runbooks.phases,
                    poll=PollPolicy(floor=0.02, cap=0.1), after_append=stop_after_the_first_step,
                    abort=abort)
    result = runner.run(Request(command="failover", to="secondary"))
    assert result.outcome == "failed"
    resume_finished(small_world, regionfront, result.report["run_id"], "failed", 1, capsys)


def test_an_unknown_run_is_a_usage_error(small_world: World,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["failover", "--resume", "2026-01-01T00-00-00Z-beef",
                 "--config", str(small_world.path)]) == 2
    assert "no journal" in capsys.readouterr().err
