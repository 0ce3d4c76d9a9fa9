"""A whole run: lock, journal, readiness, the phases' step graphs, measurement and report."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from dr import terraform_state
from dr.aws.gateway import (
    GLOBAL_HOME,
    IMPATIENT,
    CallLog,
    Gateway,
    SessionFactory,
    Timeouts,
    default_session_factory,
)
from dr.config.model import Config, Role, other
from dr.errors import ControlPlaneUnavailable, UsageError
from dr.redact import scrub_data
from dr.runbook import measure, report, resume, rollback
from dr.runbook.context import RunInfo
from dr.runbook.executor import Executor, StepRecord
from dr.runbook.graph import Runbook
from dr.runbook.interrupt import Interrupts
from dr.runbook.interrupt import exit_code as interrupt_exit_code
from dr.runbook.journal import Journal, Replay, iso, parse_iso, replay, utcnow
from dr.runbook.lock import DynamoLock, LocalLock, RunLock, local_lock_dir
from dr.runbook.shared_journal import SharedJournal
from dr.runbook.steptype import REGISTRY, Problem
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
    run_id: str | None = None  # chosen by the caller: `dr failover --remote` follows it
    # A game day: every move must be a proven switchover; one that may have lost a committed
    # write fails the run, and says so.
    lose_nothing: bool = False

    def journaled(self) -> dict[str, Any]:
        return {"command": self.command, "to": self.to, "dry_run": self.dry_run,
                "incident_start": iso(self.incident_start),
                "accept_data_loss": self.accept_data_loss, "no_failback": self.no_failback}


@dataclass
class Result:
    report: dict[str, Any]
    paths: list[Path]
    problems: list[str] = field(default_factory=list)
    already_finished: bool = False  # a --resume of a run that had finished: nothing was sent

    @property
    def outcome(self) -> str:
        return str(self.report["outcome"])

    @property
    def exit_code(self) -> int:
        if self.outcome == "interrupted":
            return interrupt_exit_code(self.report["interrupted_by"])
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
                 abort: threading.Event | None = None, roll_back_on_abort: bool = False,
                 lock_dir: Path | None = None) -> None:
        self.config = config
        self.planner = planner
        self.notifier = notifier
        self.session_factory = session_factory
        self.poll = poll or PollPolicy()
        self.impatient = impatient
        self.state_dir = state_dir
        self.lock_dir = lock_dir or local_lock_dir()
        self.after_append = after_append
        self.abort = abort or threading.Event()
        # A game day's stop condition undoes what the stopped phase changed; an operator's
        # failover is never undone behind their back.
        self.roll_back_on_abort = roll_back_on_abort
        self.waiter: Waiter | None = None
        self.interrupted_by: str | None = None  # "SIGINT" or "SIGTERM" once one arrived

    def run(self, request: Request) -> Result:
        started = utcnow()
        past = None
        if request.report_dir:
            _check_writable(request.report_dir)
        if request.resume:
            resume.check_run_id(request.resume)
            if request.dry_run:
                raise UsageError("a dry run cannot be resumed")
            path = self.state_dir / "runs" / request.resume / "journal.jsonl"
            if not path.is_file() and self.config.journal:
                self._fetch_shared(request, path)
            past = replay(path)
            if past.outcome is not None:
                return self._already_finished(request, past.outcome)
            resume.check_estate(request.resume, past.started.get("estate"), self.config)
            request = _resumed(request, past.started)
            started = parse_iso(past.started["at"])
        if request.run_id:
            resume.check_run_id(request.run_id)
            if (self.state_dir / "runs" / request.run_id).exists():
                raise UsageError(f"--run-id {request.run_id}: that run exists; "
                                 "--resume it instead")
        run_id = request.resume or request.run_id or new_run_id(started)
        with Interrupts(self._interrupt):
            return self._run(request, run_id, started, past)

    def _interrupt(self, signal_name: str) -> None:
        self.interrupted_by = signal_name
        reason = f"interrupted by {signal_name}"
        if self.waiter is not None:
            self.waiter.request_abort(reason)
        else:
            self.abort.set()

    def _run(self, request: Request, run_id: str, started: datetime,
             past: Replay | None) -> Result:

        regions = self.config.regions
        to_region = regions.of(request.to)
        gateway = Gateway(dry_run=request.dry_run, patient_regions=frozenset({to_region}),
                          impatient_global=regions.of(other(request.to)) == GLOBAL_HOME,
                          session_factory=self.session_factory, impatient=self.impatient)
        phases = self.planner(self.config, request, gateway)
        lock = None if request.dry_run else self._lock(gateway, run_id, request, to_region)
        if lock:
            lock.acquire()
            gateway.before_mutating = lock.check
        run_path = self.state_dir / "runs" / run_id
        shared = self._shared(gateway, run_id, [to_region, regions.of(other(request.to))])
        try:
            journal = Journal(run_path / "journal.jsonl", after_append=self.after_append,
                              mirror=shared.put if shared and not request.dry_run else None)
        except BaseException:
            if lock:
                lock.release()
            raise
        structlog.contextvars.bind_contextvars(run_id=run_id)
        try:
            if past:
                journal.append("run.resumed", run_id=run_id)
            else:
                journal.append("run.started", run_id=run_id, config=self.config.source,
                               estate=resume.fingerprint(self.config), **request.journaled())
            log.info("run.started", command=request.command, to=to_region,
                     dry_run=request.dry_run, resumed=bool(past))
            clock_start = request.incident_start or started
            self.waiter = Waiter(self.poll, RtoBudget(clock_start.timestamp(),
                                                      self.config.targets.rto_seconds),
                                 dry_run=request.dry_run, abort=self.abort)
            if self.interrupted_by:
                self.waiter.abort_reason = f"interrupted by {self.interrupted_by}"
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
            # run.finished cannot be resumed, so its report must already be on disk. The run
            # directory always keeps a copy, for a `--resume` of the finished run.
            paths = report.write(result, run_path)
            if request.report_dir and request.report_dir.resolve() != run_path.resolve():
                paths = report.write(result, request.report_dir)
            if self.interrupted_by:
                # Not run.finished: the run is to be resumed.
                journal.append("run.interrupted", signal=self.interrupted_by)
            elif result.get("resumable"):
                journal.append("run.incomplete", outcome=result["outcome"])
            else:
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

    def _already_finished(self, request: Request, outcome: str) -> Result:
        """`--resume` of a run whose journal ends in run.finished (contract 1.1): nothing is
        sent; its report is copied into `--report-dir` when one is given."""
        assert request.resume is not None
        run_path = self.state_dir / "runs" / request.resume
        log.info("run.already_finished", run_id=request.resume, outcome=outcome)
        try:
            result = json.loads((run_path / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"run {request.resume} already finished ({outcome}), but its "
                             f"report cannot be read from {run_path}: {exc}") from exc
        directory = request.report_dir or run_path
        if directory.resolve() != run_path.resolve():
            directory.mkdir(parents=True, exist_ok=True)
            for name in report.FILES:
                if (run_path / name).is_file():
                    shutil.copyfile(run_path / name, directory / name)
        paths = [directory / name for name in report.FILES if (directory / name).is_file()]
        return Result(result, paths, result.get("problems", []), already_finished=True)

    def _shared(self, gateway: Gateway, run_id: str, regions: list[str]
                ) -> SharedJournal | None:
        if self.config.journal is None:
            return None
        return SharedJournal(gateway.for_step(float("inf"), CallLog()),
                             self.config.journal.dynamodb_table, self.config.lock_key, run_id,
                             regions=regions)

    def _fetch_shared(self, request: Request, path: Path) -> None:
        """A run started on another machine: its journal, from the shared copy, becomes
        this machine's local one (the resume appends to it, and to the shared one)."""
        assert request.resume is not None
        regions = self.config.regions
        gateway = Gateway(dry_run=False, patient_regions=frozenset({regions.of(request.to)}),
                          session_factory=self.session_factory, impatient=self.impatient)
        shared = self._shared(gateway, request.resume,
                              [regions.of(request.to), regions.of(other(request.to))])
        assert shared is not None
        records = shared.records()
        if not records:
            return  # replay then says the run is unknown
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as copy:
            copy.writelines(json.dumps(r, default=str, sort_keys=True) + "\n" for r in records)
        log.info("journal.fetched", run_id=request.resume, records=len(records))

    def _lock(self, gateway: Gateway, run_id: str, request: Request, to_region: str) -> RunLock:
        cfg = self.config
        # The DynamoDB lock table, or else the shared journal's table: a journal shared
        # between machines needs a lock they share too.
        table = cfg.lock.dynamodb_table if cfg.lock else (
            cfg.journal.dynamodb_table if cfg.journal else None)
        if table:
            aws = gateway.for_step(float("inf"), CallLog())
            other_region = cfg.regions.of("primary" if request.to == "secondary" else "secondary")
            return DynamoLock(aws, table, cfg.lock_key, run_id,
                              regions=[to_region, other_region], required_region=to_region,
                              lease_seconds=cfg.lock.lease_seconds if cfg.lock else 120,
                              force_unlock=request.force_unlock, on_lost=self._lock_lost)
        return LocalLock(self.lock_dir, cfg.lock_key, run_id, request.force_unlock)

    def _lock_lost(self, reason: str) -> None:
        """Waits end at once; the next mutating call is refused by the lock's check."""
        if self.waiter is not None:
            self.waiter.request_abort(reason)
        else:
            self.abort.set()

    def _notify(self, gateway: Gateway, request: Request, subject: str, message: str) -> None:
        if self.notifier and self.config.notify:
            self.notifier(gateway, self.config, request.to, subject, message)

    def _phases(self, executor: Executor, phases: list[tuple[str, Runbook]], request: Request,
                started: datetime, journal: Journal) -> dict[str, Any]:
        body: dict[str, Any] = {"phases": [], "problems": [], "accepted": [], "warnings": []}
        multi = len(phases) > 1
        for index, (name, runbook) in enumerate(phases):
            if self.abort.is_set():
                break
            phase_started = utcnow()
            prefix = f"{name}/" if multi else ""
            problems, facts = executor.readiness(runbook, name, prefix)
            problems += _control_planes_left(runbook)
            if request.dry_run and index == 0:
                problems += _one_machine_only(self.config)
            warnings = [p for p in problems if p.warning]
            for warning in warnings:
                log.warning("run.warning", phase=name, warning=str(warning))
            body["warnings"] += [str(p) for p in warnings]
            blocking = [p for p in problems if not p.warning
                        and not (p.data_loss and request.accept_data_loss)]
            body["accepted"] += [str(p) for p in problems
                                 if p not in blocking and not p.warning]
            if blocking:
                body["problems"] = [str(p) for p in blocking]
                log.warning("run.not_ready", phase=name, problems=body["problems"])
                body["not_ready_phase"] = index
                break
            journal.append("readiness.passed", phase=name, facts=facts)
            records = executor.execute(runbook, name, prefix, facts)
            if self.abort.is_set() and self.roll_back_on_abort and not self.interrupted_by:
                rollback.roll_back(executor, runbook, name, prefix, records)
            elif any(r.status == "failed" and r.detail.get("roll_back_phase") for r in records):
                # A switchover that could not be proven unfenced its primary: contract 1.1
                # wants nothing else changed either (parameters, scale-up beside the fence).
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
        stopped_by = self.waiter.abort_reason if self.waiter and self.abort.is_set() \
            and not self.interrupted_by else None
        if done:
            rto, rpo = done[0]["rto"], done[0]["rpo"]
        else:
            rto = {"target_seconds": targets.rto_seconds, "measured_seconds": None, "met": None,
                   "method": "not_recovered"}
            rpo = {"target_seconds": targets.rpo_seconds, "measured_seconds": None,
                   "method": "none", "met": None}
        lost = _data_lost(done) if request.lose_nothing and not request.dry_run else []
        if self.interrupted_by:
            outcome = "interrupted"
        elif body["problems"] and not records:
            outcome = "not_ready"
        elif stopped_by or body["problems"] or lost or any(
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
            "warnings": body["warnings"],
            "follow_ups": [r.detail["follow_up"] for r in records if r.detail.get("follow_up")]
            + terraform_state.follow_ups(self.config, done, dry_run=request.dry_run,
                                         resume=f"dr {request.command} --resume {run_id}"),
            "changed": [r.id for r in records
                        if r.status == "succeeded" and not r.detail.get("already_done")
                        and not (r.type in REGISTRY and REGISTRY[r.type].read_only)],
            "incident_start": iso(request.incident_start),
            "estimated_seconds": round(sum(rb.critical_path() for _, rb in phases), 1),
            "control_planes": control_plane_steps(phases),
        }
        failed = [r for r in records if r.status == "failed"]
        if outcome == "failed" and failed and not stopped_by and not body["problems"] and all(
                r.detail.get("control_plane_unavailable") for r in failed):
            # Contract 1.1, "Losing us-east-1": the run ends failed and --resume finishes it
            # once the control plane answers, so it is not journaled as finished.
            result["resumable"] = True
        if request.lose_nothing:
            result["data_lost"] = lost
        if stopped_by:
            result["stopped_by"] = stopped_by
        if self.interrupted_by:
            result["interrupted_by"] = self.interrupted_by
        # Secrets never reach the report, nor what is made of it (SNS, S3, stdout).
        result = scrub_data(result)
        if len(phases) > 1:
            result["phases"] = [{k: v for k, v in p.items() if k != "records"} for p in done]
        return result


def _data_lost(done: list[dict[str, Any]]) -> list[str]:
    """The moves of a game day that are not proven lossless: each database of a phase that
    promoted one must have been a switchover (RPO 0, proven)."""
    found = []
    for phase in done:
        rpo = phase["rpo"]
        if rpo.get("databases") and (rpo["method"] != "switchover"
                                     or rpo["measured_seconds"] != 0):
            found.append(f"phase {phase['name']}: not a switchover (RPO "
                         f"{rpo['measured_seconds']} s by {rpo['method']}): committed writes "
                         "may have been lost, which a game day must never do")
    return found


def _control_planes_left(runbook: Runbook) -> list[Problem]:
    """Readiness's warning when the region being left homes control planes the runbook
    needs: those steps may fail (bounded); the recovery region's steps run regardless."""
    if runbook.direction.from_region != GLOBAL_HOME:
        return []
    needing = sorted({n.step.control_plane for n in runbook.nodes if n.step.control_plane})
    return [Problem(f"{ControlPlaneUnavailable.NAMES.get(plane, plane)} control plane",
                    f"homed in {GLOBAL_HOME}, the region being left: the steps that need it "
                    "fail if it does not answer (routing controls, dns[].routing_control, "
                    "need no control plane)", warning=True) for plane in needing]


def _one_machine_only(config: Config) -> list[Problem]:
    """`dr plan`'s warning when a run's journal lives on this machine only."""
    if config.journal is not None:
        return []
    lock = ("the lock (lock.dynamodb_table) keeps a second machine out, but"
            if config.lock else "the lock and")
    return [Problem("journal", f"{lock} the journal are on this machine only: if it dies "
                    "mid-run, no other machine can resume the run (configure journal: "
                    "{dynamodb_table: ...} in both regions)", warning=True)]


def control_plane_steps(phases: list[tuple[str, Runbook]]) -> dict[str, list[str]]:
    """For `dr plan`: the steps that need a control plane homed in us-east-1, by plane."""
    found: dict[str, list[str]] = {}
    multi = len(phases) > 1
    for name, runbook in phases:
        for node in runbook.nodes:
            plane = node.step.control_plane
            if plane:
                label = f"{ControlPlaneUnavailable.NAMES.get(plane, plane)} ({GLOBAL_HOME})"
                found.setdefault(label, []).append((f"{name}/" if multi else "") + node.id)
    return found


def _check_writable(directory: Path) -> None:
    """--report-dir is checked before anything acts, not found unwritable after a failover."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".dr-write-check-"):
            pass
    except OSError as exc:
        raise UsageError(f"--report-dir {directory}: cannot write there "
                         f"({exc.strerror or exc}); nothing was changed") from None


def _resumed(request: Request, started: dict[str, Any]) -> Request:
    incident = started.get("incident_start")
    return replace(request, command=started["command"], to=started["to"],
                   accept_data_loss=started["accept_data_loss"],
                   no_failback=started.get("no_failback", False),
                   incident_start=parse_iso(incident) if incident else None)

