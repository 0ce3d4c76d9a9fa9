"""`dr failover --remote`: the run starts as an ECS task in the recovery region and this
machine follows its shared journal. moto starts no container, so the test plays the task: it
reads the command ECS was given (the task's overrides) and runs exactly that `dr`, in a
directory of its own, as the container would. What the emulator cannot show (the container
really starting on Fargate, its role's permissions) is said in docs/emulator-notes.md."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from dr.errors import DrError
from tests.engine.test_shared_journal import estate  # noqa: F401 - the fixture
from tests.steps.conftest import World
from tests.support import end_state

DR = [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())"]
FAMILY = "timeline-dr-gameday"


def with_runner(world: World) -> None:
    region = world.config["regions"]["secondary"]
    ec2 = world.aws.client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    # moto's RunTask fails on a VPC without DNS hostnames (it reads the ENI's DNS name).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.1.0/24")["Subnet"]["SubnetId"]
    ecs = world.aws.client("ecs", region)
    ecs.create_cluster(clusterName="timeline-dr")
    ecs.register_task_definition(
        family=FAMILY, requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
        cpu="512", memory="1024",
        # Container-level memory: moto's RunTask fails without it (AWS takes the task's).
        containerDefinitions=[{"name": "dr", "image": "timeline/dr:1", "essential": True,
                               "memory": 1024}])
    world.config["runner"] = {"cluster": "timeline-dr", "task_definition": FAMILY,
                              "subnets": {"primary": ["subnet-elsewhere"],
                                          "secondary": [subnet]}}
    world.write()


def the_started_task(world: World) -> dict:
    ecs = world.aws.client("ecs", world.config["regions"]["secondary"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        arns = ecs.list_tasks(cluster="timeline-dr")["taskArns"]
        if arns:
            return ecs.describe_tasks(cluster="timeline-dr", tasks=arns)["tasks"][0]
        time.sleep(0.1)
    raise AssertionError("no task was started")


def test_remote_failover_runs_in_the_recovery_region_and_is_followed(estate: World) -> None:  # noqa: F811
    world = estate
    with_runner(world)
    operator = world.path.parent / "laptop"
    operator.mkdir()
    following = subprocess.Popen([*DR, "failover", "--to", "secondary", "--remote", "--yes",
                                  "--config", str(world.path)], cwd=operator, env=os.environ,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    task = the_started_task(world)
    [override] = task["overrides"]["containerOverrides"]
    assert override["name"] == "dr"
    command = override["command"]
    assert command[:4] == ["failover", "--to", "secondary", "--yes"]
    assert task["group"] or task["startedBy"] == "dr-remote"

    # The container: its own disk, dr.yaml from its environment, the command ECS gave it.
    container = world.path.parent / "task"
    container.mkdir()
    (container / "dr.yaml").write_text(yaml.safe_dump(world.config, sort_keys=False))
    ran = subprocess.run([*DR, *command], cwd=container, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "DR_CONFIG": "dr.yaml",
                                           "DR_LOCK_DIR": str(container / "locks")})
    assert ran.returncode == 0, ran.stderr[-2000:]
    # The container exited, so ECS stops the task; the follower still reports the run's end.
    world.aws.client("ecs", world.config["regions"]["secondary"]).stop_task(
        cluster="timeline-dr", task=task["taskArn"], reason="Essential container in task exited")

    out, err = following.communicate(timeout=120)
    assert following.returncode == 0, err[-2000:]
    run_id = command[command.index("--run-id") + 1]
    assert f"run {run_id} started" in err and "aws ecs run-task" in err
    assert "run.finished" in out and "databases.main.promote" in out
    end_state.assert_failed_over(world.aws, world.config, "secondary")
    assert not (operator / ".dr" / "runs").exists()  # nothing ran on the laptop
    assert (container / ".dr" / "runs" / run_id / "report.json").is_file()


def test_remote_needs_the_runner_and_the_journal(estate: World) -> None:  # noqa: F811
    from dr import config as dr_config
    from dr.remote import Remote

    try:
        Remote(dr_config.load(estate.path), "secondary")
    except DrError as exc:
        assert "--remote needs runner: and journal:" in str(exc)
    else:
        raise AssertionError("a config without runner: was accepted")
    assert Path(estate.path).is_file()
