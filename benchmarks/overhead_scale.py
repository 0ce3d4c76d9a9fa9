"""Issue 7 §2: tool overhead and scale, with the lab's `instant` timing profile.

The emulator (moto with the lab's fidelity layer, instant profile) runs in this process;
`dr failover` and `dr plan` run in worker processes against it, through the real `Runner`
with a `session_factory` whose botocore event hook (`before-call`) records every AWS call.
Estates: small (1 database / 1 record in 1 zone / 1 distribution / 1 service / 1 parameter)
and large (50 databases / 500 records in 5 zones / 20 distributions / 50 services /
10 parameters). No health checks: they wait on purpose (consecutive passes), which is not
overhead. Each failover runs on a freshly provisioned estate.

Reported per operation: wall time of `Runner.run` (median), AWS calls by operation, Route 53
change batches per zone, mutating calls repeated with the same parameters, identical reads
repeated with no mutating call anywhere in between; `dr --help` and `dr plan` (console
script, whole process) wall time; peak RSS (getrusage) and tracemalloc peak of the large
failover. With --profile, a cProfile of the large failover is summarised.

    python benchmarks/overhead_scale.py [--runs 3] [--skip-large] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import common

SMALL = {"databases": 1, "zones": 1, "records_per_zone": 1, "distributions": 1, "services": 1,
         "parameters": 1}
LARGE = {"databases": 50, "zones": 5, "records_per_zone": 100, "distributions": 20,
         "services": 50, "parameters": 10}
TARGETS = {"small": 1.0, "large": 10.0}


# --------------------------------------------------------------------------- worker

def worker(operation: str, config_path: Path, state_dir: Path, memory: bool,
           profile_out: Path | None) -> dict[str, Any]:
    import resource

    common.quiet_logs()
    if memory:
        import tracemalloc

        tracemalloc.start()
    from dr import config as drconfig
    from dr import runbooks
    from dr.aws.gateway import default_session_factory
    from dr.runbook.run import Request, Runner
    from dr.steps import sns

    calls: list[tuple[str, str, str, str]] = []

    def record(model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        key = json.dumps([params.get("url_path"), params.get("query_string"),
                          params.get("body") if isinstance(params.get("body"), dict)
                          else str(params.get("body"))], sort_keys=True, default=str)
        calls.append((model.service_model.service_name, context.get("client_region") or "",
                      model.name, key))

    def factory() -> Any:
        session = default_session_factory()
        session.events.register("before-call", record)
        return session

    config = drconfig.load(config_path)
    runner = Runner(config, planner=runbooks.phases, notifier=sns.publish,
                    session_factory=factory, state_dir=state_dir)
    request = Request(command="failover", to="secondary", dry_run=operation == "plan",
                      report_dir=state_dir / "report")
    profiler = None
    thread_profiles: list[Any] = []
    if profile_out:
        import cProfile
        import threading

        # The work happens on the executor's threads: profile every thread, add them up.
        original_run = threading.Thread.run

        def profiled_run(self: threading.Thread) -> None:
            mine = cProfile.Profile()
            mine.enable()
            try:
                original_run(self)
            finally:
                mine.disable()
                thread_profiles.append(mine)

        threading.Thread.run = profiled_run  # type: ignore[method-assign]
        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    result = runner.run(request)
    seconds = time.perf_counter() - started
    if profiler:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler)
        for other in thread_profiles:
            stats.add(other)
        stats.dump_stats(str(profile_out))
        answer_threads = len(thread_profiles)
    else:
        answer_threads = 0
    answer: dict[str, Any] = {"operation": operation, "seconds": round(seconds, 3),
                              "outcome": result.outcome, "calls": len(calls),
                              "profiled_threads": answer_threads,
                              "by_operation": dict(Counter(f"{s}:{op}" for s, _, op, _ in calls)),
                              "peak_rss_mb": round(resource.getrusage(
                                  resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if memory:
        import tracemalloc

        answer["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    # Route 53 change batches per zone.
    batches: Counter[str] = Counter()
    for _service, _, op, key in calls:
        if op == "ChangeResourceRecordSets":
            batches[json.loads(key)[0].split("/hostedzone/")[-1].split("/")[0]] += 1
    answer["route53_batches_per_zone"] = dict(batches)
    # Mutating calls sent twice with the same parameters.
    from dr.aws.gateway import is_mutating

    mutating = Counter((s, r, op, k) for s, r, op, k in calls if is_mutating(op))
    answer["mutating_repeated"] = [f"{s}:{op} in {r} x{n}" for (s, r, op, _), n
                                   in mutating.items() if n > 1]
    # Identical reads repeated with no mutating call anywhere in between.
    seen: set[tuple[str, str, str, str]] = set()
    repeats: Counter[str] = Counter()
    for call in calls:
        if is_mutating(call[2]):
            seen.clear()
            continue
        if call in seen:
            repeats[f"{call[0]}:{call[2]}"] += 1
        seen.add(call)
    answer["reads_repeated_without_change"] = dict(repeats)
    answer["steps"] = len(result.report["steps"])
    # Where the wall time goes: the journal's records, relative to the run's start.
    journal = state_dir / "runs" / result.report["run_id"] / "journal.jsonl"
    if journal.exists():
        from dr.runbook.journal import parse_iso

        records = [json.loads(line) for line in journal.read_text().splitlines()]
        zero = parse_iso(result.report["started_at"]).timestamp()
        marks = {r["event"]: round(parse_iso(r["at"]).timestamp() - zero, 3)
                 for r in records if r["event"] in ("run.started", "readiness.passed",
                                                    "run.finished")}
        first_step = min((parse_iso(r["at"]).timestamp() - zero for r in records
                          if r["event"] == "step.started"), default=None)
        last_step = max((parse_iso(r["at"]).timestamp() - zero for r in records
                         if r["event"] == "step.finished"), default=None)
        answer["timeline"] = {**marks, "first step started": first_step,
                              "last step finished": last_step,
                              "returned": round(seconds, 3)}
        answer["slowest_steps"] = sorted(((s["id"], s["seconds"]) for s in
                                          result.report["steps"]),
                                         key=lambda x: -(x[1] or 0))[:5]
    return answer


# --------------------------------------------------------------------------- orchestration

def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, capture_output=True, timeout=120, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile a failover per estate")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.config, args.state, args.memory,
                                args.profile_out)))
        return 0

    import boto3
    import yaml

    from dr.lab.emulator import Emulator
    from dr.lab.estate import Shape, provision
    from dr.lab.timing import INSTANT

    work = Path(tempfile.mkdtemp(prefix="dr-overhead-"))
    emulator = Emulator(INSTANT).start()
    results: dict[str, Any] = {"machine": common.machine()}
    try:
        env = {**os.environ, "AWS_ENDPOINT_URL": emulator.endpoint_url,
               "AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab",
               "AWS_DEFAULT_REGION": "eu-west-1", "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        os.environ.update({k: env[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                                "AWS_SECRET_ACCESS_KEY")})

        def fresh(shape: dict[str, int], name: str) -> Path:
            emulator.reset()
            started = time.perf_counter()
            estate = provision(boto3.session.Session(), primary="eu-west-1",
                               secondary="eu-central-1", shape=Shape(**shape))
            path = work / f"{name}.yaml"
            path.write_text(yaml.safe_dump(estate.config, sort_keys=False))
            print(f"# provisioned {name} in {time.perf_counter() - started:.1f} s", flush=True)
            return path

        print(f"# {common.machine_line()}", flush=True)
        dr = common.dr_executable()
        sizes = {"small": SMALL} if args.skip_large else {"small": SMALL, "large": LARGE}
        for name, shape in sizes.items():
            rows: dict[str, list[dict[str, Any]]] = {"plan": [], "failover": []}
            for run in range(args.runs):
                config = fresh(shape, name)
                for operation in ("plan", "failover"):
                    state = work / f"{name}-{operation}-{run}"
                    extra: list[str] = []
                    if name == "large" and operation == "failover" and run == 0:
                        extra = ["--memory"]
                    answer = common.run_worker(
                        [__file__, "--worker", operation, "--config", str(config),
                         "--state", str(state), *extra], timeout=600, env=env)
                    answer["variant"] = extra[0] if extra else ""
                    rows[operation].append(answer)
                    print(json.dumps({k: v for k, v in answer.items()
                                      if k not in ("by_operation", "stderr")}), flush=True)
                    if "error" in answer:
                        print(answer.get("stderr", ""), file=sys.stderr)
            results[name] = rows
            if args.profile:
                config = fresh(shape, name)
                prof = work / f"{name}-failover.prof"
                answer = common.run_worker(
                    [__file__, "--worker", "failover", "--config", str(config), "--state",
                     str(work / f"{name}-profiled"), "--profile-out", str(prof)],
                    timeout=600, env=env)
                if prof.exists():
                    import io
                    import pstats

                    out = io.StringIO()
                    stats = pstats.Stats(str(prof), stream=out)
                    stats.sort_stats("cumulative").print_stats(40)
                    stats.sort_stats("tottime").print_stats(25)
                    results[f"profile_{name}"] = out.getvalue()
                    print(f"# cProfile of the {name} failover ({answer.get('seconds')} s "
                          "profiled)")
                    print(out.getvalue())
            if name == "small" and args.runs:
                config = fresh(shape, name)
                results["startup"] = {
                    "dr --help": [timed([dr, "--help"], env, work) for _ in range(5)],
                    "dr plan (small estate)": [timed(
                        [dr, "plan", "--to", "secondary", "--config", str(config),
                         "--report-dir", str(work / "plan-cli")], env, work)
                        for _ in range(5)],
                }
        print()
        print(f"{'estate':<6} {'operation':<9} {'median s':>8} {'target s':>8} {'calls':>6} "
              f"{'r53 batches/zone':>16} {'mutating repeats':>16} {'read repeats':>12}")
        for name in sizes:
            for operation, rows in results[name].items():
                plain = [r for r in rows if not r.get("variant") and "seconds" in r] or \
                    [r for r in rows if "seconds" in r]
                if not rows:
                    continue
                if not plain:
                    print(f"{name:<6} {operation:<9} failed: {rows[0].get('error')}")
                    continue
                med = common.median([r["seconds"] for r in plain])
                batches = max((max(r["route53_batches_per_zone"].values(), default=0)
                               for r in plain), default=0)
                mut = max(len(r["mutating_repeated"]) for r in plain)
                reads = max(sum(r["reads_repeated_without_change"].values()) for r in plain)
                print(f"{name:<6} {operation:<9} {common.fmt(med, 3):>8} "
                      f"{TARGETS[name]:>8} {plain[0]['calls']:>6} {batches:>16} {mut:>16} "
                      f"{reads:>12}")
        for label, values in results.get("startup", {}).items():
            print(f"{label}: median {common.median(values):.3f} s "
                  f"(runs: {', '.join(f'{v:.2f}' for v in values)})")
        if "large" in results:
            memory = [r for r in results["large"]["failover"] if r.get("variant") == "--memory"]
            plain = [r for r in results["large"]["failover"] if "peak_rss_mb" in r]
            if memory and plain:
                print(f"large failover: tracemalloc peak {memory[0].get('tracemalloc_peak_mb')}"
                      f" MB; peak RSS {max(r['peak_rss_mb'] for r in plain)} MB")
        if args.json:
            args.json.write_text(json.dumps(results, indent=1, default=str))
    finally:
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
