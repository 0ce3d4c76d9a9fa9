"""kill: SIGKILL a failover at every journal boundary, resume it, judge the end state and
that no mutating call was sent twice."""

from __future__ import annotations

import json
import signal
from collections import Counter
from typing import Any

from campaign.world import World, run_worker


def count_boundaries(world: World) -> int:
    directory = world.provision("kill-reference")
    answer = run_worker(world, directory)
    if answer.get("outcome") != "succeeded":
        raise RuntimeError(f"the reference failover did not succeed: {answer}")
    return int(answer["records"])


def kill_point(world: World, n: int) -> dict[str, Any]:
    directory = world.provision(f"kill-{n:02d}")
    killed = run_worker(world, directory, kill_at=n)
    runs = sorted((directory / ".dr" / "runs").iterdir())
    row: dict[str, Any] = {"point": n, "killed_exit": killed.get("exit_code")}
    problems = []
    if killed.get("exit_code") != -signal.SIGKILL:
        problems.append(f"the worker was not killed: {killed}")
    if len(runs) != 1:
        problems.append(f"{len(runs)} runs")
        return {**row, "passed": False, "problems": problems}
    run_id = runs[0].name
    journal = [json.loads(line) for line in (runs[0] / "journal.jsonl").read_text().splitlines()]
    last = journal[-1]
    row["boundary"] = f"{last['event']} {last.get('step') or ''}".strip()
    # Killed once record n is durable; records of other threads made durable by the same
    # fsync (the journal's group commit) may be there too.
    row["records_at_kill"] = len(journal)
    if len(journal) < n:
        problems.append(f"journal has {len(journal)} records, killed at {n}")
    resumed = run_worker(world, directory, resume=run_id)
    row["resume_outcome"] = resumed.get("outcome")
    if resumed.get("outcome") != "succeeded":
        problems.append(f"resume: {resumed.get('outcome') or resumed}")
    if not (runs[0] / "report.json").exists():
        problems.append("no report.json after the resume")
    wrong = world.end_state("secondary")
    if wrong:
        problems.append(wrong)
    lines = [json.loads(line) for line in (directory / "calls.jsonl").read_text().splitlines()]
    status = {c["call"]: c["status"] for c in lines if c["event"] == "answered"}
    calls = [c for c in lines if c["event"] == "sending"]
    # A call the kill cut off before its answer may or may not have reached AWS: counted
    # apart. Twice = answered with success twice for one step with the same parameters.
    row["cut_off_calls"] = [f"{c['step']}: {c['op']}" for c in calls
                            if c["mutating"] and c["call"] not in status]
    per_step: Counter[tuple[str, str, str, str]] = Counter(
        (c["step"], c["op"], c["region"], json.dumps(c["params"], sort_keys=True))
        for c in calls if c["mutating"] and c["step"] != "(run)"
        and (status.get(c["call"]) or 0) < 300 and c["call"] in status)
    twice = [f"{step}: {op} x{k}" for (step, op, _, _), k in per_step.items() if k > 1]
    row["mutating_calls"] = sum(per_step.values())
    row["mutating_refused"] = dict(Counter(
        f"{c['step']}: {c['op']} {status[c['call']]}" for c in calls
        if c["mutating"] and (status.get(c["call"]) or 0) >= 300))
    row["resumed_mutating_calls"] = sum(1 for c in calls if c["mutating"]
                                        and c["run"] == "resume" and c["step"] != "(run)")
    if twice:
        problems.append("mutating call sent twice for one step: " + "; ".join(twice))
    return {**row, "passed": not problems, "problems": problems}


def campaign_kill(world: World, quick: bool) -> dict[str, Any]:
    total = count_boundaries(world)
    points = list(range(1, total))
    if quick:
        points = sorted({1, 2, 3, total // 3, total // 2, (2 * total) // 3, total - 1})
    rows = []
    for n in points:
        row = kill_point(world, n)
        rows.append(row)
        print(f"  kill at {n:>2}/{total} ({row.get('boundary', '?')}): "
              f"{'PASS' if row['passed'] else 'FAIL ' + '; '.join(row['problems'])} "
              f"(mutating calls {row.get('mutating_calls')}, on resume "
              f"{row.get('resumed_mutating_calls')}; answered with an error "
              f"{row.get('mutating_refused') or 'none'}; cut off by the kill "
              f"{row.get('cut_off_calls') or 'none'})", flush=True)
    exact = sum(1 for r in rows if r.get("records_at_kill") == r["point"])
    print(f"  {exact} of {len(rows)} kills left exactly as many records as the kill point "
          "(the others: records of parallel steps made durable by the same fsync)", flush=True)
    return {"journal_records": total, "tried": len(rows), "exact_boundaries": exact,
            "passed": sum(r["passed"] for r in rows), "rows": rows}
