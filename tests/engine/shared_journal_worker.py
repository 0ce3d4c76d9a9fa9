"""One real failover (`dr.runbooks`, the emulator) that can SIGKILL itself right after
journal record N, recording every AWS call and whether it was answered. Used by
test_shared_journal.py as a subprocess, from a working directory of its own.

usage: shared_journal_worker.py DR_YAML CALLS_FILE [--kill-at N] [--resume RUN_ID]
Prints one JSON line: run_id, outcome, exit_code.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dr import config as dr_config  # noqa: E402
from dr import runbooks  # noqa: E402
from dr.aws.gateway import default_session_factory, is_mutating  # noqa: E402
from dr.runbook.run import Request, Runner  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("calls", type=Path)
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--resume")
    args = parser.parse_args()
    fd = os.open(args.calls, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    serial = iter(range(1, 1 << 62))
    label = f"{os.getpid()}"

    def sending(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["call"] = call = f"{label}-{next(serial)}"
        if is_mutating(model.name):
            line = {"call": call, "event": "sending", "op": model.name,
                    "service": model.service_model.service_name,
                    "params": json.dumps(params.get("body"), default=str, sort_keys=True)}
            os.write(fd, (json.dumps(line) + "\n").encode())

    def answered(http_response: Any, context: dict[str, Any], **_: Any) -> None:
        status = getattr(http_response, "status_code", None)
        os.write(fd, (json.dumps({"call": context.get("call"), "event": "answered",
                                  "status": status}) + "\n").encode())

    def factory() -> Any:
        session = default_session_factory()
        session.events.register("before-call", sending)
        session.events.register("after-call", answered)
        return session

    count = 0

    def after_append(_: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        if count == args.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    runner = Runner(dr_config.load(args.config), planner=runbooks.phases,
                    session_factory=factory, after_append=after_append)
    result = runner.run(Request(command="failover", to="secondary", resume=args.resume,
                                force_unlock=args.resume))
    print(json.dumps({"run_id": result.report["run_id"], "outcome": result.outcome,
                      "exit_code": result.exit_code, "records": count}))


if __name__ == "__main__":
    main()
