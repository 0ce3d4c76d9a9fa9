"""Runs a runbook: readiness first, then the step graph with independent steps side by side.

Every step is journaled before its apply and after it ends. Dependents of a failed step do
not start, nor does anything else once a step has failed; steps already running finish.
A step whose region does not answer is skipped when it is best effort, failed otherwise.
A step whose global control plane does not answer (the run leaves us-east-1) fails alone:
only its dependents wait, and the recovery region's steps all run.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from dr.aws.gateway import CallLog, Gateway
from dr.config.model import Config
from dr.errors import ControlPlaneUnavailable, RegionUnavailable
from dr.runbook.context import RunInfo, StepContext
from dr.runbook.graph import Node, Runbook
from dr.runbook.journal import Journal, Replay, iso, parse_iso, utcnow
from dr.runbook.steptype import Problem
from dr.runbook.waiting import Waiter

log = structlog.get_logger("dr.run")

DONE = frozenset({"succeeded", "skipped", "planned"})


@dataclass
class StepRecord:
    id: str
    type: str
    region: str
    status: str
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    attempts: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def from_journal(cls, record: dict[str, Any], attempts: int) -> StepRecord:
        return cls(id=record["step"], type=record["type"], region=record["region"],
                   status=record["status"], started_at=record["started_at"],
                   finished_at=record["finished_at"], seconds=record["seconds"],
                   attempts=attempts, detail=record.get("detail", {}), error=record.get("error"))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "region": self.region, "status": self.status,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "seconds": self.seconds, "attempts": self.attempts, "detail": self.detail,
                "error": self.error}


class Executor:
    def __init__(self, *, config: Config, gateway: Gateway, journal: Journal, run: RunInfo,
                 waiter: Waiter, replay: Replay | None = None, max_workers: int = 16) -> None:
        self.config = config
        self.gateway = gateway
        self.journal = journal
        self.run = run
        self.waiter = waiter
        self.replay = replay
        self.max_workers = max_workers

    def context(self, node: Node, step_id: str, calls: CallLog, *,
                waiter: Waiter | None = None, detail: dict[str, Any] | None = None
                ) -> StepContext:
        """What a step's check, apply or rollback sees: its deadline, its calls' log."""
        deadline = time.monotonic() + node.step.timeout_seconds
        return StepContext(config=self.config, direction=node.step.direction, run=self.run,
                           aws=self.gateway.for_step(deadline, calls),
                           waiter=waiter or self.waiter, step_id=step_id, deadline=deadline,
                           detail=detail if detail is not None else {})

    def readiness(self, runbook: Runbook, phase: str,
                  prefix: str = "") -> tuple[list[Problem], dict[str, Any]]:
        """Every step's read-only check, side by side. Returns problems and facts per step.

        A resumed run checks again: the estate may have moved since. A step the journal
        shows as started has already acted, and its apply finds the state it left (a
        promotion under way, say), so its problems become facts instead of refusals."""

        def check(node: Node) -> tuple[list[Problem], dict[str, Any]]:
            ctx = self.context(node, node.id, CallLog())
            try:
                return node.step.check(ctx), ctx.detail
            except RegionUnavailable as exc:
                if node.step.best_effort:
                    return [], {"region_unavailable": exc.reason}
                return [Problem(node.id, str(exc))], ctx.detail
            except ControlPlaneUnavailable as exc:
                # Contract 1.1: a warning, not a refusal; the step fails, bounded, if the
                # control plane still does not answer when it runs.
                return [Problem(node.id, str(exc), warning=True)], ctx.detail
            except Exception as exc:  # noqa: BLE001 - any failure to check is "not ready"
                return [Problem(node.id, f"readiness check failed: {describe(exc)}")], {}

        acted = set(self.replay.attempts) if self.replay else set()
        # What readiness found before the run first acted stays the baseline (the replica's
        # lag, whether it was already promoted): a resumed check sees the run's own changes.
        before = self.replay.readiness_passed.get(phase, {}) if self.replay else {}
        problems: list[Problem] = []
        facts: dict[str, Any] = {}
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="dr-check") as pool:
            for node, (found, detail) in zip(runbook.nodes, pool.map(check, runbook.nodes),
                                             strict=True):
                detail = {**detail, **before.get(node.id, {})}
                if prefix + node.id in acted and found:
                    detail["resumed_past"] = [str(p) for p in found]
                else:
                    problems.extend(found)
                if detail:
                    facts[node.id] = detail
        return problems, facts

    def execute(self, runbook: Runbook, phase: str, prefix: str,
                facts: dict[str, Any]) -> list[StepRecord]:
        records: dict[str, StepRecord] = {}
        pending = {n.id: n for n in runbook.order()}
        for step_id in list(pending):
            finished = self.replay.finished.get(prefix + step_id) if self.replay else None
            if finished and finished["status"] in DONE:
                attempts = self.replay.attempts.get(prefix + step_id, 1) if self.replay else 1
                records[step_id] = StepRecord.from_journal(finished, attempts)
                del pending[step_id]

        halted: str | None = None
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="dr-step") as pool:
            running: dict[Future[StepRecord], str] = {}
            while pending or running:
                if self.waiter.abort.is_set() and not halted:
                    halted = f"abort: {self.waiter.abort_reason}"
                for step_id, node in list(pending.items()):
                    blocker = halted or next((n for n in sorted(node.needs)
                                              if n in records
                                              and records[n].status not in DONE), None)
                    if blocker:
                        records[step_id] = self._not_started(node, prefix, blocker)
                        del pending[step_id]
                    elif all(n in records for n in node.needs):
                        running[pool.submit(self._run_step, node, phase, prefix,
                                            facts.get(step_id, {}))] = step_id
                        del pending[step_id]
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    step_id = running.pop(future)
                    record = records[step_id] = future.result()
                    # A step whose control plane is lost (leaving us-east-1) fails alone:
                    # its dependents wait, everything else in the recovery region goes on.
                    if record.status == "failed" and not halted \
                            and not record.detail.get("control_plane_unavailable"):
                        halted = prefix + step_id
        return [records[n.id] for n in runbook.order()]

    def _not_started(self, node: Node, prefix: str, blocker: str) -> StepRecord:
        reason = (f"not started: {blocker}" if blocker.startswith("abort")
                  else f"not started: {blocker} did not succeed")
        log.info("step.skipped", step=prefix + node.id, reason=reason)
        return StepRecord(id=prefix + node.id, type=node.step.name, region=node.step.region,
                          status="skipped", detail={"reason": reason, "not_started": True})

    def _run_step(self, node: Node, phase: str, prefix: str,
                  facts: dict[str, Any]) -> StepRecord:
        step, step_id = node.step, prefix + node.id
        attempt = (self.replay.attempts.get(step_id, 0) if self.replay else 0) + 1
        first_start = self.replay.first_started_at.get(step_id) if self.replay else None
        calls = CallLog()
        ctx = self.context(node, step_id, calls)
        ctx.detail.update(facts)
        ctx.note(plan=step.plan())
        bound = log.bind(step=step_id, region=step.region, attempt=attempt, run_id=self.run.run_id)
        started = utcnow()
        self.journal.append("step.started", step=step_id, phase=phase, attempt=attempt,
                            type=step.name, region=step.region)
        bound.info("step.started", type=step.name)
        status, error = ("planned" if self.run.dry_run else "succeeded"), None
        try:
            down = ctx.aws.region_down(step.region) if step.acts_in != "global" else None
            if down and step.best_effort:
                raise RegionUnavailable(step.region, down)
            step.apply(ctx)
            if not self.run.dry_run:
                step.verify(ctx)
        except ControlPlaneUnavailable as exc:
            status, error = "failed", str(exc)
            ctx.note(control_plane_unavailable=exc.service)
        except RegionUnavailable as exc:
            if step.best_effort:
                status = "skipped"
                ctx.note(reason=f"region {exc.region} not answering ({exc.reason})",
                         follow_up=step.follow_up.format(**step.manual_values()))
            else:
                status, error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - the executor is the boundary for step errors
            status, error = "failed", describe(exc)
        finished = utcnow()
        if calls.intentions:
            ctx.note(intentions=[i.as_dict() for i in calls.intentions])
        if calls.retries:
            ctx.note(retries=calls.retries)
        if calls.sent:
            ctx.note(aws_calls=dict(calls.sent))
        seconds = round((finished - started).total_seconds(), 3)
        record = StepRecord(id=step_id, type=step.name, region=step.region, status=status,
                            started_at=first_start or iso(started), finished_at=iso(finished),
                            seconds=seconds, attempts=attempt, detail=dict(ctx.detail),
                            error=error)
        self.journal.append("step.finished", **_journal_fields(record), phase=phase)
        event = {"succeeded": "step.succeeded", "planned": "step.planned",
                 "skipped": "step.skipped"}.get(status, "step.failed")
        (bound.error if status == "failed" else bound.info)(
            event, seconds=seconds, **({"error": error} if error else {}),
            **({"reason": ctx.detail["reason"]} if status == "skipped" else {}))
        return record


def _journal_fields(record: StepRecord) -> dict[str, Any]:
    fields = record.as_dict()
    fields["step"] = fields.pop("id")
    fields.pop("attempts")
    return fields


def describe(exc: BaseException) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{exc.operation_name}: {err.get('Code')}: {err.get('Message')}"
    return f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)


def moment(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None
