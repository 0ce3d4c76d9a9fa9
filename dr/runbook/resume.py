"""What `--resume RUN_ID` may trust.

A resumed run takes the steps its journal says finished as done. That is only true of the
estate the journal was written for: a journal from another dr.yaml once had another
estate's DNS and CDN switched to a database that was still a replica, because step ids
matched. So `run.started` carries the estate's fingerprint (app, environment, regions, and a
hash of every configured value by key path, never the values themselves), and a resume
under a configuration that differs is refused, naming the keys that differ. The run id must
have dr's own form: it becomes a path under .dr/runs/.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from dr.config.model import Config
from dr.errors import UsageError

RUN_ID = re.compile(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-[0-9a-f]{4}")


def check_run_id(run_id: str) -> None:
    if not RUN_ID.fullmatch(run_id):
        raise UsageError(f"--resume {run_id!r}: not a dr run id (like 2026-11-24T21-40-00Z-3f9a)",
                         hint="list runs with: ls .dr/runs")


def fingerprint(config: Config) -> dict[str, Any]:
    """The estate a run acts on: who it is, and a hash of each configured value."""
    values = {path: _digest(value) for path, value in _leaves(_plain(config), "")}
    return {"app": config.app, "environment": config.environment,
            "regions": {"primary": config.regions.primary,
                        "secondary": config.regions.secondary},
            "sha256": _digest(values), "values": values}


def differences(journaled: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """The key paths whose values differ between the journal's estate and this one."""
    if not journaled:
        return ["(the journal records no estate: it was written by an older dr)"]
    if journaled.get("sha256") == current["sha256"]:
        return []
    old, new = journaled.get("values", {}), current["values"]
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def check_estate(run_id: str, journaled: dict[str, Any] | None, config: Config) -> None:
    changed = differences(journaled, fingerprint(config))
    if changed:
        shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8
                                          else "")
        raise UsageError(f"run {run_id} was started for another estate or configuration than "
                         f"{config.source}: {shown} differ; nothing was changed",
                         hint="resume with the dr.yaml the run started with, or start a new run")


def _plain(config: Config) -> dict[str, Any]:
    data = dataclasses.asdict(config)
    data.pop("source", None)
    return data


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items()
                for leaf in _leaves(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list | tuple):
        return [leaf for index, item in enumerate(value)
                for leaf in _leaves(item, f"{path}[{index}]")]
    return [(path, value)]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
