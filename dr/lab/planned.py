"""`dr lab drill --planned`: the game day in the lab. `dr drill` (failover, reprotect,
failback) with the primary region alive and the writer committing throughout, then what the
lab knows independently (contract 1.1, "The lab"):

- per phase, the commits the writer had acknowledged up to its end (and during it), and how
  many of them the database that is the writer after it does not hold (counted from the
  writer's log, at the phase's end: a later phase replaces the databases);
- `final_replica_lag_seconds`: the lag of the re-created replica when the drill ends;
- the observer's RTO (a user, its own resolver) beside dr's, for the failover phase.

Phase boundaries come from the run's journal as it is written: a phase ends when the next
one's readiness has passed, or the run ends.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from dr import config as drconfig
from dr import runbooks
from dr.lab.bound import critical_path_bound
from dr.lab.world import Lab, LabOptions, environment
from dr.runbook import report as reports
from dr.runbook.journal import iso
from dr.runbook.run import Request, Result, Runner
from dr.runbook.waiting import PollPolicy

log = structlog.get_logger("dr.lab")

_RUN_ENDS = ("run.finished", "run.incomplete", "run.interrupted")
_LAG_READINGS, _LAG_READING_GAP_S = 5, 0.25


class PhaseCounter:
    """Counts each phase's commits as the run's journal says it ended."""

    def __init__(self, lab: Lab, started: float) -> None:
        self.lab = lab
        self.phases: list[dict[str, Any]] = []
        self._current: tuple[str, float] | None = None
        self._started = started
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        """The journal's after_append hook (on the runner's thread, between steps)."""
        if entry.get("event") == "readiness.passed":
            with self._lock:
                self._close()
                self._current = (str(entry["phase"]), self._started if not self.phases
                                 else time.time())
        elif entry.get("event") in _RUN_ENDS:
            with self._lock:
                self._close()

    def _close(self) -> None:
        if self._current is None:
            return
        name, started = self._current
        self._current = None
        ended = time.time()
        pair, writer = self.lab.pair, self.lab.writer
        assert pair is not None and writer is not None
        side = pair.writable_side()
        entry: dict[str, Any] = {"phase": name, "writer_after": side,
                                 "started_at": iso(datetime.fromtimestamp(started, UTC)),
                                 "ended_at": iso(datetime.fromtimestamp(ended, UTC))}
        if side is None:
            entry["rpo"] = {"acknowledged_commits": None, "lost_commits": None,
                            "note": "no database takes writes after this phase"}
        else:
            count = writer.phase_loss(pair.server(side).dsn, started, ended)
            entry["rpo"] = {"acknowledged_commits": count.acknowledged,
                            "acknowledged_in_phase": count.in_phase,
                            "lost_commits": count.lost}
        log.info("lab.phase_counted", phase=name, writer_after=side, **entry["rpo"])
        self.phases.append(entry)


def run(lab: Lab, options: LabOptions, report_dir: Path | None) -> tuple[Result, dict[str, Any]]:
    """The planned drill on a lab that is up; returns dr's result and the lab's comparison."""
    from dr.lab.drill import observer_for

    observer = observer_for(lab)
    lab.warm_up()
    observer.start()
    started = datetime.now(UTC)
    observer.mark_outage(started)
    counter = PhaseCounter(lab, started.timestamp())
    config = drconfig.load(lab.config_path)
    with environment(lab.env):
        # Waits run on the lab's clock; no region hangs here, so the timeouts that find a
        # lost one keep their real length (scaled, a busy emulator would look lost).
        scale = max(options.timing.time_scale, 0.01)
        runner = Runner(config, planner=runbooks.phases, poll=PollPolicy().scaled(scale),
                        state_dir=options.state_dir.parent, after_append=counter.record)
        result = runner.run(Request(command="drill", to="secondary", report_dir=report_dir))
    assert lab.pair is not None and lab.writer is not None
    # While the writer still commits: the lag is now() - the last replayed commit.
    final_lag = _final_lag(lab)
    observer.stop()
    lab.writer.stop()
    comparison = _compare(lab, config, result, observer, started, counter, final_lag)
    result.report["lab"] = comparison
    reports.write(result.report, result.paths[0].parent)
    return result, comparison


def _final_lag(lab: Lab) -> float | None:
    """The re-created replica's lag once it streams steadily: the failback's last step
    built it from a base backup moments ago, and what it replayed first came without the WAN
    delay. Read after the delay (plus a second) has passed, as the lowest of five readings
    over a second: each reading is now() minus the last replayed commit, which a writer that
    pauses for a moment (a loaded machine) makes overstate the lag, never understate it. A
    replica that stopped replaying reads higher at every reading."""
    assert lab.pair is not None
    time.sleep(lab.options.wan_delay + 1.0)
    readings = []
    for n in range(_LAG_READINGS):
        time.sleep(_LAG_READING_GAP_S if n else 0)
        try:
            lag = lab.pair.replication_lag_seconds()
        except Exception:  # noqa: BLE001 - no standby to ask: no lag to report
            return None
        if lag is not None:
            readings.append(lag)
    return round(min(readings), 3) if readings else None


def _switchover(report: dict[str, Any], phase: str) -> dict[str, Any] | None:
    """The fence's switchover detail of `phase` (its first database)."""
    for step in report["steps"]:
        if step["id"].startswith(f"{phase}/") and step["type"] == "rds.fence-primary":
            return step["detail"].get("switchover")
    return None


def _compare(lab: Lab, config: Any, result: Result, observer: Any, started: datetime,
             counter: PhaseCounter, final_lag: float | None) -> dict[str, Any]:
    report = result.report
    phases = {p["name"]: p for p in report.get("phases", [])}
    counted = []
    for entry in counter.phases:
        phase = phases.get(entry["phase"], {})
        entry["rto"] = {"dr_seconds": (phase.get("rto") or {}).get("measured_seconds")}
        entry["dr_rpo"] = {k: (phase.get("rpo") or {}).get(k)
                           for k in ("measured_seconds", "method", "proven_by")}
        proof = _switchover(report, entry["phase"])
        if proof:
            entry["switchover"] = {k: proof.get(k) for k in (
                "proven_by", "fence_in_effect_seconds", "caught_up_seconds", "sessions_ended")}
        counted.append(entry)
    book = runbooks.failover(config, "secondary")
    return {
        "form": "planned", "profile": lab.options.profile, "time_scale": lab.options.time_scale,
        "wan_delay_seconds": lab.options.wan_delay, "data_plane": True, "note": None,
        # No incident: the drill's start, where the RTO clock starts.
        "incident_at": iso(started), "record_ttl_seconds": lab.record_ttl,
        "public_urls": lab.public_urls,
        "rto": {"dr_seconds": report["rto"]["measured_seconds"],
                "dr_method": report["rto"].get("method"),
                "observer_seconds": observer.rto_seconds,
                "observer_paths_seconds": observer.paths_seconds,
                "target_seconds": report["rto"]["target_seconds"],
                "critical_path_bound_seconds": round(
                    critical_path_bound(book, lab.options.timing), 3)},
        "rpo": {"dr_seconds": report["rpo"]["measured_seconds"],
                "dr_method": report["rpo"]["method"],
                "proven_by": report["rpo"].get("proven_by"),
                "target_seconds": report["rpo"]["target_seconds"]},
        "phases": counted,
        "final_replica_lag_seconds": final_lag,
    }
