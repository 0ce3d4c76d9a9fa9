"""One real `dr failover --to secondary` (the Runner, `dr.runbooks`, botocore to the
emulator) that records every AWS call and can SIGKILL itself right after journal record N.

For the processes the kill tests (tests/engine/shared_journal_worker.py) and the fault
campaign's kill points (benchmarks/campaign/world.py) start: one call per process. Each call
is a line in `calls_file` before it is sent ("sending": run label, step, service, op,
region, mutating, params) and once answered ("answered": HTTP status), so a reader can
tell a mutating call answered twice from one cut off by the kill.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

from dr import config as dr_config
from dr import runbooks
from dr.aws.gateway import default_session_factory, is_mutating
from dr.runbook.run import Request, Runner


def run(config_path: Path, calls_file: Path, *, label: str, kill_at: int | None = None,
        resume: str | None = None, state_dir: Path = Path(".dr"),
        force_unlock: str | None = None) -> dict[str, Any]:
    """The run's id, outcome, exit code and journal records written (unless killed)."""
    fd = os.open(calls_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    serial = itertools.count(1)
    running: dict[int, str] = {}  # thread -> the step it runs

    def write(line: dict[str, Any]) -> None:
        os.write(fd, (json.dumps(line, sort_keys=True, default=str) + "\n").encode())

    def sending(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        body = params.get("body")
        context["recorded_call"] = call = f"{label}-{next(serial)}"
        write({"call": call, "event": "sending", "run": label,
               "step": running.get(threading.get_ident(), "(run)"),
               "service": model.service_model.service_name, "op": model.name,
               "region": context.get("client_region"), "mutating": is_mutating(model.name),
               "params": [params.get("url_path"), params.get("query_string"),
                          body if isinstance(body, dict) else str(body)]})

    def answered(http_response: Any, context: dict[str, Any], **_: Any) -> None:
        write({"call": context.get("recorded_call"), "event": "answered",
               "status": getattr(http_response, "status_code", None)})

    def factory() -> Any:
        session = default_session_factory()
        session.events.register("before-call", sending)
        session.events.register("after-call", answered)
        return session

    count = 0

    def after_append(record: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        if record["event"] == "step.started":
            running[threading.get_ident()] = record["step"]
        elif record["event"] == "step.finished":
            running.pop(threading.get_ident(), None)
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    runner = Runner(dr_config.load(config_path), planner=runbooks.phases,
                    session_factory=factory, state_dir=state_dir, after_append=after_append)
    result = runner.run(Request(command="failover", to="secondary", resume=resume,
                                force_unlock=force_unlock, report_dir=None))
    return {"run_id": result.report["run_id"], "outcome": result.outcome,
            "exit_code": result.exit_code, "records": count}
