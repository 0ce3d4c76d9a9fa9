"""The campaign's lab: the emulator behind the region front, health servers, a fresh
estate per point, and the worker process that runs one `dr failover` (and can SIGKILL itself
at a journal boundary)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
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
    from dr import config as drconfig
    from dr import runbooks
    from dr.aws.gateway import default_session_factory, is_mutating
    from dr.runbook.run import Request, Runner

    running: dict[int, str] = {}
    fd = os.open(calls_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    label = "resume" if resume else "fresh"

    serial = iter(range(1, 1 << 62))

    def record(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        body = params.get("body")
        context["bench_call"] = call = f"{label}-{next(serial)}"
        line = json.dumps({
            "call": call, "event": "sending",
            "run": label, "step": running.get(threading.get_ident(), "(run)"),
            "service": model.service_model.service_name, "op": model.name,
            "region": context.get("client_region"), "mutating": is_mutating(model.name),
            "params": [params.get("url_path"), params.get("query_string"),
                       body if isinstance(body, dict) else str(body)]},
            sort_keys=True, default=str)
        os.write(fd, (line + "\n").encode())

    def answered(http_response: Any, context: dict[str, Any], **_: Any) -> None:
        line = json.dumps({"call": context.get("bench_call"), "event": "answered",
                           "status": getattr(http_response, "status_code", None)})
        os.write(fd, (line + "\n").encode())

    def factory() -> Any:
        session = default_session_factory()
        session.events.register("before-call", record)
        session.events.register("after-call", answered)
        return session

    count = 0

    def after_append(entry: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        if entry["event"] == "step.started":
            running[threading.get_ident()] = entry["step"]
        elif entry["event"] == "step.finished":
            running.pop(threading.get_ident(), None)
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    config = drconfig.load(config_path)
    runner = Runner(config, planner=runbooks.phases, session_factory=factory,
                    state_dir=state_dir, after_append=after_append)
    result = runner.run(Request(command="failover", to="secondary", resume=resume,
                                report_dir=None))
    return {"run_id": result.report["run_id"], "outcome": result.outcome,
            "exit_code": result.exit_code, "records": count}



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
