"""faults: failovers with 20 % of AWS requests throttled, 500/503 or reset."""

from __future__ import annotations

import statistics
from typing import Any

from campaign.world import World, failover_in_process


def campaign_faults(world: World, quick: bool) -> dict[str, Any]:
    runs, clean_runs = (6, 2) if quick else (100, 6)
    directory = world.provision("faults")
    state = directory / ".dr"
    clean: list[float] = []
    rows = []
    direction = ["secondary", "primary"]
    # Back and forth with no reprotect between: from the second run on, the side failed over
    # to is the former primary the previous run fenced, which lacks that run's writes. dr
    # stops for that (exit 3) unless the data loss is accepted, as here, on purpose.
    n = 0
    for _ in range(clean_runs):
        result, seconds = failover_in_process(world, direction[n % 2], state,
                                              accept_data_loss=n > 0)
        n += 1
        if result.outcome == "succeeded":
            clean.append(seconds)
    world.front.faults(0.2, seed=20261124)
    injected_before = sum(world.front.injected.values())
    for i in range(runs):
        to = direction[n % 2]
        n += 1
        result, seconds = failover_in_process(world, to, state, accept_data_loss=n > 1)
        retries = sum(len(s["detail"].get("retries", [])) for s in result.report["steps"])
        wrong = world.end_state(to) if result.outcome == "succeeded" else None
        ok = result.outcome == "succeeded" and wrong is None
        rows.append({"run": i + 1, "to": to, "outcome": result.outcome, "seconds": seconds,
                     "retries": retries, "passed": ok, "problem": wrong or (None if ok else [
                         (s["id"], s["error"]) for s in result.report["steps"]
                         if s["status"] == "failed"])})
        if not ok or quick or (i + 1) % 10 == 0:
            verdict = "" if ok else f" FAIL {rows[-1]['problem']}"
            print(f"  faulty failover {i + 1}/{runs} to {to}: {result.outcome} in "
                  f"{seconds:.2f} s, {retries} retries{verdict}", flush=True)
    injected = sum(world.front.injected.values()) - injected_before
    world.front.faults(0.0)
    base = statistics.median(clean) if clean else None
    added = sorted(r["seconds"] - base for r in rows if base is not None and r["passed"])

    def pct(p: float) -> float | None:
        return added[min(len(added) - 1, int(p * len(added)))] if added else None

    summary = {"runs": runs, "succeeded": sum(r["passed"] for r in rows),
               "faults_injected": injected, "faults_by_kind": dict(world.front.injected),
               "retries_in_reports": sum(r["retries"] for r in rows),
               "fault_free_median_seconds": base, "fault_free_runs": clean,
               "added_seconds": {"min": added[0] if added else None, "p50": pct(0.5),
                                 "p90": pct(0.9), "max": added[-1] if added else None,
                                 "mean": statistics.fmean(added) if added else None},
               "rows": rows}
    return summary
