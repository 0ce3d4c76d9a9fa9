"""One run at a time per app/environment (acceptance 6), for the local lock file and for
the DynamoDB lock: a second run gets LockHeld (exit 5) naming the holder; a crashed
holder's lock is free (local) or free once its lease ends (DynamoDB); --force-unlock with
the holder's run id takes it over; a lost other region does not block the lock."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dr.config.model import Config, Lock
from dr.errors import LockHeld
from dr.runbook.context import StepContext
from dr.runbook.lock import LocalLock, local_lock_dir
from dr.runbook.run import Request, Result
from tests.engine.memory_steps import (
    PRIMARY,
    SECONDARY,
    WAIT,
    Spec,
    Trace,
    config,
    run,
    runbook,
    runner,
    step_id,
)

pytestmark = pytest.mark.usefixtures("registered")

TABLE = "dr-locks"
CRASH_SCRIPT = Path(__file__).with_name("crash_runbook.py")
FAILOVER = Request(command="failover", to="secondary")


class Holder:
    """A run in a thread whose only step holds the run (and so its lock) until released."""

    def __init__(self, tmp_path: Path, cfg: Config,
                 inspect: Any = None) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()
        self.run_id: str | None = None
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.seen: Any = None

        def hold(ctx: StepContext) -> None:
            self.run_id = ctx.run.run_id
            if inspect:
                self.seen = inspect()
            self.holding.set()
            if not self.release.wait(WAIT):
                raise AssertionError("the holder was never released")

        book = runbook([Spec("hold", Trace(), apply=hold)])
        self._runner = runner(tmp_path, book, cfg=cfg)
        self._thread = threading.Thread(target=self._run, name="holder")

    def _run(self) -> None:
        try:
            self.result = self._runner.run(FAILOVER)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc
            self.holding.set()

    def __enter__(self) -> Holder:
        self._thread.start()
        assert self.holding.wait(WAIT), "the holder never started its step"
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._thread.join(WAIT)
        assert not self._thread.is_alive()

    def finished(self) -> Result:
        self.__exit__()
        assert self.error is None, self.error
        assert self.result is not None
        return self.result


def second_run(tmp_path: Path, cfg: Config, request: Request = FAILOVER
               ) -> tuple[Trace, Result | LockHeld]:
    trace = Trace()
    try:
        return trace, run(tmp_path, [Spec("second", trace)], request, cfg=cfg)
    except LockHeld as exc:
        return trace, exc


def assert_refused(outcome: Result | LockHeld, trace: Trace, holder: str | None) -> LockHeld:
    assert isinstance(outcome, LockHeld), outcome
    assert outcome.exit_code == 5
    assert holder and outcome.holder == holder
    assert holder in str(outcome)
    assert f"--force-unlock {holder}" in (outcome.hint or "")
    assert trace.events == [], "the refused run ran a step"
    return outcome


# Local lock -------------------------------------------------------------------------------

def test_local_second_concurrent_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    with Holder(tmp_path, cfg) as holder:
        trace, outcome = second_run(tmp_path, cfg)
    assert_refused(outcome, trace, holder.run_id)
    assert holder.finished().outcome == "succeeded"
    # The refused run left nothing behind: no journal, no report.
    runs = sorted(p.name for p in (tmp_path / ".dr" / "runs").iterdir())
    assert runs == [holder.run_id]


def test_local_lock_is_free_again_after_the_holder_finishes(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    with Holder(tmp_path, cfg) as holder:
        pass
    assert holder.finished().outcome == "succeeded"
    trace, outcome = second_run(tmp_path, cfg)
    assert isinstance(outcome, Result) and outcome.outcome == "succeeded"


def test_local_lock_is_per_app_and_environment(tmp_path: Path) -> None:
    with Holder(tmp_path, config(tmp_path, app="engine")):
        trace, outcome = second_run(tmp_path, config(tmp_path, app="other-app"))
    assert isinstance(outcome, Result) and outcome.outcome == "succeeded"


def crash_script(work: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, str(CRASH_SCRIPT), str(work), *args],
                          capture_output=True, text=True, timeout=60)
    lines = done.stdout.strip().splitlines()
    try:
        return done.returncode, json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return done.returncode, {"stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}


def test_local_second_run_in_another_process_exits_5_naming_the_holder(tmp_path: Path
                                                                      ) -> None:
    # The holder runs here, under crash_runbook.py's app/environment and state directory.
    cfg = config(tmp_path, app="crash")
    with Holder(tmp_path, cfg) as holder:
        code, answer = crash_script(tmp_path)
    assert code == 5, answer
    assert answer["holder"] == holder.run_id and holder.run_id in answer["error"]
    assert holder.finished().outcome == "succeeded"
    assert not (tmp_path / "state.json").exists(), "the refused process ran a step"


def test_local_lock_of_a_killed_run_is_free_for_the_next_run(tmp_path: Path) -> None:
    code, _ = crash_script(tmp_path, "--kill-at", "5")  # killed mid-run, holding the lock
    assert code < 0
    [killed] = [p.name for p in (tmp_path / ".dr" / "runs").iterdir()]
    lock_file = local_lock_dir() / "crash__test.lock"
    assert json.loads(lock_file.read_text())["run_id"] == killed

    code, answer = crash_script(tmp_path)

    assert code == 0 and answer["outcome"] == "succeeded", answer
    assert answer["run_id"] != killed


def test_local_force_unlock_never_takes_a_live_holders_lock(tmp_path: Path) -> None:
    """A held flock always has a live holder (the kernel frees a dead one's): forcing it
    would make two runs act at once."""
    cfg = config(tmp_path)
    stuck = LocalLock(local_lock_dir(), cfg.lock_key, "stuck-run", None)
    stuck.acquire()
    try:
        trace, outcome = second_run(tmp_path, cfg, Request(
            command="failover", to="secondary", force_unlock="stuck-run"))
        refused = assert_refused(outcome, trace, "stuck-run")
        assert "it is alive" in str(refused)
    finally:
        stuck.release()
    trace, outcome = second_run(tmp_path, cfg)
    assert isinstance(outcome, Result) and outcome.outcome == "succeeded"


def test_local_lock_covers_every_working_directory_of_the_host(tmp_path: Path) -> None:
    """Two operators in two directories of one host: the second is refused."""
    cfg = config(tmp_path / "alice")
    with Holder(tmp_path / "alice", cfg) as holder:
        trace, outcome = second_run(tmp_path / "bob", config(tmp_path / "bob"))
        assert_refused(outcome, trace, holder.run_id)


# DynamoDB lock ----------------------------------------------------------------------------

LOCK_ID = {"LockID": {"S": "dr/engine/test"}}


@pytest.fixture
def dynamo(aws: Any) -> Iterator[dict[str, Any]]:
    clients = {region: aws.client("dynamodb", region) for region in (PRIMARY, SECONDARY)}
    for client in clients.values():
        client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "LockID",
                                                   "AttributeType": "S"}])
    yield clients


def lock_item(clients: dict[str, Any], region: str) -> dict[str, Any] | None:
    return clients[region].get_item(TableName=TABLE, Key=LOCK_ID,
                                    ConsistentRead=True).get("Item")


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def plant(clients: dict[str, Any], holder: str, expires_in: int, *, host: str = "dead-host",
          pid: int = 4242) -> None:
    """The lock item a run left behind when it died without releasing it."""
    for client in clients.values():
        client.put_item(TableName=TABLE, Item={
            **LOCK_ID, "holder": {"S": holder}, "token": {"S": "0123456789abcdef"},
            "expires_at": {"N": str(int(time.time()) + expires_in)},
            "host": {"S": host}, "pid": {"N": str(pid)}})


def test_dynamodb_second_concurrent_run_is_refused_naming_the_holder(
        tmp_path: Path, dynamo: dict[str, Any]) -> None:
    cfg = config(tmp_path, lock_table=TABLE)
    with Holder(tmp_path, cfg, inspect=lambda: {
            r: lock_item(dynamo, r) for r in (PRIMARY, SECONDARY)}) as holder:
        trace, outcome = second_run(tmp_path, cfg)
    refused = assert_refused(outcome, trace, holder.run_id)
    assert f"DynamoDB {TABLE} in {SECONDARY}" in str(refused)
    # While it ran, the holder held the lock in both regions, naming itself, with a lease.
    for region in (PRIMARY, SECONDARY):
        item = holder.seen[region]
        assert item["holder"]["S"] == holder.run_id
        assert int(item["expires_at"]["N"]) > time.time()
    assert holder.finished().outcome == "succeeded"
    # Released in both regions when the run ended.
    assert lock_item(dynamo, PRIMARY) is None and lock_item(dynamo, SECONDARY) is None


def test_dynamodb_lock_is_free_again_after_the_holder_finishes(
        tmp_path: Path, dynamo: dict[str, Any]) -> None:
    cfg = config(tmp_path, lock_table=TABLE)
    with Holder(tmp_path, cfg) as holder:
        pass
    assert holder.finished().outcome == "succeeded"
    trace, outcome = second_run(tmp_path, cfg)
    assert isinstance(outcome, Result) and outcome.outcome == "succeeded"


def test_dynamodb_lock_of_a_dead_run_blocks_until_its_lease_ends(
        tmp_path: Path, dynamo: dict[str, Any]) -> None:
    cfg = config(tmp_path, lock_table=TABLE)
    plant(dynamo, "dead-run", expires_in=600)

    trace, outcome = second_run(tmp_path, cfg)

    refused = assert_refused(outcome, trace, "dead-run")
    assert "lease ends in" in str(refused)
    assert lock_item(dynamo, SECONDARY)["holder"]["S"] == "dead-run"


def test_dynamodb_expired_lease_is_taken_over(tmp_path: Path,
                                              dynamo: dict[str, Any]) -> None:
    cfg = config(tmp_path, lock_table=TABLE)
    plant(dynamo, "dead-run", expires_in=-5)
    seen: dict[str, Any] = {}

    def look(ctx: StepContext) -> None:
        seen.update({r: lock_item(dynamo, r) for r in (PRIMARY, SECONDARY)})

    result = run(tmp_path, [Spec("second", Trace(), apply=look)], cfg=cfg)

    assert result.outcome == "succeeded"
    assert {r: i["holder"]["S"] for r, i in seen.items()} == {
        PRIMARY: result.report["run_id"], SECONDARY: result.report["run_id"]}
    assert lock_item(dynamo, PRIMARY) is None and lock_item(dynamo, SECONDARY) is None


def test_dynamodb_force_unlock_with_the_holder_run_id_takes_the_lock(
        tmp_path: Path, dynamo: dict[str, Any]) -> None:
    cfg = config(tmp_path, lock_table=TABLE)
    plant(dynamo, "dead-run", expires_in=600)

    trace, outcome = second_run(tmp_path, cfg, Request(
        command="failover", to="secondary", force_unlock="another-run"))
    assert_refused(outcome, trace, "dead-run")

    trace, outcome = second_run(tmp_path, cfg, Request(
        command="failover", to="secondary", force_unlock="dead-run"))

    assert isinstance(outcome, Result) and outcome.outcome == "succeeded"
    assert trace.keys("start") == ["second"]


def test_dynamodb_lost_other_region_does_not_block_the_lock(
        tmp_path: Path, dynamo: dict[str, Any], regionfront: Any) -> None:
    cfg = config(tmp_path, lock_table=TABLE)
    regionfront.outage(PRIMARY)

    with Holder(tmp_path, cfg, inspect=lambda: {
            r: lock_item(dynamo, r) for r in (PRIMARY, SECONDARY)}) as holder:
        trace, outcome = second_run(tmp_path, cfg)

    # Locked in the destination region; the lost region was skipped, not waited on...
    assert holder.seen[SECONDARY]["holder"]["S"] == holder.run_id
    assert holder.seen[PRIMARY] is None
    # ...and the lock there still keeps a second run out.
    assert_refused(outcome, trace, holder.run_id)
    result = holder.finished()
    assert result.outcome == "succeeded" and result.exit_code == 0
    assert lock_item(dynamo, SECONDARY) is None


class Crash(BaseException):
    """Stands in for a SIGKILL: nothing in the engine catches it, no run.finished is
    journaled."""


def test_dynamodb_resume_of_a_crashed_run_takes_its_own_lock_back(
        tmp_path: Path, dynamo: dict[str, Any]) -> None:
    cfg = config(tmp_path, lock_table=TABLE)
    crashed: dict[str, str] = {}
    trace = Trace()

    def crash(ctx: StepContext) -> None:
        if "run_id" not in crashed:
            crashed["run_id"] = ctx.run.run_id
            raise Crash

    book = runbook([Spec("a", trace), Spec("b", trace, needs=("a",), apply=crash)])
    with pytest.raises(Crash):
        runner(tmp_path, book, cfg=cfg).run(FAILOVER)
    # The dead run's lock item, its lease still running (a SIGKILL never releases it),
    # left by a process of this host that has exited.
    plant(dynamo, crashed["run_id"], expires_in=600, host=socket.gethostname(),
          pid=dead_pid())

    trace_other, outcome = second_run(tmp_path, cfg)
    assert_refused(outcome, trace_other, crashed["run_id"])

    result = runner(tmp_path, book, cfg=cfg).run(
        Request(command="failover", to="secondary", resume=crashed["run_id"]))

    assert result.outcome == "succeeded" and result.report["run_id"] == crashed["run_id"]
    assert trace.keys("start") == ["a", "b", "b"]
    assert lock_item(dynamo, PRIMARY) is None and lock_item(dynamo, SECONDARY) is None


def test_dynamodb_resume_beside_its_live_original_is_refused(
        tmp_path: Path, dynamo: dict[str, Any]) -> None:
    """`--resume RID` while RID still runs (its process alive) would make two processes run
    one run: refused, whether the original runs on this host or on another one."""
    cfg = config(tmp_path, lock_table=TABLE)
    with Holder(tmp_path, cfg) as holder:
        assert holder.run_id
        trace, outcome = second_run(tmp_path, cfg, Request(
            command="failover", to="secondary", resume=holder.run_id))
        refused = assert_refused(outcome, trace, holder.run_id)
        assert "alive on this host" in str(refused)
    plant(dynamo, "elsewhere-run", expires_in=600, host="other-host")
    trace, outcome = second_run(tmp_path, cfg)
    assert_refused(outcome, trace, "elsewhere-run")


def test_dynamodb_a_run_that_lost_its_lock_sends_no_further_mutating_call(
        tmp_path: Path, dynamo: dict[str, Any], regionfront: Any) -> None:
    """Another run took the lock (--force-unlock): at its next renewal the first run learns
    it, stops waiting, and the mutating call it was about to make is never sent."""
    cfg = config(tmp_path, lock_table=TABLE)
    taken = threading.Event()
    sent_after: dict[str, Any] = {}

    def wait_until_taken(ctx: StepContext) -> None:
        # The other run takes the lock: its item now names another token.
        for client in dynamo.values():
            client.put_item(TableName=TABLE, Item={
                **LOCK_ID, "holder": {"S": "taker-run"}, "token": {"S": "taker"},
                "expires_at": {"N": str(int(time.time()) + 600)},
                "host": {"S": "other-host"}, "pid": {"N": "1"}})
        taken.set()
        ctx.wait("the lock to be renewed and found lost", lambda: None)

    def mutate(ctx: StepContext) -> None:
        assert taken.wait(WAIT)
        assert ctx.waiter.abort.wait(WAIT), "the renewal never found the lock lost"
        before = regionfront.status()["operations"].get("sns:CreateTopic", 0)
        try:
            ctx.aws.client("sns", SECONDARY).create_topic(Name="after-the-lock-was-lost")
        finally:
            sent_after["count"] = regionfront.status()["operations"].get(
                "sns:CreateTopic", 0) - before

    book = runbook([Spec("waits", Trace(), apply=wait_until_taken),
                    Spec("mutates", Trace(), needs=(), apply=mutate)])
    cfg = replace(cfg, lock=Lock(TABLE, lease_seconds=3))
    result = runner(tmp_path, book, cfg=cfg).run(FAILOVER)

    assert taken.is_set()
    assert result.outcome == "failed"
    by_id = {s["id"]: s for s in result.report["steps"]}
    assert "lock lost" in (by_id[step_id("waits")]["error"] or "")
    assert "lost" in (by_id[step_id("mutates")]["error"] or "")
    assert sent_after == {"count": 0}
    # The taker's item is untouched by the loser's release.
    assert lock_item(dynamo, SECONDARY)["holder"]["S"] == "taker-run"


def test_dr_failover_exits_5_naming_the_holder(tmp_path: Path) -> None:
    # The command an operator types, in the directory where the holder keeps its lock.
    (tmp_path / "dr.yaml").write_text(
        "version: 1\napp: engine\nenvironment: test\n"
        f"regions: {{primary: {PRIMARY}, secondary: {SECONDARY}}}\n"
        "targets: {rto_seconds: 900, rpo_seconds: 60}\n")
    with Holder(tmp_path, config(tmp_path)) as holder:
        done = subprocess.run(
            [sys.executable, "-c", "from dr.cli.main import run; run()",
             "failover", "--to", "secondary", "--yes"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 5, (done.stdout, done.stderr)
    assert holder.run_id and holder.run_id in done.stderr
    assert f"--force-unlock {holder.run_id}" in done.stderr
    assert "Traceback" not in done.stderr
    assert holder.finished().outcome == "succeeded"
