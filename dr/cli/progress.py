"""What a run is doing, as the live board shows it.

Fed by what the engine already says, never by bookkeeping of its own: the runbooks the
planner returns (every step, before any starts), the journal's records through the Runner's
`after_append` hook (a step started, finished, rolled back; the run finished), and the log
events the board diverts from stderr (what a step waits for, a step that was never started,
a region that stopped answering). The RTO clock is the run's own `RtoBudget`.

Hooks run on the engine's threads and must never break a failover: what cannot be read is
ignored, and every change happens under one lock. `view()` gives the renderer a copy.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dr.runbook.journal import parse_iso

# States of a step line; `pending` until the journal says it started.
FINISHED = frozenset({"succeeded", "failed", "skipped", "planned", "rolled_back"})
NOTICES = 5
# Log fields that say nothing an operator needs on a one-line notice.
_PLUMBING = frozenset({"event", "level", "timestamp", "run_id", "logger"})


@dataclass(frozen=True)
class Step:
    id: str
    phase: str
    state: str = "pending"
    started: float | None = None  # epoch seconds, from the journal
    seconds: float | None = None  # once finished
    awaiting: str | None = None  # what its current wait is for
    note: str = ""  # the error, or why it was skipped

    def elapsed(self, now: float) -> float | None:
        if self.seconds is not None:
            return self.seconds
        return None if self.started is None else max(0.0, now - self.started)


@dataclass(frozen=True)
class Clock:
    """The RTO clock: when it started (epoch seconds: the incident, else the run's start)
    and the target."""

    started_at: float
    target_seconds: float


@dataclass(frozen=True)
class View:
    command: str = ""
    from_region: str = ""
    to_region: str = ""
    dry_run: bool = False
    run_id: str | None = None
    phases: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    clock: Clock | None = None
    follow_ups: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    outcome: str | None = None  # once the run has finished (or stopped)
    report: dict[str, Any] | None = None
    now: float = field(default_factory=time.time)

    def phase_finished_at(self, phase: str) -> float | None:
        """When the last step of `phase` ended (epoch seconds), once every one has."""
        mine = [s for s in self.steps if s.phase == phase]
        if not mine or any(s.state not in FINISHED for s in mine):
            return None
        ends = [s.started + s.seconds for s in mine
                if s.started is not None and s.seconds is not None]
        return max(ends, default=None)


class RunProgress:
    def __init__(self, *, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._head: dict[str, Any] = {}
        self._steps: dict[str, Step] = {}
        self._follow_ups: list[str] = []
        self._problems: list[str] = []
        self._notices: deque[str] = deque(maxlen=NOTICES)
        self._clock: Callable[[], Clock | None] = lambda: None
        self._outcome: str | None = None
        self._report: dict[str, Any] | None = None

    def planner(self, plan: Callable[..., list[tuple[str, Any]]]) -> Callable[..., Any]:
        """Wraps the Runner's planner: the board learns every step before the first starts,
        under the ids the executor journals (`phase/step` when a run has several phases)."""

        def planned(config: Any, request: Any, gateway: Any) -> list[tuple[str, Any]]:
            phases = plan(config, request, gateway)
            multi = len(phases) > 1
            with self._lock:
                first = phases[0][1].direction if phases else None
                self._head.update(command=request.command, dry_run=request.dry_run,
                                  from_region=first.from_region if first else "",
                                  to_region=first.to_region if first else "",
                                  phases=tuple(name for name, _ in phases))
                # In the runbooks' order; what a resumed run's journal already said is kept.
                known, self._steps = self._steps, {}
                for name, runbook in phases:
                    for node in runbook.order():
                        step_id = f"{name}/{node.id}" if multi else node.id
                        self._steps[step_id] = known.pop(step_id, None) or Step(step_id, name)
                self._steps.update(known)
            return phases

        return planned

    def follow(self, runner: Any, request: Any) -> None:
        """Before `runner.run(request)`: the RTO clock is the run's own (its waiter's budget,
        once the run has made it), and a resumed run starts from what its journal says."""

        def clock() -> Clock | None:
            waiter = runner.waiter
            return None if waiter is None else Clock(waiter.budget.started_at,
                                                     waiter.budget.target_seconds)

        self._clock = clock
        if request.resume:
            path = runner.state_dir / "runs" / request.resume / "journal.jsonl"
            for line in _lines(path):
                self.record(line)

    def record(self, record: dict[str, Any]) -> None:
        """The journal hook: one durable record, in file order."""
        with self._lock, self._harmless(record):
            event, step_id = record.get("event"), record.get("step")
            if event == "step.started" and step_id:
                self._put(step_id, record.get("phase", ""), state="running",
                          started=_epoch(record.get("at")), seconds=None, awaiting=None,
                          note="")
            elif event == "step.finished" and step_id:
                detail = record.get("detail") or {}
                note = record.get("error") or detail.get("reason") or (
                    "already done" if detail.get("already_done") else "")
                self._put(step_id, record.get("phase", ""), state=record.get("status", "?"),
                          seconds=record.get("seconds"), awaiting=None, note=str(note))
                if detail.get("follow_up"):
                    self._follow_ups.append(str(detail["follow_up"]))
            elif event == "step.rolled_back" and step_id:
                if record.get("error"):
                    self._put(step_id, record.get("phase", ""),
                              note=f"rollback failed: {record['error']}")
                else:
                    self._put(step_id, record.get("phase", ""), state="rolled_back", note="")
            elif event == "run.finished":
                self._outcome = str(record.get("outcome"))

    def event(self, event: dict[str, Any]) -> None:
        """The log sink: what the lines on stderr would have said."""
        with self._lock, self._harmless(event):
            name, step_id = event.get("event"), event.get("step")
            if name in ("wait.started", "wait.progress") and step_id in self._steps:
                self._put(step_id, state="running", awaiting=str(event.get("awaiting", "")))
            elif name == "step.skipped" and step_id in self._steps \
                    and self._steps[step_id].state == "pending":
                # A step never started (what it needs did not succeed) is not journaled.
                self._put(step_id, state="skipped", note=str(event.get("reason", "")))
            elif name == "run.started":
                self._head["run_id"] = event.get("run_id")
            elif name == "run.not_ready":
                self._problems += [str(p) for p in event.get("problems", [])]
            elif event.get("level") in ("warning", "error", "critical") \
                    and name not in ("step.failed", "run.not_ready"):
                self._notices.append(_notice(event))

    def finish(self, report: dict[str, Any]) -> None:
        """The run's report: the board's last state shows its outcome, measured figures and
        every follow-up (the run adds some of its own to those of its steps)."""
        with self._lock:
            self._report = report
            self._outcome = str(report.get("outcome"))
            self._follow_ups = [str(f) for f in report.get("follow_ups", [])]

    def stop(self, why: str) -> None:
        """The run ended without a report (an error, Ctrl-C): say so on the last state."""
        with self._lock:
            if self._outcome is None:
                self._outcome = why

    def started_any(self) -> bool:
        with self._lock:
            return any(s.started is not None for s in self._steps.values())

    def view(self) -> View:
        clock = self._clock()
        with self._lock:
            return View(**self._head, steps=tuple(self._steps.values()), clock=clock,
                        follow_ups=tuple(self._follow_ups), problems=tuple(self._problems),
                        notices=tuple(self._notices), outcome=self._outcome,
                        report=self._report, now=self._now())

    @contextlib.contextmanager
    def _harmless(self, said: dict[str, Any]) -> Iterator[None]:
        """A record or event the board cannot read is a notice on the board, never an error
        in the step that journaled or logged it."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - the board must not fail a failover
            self._notices.append(f"error: the board could not show {said.get('event')}: "
                                 f"{exc!r}")

    def _put(self, step_id: str, phase: str | None = None, **changes: Any) -> None:
        step = self._steps.get(step_id) or Step(step_id, phase or "")
        self._steps[step_id] = replace(step, **changes)


def _lines(path: Path) -> list[dict[str, Any]]:
    """A journal's records; a missing journal or a torn last line is the runner's to report."""
    records = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return records


def _epoch(at: Any) -> float | None:
    try:
        return parse_iso(str(at)).timestamp()
    except ValueError:
        return None


def _notice(event: dict[str, Any]) -> str:
    fields = " ".join(f"{k}={v}" for k, v in event.items() if k not in _PLUMBING)
    return f"{event.get('level')}: {event.get('event')} {fields}".rstrip()


def rows(view: View, limit: int) -> list[Step | str]:
    """The step lines to draw in at most `limit` rows: every step while they fit; else each
    phase not under way is one summary line, the finished steps of the one under way one
    more, and its pending steps past the limit a count."""
    steps = list(view.steps)
    if len(steps) <= limit:
        return list(steps)
    current = next((s.phase for s in steps if s.state == "running"), None) or next(
        (s.phase for s in steps if s.state == "pending"), steps[-1].phase)
    phases = list(dict.fromkeys(s.phase for s in steps))
    done = [s for s in steps if s.phase == current and s.state in ("succeeded", "planned")]
    rest = [s for s in steps if s.phase == current and s not in done]
    room = max(limit - (len(phases) - 1) - (1 if done else 0), 2)
    out: list[Step | str] = []
    for phase in phases:
        if phase != current:
            out.append(f"{phase}: {_counts([s for s in steps if s.phase == phase])}")
            continue
        if done:
            out.append(f"{phase}: {_counts(done)}")
        if len(rest) > room:
            out += rest[:room - 1]
            out.append(f"{phase}: {_counts(rest[room - 1:])} more")
        else:
            out += rest
    return out


def _counts(steps: list[Step]) -> str:
    tally: dict[str, int] = {}
    for step in steps:
        tally[step.state] = tally.get(step.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in tally.items())
