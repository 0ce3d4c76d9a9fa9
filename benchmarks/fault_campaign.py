"""Issue 7 §3: the fault campaign (reliability figures).

Everything runs against the lab's emulator (moto with the fidelity layer) behind the lab's
region front, on 127.0.0.1 only, with an estate of 3 databases / 2 zones / 2 distributions /
3 services (plus 1 parameter and one health check on a loopback server):

kill      SIGKILL a `dr failover` worker process at journal boundary N (N = 1 .. last-1),
          resume it (`--resume RUN_ID`), then check the contract's end state
          (tests/support/end_state.py), the run's outcome, and that no mutating AWS call was
          sent twice for the same step across the killed run and the resume (every call is
          recorded by a botocore `before-call` hook, attributed to the step running on its
          thread, and written to a file before it is sent).
faults    failovers back and forth with 20 % of AWS requests throttled, 500/503 or reset
          (regionfront.faults); successes, end state, and the added time against the median
          of fault-free failovers measured in the same campaign.
region    `dr drill` (failover, reprotect, failback) with the primary region lost at a random
          moment; the drill must end by itself with a report, and a `dr failover --to
          secondary` afterwards must reach the contract's end state.
malformed every answer of one operation cut short (HTTP 200, unparseable body;
          regionfront.malformed), one operation per point: the failover must stop naming the
          operation and the unparseable answer, change nothing if it stops at readiness,
          and reach the end state when run again with the answers repaired.
lock      10 simultaneous `dr failover --yes` processes (console script, local lock, realistic
          profile at time scale 0.05 so the holder runs for ~15 s): exactly one runs, the
          others exit 5 and leave no run behind.
config    the bad-configuration corpus of tests/cli/test_config_errors.py through
          `dr.cli.main.main` (plan and failover): exit 2, the expected cause named on one
          stderr line, no AWS call (botocore's call path refused and recorded), no file made.
signals   SIGINT and SIGTERM at 10 moments of a failover by the `dr` console script (AWS
          timings scaled to 1 %): exit 130/143, report `interrupted`, journal ends in
          run.interrupted, lock free, and the resume reaches the end state having sent every
          mutating operation as often as an uninterrupted failover does.
adversary what broke when the lab was attacked (issue 12), one case each, judged from the
          emulator, the region front's counts and the files dr wrote: secrets in outputs, a
          heartbeat that cannot be read, another estate's journal, a crash while RDS
          promotes, a resume beside its live original, a lock taken away, two working
          directories, bad input of every kind, a dry run's notification (campaign/adversary.py)

    python benchmarks/fault_campaign.py --quick     # CI: a few points of each kind, < 3 min
    python benchmarks/fault_campaign.py             # full: every kill point, 100 faulty
                                                    # failovers, 20 region losses, 3 lock races
    python benchmarks/fault_campaign.py --only kill,lock
Exit status 0 when every point passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import common

sys.path.insert(0, str(common.ROOT))

from campaign import (  # noqa: E402
    adversary,
    config,
    faults,
    kill,
    lock,
    malformed,
    region,
    signals,
)
from campaign.world import World, worker  # noqa: E402

KINDS = ("kill", "faults", "region", "malformed", "lock", "config", "signals", "adversary")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few points of each kind (CI)")
    parser.add_argument("--only", default=",".join(KINDS), help=f"subset of {','.join(KINDS)}")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--patient-attempts", type=int,
                        help="experiment: patch dr.aws.gateway.PATIENT.attempts in this "
                             "process (in-process campaigns only: faults, region)")
    parser.add_argument("--region-points", type=int,
                        help="random region-loss points (default 3 quick, 20 full; the "
                             "targeted ones are always run)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--kill-at", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--resume", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.config, args.state, args.calls, args.kill_at,
                                args.resume)))
        return 0

    import logging

    common.quiet_logs(logging.CRITICAL)
    if args.region_points is not None:
        region.REGION_POINTS = args.region_points
    if args.patient_attempts:
        import dataclasses

        from dr.aws import gateway

        gateway.PATIENT = dataclasses.replace(gateway.PATIENT, attempts=args.patient_attempts)
        print(f"# experiment: PATIENT.attempts patched to {args.patient_attempts}")
    kinds = [k for k in args.only.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds {sorted(unknown)}")
    started = time.perf_counter()
    print(f"# fault campaign ({'quick' if args.quick else 'full'}): {', '.join(kinds)}")
    print(f"# {common.machine_line()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="dr-campaign-"))
    world = World(work)
    results: dict[str, Any] = {"machine": common.machine(), "quick": args.quick}
    campaigns = {"kill": kill.campaign_kill, "faults": faults.campaign_faults,
                 "region": region.campaign_region, "malformed": malformed.campaign_malformed,
                 "lock": lock.campaign_lock, "config": config.campaign_config,
                 "signals": signals.campaign_signals,
                 "adversary": adversary.campaign_adversary}
    saved_env = dict(os.environ)
    try:
        world.start()
        for kind in kinds:
            print(f"[{kind}]", flush=True)
            t0 = time.perf_counter()
            try:
                results[kind] = campaigns[kind](world, args.quick)
            except Exception as exc:  # noqa: BLE001 - one campaign's crash fails it, not all
                traceback.print_exc()
                results[kind] = {"error": repr(exc), "passed": 0, "tried": 1}
            results[kind]["seconds"] = round(time.perf_counter() - t0, 1)
    finally:
        world.stop()
        os.environ.clear()
        os.environ.update(saved_env)
        shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started
    print()
    print(f"{'kind':<8} {'tried':>6} {'passed':>6}  notes")
    ok = True
    for kind in kinds:
        r = results[kind]
        if kind == "faults" and "runs" in r:
            tried, passed = r["runs"], r["succeeded"]
            a = r["added_seconds"]
            note = (f"{r['faults_injected']} faults injected {r['faults_by_kind']}, "
                    f"{r['retries_in_reports']} retries in reports; fault-free median "
                    f"{common.fmt(r['fault_free_median_seconds'])} s; added time p50 "
                    f"{common.fmt(a['p50'])} s, p90 {common.fmt(a['p90'])} s, max "
                    f"{common.fmt(a['max'])} s")
        elif kind == "lock" and "rounds" in r:
            tried, passed = r["rounds"], r["passed"]
            note = "rounds of 10 simultaneous failovers: one ran, nine exited 5"
        else:
            tried, passed = r.get("tried", 0), r.get("passed", 0)
            note = r.get("error", "")
            if kind == "kill" and "journal_records" in r:
                note = f"journal boundaries of an uninterrupted run: {r['journal_records']}"
        ok = ok and tried > 0 and passed == tried
        print(f"{kind:<8} {tried:>6} {passed:>6}  {note} ({r['seconds']} s)")
    print(f"campaign {'PASSED' if ok else 'FAILED'} in {total:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
