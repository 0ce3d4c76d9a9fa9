"""Contract 1.1, "Interrupted runs", with the real runbook against the emulator (AWS timings
scaled down, so a promotion takes seconds): SIGINT while the promotion waits and SIGTERM
while the recovery health check waits each stop the run with outcome `interrupted`, exit
130/143, a report saying what changed, the lock free and the --resume command printed; the
resume finishes with nothing sent twice. A SIGKILL in the middle of the promotion (RDS still
`modifying`) resumes too: the step waits the promotion out instead of failing."""

from __future__ import annotations

import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dr import config as dr_config
from dr import runbooks
from dr.cli.main import main
from dr.lab import fidelity
from dr.lab.regionfront import RegionFront
from dr.lab.timing import INSTANT, TimingProfile
from dr.runbook.lock import LocalLock, local_lock_dir
from dr.runbook.run import Request, Result, Runner
from dr.runbook.waiting import PollPolicy
from tests.steps.conftest import World
from tests.support import end_state

DR = [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())"]
# Promotion 3 s, CloudFront 3 s, Route 53 0.6 s: long enough to be caught in the middle.
SLOW = TimingProfile("realistic", time_scale=0.01)
PROMOTE = "rds:PromoteReadReplica"


@pytest.fixture
def slow(small_world: World) -> Iterator[World]:
    fidelity.set_profile(SLOW)
    yield small_world
    fidelity.set_profile(INSTANT)


def start(world: World, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*DR, "failover", *args, "--config", str(world.path),
                             "--log-format", "json"], cwd=world.path.parent, env=os.environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def journal(world: World) -> list[dict[str, Any]]:
    runs = list((world.path.parent / ".dr" / "runs").glob("*/journal.jsonl"))
    if not runs:
        return []
    return [json.loads(line) for line in runs[0].read_text().splitlines() if line.endswith("}")]


def until(what: str, condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.02)


def replica_status(world: World) -> str:
    db = world.config["databases"][0]
    return str(end_state.database(world.aws, world.config["regions"]["secondary"],
                                  db["secondary"])["DBInstanceStatus"])


def step_started(world: World, step_type: str) -> bool:
    return any(r["event"] == "step.started" and r.get("type") == step_type
               for r in journal(world))


def assert_lock_free(world: World) -> None:
    key = f"{world.config['app']}/{world.config['environment']}"
    probe = LocalLock(local_lock_dir(), key, "probe", None)
    probe.acquire()
    probe.release()


@pytest.mark.parametrize(("sig", "code", "moment", "step_type"), [
    (signal.SIGINT, 130, "while the promotion waits", "rds.promote-replica"),
    (signal.SIGTERM, 143, "while the health check waits", "health.verify"),
])
def test_a_signal_stops_the_run_reports_it_and_resume_finishes_it(
        slow: World, regionfront: RegionFront, sig: int, code: int, moment: str,
        step_type: str) -> None:
    world = slow
    if step_type == "health.verify":
        world.health["secondary"].status = 503  # the health check waits until signalled
    running = start(world, "--to", "secondary", "--yes")
    until(moment, lambda: step_started(world, step_type)
          and (step_type != "rds.promote-replica" or replica_status(world) == "modifying"))
    running.send_signal(sig)
    _, stderr = running.communicate(timeout=30)

    assert running.returncode == code, stderr[-2000:]
    records = journal(world)
    run_id = records[0]["run_id"]
    assert records[-1]["event"] == "run.interrupted"
    assert not any(r["event"] == "run.finished" for r in records)
    report = json.loads((world.path.parent / ".dr/runs" / run_id / "report.json").read_text())
    assert report["outcome"] == "interrupted"
    assert report["interrupted_by"] == signal.Signals(sig).name
    assert any(s["type"] == "rds.fence-primary" for s in report["steps"])
    assert report["changed"], "the fence happened before the signal"
    assert f"dr failover --resume {run_id}" in stderr
    assert "nothing was changed" not in stderr
    assert_lock_free(world)

    world.health["secondary"].status = 200
    resumed = start(world, "--resume", run_id, "--yes")
    _, stderr = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, stderr[-2000:]
    assert regionfront.status()["operations"].get(PROMOTE) == 1
    end_state.assert_failed_over(world.aws, world.config, "secondary")


def test_a_run_killed_while_rds_promotes_resumes(slow: World, regionfront: RegionFront
                                                 ) -> None:
    world = slow
    running = start(world, "--to", "secondary", "--yes")
    until("the promotion under way", lambda: replica_status(world) == "modifying")
    running.kill()
    running.communicate(timeout=30)
    run_id = journal(world)[0]["run_id"]
    assert replica_status(world) == "modifying"

    resumed = start(world, "--resume", run_id, "--yes")
    _, stderr = resumed.communicate(timeout=60)

    assert resumed.returncode == 0, stderr[-2000:]
    assert regionfront.status()["operations"].get(PROMOTE) == 1
    end_state.assert_failed_over(world.aws, world.config, "secondary")
    report = json.loads(
        (world.path.parent / ".dr/runs" / run_id / "report.json").read_text())
    promote = next(s for s in report["steps"] if s["type"] == "rds.promote-replica")
    assert promote["attempts"] == 2
    assert promote["id"] in report["changed"]  # this run promoted it, in its first attempt


def test_ctrl_c_at_the_prompt_changes_nothing(small_world: World) -> None:
    asking = subprocess.Popen([*DR, "failover", "--to", "secondary", "--config",
                               str(small_world.path)], cwd=small_world.path.parent,
                              env=os.environ, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert asking.stderr is not None
    said = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in said:  # the question is on stderr, waiting for an answer
        assert time.monotonic() < deadline, said
        ready, _, _ = select.select([asking.stderr], [], [], 1)
        if ready:
            said += os.read(asking.stderr.fileno(), 4096)
    asking.send_signal(signal.SIGINT)
    _, rest = asking.communicate(timeout=30)
    stderr = (said + rest).decode()
    assert asking.returncode == 2, stderr
    assert "not confirmed; nothing was changed" in stderr
    assert not (small_world.path.parent / ".dr" / "runs").exists()


def interrupted_after_the_fence(world: World) -> Result:
    """A failover in this process, SIGINTed (as Ctrl-C would) once the fence is journaled."""

    def interrupt(record: dict[str, Any]) -> None:
        if record["event"] == "step.finished" and record.get("type") == "rds.fence-primary":
            os.kill(os.getpid(), signal.SIGINT)

    runner = Runner(dr_config.load(world.path), planner=runbooks.phases,
                    poll=PollPolicy(floor=0.02, cap=0.1), after_append=interrupt)
    return runner.run(Request(command="failover", to="secondary"))


def test_resume_refuses_a_journal_of_another_estate(small_world: World,
                                                    regionfront: RegionFront,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Step ids match across estates; a journal from another dr.yaml once had this estate's
    DNS switched to a database that was never promoted. Refused, naming what differs."""
    world = small_world
    first = interrupted_after_the_fence(world)
    assert first.outcome == "interrupted" and first.exit_code == 130
    run_id = first.report["run_id"]

    original = world.config["dns"][0]["secondary"]
    world.config["dns"][0]["secondary"] = "api.elsewhere.example.net"
    world.write()
    forwarded = regionfront.status()["forwarded"]
    assert main(["failover", "--resume", run_id, "--yes", "--config", str(world.path)]) == 2
    err = capsys.readouterr().err
    assert "dns[0].secondary" in err and "nothing was changed" in err
    assert regionfront.status()["forwarded"] == forwarded

    world.config["dns"][0]["secondary"] = original
    world.write()
    assert main(["failover", "--resume", run_id, "--yes", "--config", str(world.path)]) == 0
    end_state.assert_failed_over(world.aws, world.config, "secondary")


def test_a_resume_asks_first_and_checks_readiness_again(
        small_world: World, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Resuming acts, so it is confirmed like a new run; and the estate may have moved since
    the run stopped, so readiness runs again for the steps that have not acted yet."""
    world = small_world
    run_id = interrupted_after_the_fence(world).report["run_id"]
    capsys.readouterr()

    # Not confirmed: nothing more happens.
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["failover", "--resume", run_id, "--config", str(world.path)]) == 2
    assert f"Resume run {run_id}" in capsys.readouterr().err

    # A step that has not acted yet (the health check, last) finds its URL gone silent: the
    # resume is not ready, and says so.
    assert not any(r["event"] == "step.started" and r["type"] == "health.verify"
                   for r in journal(world))
    world.health["secondary"].stop()
    assert main(["failover", "--resume", run_id, "--yes", "--config", str(world.path)]) == 3
    assert "NOT READY" in capsys.readouterr().out
