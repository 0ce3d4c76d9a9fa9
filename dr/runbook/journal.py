"""The append-only journal of a run: `.dr/runs/RUN_ID/journal.jsonl`.

Each record is one JSON line, flushed and fsynced before `append` returns, so that whatever
the journal says happened survives a SIGKILL or a power cut. A step is journaled before its
apply starts and after it ends; a resumed run trusts only `step.finished` records.

Steps running side by side append from several threads: one lock keeps each record whole
and in order. The fsync is a group commit: appenders that arrive while an fsync is under way
write their records and are all made durable by the next single fsync, each returning only
once its own record is on disk (one fsync per record, under the write lock, queued a large
run's steps behind each other). The `after_append` hook sees every record once it is
durable, called in the thread that appended it and in the order of the file; records made
durable by the same fsync may already be on disk when the hook sees the first of them. A record
torn by a crash mid-write is cut off when the journal is reopened, so that what a resumed
run appends starts on a line of its own instead of being glued to the fragment (which would
hide it from every later replay).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dr.errors import RunNotFound

RUNS_DIR = Path(".dr") / "runs"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_dir(run_id: str, root: Path = RUNS_DIR) -> Path:
    return root / run_id


class Journal:
    def __init__(self, path: Path, *, after_append: Callable[[dict[str, Any]], None] | None = None
                 ) -> None:
        self.path = path
        self._after_append = after_append
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._count = 0  # records written
        self._synced = 0  # records durable
        self._hooked = 0  # records the hook has seen
        self._hook_turn = threading.Condition()
        path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(path)
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        with self._write_lock:
            record = {"event": event, "at": iso(utcnow()), **fields}
            self._file.write(json.dumps(record, default=str, sort_keys=True) + "\n")
            self._file.flush()
            self._count += 1
            mine = self._count
        with self._sync_lock:
            if self._synced < mine:
                with self._write_lock:
                    upto = self._count  # every record counted so far is flushed
                os.fsync(self._file.fileno())
                self._synced = upto
        if self._after_append:
            with self._hook_turn:
                self._hook_turn.wait_for(lambda: self._hooked == mine - 1)
                try:
                    self._after_append(record)
                finally:
                    self._hooked = mine
                    self._hook_turn.notify_all()
        return record

    def close(self) -> None:
        with self._sync_lock, self._write_lock:
            self._file.close()


def _cut_torn_tail(path: Path) -> None:
    """Drop an incomplete last line (a write cut short); every complete line stays."""
    if not path.is_file():
        return
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        keep = f.read().rfind(b"\n") + 1
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())


@dataclass
class Replay:
    """What a journal says about a run, for `--resume`."""

    started: dict[str, Any]
    readiness_passed: dict[str, dict[str, Any]] = field(default_factory=dict)
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    first_started_at: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None


def replay(path: Path) -> Replay:
    if not path.is_file():
        raise RunNotFound(f"no journal at {path}", hint="list runs with: ls .dr/runs")
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            # A torn last line from a crash mid-write: everything before it was fsynced.
            break
    if not records or records[0]["event"] != "run.started":
        raise RunNotFound(f"{path} does not start with run.started")
    result = Replay(started=records[0])
    for record in records[1:]:
        event = record["event"]
        if event == "readiness.passed":
            result.readiness_passed[record.get("phase", "")] = record.get("facts", {})
        elif event == "step.started":
            step = record["step"]
            result.attempts[step] = result.attempts.get(step, 0) + 1
            result.first_started_at.setdefault(step, record["at"])
        elif event == "step.finished":
            result.finished[record["step"]] = record
        elif event == "run.finished":
            result.outcome = record["outcome"]
    return result
