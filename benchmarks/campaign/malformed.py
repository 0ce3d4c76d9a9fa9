"""malformed: every answer of one operation cut short."""

from __future__ import annotations

from typing import Any

from campaign.world import World, failover_in_process

# Operations whose every answer is cut short (HTTP 200, a body that does not parse), and
# where each comes in a failover: readiness reads, a change's own answer, a step's look-up.
MALFORMED = [
    ("DescribeDBInstances", "rds, query/XML: readiness and every database step"),
    ("GetMetricStatistics", "cloudwatch, JSON: readiness (replica lag)"),
    ("DescribeServices", "ecs, JSON: readiness and scale-up"),
    ("DescribeSecurityGroups", "ec2, query/XML: the fence's look-up"),
    ("PromoteReadReplica", "rds, query/XML: the promotion's own answer"),
    ("PutParameter", "ssm, JSON: a change's own answer"),
    ("UpdateService", "ecs, JSON: a change's own answer"),
]


def campaign_malformed(world: World, quick: bool) -> dict[str, Any]:
    """A point passes when the failover stops with the cause named (the operation and that
    its answer could not be parsed) and changed nothing if it stopped at readiness; and
    when, the answers repaired, running it again reaches the contract's end state."""
    rows = []
    for operation, where in MALFORMED[:3] if quick else MALFORMED:
        directory = world.provision(f"malformed-{operation}")
        before = world.front.injected.get("malformed", 0)
        world.front.malformed([operation])
        result, _ = failover_in_process(world, "secondary", directory / ".dr")
        world.front.malformed([])
        garbled = world.front.injected.get("malformed", 0) - before
        report = result.report
        said = list(report.get("problems", [])) + [
            f"{s['id']}: {s['error']}" for s in report["steps"] if s["status"] == "failed"]
        problems = []
        if result.outcome not in ("not_ready", "failed"):
            problems.append(f"outcome {result.outcome} with {garbled} answers garbled")
        if not any(operation in m and "could not be parsed" in m for m in said):
            problems.append(f"cause not named: {said}")
        if result.outcome == "not_ready" and report["changed"]:
            problems.append(f"not ready, yet changed {report['changed']}")
        # A failed run is finished (only an interrupted one resumes): run it again.
        again, _ = failover_in_process(world, "secondary", directory / ".dr")
        if again.outcome != "succeeded":
            problems.append(f"run again: {again.outcome}")
        wrong = world.end_state("secondary")
        if wrong:
            problems.append(wrong)
        row = {"operation": operation, "where": where, "garbled_answers": garbled,
               "outcome": result.outcome, "said": said[:3], "changed": report["changed"],
               "then": again.outcome, "passed": not problems,
               "problems": problems}
        rows.append(row)
        print(f"  {operation} ({where}): {garbled} answers garbled -> {result.outcome} "
              f"({len(report['changed'])} steps changed); "
              f"run again: {row['then']}: "
              f"{'PASS' if not problems else 'FAIL ' + '; '.join(problems)}", flush=True)
        if said:
            print(f"      said: {said[0][:220]}", flush=True)
    return {"tried": len(rows), "passed": sum(r["passed"] for r in rows), "rows": rows}
