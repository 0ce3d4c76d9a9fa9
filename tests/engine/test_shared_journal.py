"""A failover outlives the machine that started it (`journal:` in dr.yaml): killed (SIGKILL)
at a journal boundary, its working directory deleted, it is resumed from another directory
that holds only dr.yaml, from the shared journal: the contract's end state, no mutating
call answered twice, one report. Also with the primary region's copy of the journal out
of reach. Two machines starting at once: exactly one acts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dr.lab.estate import Shape
from dr.lab.regionfront import RegionFront
from tests.steps.conftest import World, build
from tests.support import end_state
from tests.support.lab_aws import LabAws

WORKER = Path(__file__).with_name("shared_journal_worker.py")
TABLE = "dr-journal"
# Boundaries of a failover of this estate (it writes about 20 records).
POINTS = (2, 3, 4, 6, 8, 10, 12, 14, 16, 18)
QUICK = (3, 12)
UNCOUNTED = ("dynamodb", "sns")  # the journal's and lock's own items; run notifications


@pytest.fixture
def estate(aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    world = build(aws, tmp_path, Shape(databases=2, zones=1, distributions=1, services=2))
    for region in world.config["regions"].values():
        aws.client("dynamodb", region).create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "run", "KeyType": "HASH"},
                       {"AttributeName": "seq", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "run", "AttributeType": "S"},
                                  {"AttributeName": "seq", "AttributeType": "N"}])
    world.config["journal"] = {"dynamodb_table": TABLE}
    world.write()
    yield world
    for server in world.health.values():
        server.stop()


def machine(world: World, name: str) -> Path:
    """A working directory holding only dr.yaml, as another machine would."""
    home = world.path.parent / name
    home.mkdir()
    (home / "dr.yaml").write_text(yaml.safe_dump(world.config, sort_keys=False))
    return home


def worker(home: Path, calls: Path, *args: str, env: dict[str, str] | None = None
           ) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, str(WORKER), str(home / "dr.yaml"), str(calls),
                           *args], cwd=home, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DR_LOCK_DIR": str(home / "locks"),
                               **(env or {})})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, json.loads(lines[-1]) if lines else {"stderr": done.stderr[-2000:]}


def answered_twice(calls: Path) -> list[str]:
    lines = [json.loads(line) for line in calls.read_text().splitlines()]
    ok = {c["call"] for c in lines if c["event"] == "answered" and (c["status"] or 0) < 300}
    sent = Counter((c["service"], c["op"], json.dumps(c["params"], sort_keys=True))
                   for c in lines if c["event"] == "sending" and c["mutating"]
                   and c["call"] in ok and c["service"] not in UNCOUNTED)
    return [f"{s}:{op}" for (s, op, _), n in sent.items() if n > 1]


def kill_and_resume_elsewhere(world: World, at: int, env: dict[str, str] | None = None
                              ) -> None:
    calls = world.path.parent / f"calls-{at}.jsonl"
    first = machine(world, f"first-{at}")
    code, _ = worker(first, calls, "--kill-at", str(at), env=env)
    assert code == -9, "the first machine was not killed"
    [run_id] = [p.name for p in (first / ".dr" / "runs").iterdir()]
    shutil.rmtree(first)  # the machine is gone, and its disk with it

    second = machine(world, f"second-{at}")
    code, answer = worker(second, calls, "--resume", run_id, env=env)

    assert code == 0 and answer.get("outcome") == "succeeded", answer
    end_state.assert_failed_over(world.aws, world.config, "secondary",
                                 other_reachable=env is None)
    assert answered_twice(calls) == []
    assert [p.name for p in (second / ".dr" / "runs").iterdir()] == [run_id]
    assert (second / ".dr" / "runs" / run_id / "report.json").is_file()


@pytest.mark.parametrize("at", QUICK)
def test_a_killed_failover_is_resumed_from_another_machine(estate: World, at: int) -> None:
    kill_and_resume_elsewhere(estate, at)


@pytest.mark.slow
@pytest.mark.parametrize("at", POINTS)
def test_every_boundary_resumes_from_another_machine(estate: World, at: int) -> None:
    kill_and_resume_elsewhere(estate, at)


@pytest.mark.parametrize("at", QUICK)
def test_resumed_from_the_recovery_regions_copy_alone(estate: World, at: int) -> None:
    """The primary region does not answer (its copy of the journal with it): the run is
    journaled, and resumed, from the recovery region's copy."""
    with RegionFront(estate.aws.endpoint_url) as front:
        front.outage(estate.config["regions"]["primary"])
        kill_and_resume_elsewhere(estate, at, env=estate.aws.via(front.url).env)


def test_two_machines_at_once_exactly_one_acts(estate: World) -> None:
    calls = estate.path.parent / "calls-race.jsonl"
    homes = [machine(estate, name) for name in ("alice", "bob")]
    racing = [subprocess.Popen([sys.executable, str(WORKER), str(home / "dr.yaml"),
                                str(calls)], cwd=home, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "DR_LOCK_DIR": str(home / "locks")})
              for home in homes]
    outcomes = []
    for process in racing:
        out, err = process.communicate(timeout=120)
        outcomes.append(process.returncode if process.returncode else
                        json.loads(out.splitlines()[-1])["outcome"])
    # The loser's LockHeld is raised out of the worker (exit 1, LockHeld in stderr).
    assert sorted(map(str, outcomes)) == ["1", "succeeded"], outcomes
    assert answered_twice(calls) == []
    end_state.assert_failed_over(estate.aws, estate.config, "secondary")
