"""Crash safety (acceptance 5): a 6-step runbook with a parallel branch, SIGKILLed at every
journal boundary (before and after every apply), then resumed: the end state is right and
every step was applied exactly once, counted by the steps themselves.

The runbook is `crash_runbook.py`, run as a subprocess; its fresh runs interleave the
parallel branch deterministically, so record number N is the same boundary every time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dr.runbook.journal import Journal, replay
from tests.engine.report_checks import check_report_dir

SCRIPT = Path(__file__).with_name("crash_runbook.py")
KEYS = ("prepare", "left1", "right1", "left2", "right2", "finish")
TARGET = {key: f"{key}-done" for key in KEYS}
# The journal of an uninterrupted run, record by record.
BOUNDARIES = [
    ("run.started", None), ("readiness.passed", None),
    ("step.started", "prepare"), ("step.finished", "prepare"),
    ("step.started", "left1"), ("step.started", "right1"),
    ("step.finished", "left1"), ("step.started", "left2"),
    ("step.finished", "right1"), ("step.started", "right2"),
    ("step.finished", "left2"), ("step.finished", "right2"),
    ("step.started", "finish"), ("step.finished", "finish"),
    ("run.finished", None),
]
# Killing after every record but the last (run.finished: that run is over; see below).
KILL_POINTS = range(1, len(BOUNDARIES))


def step_id(key: str) -> str:
    return f"crash.{key}.apply"


def boundary(record: dict[str, Any]) -> tuple[str, str | None]:
    step = record.get("step")
    return record["event"], step.split(".")[1] if step else None


@dataclass
class Work:
    path: Path

    def run(self, *args: str) -> tuple[int, dict[str, Any] | None]:
        # Each work directory has its own estate, so its own host-wide lock directory too:
        # the kill points run side by side.
        env = {**os.environ, "DR_LOCK_DIR": str(self.path / "locks")}
        done = subprocess.run([sys.executable, str(SCRIPT), str(self.path), *args], env=env,
                              capture_output=True, text=True, timeout=60)
        lines = done.stdout.strip().splitlines()
        try:
            answer = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            answer = None
        if done.returncode not in (0, -signal.SIGKILL):
            answer = {"stderr": done.stderr[-2000:], **(answer or {})}
        return done.returncode, answer

    def run_ids(self) -> list[str]:
        runs = self.path / ".dr" / "runs"
        return sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []

    def journal(self, run_id: str) -> list[dict[str, Any]]:
        text = (self.path / ".dr" / "runs" / run_id / "journal.jsonl").read_text()
        return [json.loads(line) for line in text.splitlines()]

    def lines(self, name: str) -> list[str]:
        file = self.path / name
        return file.read_text().splitlines() if file.exists() else []

    def state(self) -> dict[str, str]:
        return json.loads((self.path / "state.json").read_text())


def test_an_uninterrupted_run_takes_the_documented_path(tmp_path: Path) -> None:
    work = Work(tmp_path)

    code, answer = work.run()

    assert code == 0 and answer and answer["outcome"] == "succeeded", answer
    [run_id] = work.run_ids()
    assert [boundary(r) for r in work.journal(run_id)] == BOUNDARIES
    assert work.state() == TARGET
    assert Counter(work.lines("applied")) == Counter(KEYS)
    check_report_dir(tmp_path / ".dr" / "runs" / run_id)


def crash_and_resume(work: Work, kill_at: int) -> dict[str, Any]:
    code, answer = work.run("--kill-at", str(kill_at))
    assert code == -signal.SIGKILL, (kill_at, code, answer)
    [run_id] = work.run_ids()
    crashed = work.journal(run_id)
    applied_before = work.lines("applied")
    code, answer = work.run("--resume", run_id)
    return {"kill_at": kill_at, "run_id": run_id, "crashed": crashed,
            "applied_before": applied_before, "code": code, "answer": answer}


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    root = tmp_path_factory.mktemp("crashes")

    def one(kill_at: int) -> dict[str, Any]:
        work = Work(root / f"kill-at-{kill_at:02d}")
        work.path.mkdir()
        return {"work": work, **crash_and_resume(work, kill_at)}

    with ThreadPoolExecutor(max_workers=6) as pool:
        return {case["kill_at"]: case for case in pool.map(one, KILL_POINTS)}


@pytest.mark.parametrize("kill_at", KILL_POINTS,
                         ids=[f"{n:02d}-after-{e}-{s or 'run'}"
                              for n, (e, s) in zip(KILL_POINTS, BOUNDARIES, strict=False)])
def test_killed_at_a_journal_boundary_resumes_to_the_right_state_once(
        crashes: dict[int, dict[str, Any]], kill_at: int) -> None:
    case = crashes[kill_at]
    work: Work = case["work"]

    # The kill landed exactly on the boundary: nothing after record N reached the journal.
    assert [boundary(r) for r in case["crashed"]] == BOUNDARIES[:kill_at]

    assert case["code"] == 0, case["answer"]
    assert case["answer"] == {"run_id": case["run_id"], "outcome": "succeeded",
                              "exit_code": 0}
    assert work.run_ids() == [case["run_id"]]
    assert work.state() == TARGET
    # Every step really changed the state exactly once, across the crash and the resume.
    assert Counter(work.lines("applied")) == Counter(KEYS)

    finished = {boundary(r)[1] for r in case["crashed"] if r["event"] == "step.finished"}
    started = {boundary(r)[1] for r in case["crashed"] if r["event"] == "step.started"}
    resumed_calls = [line.split()[1] for line in work.lines("calls")
                     if line.startswith("resume ")]
    # Finished steps are not repeated; interrupted and unstarted ones run once more.
    assert sorted(resumed_calls) == sorted(set(KEYS) - finished)
    assert set(work.lines("applied")[:len(case["applied_before"])]) <= finished | started

    journal = case["crashed"] + work.journal(case["run_id"])[len(case["crashed"]):]
    assert [r["event"] for r in journal].count("run.started") == 1
    assert Counter(boundary(r)[1] for r in journal if r["event"] == "step.finished") \
        == Counter(KEYS)
    assert journal[-1]["event"] == "run.finished" and journal[-1]["outcome"] == "succeeded"

    report = check_report_dir(work.path / ".dr" / "runs" / case["run_id"])
    assert report["run_id"] == case["run_id"] and report["outcome"] == "succeeded"
    by_id = {s["id"]: s for s in report["steps"]}
    assert [by_id[step_id(k)]["status"] for k in KEYS] == ["succeeded"] * len(KEYS)
    for key in KEYS:
        assert by_id[step_id(key)]["attempts"] == (2 if key in started - finished else 1)


def test_a_torn_last_record_does_not_hide_what_the_resume_journals(tmp_path: Path) -> None:
    # A power cut in the middle of a write leaves half a record at the end of the journal.
    work = Work(tmp_path)
    code, _ = work.run("--kill-at", "8")
    assert code == -signal.SIGKILL
    [run_id] = work.run_ids()
    path = tmp_path / ".dr" / "runs" / run_id / "journal.jsonl"
    with open(path, "a") as journal:
        journal.write('{"event": "step.finished", "step": "crash.le')

    code, answer = work.run("--resume", run_id)
    assert code == 0 and answer and answer["outcome"] == "succeeded", answer

    # What the resume journaled is readable: the run is finished, every step in it.
    past = replay(path)
    assert past.outcome == "succeeded"
    assert sorted(past.finished) == sorted(step_id(k) for k in KEYS)
    # Resuming the finished run again answers its outcome and applies nothing more.
    code, answer = work.run("--resume", run_id)
    assert code == 0 and answer and answer["outcome"] == "succeeded", answer
    assert Counter(work.lines("applied")) == Counter(KEYS)


def test_parallel_appends_reach_the_hook_in_journal_order(tmp_path: Path) -> None:
    seen: list[str] = []
    journal = Journal(tmp_path / "journal.jsonl", after_append=lambda r: seen.append(r["n"]))

    def write(worker: int) -> None:
        for i in range(100):
            journal.append("step.started", n=f"{worker}-{i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    journal.close()

    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["n"] for line in lines] == seen
    assert len(seen) == 800


def test_killed_after_run_finished_the_report_still_exists(tmp_path: Path) -> None:
    work = Work(tmp_path)
    code, _ = work.run("--kill-at", str(len(BOUNDARIES)))
    assert code == -signal.SIGKILL
    [run_id] = work.run_ids()
    assert work.state() == TARGET
    run_dir = tmp_path / ".dr" / "runs" / run_id
    if not (run_dir / "report.json").exists():
        code, answer = work.run("--resume", run_id)
        assert code == 0, answer
    check_report_dir(run_dir)
