"""The campaign's lab: the emulator behind the region front, health servers, a fresh
estate per point, and the worker process that runs one `dr failover` (and can SIGKILL itself
at a journal boundary)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import common

sys.path.insert(0, str(common.ROOT))

if TYPE_CHECKING:
    from tests.support.health import HealthServer


SHAPE = {"databases": 3, "zones": 2, "records_per_zone": 1, "distributions": 2, "services": 3,
         "parameters": 1}
PRIMARY, SECONDARY = "eu-west-1", "eu-central-1"
HANG_SECONDS = 90.0
# The script the worker processes run (its --worker mode calls `worker` below).
CAMPAIGN = Path(__file__).resolve().parents[1] / "fault_campaign.py"




def worker(config_path: Path, state_dir: Path, calls_file: Path, kill_at: int | None,
           resume: str | None) -> dict[str, Any]:
    """One `dr failover --to secondary` through the real Runner; SIGKILLs itself right after
    journal record number `kill_at`. Every AWS call is appended to `calls_file` first."""
    common.quiet_logs()
    from tests.support import recorded_failover

    return recorded_failover.run(config_path, calls_file, label="resume" if resume else "fresh",
                                 kill_at=kill_at, resume=resume, state_dir=state_dir)


@dataclass
class World:
    work: Path
    emulator: Any = None
    front: Any = None
    health: dict[str, HealthServer] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None

    def start(self) -> World:
        from dr.lab.emulator import Emulator
        from dr.lab.regionfront import RegionFront
        from dr.lab.timing import INSTANT

        self.emulator = Emulator(INSTANT).start()
        self.front = RegionFront(self.emulator.endpoint_url).start()
        from tests.support.health import HealthServer

        self.health = {"primary": HealthServer(), "secondary": HealthServer()}
        os.environ.update({"AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab",
                           "AWS_DEFAULT_REGION": PRIMARY, "AWS_CONFIG_FILE": os.devnull,
                           "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
        return self

    def stop(self) -> None:
        for server in self.health.values():
            server.stop()
        if self.front:
            self.front.stop()
        if self.emulator:
            self.emulator.stop()

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "AWS_ENDPOINT_URL": self.front.url}

    def provision(self, name: str, shape: dict[str, int] | None = None,
                  **estate_options: Any) -> Path:
        """A fresh estate (dr.lab.estate.provision; `estate_options` go to it, e.g.
        lock_table, environment) and its dr.yaml in a new directory `name`."""
        import boto3
        import yaml

        from dr.lab import fidelity
        from dr.lab.estate import Shape, provision
        from dr.lab.timing import INSTANT

        self.emulator.reset()
        fidelity.set_profile(INSTANT)
        for region in (PRIMARY, SECONDARY):
            self.front.restore(region)
        self.front.faults(0.0)
        for server in self.health.values():
            server.status = 200
        os.environ["AWS_ENDPOINT_URL"] = self.emulator.endpoint_url
        estate = provision(boto3.session.Session(), primary=PRIMARY, secondary=SECONDARY,
                           shape=Shape(**(shape or SHAPE)), health={"api": (
                               self.health["primary"].url, self.health["secondary"].url)},
                           **estate_options)
        os.environ["AWS_ENDPOINT_URL"] = self.front.url
        self.config = estate.config
        directory = self.work / name
        directory.mkdir(parents=True, exist_ok=True)
        self.config_path = directory / "dr.yaml"
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        return directory

    def end_state(self, to: str, other_reachable: bool = True) -> str | None:
        """None when the contract's end state holds, else what is wrong."""
        from tests.support import end_state
        from tests.support.lab_aws import LabAws

        try:
            end_state.assert_failed_over(LabAws(self.emulator.endpoint_url), self.config, to,
                                         other_reachable=other_reachable)
        except AssertionError as exc:
            return f"end state: {exc!r}"[:400]
        except Exception as exc:  # noqa: BLE001 - e.g. an instance that no longer exists
            return f"end state: {type(exc).__name__}: {exc}"[:400]
        return None


def run_worker(world: World, directory: Path, kill_at: int | None = None,
               resume: str | None = None) -> dict[str, Any]:
    args = [str(CAMPAIGN), "--worker", "--config", str(world.config_path), "--state",
            str(directory / ".dr"), "--calls", str(directory / "calls.jsonl")]
    if kill_at:
        args += ["--kill-at", str(kill_at)]
    if resume:
        args += ["--resume", resume]
    return common.run_worker(args, timeout=300, env=world.env, cwd=directory)


def failover_in_process(world: World, to: str, state_dir: Path,
                        accept_data_loss: bool = False) -> tuple[Any, float]:
    from dr import config as drconfig
    from dr import runbooks
    from dr.runbook.run import Request, Runner

    config = drconfig.load(world.config_path)
    started = time.perf_counter()
    result = Runner(config, planner=runbooks.phases, state_dir=state_dir).run(
        Request(command="failover", to=to, accept_data_loss=accept_data_loss))
    return result, time.perf_counter() - started
