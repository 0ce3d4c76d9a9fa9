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
durable by the same fsync may already be on disk when the hook sees the first of them. With a
shared journal (`mirror`), each record is put there in the same order, before the hook and
before `append` returns; once a put fails, every later append fails too. A record
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

from dr.errors import JournalCorrupt, RunNotFound
from dr.redact import scrub_data

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
    def __init__(self, path: Path, *, after_append: Callable[[dict[str, Any]], None] | None = None,
                 mirror: Callable[[int, dict[str, Any]], None] | None = None) -> None:
        self.path = path
        self._after_append = after_append
        # The shared journal (dr/runbook/shared_journal.py): record number and record, put
        # once the record is durable here and before `append` returns.
        self._mirror = mirror
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._count = 0  # records written
        self._synced = 0  # records durable
        self._hooked = 0  # records the hook has seen
        self._hook_turn = threading.Condition()
        self._broken: Exception | None = None  # the shared copy refused a record
        path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(path)
        # Records already in the file (a resumed run): numbering goes on from them.
        self._base = path.read_bytes().count(b"\n") if path.is_file() else 0
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        with self._write_lock:
            record = scrub_data({"event": event, "at": iso(utcnow()), **fields})
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
        if self._mirror or self._after_append:
            # In file order: the shared copy never has record N+1 without N (a resume from
            # it must read every record up to where the run stopped, and number on from there).
            with self._hook_turn:
                self._hook_turn.wait_for(lambda: self._hooked == mine - 1)
                try:
                    if self._broken is not None:
                        raise self._broken
                    if self._mirror:
                        try:
                            self._mirror(self._base + mine, record)
                        except Exception as exc:
                            self._broken = exc  # later records must not leave a gap
                            raise
                    if self._after_append:
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


# What each record a replay reads must carry, beyond `event` and `at`.
_REQUIRED = {
    "run.started": ("run_id", "command", "to"),
    "step.started": ("step",),
    "step.finished": ("step", "type", "region", "status", "started_at", "finished_at",
                      "seconds"),
    "run.finished": ("outcome",),
}


def replay(path: Path) -> Replay:
    """Read a journal for `--resume`. A torn last line (a crash mid-write) is dropped: every
    line before it was fsynced whole. Anything else that is not a well-formed record is an
    error naming its line: a corrupt line in the middle must not hide the records after it
    (a finished run would silently reopen)."""
    if not path.is_file():
        raise RunNotFound(f"no journal at {path}", hint="list runs with: ls .dr/runs")
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise JournalCorrupt(f"{path}: not a dr journal (not UTF-8 text: {exc.reason})") from None
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(_record(line))
        except ValueError as exc:
            if number == len(lines):
                break  # torn by a crash mid-write; everything before it is whole
            raise JournalCorrupt(f"{path} line {number}: {exc}") from None
    if not records or records[0]["event"] != "run.started":
        raise JournalCorrupt(f"{path} does not start with a run.started record")
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


def _record(line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("event"), str):
        raise ValueError("not a journal record (a JSON object with an event)")
    try:
        parse_iso(str(record.get("at")))
    except ValueError:
        raise ValueError(f"{record['event']}: bad time {record.get('at')!r}") from None
    missing = [k for k in _REQUIRED.get(record["event"], ()) if k not in record]
    if missing:
        raise ValueError(f"{record['event']} lacks {', '.join(missing)}")
    return record
