"""Issue 13 (and issue 7 §1): recovery time where users are, against the critical-path bound
and against a naive script.

In the lab (realistic profile at a fixed time scale, real PostgreSQL data plane, the edge:
a DNS server answering Route 53's zones and a CloudFront edge), an estate of 3 databases,
2 zones, 2 distributions and 3 services loses its primary region; then either `dr`'s
failover (the same code as `dr lab drill`) or a naive boto3 script recovers it. Each run is
a fresh lab in its own process; dr and the baseline alternate, so they share the machine's
noise. Both are measured by the same observer, a user (dr/lab/observer.py): every public URL
(each record's name, each distribution's domain) through its own caching resolver and the
CloudFront edge. Reported: the median of N runs of

    dr RTO, user's path (dr's own: public URLs, rto.method public_url)  / bound
    dr's recovery-region figure (its regional health checks)
    observer RTO (the last public URL served by the recovery region)   / bound

where the bound is the longest chain of modelled AWS waits every correct order must contain,
Route 53 propagation and the TTL of replaced answers included (`dr.lab.bound`).

The naive baseline is what a competent engineer in a hurry writes without `dr`: boto3 in
sequence, in a sensible order, each change followed by the SDK's stock waiter with its
default delay (rds db_instance_available 30 s, ecs services_stable 15 s, route53
resource_record_sets_changed 30 s, cloudfront distribution_deployed 60 s). It knows that ECS
tasks read their parameters when they start, so after switching them it forces a new
deployment. The lab's timings are scaled down (time scale) but a stock waiter's delay is
not, so at a small time scale the stock delays dominate the baseline's time; the
`baseline-scaled` variant multiplies every waiter delay by the time scale (as dr's polling
is in the lab), which compares the order of work rather than the polling.

    python benchmarks/recovery_time.py [--runs 5] [--time-scale 0.1] [--baselines stock,scaled]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common

SHAPE = {"databases": 3, "zones": 2, "records_per_zone": 1, "distributions": 2, "services": 3,
         "parameters": 1}
WORKER_TIMEOUT = 900


# --------------------------------------------------------------------------- the baseline

def naive_failover(config: dict[str, Any], endpoint: str, delay_scale: float | None) -> None:
    """A hurried engineer's failover script: the primary region is down, so it is left alone;
    promote every replica, scale up, wait, switch parameters and restart the tasks that read
    them, then DNS, CDN, and check health."""
    import boto3

    def waiter_config(client: Any, name: str) -> dict[str, Any]:
        if delay_scale is None:
            return {}
        stock = client.get_waiter(name).config
        return {"WaiterConfig": {"Delay": max(0.05, stock.delay * delay_scale),
                                 "MaxAttempts": stock.max_attempts * 20}}

    region = config["regions"]["secondary"]
    session = boto3.session.Session(aws_access_key_id="lab", aws_secret_access_key="lab")
    rds = session.client("rds", region_name=region, endpoint_url=endpoint)
    ecs = session.client("ecs", region_name=region, endpoint_url=endpoint)
    ssm = session.client("ssm", region_name=region, endpoint_url=endpoint)
    route53 = session.client("route53", region_name="us-east-1", endpoint_url=endpoint)
    cloudfront = session.client("cloudfront", region_name="us-east-1", endpoint_url=endpoint)

    for db in config["databases"]:
        rds.promote_read_replica(DBInstanceIdentifier=db["secondary"])
    for svc in config["services"]:
        ecs.update_service(cluster=svc["cluster"], service=svc["service"],
                           desiredCount=svc["active_count"])
    for db in config["databases"]:
        rds.get_waiter("db_instance_available").wait(
            DBInstanceIdentifier=db["secondary"], **waiter_config(rds, "db_instance_available"))
    for param in config["parameters"]:
        ssm.put_parameter(Name=param["name"], Value=param["secondary"], Type="String",
                          Overwrite=True)
    for svc in config["services"]:  # tasks read parameters when they start
        ecs.update_service(cluster=svc["cluster"], service=svc["service"],
                           forceNewDeployment=True)
    clusters: dict[str, list[str]] = {}
    for svc in config["services"]:
        clusters.setdefault(svc["cluster"], []).append(svc["service"])
    for cluster, services in clusters.items():
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=services,
                                               **waiter_config(ecs, "services_stable"))
    zones: dict[str, list[dict[str, Any]]] = {}
    for record in config["dns"]:
        zones.setdefault(record["zone_id"], []).append(record)
    for zone_id, records in zones.items():
        change = route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
            "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
                "Name": r["name"], "Type": r["type"], "TTL": r["ttl"],
                "ResourceRecords": [{"Value": r["secondary"]}]}} for r in records]})
        route53.get_waiter("resource_record_sets_changed").wait(
            Id=change["ChangeInfo"]["Id"],
            **waiter_config(route53, "resource_record_sets_changed"))
    for cdn in config["cdn"]:
        got = cloudfront.get_distribution_config(Id=cdn["distribution_id"])
        dist = got["DistributionConfig"]
        for origin in dist["Origins"]["Items"]:
            if origin["Id"] == cdn["origin_id"]:
                origin["DomainName"] = cdn["secondary"]
        cloudfront.update_distribution(Id=cdn["distribution_id"], IfMatch=got["ETag"],
                                       DistributionConfig=dist)
        cloudfront.get_waiter("distribution_deployed").wait(
            Id=cdn["distribution_id"], **waiter_config(cloudfront, "distribution_deployed"))
    for check in config["health"]:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(check["secondary"], timeout=2) as answer:
                    if answer.status == check["expect_status"]:
                        break
            except OSError:
                pass
            time.sleep(1)


# --------------------------------------------------------------------------- the workers

def worker(kind: str, time_scale: float, work: Path) -> dict[str, Any]:
    from dr import runbooks
    from dr.config import load
    from dr.lab import drill
    from dr.lab.bound import critical_path_bound
    from dr.lab.estate import Shape
    from dr.lab.world import Lab, LabOptions

    options = LabOptions(profile="realistic", time_scale=time_scale, shape=Shape(**SHAPE),
                         state_dir=work / "lab")
    if kind == "dr":
        outcome = drill.run(options, work / "report")
        report, rto = outcome.result.report, outcome.comparison["rto"]
        return {"kind": kind, "exit_code": outcome.result.exit_code,
                "outcome": report["outcome"], "dr_method": rto["dr_method"],
                "dr_rto": rto["dr_seconds"],
                "dr_recovery_region": rto["dr_recovery_region_seconds"],
                "traffic_in_effect": rto["traffic_in_effect_seconds"],
                "observer_rto": rto["observer_seconds"],
                "observer_paths": rto["observer_paths_seconds"],
                "bound": rto["critical_path_bound_seconds"],
                "steps": [(s["id"], s["status"], s["seconds"]) for s in report["steps"]]}

    lab = Lab(options)
    try:
        lab.up()
        observer = drill.observer_for(lab)
        lab.warm_up()
        observer.start()
        incident = lab.lose_primary_region()
        observer.mark_outage(incident)
        assert lab.front is not None
        error = None
        try:
            naive_failover(lab.config, lab.front.url,
                           None if kind == "baseline-stock" else time_scale)
        except Exception as exc:  # noqa: BLE001 - reported, not hidden
            error = f"{type(exc).__name__}: {exc}"
        script_end = (datetime.now(UTC) - incident).total_seconds()
        observer.wait_served(timeout=30)
        observer.stop()
        book = runbooks.failover(load(lab.config_path), "secondary")
        return {"kind": kind, "error": error, "script_seconds": round(script_end, 3),
                "observer_rto": observer.rto_seconds,
                "observer_paths": observer.paths_seconds,
                "bound": round(critical_path_bound(book, options.timing), 3)}
    finally:
        lab.down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--baselines", default="stock,scaled",
                        help="comma-separated: stock, scaled (or empty)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        work = Path(tempfile.mkdtemp(prefix="dr-rt-"))
        try:

            common.quiet_logs()
            print(json.dumps(worker(args.worker, args.time_scale, work)))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0

    kinds = ["dr"] + [f"baseline-{b}" for b in args.baselines.split(",") if b]
    print(f"# recovery time: lab realistic profile, time scale {args.time_scale}, estate "
          f"{SHAPE}, {args.runs} runs of {', '.join(kinds)}, alternating")
    print(f"# {common.machine_line()}", flush=True)
    rows: list[dict[str, Any]] = []
    for run in range(1, args.runs + 1):
        for kind in kinds:
            started = time.monotonic()
            answer = common.run_worker([__file__, "--worker", kind, "--time-scale",
                                        str(args.time_scale)], timeout=WORKER_TIMEOUT)
            answer.update(run=run, kind=kind, wall=round(time.monotonic() - started, 1))
            rows.append(answer)
            print(json.dumps({k: v for k, v in answer.items() if k != "stderr"}), flush=True)
            if answer.get("stderr") and answer.get("error"):
                print(answer["stderr"], file=sys.stderr)
    print()
    print(f"{'runbook':<16} {'runs':>4} {'bound s':>8} {'user path s':>11} {'own/bound':>9} "
          f"{'region s':>8} {'observer s':>10} {'obs/bound':>9} {'script end s':>12}")
    for kind in kinds:
        mine = [r for r in rows if r["kind"] == kind and r.get("observer_rto") is not None]
        bound = common.median([r["bound"] for r in mine])
        own = common.median([r.get("dr_rto") for r in mine]) if kind == "dr" else None
        region = common.median([r.get("dr_recovery_region") for r in mine])
        obs = common.median([r["observer_rto"] for r in mine])
        end = common.median([r.get("script_seconds") for r in mine])
        ratio_own = common.median([r["dr_rto"] / r["bound"] for r in mine]) \
            if kind == "dr" and mine else None
        ratio_obs = common.median([r["observer_rto"] / r["bound"] for r in mine])
        print(f"{kind:<16} {len(mine):>4} {common.fmt(bound):>8} {common.fmt(own):>11} "
              f"{common.fmt(ratio_own, 3):>9} {common.fmt(region):>8} {common.fmt(obs):>10} "
              f"{common.fmt(ratio_obs, 3):>9} {common.fmt(end):>12}")
    for kind in kinds[1:]:
        # Side by side, run by run: the observer's user-path RTO of dr and of the baseline.
        pairs = [(d.get("observer_rto"), b.get("observer_rto")) for d in rows
                 for b in rows if d["kind"] == "dr" and b["kind"] == kind
                 and d["run"] == b["run"]]
        slower = [i for i, (d, b) in enumerate(pairs, 1)
                  if d is None or (b is not None and d > b)]
        print(f"dr no slower than {kind} (observer, same run): "
              f"{len(pairs) - len(slower)} of {len(pairs)} runs"
              + (f"; slower in run(s) {slower}" if slower else ""))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
