"""Issue 5, acceptance 2, and issue 13, acceptance 1: are dr's RPO and RTO true?

Runs `dr lab drill` (the installed console script, default realistic profile and time scale,
real PostgreSQL data plane, the lab's DNS and CloudFront edge) N times in a row (default 10),
each in a fresh working directory, and prints for every drill the pairs

    dr RPO (heartbeat)        vs  the true data-loss window (the writer's log of
                                  acknowledged commits missing on the promoted database)
    dr RTO (user's path)      vs  the observer's RTO: a user with its own resolver, calling
                                  every public URL (the DNS name, the CloudFront domain)

with pass/fail against the thresholds: |RPO - true loss| <= 0.5 s, |RTO - observer| <= 1 s,
`rto.method` public_url, and dr's RTO never earlier than the last traffic change in effect
(each DNS step's end plus the record's TTL, each CDN step's end, from the lab's side), in N
of N drills. Everything runs on 127.0.0.0/8; each drill tears its lab down itself.

Issue 15, acceptance 1 and 5: `--planned` runs `dr lab drill --planned` instead (the game day:
failover, reprotect, failback with the primary alive and the writer committing) and passes a
drill that exits 0, proves both moves by the WAL position, loses 0 of the hundreds of commits
acknowledged by the end of the failover and of the failback (counted against the writer after
each), and ends with the re-created replica's lag at most 5 s; it prints what the switchover
added (the fence taking effect, the replica's catch-up) beside dr's RTO, the observer's and
the region-loss bound. `-- --db-clock-offset 5` runs the region-loss drill with the database
servers' clock 5 s off (issue 15, acceptance 4).

    python benchmarks/lab_accuracy.py [--runs 10] [--planned] [--json OUT.json]
                                      [-- extra dr lab drill args]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common

RPO_TOLERANCE = 0.5
RTO_TOLERANCE = 1.0
DRILL_TIMEOUT = 300
PLANNED_TIMEOUT = 600
# "Hundreds acknowledged": commits checked against the writer after the failover and after
# the failback; the replica's lag allowed when the planned drill ends.
PLANNED_MIN_ACKNOWLEDGED = 200
PLANNED_MAX_FINAL_LAG = 5.0


def fmt(value: float | None, digits: int = 3) -> str:
    return common.fmt(value, digits)


def lab_drill(index: int, args: list[str], timeout: float) -> tuple[dict[str, Any],
                                                                    dict[str, Any] | None]:
    """One `dr lab drill ARGS` in a directory of its own: the row's common fields (drill,
    exit_code, wall_seconds; `error` when it wrote no report) and its report.json."""
    work = Path(tempfile.mkdtemp(prefix=f"dr-accuracy-{index:02d}-"))
    try:
        started = time.monotonic()
        done = subprocess.run(
            [common.dr_executable(), "lab", "drill", "--report-dir", str(work / "report"),
             "--log-format", "json", *args],
            cwd=work, capture_output=True, text=True, timeout=timeout, check=False)
        row: dict[str, Any] = {"drill": index, "exit_code": done.returncode,
                               "wall_seconds": round(time.monotonic() - started, 1)}
        report_file = work / "report" / "report.json"
        if not report_file.exists():
            return {**row, "error": done.stderr[-1500:]}, None
        return row, json.loads(report_file.read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def one_drill(index: int, extra: list[str]) -> dict[str, Any]:
    row, report = lab_drill(index, extra, DRILL_TIMEOUT)
    if report is None:
        return row
    lab = report.get("lab", {})
    rpo, rto = lab.get("rpo", {}), lab.get("rto", {})
    row.update({
        "outcome": report["outcome"], "rpo_method": rpo.get("dr_method"),
        "dr_rpo": rpo.get("dr_seconds"), "true_loss": rpo.get("true_loss_seconds"),
        "dr_rto": rto.get("dr_seconds"), "observer_rto": rto.get("observer_seconds"),
        "dr_method": rto.get("dr_method"),
        "dr_recovery_region": rto.get("dr_recovery_region_seconds"),
        "traffic_in_effect": rto.get("traffic_in_effect_seconds"),
        "bound": rto.get("critical_path_bound_seconds"),
        "lost_commits": rpo.get("lost_commits"),
        "acknowledged_commits": rpo.get("acknowledged_commits"),
    })
    ok_rpo = (row["dr_rpo"] is not None and row["true_loss"] is not None
              and abs(row["dr_rpo"] - row["true_loss"]) <= RPO_TOLERANCE)
    ok_rto = (row["dr_rto"] is not None and row["observer_rto"] is not None
              and abs(row["dr_rto"] - row["observer_rto"]) <= RTO_TOLERANCE)
    after_traffic = (row["dr_rto"] is not None and row["traffic_in_effect"] is not None
                     and row["dr_rto"] >= row["traffic_in_effect"])
    row.update(rpo_ok=ok_rpo, rto_ok=ok_rto, after_traffic=after_traffic,
               passed=ok_rpo and ok_rto and after_traffic and row["exit_code"] == 0
               and row["rpo_method"] == "heartbeat" and row["dr_method"] == "public_url")
    return row


def one_planned(index: int, extra: list[str]) -> dict[str, Any]:
    """One `dr lab drill --planned`: what it lost, and what its switchovers cost."""
    row, report = lab_drill(index, ["--planned", *extra], PLANNED_TIMEOUT)
    if report is None:
        return row
    lab = report.get("lab", {})
    phases = {p["phase"]: p for p in lab.get("phases", [])}
    row.update({
        "outcome": report["outcome"], "rpo_method": report["rpo"]["method"],
        "proven_by": report["rpo"].get("proven_by"),
        "final_lag": lab.get("final_replica_lag_seconds"),
        "dr_rto": lab.get("rto", {}).get("dr_seconds"),
        "observer_rto": lab.get("rto", {}).get("observer_seconds"),
        "bound": lab.get("rto", {}).get("critical_path_bound_seconds")})
    for name in ("failover", "reprotect", "failback"):
        phase = phases.get(name, {})
        switched = phase.get("switchover") or {}
        row[name] = {"acknowledged": phase.get("rpo", {}).get("acknowledged_commits"),
                     "in_phase": phase.get("rpo", {}).get("acknowledged_in_phase"),
                     "lost": phase.get("rpo", {}).get("lost_commits"),
                     "rto": phase.get("rto", {}).get("dr_seconds"),
                     "fence_in_effect": switched.get("fence_in_effect_seconds"),
                     "caught_up": switched.get("caught_up_seconds")}
    moves = [row["failover"], row["failback"]]
    row["passed"] = (row["exit_code"] == 0 and row["proven_by"] == "wal_position"
                     and all(p["lost"] == 0 for p in (*moves, row["reprotect"]))
                     and all((p["acknowledged"] or 0) >= PLANNED_MIN_ACKNOWLEDGED
                             for p in moves)
                     and row["final_lag"] is not None
                     and row["final_lag"] <= PLANNED_MAX_FINAL_LAG)
    return row


def planned(args: argparse.Namespace) -> int:
    print(f"{args.runs} consecutive `dr lab drill --planned {' '.join(args.extra)}` runs; "
          f"pass: exit 0, both moves proven by the WAL position, 0 lost commits of at least "
          f"{PLANNED_MIN_ACKNOWLEDGED} acknowledged by the end of the failover and of the "
          f"failback, replica lag at the end <= {PLANNED_MAX_FINAL_LAG:g} s", flush=True)
    print(f"{'#':>2}  {'exit':>4}  {'failover acked/lost':>19}  {'failback acked/lost':>19}  "
          f"{'fence':>5}  {'catch-up':>8}  {'dr RTO':>6}  {'observer':>8}  {'bound':>5}  "
          f"{'lag':>5}  {'wall':>5}  result", flush=True)
    rows = []
    for index in range(1, args.runs + 1):
        row = one_planned(index, args.extra)
        rows.append(row)
        if "error" in row:
            print(f"{index:>2}  {row['exit_code']:>4}  no report: {row['error']!r}", flush=True)
            continue
        over, back = row["failover"], row["failback"]
        print(f"{index:>2}  {row['exit_code']:>4}  "
              f"{str(over['acknowledged']) + '/' + str(over['lost']):>19}  "
              f"{str(back['acknowledged']) + '/' + str(back['lost']):>19}  "
              f"{fmt(over['fence_in_effect'], 1):>5}  {fmt(over['caught_up'], 2):>8}  "
              f"{fmt(row['dr_rto'], 1):>6}  {fmt(row['observer_rto'], 1):>8}  "
              f"{fmt(row['bound'], 1):>5}  {fmt(row['final_lag'], 2):>5}  "
              f"{row['wall_seconds']:>5}  {'PASS' if row['passed'] else 'FAIL'}", flush=True)
    passed = sum(1 for r in rows if r.get("passed"))
    catch_ups = [r[p]["caught_up"] for r in rows if "error" not in r
                 for p in ("failover", "failback") if r[p]["caught_up"] is not None]
    print(f"passed {passed} of {args.runs}; switchover catch-up median "
          f"{fmt(statistics.median(catch_ups) if catch_ups else None, 2)} s, max "
          f"{fmt(max(catch_ups, default=None), 2)} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if passed == args.runs else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--planned", action="store_true",
                        help="the planned drill (issue 15) instead of a region loss")
    parser.add_argument("--json", type=Path, help="write the rows here as JSON")
    parser.add_argument("extra", nargs="*", help="extra arguments for `dr lab drill`")
    args = parser.parse_args()
    if args.planned:
        return planned(args)

    print(f"{args.runs} consecutive `dr lab drill {' '.join(args.extra)}` runs; "
          f"pass: |dr RPO - true loss| <= {RPO_TOLERANCE} s, "
          f"|dr RTO - observer RTO| <= {RTO_TOLERANCE} s (user's path, public_url), "
          "dr RTO >= traffic in effect, exit 0, RPO by heartbeat", flush=True)
    header = (f"{'#':>2}  {'exit':>4}  {'dr RPO':>7}  {'true loss':>9}  {'diff':>6}  "
              f"{'dr RTO':>7}  {'observer':>8}  {'diff':>6}  {'region':>6}  {'traffic':>7}  "
              f"{'bound':>6}  {'wall':>5}  result")
    print(header, flush=True)
    rows = []
    for index in range(1, args.runs + 1):
        row = one_drill(index, args.extra)
        rows.append(row)
        if "error" in row:
            print(f"{index:>2}  {row['exit_code']:>4}  no report: {row['error']!r}", flush=True)
            continue
        d_rpo = (row["dr_rpo"] - row["true_loss"]) if None not in (
            row["dr_rpo"], row["true_loss"]) else None
        d_rto = (row["dr_rto"] - row["observer_rto"]) if None not in (
            row["dr_rto"], row["observer_rto"]) else None
        print(f"{index:>2}  {row['exit_code']:>4}  {fmt(row['dr_rpo']):>7}  "
              f"{fmt(row['true_loss']):>9}  {fmt(d_rpo):>6}  {fmt(row['dr_rto']):>7}  "
              f"{fmt(row['observer_rto']):>8}  {fmt(d_rto):>6}  "
              f"{fmt(row['dr_recovery_region']):>6}  {fmt(row['traffic_in_effect']):>7}  "
              f"{fmt(row['bound'], 1):>6}  "
              f"{row['wall_seconds']:>5}  {'PASS' if row['passed'] else 'FAIL'}", flush=True)
    passed = sum(1 for r in rows if r.get("passed"))
    rpo_diffs = [abs(r["dr_rpo"] - r["true_loss"]) for r in rows
                 if r.get("dr_rpo") is not None and r.get("true_loss") is not None]
    rto_diffs = [abs(r["dr_rto"] - r["observer_rto"]) for r in rows
                 if r.get("dr_rto") is not None and r.get("observer_rto") is not None]
    print(f"passed {passed} of {args.runs}; max |RPO diff| "
          f"{fmt(max(rpo_diffs, default=None))} s, max |RTO diff| "
          f"{fmt(max(rto_diffs, default=None))} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
