"""A whole run: lock, journal, readiness, the phases' step graphs, measurement and report."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from dr.aws.gateway import (
    IMPATIENT,
    CallLog,
    Gateway,
    SessionFactory,
    Timeouts,
    default_session_factory,
)
from dr.config.model import Config, Role
from dr.errors import UsageError
from dr.runbook import measure, report, rollback
from dr.runbook.context import RunInfo
from dr.runbook.executor import Executor, StepRecord
from dr.runbook.graph import Runbook
from dr.runbook.journal import Journal, iso, parse_iso, replay, utcnow
from dr.runbook.lock import DynamoLock, LocalLock, RunLock
from dr.runbook.steptype import REGISTRY
from dr.runbook.waiting import PollPolicy, RtoBudget, Waiter

log = structlog.get_logger("dr.run")


@dataclass(frozen=True)
class Request:
    command: str
    to: Role
    dry_run: bool = False
    incident_start: datetime | None = None
    accept_data_loss: bool = False
    no_failback: bool = False
    resume: str | None = None
    force_unlock: str | None = None
    report_dir: Path | None = None

    def journaled(self) -> dict[str, Any]:
        return {"command": self.command, "to": self.to, "dry_run": self.dry_run,
                "incident_start": iso(self.incident_start),
                "accept_data_loss": self.accept_data_loss, "no_failback": self.no_failback}


@dataclass
class Result:
    report: dict[str, Any]
    paths: list[Path]
    problems: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return str(self.report["outcome"])

    @property
    def exit_code(self) -> int:
        return report.EXIT_CODES[self.outcome]


PhasePlanner = Callable[[Config, "Request", Gateway], list[tuple[str, Runbook]]]
Notifier = Callable[[Gateway, Config, Role, str, str], None]


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H-%M-%SZ-") + secrets.token_hex(2)


class Runner:
    def __init__(self, config: Config, *, planner: PhasePlanner, notifier: Notifier | None = None,
                 session_factory: SessionFactory = default_session_factory,
                 poll: PollPolicy | None = None, impatient: Timeouts = IMPATIENT,
                 state_dir: Path = Path(".dr"),
                 after_append: Callable[[dict[str, Any]], None] | None = None,
                 abort: threading.Event | None = None, roll_back_on_abort: bool = False
                 ) -> None:
        self.config = config
        self.planner = planner
        self.notifier = notifier
        self.session_factory = session_factory
        self.poll = poll or PollPolicy()
        self.impatient = impatient
        self.state_dir = state_dir
        self.after_append = after_append
        self.abort = abort or threading.Event()
        # A game day's stop condition undoes what the stopped phase changed; an operator's
        # failover is never undone behind their back.
        self.roll_back_on_abort = roll_back_on_abort
        self.waiter: Waiter | None = None

    def run(self, request: Request) -> Result:
        started = utcnow()
        past = None
        if request.resume:
            past = replay(self.state_dir / "runs" / request.resume / "journal.jsonl")
            if past.outcome is not None:
                raise UsageError(f"run {request.resume} already finished ({past.outcome}); "
                                 "nothing to resume")
            request = _resumed(request, past.started)
            started = parse_iso(past.started["at"])
        if request.dry_run and request.resume:
            raise UsageError("a dry run cannot be resumed")
        run_id = request.resume or new_run_id(started)
        config_hash = hashlib.sha256(Path(self.config.source).read_bytes()).hexdigest() \
            if Path(self.config.source).is_file() else None
        if past and past.started.get("config_sha256") not in (None, config_hash):
            log.warning("config.changed", run_id=run_id, config=self.config.source)

        regions = self.config.regions
        to_region = regions.of(request.to)
        gateway = Gateway(dry_run=request.dry_run, patient_regions=frozenset({to_region}),
                          session_factory=self.session_factory, impatient=self.impatient)
        phases = self.planner(self.config, request, gateway)
        lock = None if request.dry_run else self._lock(gateway, run_id, request, to_region)
        if lock:
            lock.acquire()
        run_path = self.state_dir / "runs" / run_id
        try:
            journal = Journal(run_path / "journal.jsonl", after_append=self.after_append)
        except BaseException:
            if lock:
                lock.release()
            raise
        structlog.contextvars.bind_contextvars(run_id=run_id)
        try:
            if not past:
                journal.append("run.started", run_id=run_id, config=self.config.source,
                               config_sha256=config_hash, **request.journaled())
            log.info("run.started", command=request.command, to=to_region,
                     dry_run=request.dry_run, resumed=bool(past))
            clock_start = request.incident_start or started
            self.waiter = Waiter(self.poll, RtoBudget(clock_start.timestamp(),
                                                      self.config.targets.rto_seconds),
                                 dry_run=request.dry_run, abort=self.abort)
            self._notify(gateway, request, f"dr {request.command} to {to_region} started",
                         f"run {run_id} {'resumed' if past else 'started'}")
            info = RunInfo(run_id=run_id, command=request.command,
                           incident_start=request.incident_start,
                           accept_data_loss=request.accept_data_loss, dry_run=request.dry_run)
            executor = Executor(config=self.config, gateway=gateway, journal=journal, run=info,
                                waiter=self.waiter, replay=past)
            body = self._phases(executor, phases, request, started, journal)
            finished = utcnow()
            result = self._report(run_id, request, phases, body, started, finished)
            # The report before the journal's last word: a run killed after journaling
            # run.finished cannot be resumed, so its report must already be on disk.
            paths = report.write(result, request.report_dir or run_path)
            journal.append("run.finished", outcome=result["outcome"])
        finally:
            journal.close()
            if lock:
                lock.release()
            structlog.contextvars.unbind_contextvars("run_id")
        log.info("run.finished", outcome=result["outcome"], rto=result["rto"]["measured_seconds"],
                 rpo=result["rpo"]["measured_seconds"])
        self._notify(gateway, request, f"dr {request.command} to {to_region}: "
                     f"{result['outcome']}", report.markdown(result))
        return Result(result, paths, result.get("problems", []))

    def _lock(self, gateway: Gateway, run_id: str, request: Request, to_region: str) -> RunLock:
        cfg = self.config
        if cfg.lock:
            aws = gateway.for_step(float("inf"), CallLog())
            other_region = cfg.regions.of("primary" if request.to == "secondary" else "secondary")
            return DynamoLock(aws, cfg.lock.dynamodb_table, cfg.lock_key, run_id,
                              regions=[to_region, other_region], required_region=to_region,
                              lease_seconds=cfg.lock.lease_seconds,
                              force_unlock=request.force_unlock)
        return LocalLock(self.state_dir / "locks", cfg.lock_key, run_id, request.force_unlock)

    def _notify(self, gateway: Gateway, request: Request, subject: str, message: str) -> None:
        if self.notifier and self.config.notify:
            self.notifier(gateway, self.config, request.to, subject, message)

    def _phases(self, executor: Executor, phases: list[tuple[str, Runbook]], request: Request,
                started: datetime, journal: Journal) -> dict[str, Any]:
        body: dict[str, Any] = {"phases": [], "problems": [], "accepted": []}
        multi = len(phases) > 1
        for index, (name, runbook) in enumerate(phases):
            if self.abort.is_set():
                break
            phase_started = utcnow()
            problems, facts = executor.readiness(runbook, name)
            blocking = [p for p in problems if not (p.data_loss and request.accept_data_loss)]
            body["accepted"] += [str(p) for p in problems if p not in blocking]
            if blocking:
                body["problems"] = [str(p) for p in blocking]
                log.warning("run.not_ready", phase=name, problems=body["problems"])
                body["not_ready_phase"] = index
                break
            if not (executor.replay and name in executor.replay.readiness_passed):
                journal.append("readiness.passed", phase=name, facts=facts)
            prefix = f"{name}/" if multi else ""
            records = executor.execute(runbook, name, prefix, facts)
            if self.abort.is_set() and self.roll_back_on_abort:
                rollback.roll_back(executor, runbook, name, prefix, records)
            clock_start = (request.incident_start or started) if index == 0 else phase_started
            body["phases"].append(self._phase_summary(name, runbook, records, clock_start,
                                                      request))
            if self.abort.is_set() or any(r.status == "failed" or r.detail.get("not_started")
                                          for r in records):
                break
        return body

    def _phase_summary(self, name: str, runbook: Runbook, records: list[StepRecord],
                       clock_start: datetime, request: Request) -> dict[str, Any]:
        targets = self.config.targets
        return {
            "name": name, "from_region": runbook.direction.from_region,
            "to_region": runbook.direction.to_region, "records": records,
            "rto": measure.rto(records, clock_start, targets.rto_seconds,
                               dry_run=request.dry_run, estimate=runbook.critical_path()),
            "rpo": measure.rpo(records, targets.rpo_seconds,
                               request.incident_start if name == "failover" else None),
        }

    def _report(self, run_id: str, request: Request, phases: list[tuple[str, Runbook]],
                body: dict[str, Any], started: datetime, finished: datetime) -> dict[str, Any]:
        first = phases[0][1].direction
        done = body["phases"]
        records = [r for p in done for r in p["records"]]
        targets = self.config.targets
        stopped_by = self.waiter.abort_reason if self.waiter and self.abort.is_set() else None
        if done:
            rto, rpo = done[0]["rto"], done[0]["rpo"]
        else:
            rto = {"target_seconds": targets.rto_seconds, "measured_seconds": None, "met": None,
                   "method": "not_recovered"}
            rpo = {"target_seconds": targets.rpo_seconds, "measured_seconds": None,
                   "method": "none", "met": None}
        if body["problems"] and not records:
            outcome = "not_ready"
        elif stopped_by or body["problems"] or any(
                r.status == "failed" or r.detail.get("not_started") for r in records):
            outcome = "failed"
        elif request.dry_run:
            outcome = "planned"
        elif any(p[k]["met"] is False for p in done for k in ("rto", "rpo")):
            outcome = "targets_missed"
        else:
            outcome = "succeeded"
        result: dict[str, Any] = {
            "run_id": run_id, "command": request.command, "dry_run": request.dry_run,
            "from_region": first.from_region, "to_region": first.to_region,
            "started_at": iso(started), "finished_at": iso(finished), "outcome": outcome,
            "rto": rto, "rpo": rpo, "steps": [r.as_dict() for r in records],
            "problems": body["problems"], "accepted_data_loss": body["accepted"],
            "follow_ups": [r.detail["follow_up"] for r in records if r.detail.get("follow_up")],
            "changed": [r.id for r in records
                        if r.status == "succeeded" and not r.detail.get("already_done")
                        and not (r.type in REGISTRY and REGISTRY[r.type].read_only)],
            "incident_start": iso(request.incident_start),
            "estimated_seconds": round(sum(rb.critical_path() for _, rb in phases), 1),
        }
        if stopped_by:
            result["stopped_by"] = stopped_by
        if len(phases) > 1:
            result["phases"] = [{k: v for k, v in p.items() if k != "records"} for p in done]
        return result


def _resumed(request: Request, started: dict[str, Any]) -> Request:
    incident = started.get("incident_start")
    return replace(request, command=started["command"], to=started["to"],
                   accept_data_loss=started["accept_data_loss"],
                   no_failback=started.get("no_failback", False),
                   incident_start=parse_iso(incident) if incident else None)

