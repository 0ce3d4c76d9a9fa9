"""region: a drill with the primary region lost at a random moment."""

from __future__ import annotations

import faulthandler
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

from campaign.world import HANG_SECONDS, PRIMARY, World, failover_in_process

REGION_POINTS: int | None = None
# Deterministic points besides the random ones: the region is lost right after this journal
# record (event, a fragment of the step id) of the drill.
TARGETED = [("step.finished", "failback/databases.main.retire")]


def campaign_region(world: World, quick: bool) -> dict[str, Any]:
    from dr import config as drconfig
    from dr import runbooks
    from dr.runbook.run import Request, Runner

    points = REGION_POINTS if REGION_POINTS is not None else (3 if quick else 20)
    rng = random.Random(7)
    # How long a drill takes with nothing lost, to draw moments from.
    directory = world.provision("region-reference")
    started = time.perf_counter()
    failover_end = [0.0]

    def phase_end(entry: dict[str, Any]) -> None:
        if entry.get("phase") == "failover":
            failover_end[0] = time.perf_counter() - started

    reference = Runner(drconfig.load(world.config_path), planner=runbooks.phases,
                       state_dir=directory / ".dr", after_append=phase_end).run(
        Request(command="drill", to="secondary"))
    span = time.perf_counter() - started
    print(f"  reference drill: {reference.outcome} in {span:.2f} s (failover phase "
          f"{failover_end[0]:.2f} s)", flush=True)
    # Quick mode (CI) draws its moments within the failover phase, where the contract
    # promises completion; the full mode draws over the whole drill (reprotect and failback
    # too, where benchmarks/RESULTS.md bug 3 lives).
    if quick:
        span = failover_end[0] or span
    # The targeted points run in full mode only (benchmarks/RESULTS.md, bug 3).
    targeted = [] if quick else TARGETED
    rows = []
    for i in range(points + len(targeted)):
        directory = world.provision(f"region-{i:02d}")
        target = targeted[i - points] if i >= points else None
        at = rng.uniform(0.0, span) if target is None else 3600.0
        lost = threading.Event()

        def lose(world: World = world, lost: threading.Event = lost) -> None:
            world.front.outage(PRIMARY)
            world.health["primary"].status = 503
            lost.set()

        timer = threading.Timer(at, lose)
        phases_seen: list[str] = []

        def hook(entry: dict[str, Any], phases_seen: list[str] = phases_seen,
                 lost: threading.Event = lost, target: Any = target, lose: Any = lose) -> None:
            if (target and not lost.is_set() and entry["event"] == target[0]
                    and target[1] in (entry.get("step") or "")):
                lose()
                phases_seen.append(f"{entry['event']} {entry.get('step')} (targeted)")
                return
            if lost.is_set() and not phases_seen:
                phases_seen.append(f"{entry['event']} {entry.get('step') or ''}".strip())

        runner = Runner(drconfig.load(world.config_path), planner=runbooks.phases,
                        state_dir=directory / ".dr", after_append=hook)
        started = time.perf_counter()
        timer.start()
        problems = []
        hung = threading.Event()

        def watchdog(runner: Any = runner, hung: threading.Event = hung,
                     directory: Path = directory) -> None:
            """A drill still running after HANG_SECONDS hangs: dump every thread's stack
            (kept in the results), then abort the run so the campaign goes on."""
            hung.set()
            with open(directory / "stacks.txt", "w") as out:
                faulthandler.dump_traceback(file=out, all_threads=True)
            runner.abort.set()

        dog = threading.Timer(HANG_SECONDS, watchdog)
        dog.start()
        try:
            result = runner.run(Request(command="drill", to="secondary"))
            outcome = result.outcome
            steps = {s["status"] for s in result.report["steps"]}
            if not result.paths or not Path(result.paths[0]).exists():
                problems.append("no report")
        except Exception as exc:  # noqa: BLE001 - a crash is a failed point
            outcome, steps = f"crashed: {exc!r}", set()
            problems.append(outcome)
        drill_seconds = time.perf_counter() - started
        dog.cancel()
        if hung.is_set():
            stacks = (directory / "stacks.txt").read_text()
            problems.append(f"drill still running after {HANG_SECONDS} s (aborted)")
            print(stacks[-6000:], file=sys.stderr)
        timer.cancel()
        timer.join()
        if not lost.is_set():
            lose()
        # The operator's next move after losing the primary region: fail over to secondary.
        # Lost during or after the failback, the secondary holds fenced former primaries
        # (or retired ones) that lack the primary's writes since: dr must refuse, naming them
        # as data loss only, and the operator then accepts the loss.
        after, after_seconds = failover_in_process(world, "secondary", directory / ".dr")
        refused = list(after.report.get("problems", [])) if after.outcome == "not_ready" else []
        accepted = bool(refused) and all("former primary that dr fenced" in p for p in refused)
        if accepted:
            after, more = failover_in_process(world, "secondary", directory / ".dr",
                                              accept_data_loss=True)
            after_seconds += more
        if after.outcome not in ("succeeded", "targets_missed"):
            problems.append(f"failover afterwards: {after.outcome}: " + "; ".join(
                [f"{s['id']}: {s['error']}" for s in after.report["steps"]
                 if s["status"] == "failed"] + list(after.report.get("problems", []))))
        wrong = world.end_state("secondary", other_reachable=False)
        if wrong:
            problems.append(wrong)
        if target:
            at = -1.0
        row = {"point": i + 1, "lost_at_seconds": round(at, 2),
               "lost_before": phases_seen[0] if phases_seen else "after the drill's last record",
               "drill_outcome": outcome, "drill_seconds": round(drill_seconds, 2),
               "step_statuses": sorted(steps),
               "failover_after": after.outcome + (" (data loss accepted)" if accepted else ""),
               "failover_after_seconds": round(after_seconds, 2), "passed": not problems,
               "problems": problems}
        rows.append(row)
        when = "at a journal boundary" if target else f"at {at:.2f} s"
        print(f"  region lost {when} (before {row['lost_before']}): drill "
              f"{outcome} in {drill_seconds:.1f} s; failover afterwards {row['failover_after']}: "
              f"{'PASS' if not problems else 'FAIL ' + '; '.join(problems)}", flush=True)
    return {"reference_drill_seconds": span, "tried": len(rows),
            "passed": sum(r["passed"] for r in rows), "rows": rows}
