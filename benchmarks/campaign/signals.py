"""signals: SIGINT and SIGTERM at 10 moments of a failover run by the `dr` console script,
with the lab's AWS timings scaled down (a promotion takes seconds, so moments fall inside
waits as well as between steps). Contract 1.1, "Interrupted runs", judged from outside:

- the process exits 130 (SIGINT) or 143 (SIGTERM);
- its report says `interrupted`, its journal ends in run.interrupted, never run.finished;
- the lock is free (this campaign takes the same lock file right after);
- `dr failover --resume RUN_ID --yes` exits 0, the contract's end state holds in the
  emulator, and the region front forwarded every mutating operation exactly as many times as
  an uninterrupted failover of the same estate does (nothing done twice, nothing skipped).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import common

from campaign.world import World

SIGNALS = (signal.SIGINT, signal.SIGTERM)
MOMENTS = 10
SCALE = 0.01  # promotion 3 s, CloudFront 3 s, Route 53 0.6 s
# Counted apart: each start or resume of a run publishes its own notification.
UNCOUNTED = ("sns:Publish", "dynamodb:")


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")


def mutating(operations: dict[str, int]) -> Counter[str]:
    """The mutating operations among the front's counts. REST requests (Route 53,
    CloudFront) are counted by HTTP method: only POST, PUT and DELETE change anything."""
    from dr.aws.gateway import is_mutating

    def changes(operation: str) -> bool:
        if operation in HTTP_METHODS:
            return operation in ("POST", "PUT", "DELETE", "PATCH")
        return is_mutating(operation)

    return Counter({op: n for op, n in operations.items()
                    if not op.startswith(UNCOUNTED) and changes(op.split(":", 1)[1])})


def _start(world: World, directory: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [common.dr_executable(), "failover", *args, "--config", str(world.config_path),
         "--log-format", "json"], cwd=directory,
        env={**world.env, "DR_LOCK_DIR": str(directory / "locks")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _journal(directory: Path) -> list[dict[str, Any]]:
    found = list((directory / ".dr" / "runs").glob("*/journal.jsonl"))
    if not found:
        return []
    return [json.loads(line) for line in found[0].read_text().splitlines()
            if line.endswith("}")]


def _estate(world: World, name: str) -> tuple[Path, Counter[str]]:
    """A fresh estate with slow AWS timings, and what the region front forwarded so far."""
    from dr.lab import fidelity
    from dr.lab.timing import TimingProfile

    directory = world.provision(name)
    fidelity.set_profile(TimingProfile("realistic", SCALE))
    return directory, mutating(world.front.status()["operations"])


def reference(world: World) -> tuple[Counter[str], int]:
    """An uninterrupted failover: what it sends, and how many journal records it writes."""
    directory, before = _estate(world, "signals-reference")
    done = _start(world, directory, "--to", "secondary", "--yes")
    _, err = done.communicate(timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"the reference failover failed: {err[-1500:]}")
    sent = mutating(world.front.status()["operations"]) - before
    return sent, len(_journal(directory))


def moment(world: World, sig: signal.Signals, at: int, expected: Counter[str]
           ) -> dict[str, Any]:
    from dr.runbook.lock import LocalLock

    directory, before = _estate(world, f"signal-{sig.name}-{at:02d}")
    row: dict[str, Any] = {"signal": sig.name, "after_record": at}
    problems: list[str] = []
    running = _start(world, directory, "--to", "secondary", "--yes")
    deadline = time.monotonic() + 120
    while len(_journal(directory)) < at and running.poll() is None:
        if time.monotonic() > deadline:
            problems.append(f"never reached record {at}")
            break
        time.sleep(0.01)
    journal = _journal(directory)
    row["at"] = f"{journal[-1]['event']} {journal[-1].get('step') or ''}".strip() \
        if journal else "(no journal)"
    running.send_signal(sig)
    _, err = running.communicate(timeout=120)
    row["exit"] = running.returncode
    if running.returncode != 128 + sig.value:
        problems.append(f"exit {running.returncode}, not {128 + sig.value}: {err[-300:]}")
    journal = _journal(directory)
    if not journal:
        return {**row, "passed": False, "problems": problems + ["no journal"]}
    run_id = journal[0]["run_id"]
    if journal[-1]["event"] != "run.interrupted" or any(
            r["event"] == "run.finished" for r in journal):
        problems.append(f"journal ends {journal[-1]['event']}")
    report_path = directory / ".dr" / "runs" / run_id / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    if report.get("outcome") != "interrupted":
        problems.append(f"report outcome {report.get('outcome')}")
    row["changed_before_resume"] = len(report.get("changed", []))
    if f"--resume {run_id}" not in err:
        problems.append("no --resume command printed")
    key = f"{world.config['app']}/{world.config['environment']}"
    try:
        probe = LocalLock(directory / "locks", key, "campaign-probe", None)
        probe.acquire()
        probe.release()
    except Exception as exc:  # noqa: BLE001 - the finding is that the lock is held
        problems.append(f"lock not free: {exc}")
    resumed = _start(world, directory, "--resume", run_id, "--yes")
    _, err = resumed.communicate(timeout=300)
    if resumed.returncode != 0:
        problems.append(f"resume exit {resumed.returncode}: {err[-300:]}")
    wrong = world.end_state("secondary")
    if wrong:
        problems.append(wrong)
    sent = mutating(world.front.status()["operations"]) - before
    if sent != expected:
        problems.append(f"mutating operations {dict(sent)} != uninterrupted {dict(expected)}")
    return {**row, "passed": not problems, "problems": problems}


def campaign_signals(world: World, quick: bool) -> dict[str, Any]:
    from dr.lab import fidelity
    from dr.lab.timing import INSTANT

    try:
        expected, records = reference(world)
        count = 2 if quick else MOMENTS
        # Moments spread over the run, from readiness to the last steps.
        points = sorted({max(2, round(1 + i * (records - 2) / count)) for i in range(count)})
        rows = []
        for sig in SIGNALS:
            for at in points:
                row = moment(world, sig, at, expected)
                rows.append(row)
                print(f"  {sig.name} after record {at} ({row.get('at')}): exit {row.get('exit')}"
                      f", {row.get('changed_before_resume')} changed before the resume: "
                      f"{'PASS' if row['passed'] else 'FAIL ' + '; '.join(row['problems'])}",
                      flush=True)
    finally:
        fidelity.set_profile(INSTANT)
    return {"tried": len(rows), "passed": sum(r["passed"] for r in rows),
            "journal_records": records, "rows": rows}
