"""RDS takes minutes to rename an instance and, until the new name is effective, finds it
under neither name (the lab models it: dr/lab/fidelity/rds.py). Re-protection renames the
fenced old primary and then builds the new replica from it: the replica must still get the
retired instance's security groups, subnet group and class, and a run resumed in that
window must find the instance it retired."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr.cli.main import main
from dr.lab import fidelity
from dr.lab.estate import Shape
from dr.lab.timing import INSTANT, TimingProfile
from tests.steps.conftest import World, build
from tests.support import end_state
from tests.support.lab_aws import LabAws

# Renames take 1.2 s here (0.6 s of them found under neither name), a new replica 1.8 s;
# SLOWER: 3 s (1.5 s), 4.5 s: time for a run to start while the new name is not shown.
SCALED = TimingProfile("realistic", time_scale=0.002)
SLOWER = TimingProfile("realistic", time_scale=0.005)


@pytest.fixture
def grouped(aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    world = build(aws, tmp_path, Shape(security_groups=2))
    yield world
    fidelity.apply(INSTANT)
    for server in world.health.values():
        server.stop()


def described(world: World, role: str, identifier: str) -> dict[str, Any]:
    return end_state.database(world.aws, world.config["regions"][role], identifier)


def groups(instance: dict[str, Any]) -> list[str]:
    return [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]


def test_reprotect_builds_the_replica_from_the_instance_it_renamed(
        grouped: World, capsys: pytest.CaptureFixture[str]) -> None:
    db = grouped.config["databases"][0]
    old = described(grouped, "primary", db["primary"])
    cfg = ["--config", str(grouped.path)]
    assert main(["failover", "--to", "secondary", "--yes", *cfg]) == 0, capsys.readouterr().out

    fidelity.apply(SCALED)
    assert main(["reprotect", *cfg]) == 0, capsys.readouterr().out

    replica = described(grouped, "primary", db["primary"])
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{db['secondary']}")
    assert groups(replica) == groups(old)
    assert replica["DBSubnetGroup"]["DBSubnetGroupName"] == old["DBSubnetGroup"][
        "DBSubnetGroupName"]
    assert replica["DBInstanceClass"] == old["DBInstanceClass"]


@pytest.mark.slow
def test_a_rename_sent_earlier_and_not_yet_shown_is_waited_for(
        grouped: World, capsys: pytest.CaptureFixture[str]) -> None:
    """An earlier attempt (a run killed after it, or an operator following the manual)
    renamed the old primary moments ago: neither name is found yet. Reprotect waits for the
    retired instance and builds the replica from it."""
    db = grouped.config["databases"][0]
    region = grouped.config["regions"]["primary"]
    old = described(grouped, "primary", db["primary"])
    cfg = ["--config", str(grouped.path)]
    assert main(["failover", "--to", "secondary", "--yes", *cfg]) == 0, capsys.readouterr().out

    fidelity.apply(SLOWER)
    grouped.aws.client("rds", region).modify_db_instance(
        DBInstanceIdentifier=db["primary"], ApplyImmediately=True,
        NewDBInstanceIdentifier=f"{db['primary']}-retired-20261124214000dead")
    assert main(["reprotect", *cfg]) == 0, capsys.readouterr().out

    replica = described(grouped, "primary", db["primary"])
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{db['secondary']}")
    assert groups(replica) == groups(old)
