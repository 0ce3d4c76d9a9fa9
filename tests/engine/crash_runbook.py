"""A 6-step runbook with a parallel branch, run by the real `Runner`, that can SIGKILL itself
at a chosen journal record. Used by test_crash_resume.py and test_lock.py as a subprocess.

    prepare ─┬─ left1 ── left2 ──┬─ finish
             └─ right1 ── right2 ─┘

Each step sets its key in a JSON state file, idempotently, and appends a line to an
`applied` file only when it really changed the state; every call of apply is logged to
`calls`. On a fresh run the branch is interleaved deterministically (left1 and right1 run
side by side), so record number N is the same boundary in every run:

     1 run.started            6 started right1       11 finished left2
     2 readiness.passed       7 finished left1       12 finished right2
     3 started prepare        8 started left2        13 started finish
     4 finished prepare       9 finished right1      14 finished finish
     5 started left1         10 started right2       15 run.finished

usage: crash_runbook.py WORK_DIR [--kill-at N] [--resume RUN_ID]
Prints one JSON line: run_id, outcome, exit_code (or the lock holder); exits with the
run's exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dr.config.model import Config, Regions, Targets  # noqa: E402
from dr.errors import DrError, LockHeld  # noqa: E402
from dr.runbook.context import StepContext  # noqa: E402
from dr.runbook.graph import Node, Runbook  # noqa: E402
from dr.runbook.run import Request, Runner  # noqa: E402
from dr.runbook.steptype import Direction, Manual, StepType, register  # noqa: E402

DIRECTION = Direction(to="secondary", to_region="us-west-2", from_region="us-east-1")
NEEDS = {"prepare": (), "left1": ("prepare",), "right1": ("prepare",), "left2": ("left1",),
         "right2": ("right1",), "finish": ("left2", "right2")}
TARGET = {key: f"{key}-done" for key in NEEDS}
# The interleaving of a fresh run: (step, phase) waits for the journal record (event, step).
BEFORE = {
    ("right1", "plan"): ("step.started", "left1"),     # right1 is journaled after left1
    ("left1", "apply"): ("step.started", "right1"),    # left1 and right1 overlap
    ("right1", "apply"): ("step.started", "left2"),    # left1 finishes first
    ("left2", "apply"): ("step.started", "right2"),    # right1 finishes before left2
    ("right2", "apply"): ("step.finished", "left2"),   # left2 finishes before right2
}
WAIT = 30.0


def step_id(key: str) -> str:
    return f"crash.{key}.apply"


class Seen:
    """Journal records seen so far (set by the journal hook), for the interleaving."""

    def __init__(self, ordered: bool) -> None:
        self.ordered = ordered
        self._events: dict[tuple[str, str | None], threading.Event] = defaultdict(
            threading.Event)
        self._lock = threading.Lock()

    def event(self, key: tuple[str, str | None]) -> threading.Event:
        with self._lock:
            return self._events[key]

    def saw(self, record: dict[str, Any]) -> None:
        self.event((record["event"], record.get("step"))).set()

    def wait_before(self, key: str, phase: str) -> None:
        awaited = BEFORE.get((key, phase))
        if self.ordered and awaited and not self.event(
                (awaited[0], step_id(awaited[1]))).wait(WAIT):
            raise RuntimeError(f"{key} {phase}: never saw {awaited}")


class Files:
    def __init__(self, work: Path) -> None:
        self.state = work / "state.json"
        self.applied = work / "applied"
        self.calls = work / "calls"
        self._lock = threading.Lock()

    def read(self) -> dict[str, str]:
        return json.loads(self.state.read_text()) if self.state.exists() else {}

    def set(self, key: str, value: str) -> bool:
        """Set key, durably; False when it already had that value."""
        with self._lock:
            state = self.read()
            if state.get(key) == value:
                return False
            state[key] = value
            tmp = self.state.with_suffix(".tmp")
            with open(tmp, "w") as f:
                json.dump(state, f, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state)
            append_line(self.applied, key)
            return True


def append_line(path: Path, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


@register
class CrashStep(StepType):
    name = "crashtest.apply"
    reads = "crash"
    acts_in = "to"
    iam_actions = ()
    typical_seconds = 1.0
    timeout_seconds = 60.0
    summary = "Set a key in the state file."
    why = "Crash-safety test."
    manual = Manual(procedure="none", verify="none", undo="none")

    files: Files
    seen: Seen
    label: str

    @property
    def key(self) -> str:
        return str(self.item)

    def plan(self) -> str:
        self.seen.wait_before(self.key, "plan")
        return f"set {self.key} to {TARGET[self.key]}"

    def apply(self, ctx: StepContext) -> None:
        append_line(self.files.calls, f"{self.label} {self.key}")
        self.seen.wait_before(self.key, "apply")
        if not self.files.set(self.key, TARGET[self.key]):
            ctx.note(already_done=True)

    def verify(self, ctx: StepContext) -> None:
        if self.files.read().get(self.key) != TARGET[self.key]:
            raise RuntimeError(f"{self.key} not set")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("work", type=Path)
    parser.add_argument("--kill-at", type=int)
    parser.add_argument("--resume")
    args = parser.parse_args()

    files = Files(args.work)
    seen = Seen(ordered=not args.resume)
    CrashStep.files, CrashStep.seen = files, seen
    CrashStep.label = "resume" if args.resume else "fresh"
    book = Runbook("failover", DIRECTION, tuple(
        Node(CrashStep(key, DIRECTION), frozenset(step_id(n) for n in needs))
        for key, needs in NEEDS.items()))
    count = 0

    def after_append(record: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        if count == args.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        seen.saw(record)

    config = Config(app="crash", environment="test", regions=Regions("us-east-1", "us-west-2"),
                    targets=Targets(rto_seconds=900, rpo_seconds=60),
                    source=str(args.work / "dr.yaml"))
    runner = Runner(config, planner=lambda _c, _r, _g: [(book.name, book)],
                    state_dir=args.work / ".dr", after_append=after_append)
    try:
        result = runner.run(Request(command="failover", to="secondary", resume=args.resume))
    except LockHeld as exc:
        print(json.dumps({"holder": exc.holder, "error": str(exc), "exit_code": exc.exit_code}))
        return exc.exit_code
    except DrError as exc:
        print(json.dumps({"error": str(exc), "exit_code": exc.exit_code}))
        return exc.exit_code
    print(json.dumps({"run_id": result.report["run_id"], "outcome": result.outcome,
                      "exit_code": result.exit_code}))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
