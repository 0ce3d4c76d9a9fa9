"""In-memory step types and a harness that runs them through the real `Runner`.

One step class serves every engine test: its behaviour comes from its config item (a
`Spec`). The class is put in the step registry only while a test runs (`registered`), so
meta-tests that walk the registry never see it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dr.config.model import Config, Lock, Regions, Targets
from dr.runbook.context import StepContext
from dr.runbook.graph import Node, Runbook
from dr.runbook.run import Request, Result, Runner
from dr.runbook.steptype import Direction, Manual, Problem, StepType

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
DIRECTION = Direction(to="secondary", to_region=SECONDARY, from_region=PRIMARY)
WAIT = 20.0  # a gate that is never opened fails the test instead of hanging it


class Trace:
    """What the steps did, in the order they did it, across threads."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def add(self, what: str, key: str) -> None:
        with self._lock:
            self.events.append((what, key))

    def index(self, what: str, key: str) -> int:
        return self.events.index((what, key))

    def keys(self, what: str) -> list[str]:
        return [k for w, k in self.events if w == what]


@dataclass(frozen=True)
class Spec:
    key: str
    trace: Trace
    needs: tuple[str, ...] = ()
    apply: Callable[[StepContext], None] | None = None
    check: Callable[[StepContext], list[Problem]] | None = None
    best_effort: bool = False
    acts_in: str = "to"
    extra: dict[str, Any] = field(default_factory=dict)


class MemoryStep(StepType):
    name = "enginetest.run"
    reads = "mem"
    acts_in = "to"
    iam_actions = ()
    typical_seconds = 1.0
    timeout_seconds = 60.0
    summary = "An in-memory step for engine tests."
    why = "Engine tests."
    manual = Manual(procedure="none", verify="none", undo="none")
    follow_up = "check {region} once it answers"

    item: Spec

    def __init__(self, item: Spec, direction: Direction) -> None:
        super().__init__(item, direction, best_effort=item.best_effort)
        self.acts_in = item.acts_in  # type: ignore[misc]

    @property
    def key(self) -> str:
        return self.item.key

    def plan(self) -> str:
        return f"run {self.item.key}"

    def check(self, ctx: StepContext) -> list[Problem]:
        self.item.trace.add("check", self.key)
        return self.item.check(ctx) if self.item.check else []

    def apply(self, ctx: StepContext) -> None:
        self.item.trace.add("start", self.key)
        try:
            if self.item.apply:
                self.item.apply(ctx)
        finally:
            self.item.trace.add("end", self.key)

    def verify(self, ctx: StepContext) -> None:
        self.item.trace.add("verify", self.key)


def step_id(key: str) -> str:
    return f"mem.{key}.run"


def runbook(specs: Iterable[Spec]) -> Runbook:
    return Runbook("failover", DIRECTION, tuple(
        Node(MemoryStep(s, DIRECTION), frozenset(step_id(n) for n in s.needs)) for s in specs))


def config(tmp_path: Path, *, lock_table: str | None = None, app: str = "engine") -> Config:
    return Config(app=app, environment="test", regions=Regions(PRIMARY, SECONDARY),
                  targets=Targets(rto_seconds=900, rpo_seconds=60),
                  lock=Lock(lock_table) if lock_table else None,
                  source=str(tmp_path / "dr.yaml"))


def runner(tmp_path: Path, book: Runbook, *, cfg: Config | None = None,
           **kwargs: Any) -> Runner:
    return Runner(cfg or config(tmp_path), planner=lambda _c, _r, _g: [(book.name, book)],
                  state_dir=tmp_path / ".dr", **kwargs)


def run(tmp_path: Path, specs: Iterable[Spec], request: Request | None = None,
        **kwargs: Any) -> Result:
    book = runbook(specs)
    return runner(tmp_path, book, **kwargs).run(
        request or Request(command="failover", to="secondary"))


def steps(result: Result) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in result.report["steps"]}
