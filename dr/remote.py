"""`dr failover --remote`: the failover runs in the recovery region, as an ECS task (the
game-day task definition, `runner:` in dr.yaml), and this machine only follows it.

An operator whose laptop or network is impaired needs the recovery region's ECS API once
(`RunTask`), then reads the run's shared journal (`journal:`), which the task writes in the
recovery region first. The run id is chosen here and given to the task (`--run-id`), so the
journal to follow is known before the task starts. Following ends when the journal says the
run ended (its exit code is the run's), or when the task stopped without saying so.

The same, by hand (the documented `aws ecs run-task` line is `command_line`).
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable
from typing import Any

import structlog

from dr.aws.gateway import CallLog, Gateway, SessionFactory, default_session_factory
from dr.config.model import Config, Role
from dr.errors import DrError, UsageError
from dr.runbook import report
from dr.runbook.interrupt import exit_code as signal_exit_code
from dr.runbook.shared_journal import SharedJournal

log = structlog.get_logger("dr.remote")

POLL_SECONDS = 2.0
ENDS = ("run.finished", "run.interrupted", "run.incomplete")


def task_command(to: Role, run_id: str, extra: list[str]) -> list[str]:
    """The arguments the task's `dr` runs with (the container's command)."""
    return ["failover", "--to", to, "--yes", "--run-id", run_id, *extra]


def _network(config: Config, to: Role) -> dict[str, Any]:
    assert config.runner is not None
    groups = config.runner.security_groups.side(to) if config.runner.security_groups else ()
    return {"awsvpcConfiguration": {"subnets": list(config.runner.subnets.side(to)),
                                    "securityGroups": list(groups),
                                    "assignPublicIp": "DISABLED"}}


def command_line(config: Config, to: Role, run_id: str, extra: list[str]) -> str:
    """`aws ecs run-task ...` for the same, for the runbook and the operator."""
    assert config.runner is not None
    overrides = {"containerOverrides": [{"name": config.runner.container,
                                         "command": task_command(to, run_id, extra)}]}
    return " ".join([
        "aws ecs run-task", f"--region {config.regions.of(to)}",
        f"--cluster {shlex.quote(config.runner.cluster)}",
        f"--task-definition {shlex.quote(config.runner.task_definition)}",
        "--launch-type FARGATE",
        f"--network-configuration {shlex.quote(json.dumps(_network(config, to)))}",
        f"--overrides {shlex.quote(json.dumps(overrides))}"])


class Remote:
    def __init__(self, config: Config, to: Role, *,
                 session_factory: SessionFactory = default_session_factory) -> None:
        if config.runner is None or config.journal is None:
            raise UsageError("--remote needs runner: and journal: in dr.yaml",
                             hint="see the README, 'A failover that outlives its machine'")
        self.config, self.to = config, to
        self.region = config.regions.of(to)
        gateway = Gateway(dry_run=False, patient_regions=frozenset({self.region}),
                          session_factory=session_factory)
        self.aws = gateway.for_step(float("inf"), CallLog())

    def start(self, run_id: str, extra: list[str]) -> str:
        """RunTask in the recovery region; the task's ARN."""
        assert self.config.runner is not None
        runner = self.config.runner
        started = self.aws.call(
            "ecs", self.region, "run_task", cluster=runner.cluster,
            taskDefinition=runner.task_definition, launchType="FARGATE", count=1,
            networkConfiguration=_network(self.config, self.to), startedBy="dr-remote",
            overrides={"containerOverrides": [{
                "name": runner.container, "command": task_command(self.to, run_id, extra)}]})
        if started.get("failures") or not started.get("tasks"):
            raise DrError(f"ECS did not start the runner task in {self.region}: "
                          f"{started.get('failures')}")
        arn = str(started["tasks"][0]["taskArn"])
        log.info("remote.started", task=arn, region=self.region, run_id=run_id)
        return arn

    def follow(self, run_id: str, task_arn: str, show: Callable[[dict[str, Any]], None],
               timeout: float) -> int:
        """Show each journal record as the task writes it; the run's exit code."""
        assert self.config.journal is not None
        journal = SharedJournal(self.aws, self.config.journal.dynamodb_table,
                                self.config.lock_key, run_id, regions=[self.region])
        seen = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # The task is asked first: it stops only after its last journal write, so a
            # stopped task's records read next are all it wrote (read the other way round,
            # a run that ended between the two reads would be taken for one cut short).
            stopped = self._stopped(task_arn)
            records = journal.records()
            for record in records[seen:]:
                show(record)
                if record["event"] in ENDS:
                    return _exit_code(record)
            seen = len(records)
            if stopped:
                raise DrError(f"the runner task stopped ({stopped}) and its journal does not "
                              f"say the run ended: resume it with --resume {run_id}")
            time.sleep(POLL_SECONDS)
        raise DrError(f"run {run_id} did not end within {timeout:.0f}s; it goes on in the "
                      f"task {task_arn}: follow it with `dr runs`")

    def _stopped(self, task_arn: str) -> str | None:
        assert self.config.runner is not None
        tasks = self.aws.call("ecs", self.region, "describe_tasks",
                              cluster=self.config.runner.cluster, tasks=[task_arn])["tasks"]
        if tasks and tasks[0].get("lastStatus") == "STOPPED":
            return str(tasks[0].get("stoppedReason") or "no reason given")
        return None


def _exit_code(record: dict[str, Any]) -> int:
    if record["event"] == "run.interrupted":
        return signal_exit_code(str(record.get("signal", "SIGTERM")))
    return report.EXIT_CODES.get(str(record.get("outcome")), 1)
