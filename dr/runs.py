"""`dr runs`: the runs of this estate, from this machine's journals and from the shared
journal (`journal:`), each with how it ended (or that it did not: resumable)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dr.aws.gateway import CallLog, Gateway, SessionFactory, default_session_factory
from dr.config.model import Config
from dr.errors import DrError, RegionUnavailable
from dr.runbook.shared_journal import HASH_KEY, RANGE_KEY

BUDGET_SECONDS = 20.0
# The last record of a run says how it stands.
ENDINGS = {"run.finished": None, "run.interrupted": "interrupted (resumable)",
           "run.incomplete": "failed (resumable)"}


def _summary(first: dict[str, Any], last: dict[str, Any], where: str) -> dict[str, Any]:
    event = last.get("event")
    if event == "run.finished":
        outcome = str(last.get("outcome"))
    else:
        outcome = ENDINGS.get(str(event)) or "not finished (running, or died: resumable)"
    return {"run_id": first.get("run_id"), "command": first.get("command"),
            "to": first.get("to"), "started_at": first.get("at"), "outcome": outcome,
            "where": where}


def local_runs(state_dir: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((state_dir / "runs").glob("*/journal.jsonl")):
        lines = [line for line in path.read_text(errors="replace").splitlines() if line]
        try:
            first, last = json.loads(lines[0]), json.loads(lines[-1])
        except (IndexError, ValueError):
            continue
        found.append(_summary(first, last, "local"))
    return found


def shared_runs(config: Config, session_factory: SessionFactory = default_session_factory
                ) -> list[dict[str, Any]]:
    """From the first region whose journal table answers (recovery side first)."""
    assert config.journal is not None
    regions = [config.regions.secondary, config.regions.primary]
    gateway = Gateway(dry_run=True, patient_regions=frozenset(), impatient_global=True,
                      session_factory=session_factory)
    aws = gateway.for_step(time.monotonic() + BUDGET_SECONDS, CallLog())
    table, prefix = config.journal.dynamodb_table, f"dr/{config.lock_key}/"
    for region in regions:
        try:
            starts = aws.paginate("dynamodb", region, "scan", "Items", TableName=table,
                                  FilterExpression="begins_with(#run, :p) AND #seq = :one",
                                  ExpressionAttributeNames={"#run": HASH_KEY, "#seq": RANGE_KEY},
                                  ExpressionAttributeValues={":p": {"S": prefix},
                                                             ":one": {"N": "1"}})
            found = []
            for item in starts:
                last = aws.call("dynamodb", region, "query", TableName=table,
                                KeyConditionExpression="#run = :run",
                                ExpressionAttributeNames={"#run": HASH_KEY},
                                ExpressionAttributeValues={":run": item[HASH_KEY]},
                                ScanIndexForward=False, Limit=1, ConsistentRead=True)["Items"]
                found.append(_summary(json.loads(item["record"]["S"]),
                                      json.loads(last[0]["record"]["S"]), f"shared ({region})"))
            return found
        except RegionUnavailable:
            continue
    raise DrError(f"no region's journal table {table} answered")


def all_runs(config: Config, state_dir: Path) -> list[dict[str, Any]]:
    """Each run once: the shared copy where there is one (it is what a resume reads)."""
    runs = {r["run_id"]: r for r in local_runs(state_dir)}
    if config.journal is not None:
        for run in shared_runs(config):
            local = runs.get(run["run_id"])
            runs[run["run_id"]] = {**run, "where": "local and shared" if local else run["where"]}
    return sorted(runs.values(), key=lambda r: str(r["started_at"]))
