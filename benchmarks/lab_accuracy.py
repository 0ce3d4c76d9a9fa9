"""Issue 5, acceptance 2: are dr's RPO and RTO true?

Runs `dr lab drill` (the installed console script, default realistic profile and time scale,
real PostgreSQL data plane) N times in a row (default 10), each in a fresh working directory,
and prints for every drill the pairs

    dr RPO (heartbeat)  vs  the true data-loss window (the writer's log of acknowledged
                            commits missing on the promoted database)
    dr RTO              vs  the outside observer's RTO

with pass/fail against the thresholds: |RPO - true loss| <= 0.5 s and |RTO - observer| <= 1 s,
in N of N drills. Everything runs on 127.0.0.1; each drill tears its lab down itself.

    python benchmarks/lab_accuracy.py [--runs 10] [--json OUT.json] [-- extra dr lab drill args]
"""

from __future__ import annotations

import argparse
import json
import shutil
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


def fmt(value: float | None, digits: int = 3) -> str:
    return common.fmt(value, digits)


def one_drill(index: int, extra: list[str]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"dr-accuracy-{index:02d}-"))
    try:
        started = time.monotonic()
        done = subprocess.run(
            [common.dr_executable(), "lab", "drill", "--report-dir", str(work / "report"),
             "--log-format", "json", *extra],
            cwd=work, capture_output=True, text=True, timeout=DRILL_TIMEOUT, check=False)
        wall = time.monotonic() - started
        report_file = work / "report" / "report.json"
        if not report_file.exists():
            return {"drill": index, "exit_code": done.returncode, "wall_seconds": wall,
                    "error": done.stderr[-1500:]}
        report = json.loads(report_file.read_text())
        lab = report.get("lab", {})
        rpo, rto = lab.get("rpo", {}), lab.get("rto", {})
        row: dict[str, Any] = {
            "drill": index, "exit_code": done.returncode, "wall_seconds": round(wall, 1),
            "outcome": report["outcome"], "rpo_method": rpo.get("dr_method"),
            "dr_rpo": rpo.get("dr_seconds"), "true_loss": rpo.get("true_loss_seconds"),
            "dr_rto": rto.get("dr_seconds"), "observer_rto": rto.get("observer_seconds"),
            "bound": rto.get("critical_path_bound_seconds"),
            "lost_commits": rpo.get("lost_commits"),
            "acknowledged_commits": rpo.get("acknowledged_commits"),
        }
        ok_rpo = (row["dr_rpo"] is not None and row["true_loss"] is not None
                  and abs(row["dr_rpo"] - row["true_loss"]) <= RPO_TOLERANCE)
        ok_rto = (row["dr_rto"] is not None and row["observer_rto"] is not None
                  and abs(row["dr_rto"] - row["observer_rto"]) <= RTO_TOLERANCE)
        row.update(rpo_ok=ok_rpo, rto_ok=ok_rto,
                   passed=ok_rpo and ok_rto and done.returncode == 0
                   and row["rpo_method"] == "heartbeat")
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", type=Path, help="write the rows here as JSON")
    parser.add_argument("extra", nargs="*", help="extra arguments for `dr lab drill`")
    args = parser.parse_args()

    print(f"{args.runs} consecutive `dr lab drill {' '.join(args.extra)}` runs; "
          f"pass: |dr RPO - true loss| <= {RPO_TOLERANCE} s and "
          f"|dr RTO - observer RTO| <= {RTO_TOLERANCE} s, exit 0, RPO by heartbeat", flush=True)
    header = (f"{'#':>2}  {'exit':>4}  {'dr RPO':>7}  {'true loss':>9}  {'diff':>6}  "
              f"{'dr RTO':>7}  {'observer':>8}  {'diff':>6}  {'bound':>6}  {'wall':>5}  result")
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
              f"{fmt(row['observer_rto']):>8}  {fmt(d_rto):>6}  {fmt(row['bound'], 1):>6}  "
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
