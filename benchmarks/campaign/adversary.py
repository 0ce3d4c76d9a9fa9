"""adversary: what broke when the lab was attacked (issue 12), as standing cases. Each drives
the `dr` console script and is judged from outside: the emulator's state, the region front's
count of forwarded operations, the files dr wrote, and its exit code; never from dr's own
report alone.

heartbeat-leak      a heartbeat DSN whose password libpq echoes (`%ZZ`): the failover still
                    reaches the end state, and the password is in no output (stdout, stderr,
                    journal, reports, the SNS message read back through SQS)
heartbeat-command   `dr heartbeat` with that DSN: exit 2, no traceback, no password
other-estate        an interrupted run resumed under another dr.yaml: exit 2, nothing sent
crash-in-promotion  SIGKILL while RDS promotes: the resume finishes, each promotion sent once
resume-beside       `--resume RID` while RID still runs (DynamoDB lock): exit 5; the original
                    finishes; each promotion sent once
lock-taken          another run takes the DynamoDB lock during the promotion wait: the run
                    ends failed (lock lost), no parameter, DNS or CDN change is sent
two-directories     two failovers from two working directories at once: one acts, one exit 5
bad-input           future/zoneless/date-only incident starts, an unwritable --report-dir,
                    DR_CONFIG='', an alias bomb, a 16 MiB dr.yaml, `--resume ..`, five kinds
                    of malformed journal, a drill in production: exit 2, nothing forwarded
dry-run-notify      `dr plan` sends no SNS notification
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import common

from campaign.world import World

PASSWORD = "Super%ZZSecret123"
PROMOTE = "rds:PromoteReadReplica"
LOCK_TABLE = "dr-locks"
ANY_RUN_ID = "2026-11-28T10-00-00Z-beef"


def _dr(world: World, directory: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.Popen[str]:
    return subprocess.Popen([common.dr_executable(), *args, "--log-format", "json"],
                            cwd=directory, env={**world.env, "DR_LOCK_DIR": str(
                                world.work / "locks"), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def _ops(world: World) -> dict[str, int]:
    return dict(world.front.status()["operations"])


def _forwarded(world: World) -> int:
    return int(world.front.status()["forwarded"])


def _slow(scale: float) -> None:
    from dr.lab import fidelity
    from dr.lab.timing import TimingProfile

    fidelity.set_profile(TimingProfile("realistic", scale))


def _journal(directory: Path) -> list[dict[str, Any]]:
    found = list((directory / ".dr" / "runs").glob("*/journal.jsonl"))
    return [json.loads(line) for line in found[0].read_text().splitlines()
            if line.endswith("}")] if found else []


def _until(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _replica_status(world: World) -> str:
    import boto3

    db = world.config["databases"][0]
    rds = boto3.client("rds", region_name=world.config["regions"]["secondary"],
                       endpoint_url=world.emulator.endpoint_url)
    return str(rds.describe_db_instances(DBInstanceIdentifier=db["secondary"])[
        "DBInstances"][0]["DBInstanceStatus"])


def _with_leaky_heartbeat(world: World) -> None:
    import yaml

    dsn = f"postgresql://timeline:{PASSWORD}@127.0.0.1:9/timeline"
    world.config["databases"][0]["heartbeat"] = {"table": "dr_heartbeat",
                                                 "dsn": {"primary": dsn, "secondary": dsn}}
    assert world.config_path is not None
    world.config_path.write_text(yaml.safe_dump(world.config, sort_keys=False))


def heartbeat_leak(world: World) -> list[str]:
    import boto3

    directory = world.provision("adv-heartbeat-leak")
    _with_leaky_heartbeat(world)
    secondary = world.config["regions"]["secondary"]
    sqs = boto3.client("sqs", region_name=secondary, endpoint_url=world.emulator.endpoint_url)
    url = sqs.create_queue(QueueName="adversary")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    boto3.client("sns", region_name=secondary, endpoint_url=world.emulator.endpoint_url
                 ).subscribe(TopicArn=world.config["notify"]["sns_topic_arn"]["secondary"],
                             Protocol="sqs", Endpoint=arn)
    code, said = _finish(_dr(world, directory, "failover", "--to", "secondary", "--yes",
                             "--config", str(world.config_path)))
    problems = [] if code == 0 else [f"exit {code}: {said[-300:]}"]
    wrong = world.end_state("secondary")
    if wrong:
        problems.append(wrong)
    notes = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    texts = {"stdout+stderr": said, "sns": json.dumps(notes)}
    for path in (directory / ".dr").rglob("*"):
        if path.is_file():
            texts[str(path.relative_to(directory))] = path.read_text(errors="replace")
    problems += [f"the password is in {name}" for name, text in texts.items()
                 if PASSWORD in text]
    return problems


def heartbeat_command(world: World) -> list[str]:
    directory = world.provision("adv-heartbeat-command")
    _with_leaky_heartbeat(world)
    code, said = _finish(_dr(world, directory, "heartbeat", "--side", "primary", "--duration",
                             "1", "--config", str(world.config_path)))
    problems = [] if code == 2 else [f"exit {code}, not 2"]
    if PASSWORD in said:
        problems.append("the password is in its output")
    if "Traceback" in said:
        problems.append("a traceback")
    return problems


def _interrupted_run(world: World, directory: Path) -> str:
    running = _dr(world, directory, "failover", "--to", "secondary", "--yes",
                  "--config", str(world.config_path))
    _until(lambda: any(r["event"] == "step.finished" for r in _journal(directory)))
    running.send_signal(signal.SIGINT)
    _finish(running)
    return str(_journal(directory)[0]["run_id"])


def other_estate(world: World) -> list[str]:
    import yaml

    directory = world.provision("adv-other-estate")
    _slow(0.01)
    run_id = _interrupted_run(world, directory)
    world.config["dns"][0]["secondary"] = "api.elsewhere.example.net"
    other = directory / "other.yaml"
    other.write_text(yaml.safe_dump(world.config, sort_keys=False))
    before = _forwarded(world)
    code, said = _finish(_dr(world, directory, "failover", "--resume", run_id, "--yes",
                             "--config", str(other)))
    problems = [] if code == 2 else [f"exit {code}, not 2"]
    if "dns[0].secondary" not in said:
        problems.append("the differing key is not named")
    if _forwarded(world) != before:
        problems.append(f"{_forwarded(world) - before} requests forwarded")
    return problems


def crash_in_promotion(world: World) -> list[str]:
    directory = world.provision("adv-crash-in-promotion")
    _slow(0.01)
    before = _ops(world).get(PROMOTE, 0)
    running = _dr(world, directory, "failover", "--to", "secondary", "--yes",
                  "--config", str(world.config_path))
    if not _until(lambda: _replica_status(world) == "modifying"):
        running.kill()
        return ["never saw the promotion under way"]
    running.kill()
    _finish(running)
    run_id = str(_journal(directory)[0]["run_id"])
    code, said = _finish(_dr(world, directory, "failover", "--resume", run_id, "--yes",
                             "--config", str(world.config_path)))
    problems = [] if code == 0 else [f"resume exit {code}: {said[-300:]}"]
    wrong = world.end_state("secondary")
    if wrong:
        problems.append(wrong)
    sent = _ops(world).get(PROMOTE, 0) - before
    if sent != len(world.config["databases"]):
        problems.append(f"{sent} promotions sent for {len(world.config['databases'])} databases")
    return problems


def resume_beside(world: World) -> list[str]:
    directory = world.provision("adv-resume-beside", lock_table=LOCK_TABLE)
    _slow(0.02)
    before = _ops(world).get(PROMOTE, 0)
    original = _dr(world, directory, "failover", "--to", "secondary", "--yes",
                   "--config", str(world.config_path))
    _until(lambda: any(r["event"] == "step.started" for r in _journal(directory)))
    run_id = str(_journal(directory)[0]["run_id"])
    code, said = _finish(_dr(world, directory, "failover", "--resume", run_id, "--yes",
                             "--config", str(world.config_path)))
    problems = [] if code == 5 else [f"the second process exited {code}, not 5"]
    first, said = _finish(original)
    if first != 0:
        problems.append(f"the original exited {first}: {said[-300:]}")
    sent = _ops(world).get(PROMOTE, 0) - before
    if sent != len(world.config["databases"]):
        problems.append(f"{sent} promotions sent for {len(world.config['databases'])} databases")
    return problems


def lock_taken(world: World) -> list[str]:
    """Judged from the moment the run says it lost the lock (its `lock.lost` event, read as
    it is written): from then on the region front must forward no mutating operation of
    it but the lock's own and the run's closing notification."""
    import threading

    import boto3
    import yaml

    from campaign.signals import mutating

    directory = world.provision("adv-lock-taken", lock_table=LOCK_TABLE)
    world.config["lock"]["lease_seconds"] = 10
    assert world.config_path is not None
    world.config_path.write_text(yaml.safe_dump(world.config, sort_keys=False))
    _slow(0.05)  # a 15 s promotion: the renewal (every 3.3 s) finds the loss inside it
    running = _dr(world, directory, "failover", "--to", "secondary", "--yes",
                  "--config", str(world.config_path))
    lines: list[str] = []
    at_loss: dict[str, Any] = {}

    def read() -> None:
        assert running.stderr is not None
        for line in running.stderr:
            lines.append(line)
            if '"lock.lost"' in line and not at_loss:
                at_loss.update(mutating(_ops(world)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not _until(lambda: _replica_status(world) == "modifying"):
        running.kill()
        return ["never saw the promotion under way"]
    key = f"dr/{world.config['app']}/{world.config['environment']}"
    for region in world.config["regions"].values():
        boto3.client("dynamodb", region_name=region, endpoint_url=world.emulator.endpoint_url
                     ).put_item(TableName=LOCK_TABLE, Item={
                         "LockID": {"S": key}, "holder": {"S": "taker"},
                         "token": {"S": "taker"}, "host": {"S": "elsewhere"},
                         "pid": {"N": "1"}, "expires_at": {"N": str(int(time.time()) + 600)}})
    running.wait(timeout=300)
    reader.join(timeout=30)
    problems = [] if running.returncode == 1 else [f"exit {running.returncode}, not 1"]
    if not at_loss:
        return problems + ["the run never reported the lock lost"]
    after = mutating(_ops(world))
    sent = {op: after[op] - at_loss.get(op, 0) for op in after if after[op] != at_loss.get(op, 0)}
    if sent:
        problems.append(f"sent after the lock was lost: {sent}")
    return problems


def two_directories(world: World) -> list[str]:
    world.provision("adv-two-directories")
    _slow(0.02)
    before = _ops(world).get(PROMOTE, 0)
    operators = []
    for name in ("alice", "bob"):
        home = world.work / "adv-two-directories" / name
        home.mkdir()
        operators.append(_dr(world, home, "failover", "--to", "secondary", "--yes",
                             "--config", str(world.config_path)))
    codes = sorted(_finish(p)[0] for p in operators)
    problems = [] if codes == [0, 5] else [f"exit codes {codes}, not [0, 5]"]
    sent = _ops(world).get(PROMOTE, 0) - before
    if sent != len(world.config["databases"]):
        problems.append(f"{sent} promotions sent for {len(world.config['databases'])} databases")
    return problems


def _malformed_journals() -> list[bytes]:
    started = json.dumps({"event": "run.started", "at": "2026-11-28T10:00:00Z",
                          "run_id": ANY_RUN_ID, "command": "failover", "to": "secondary"})
    return [b"[1,2,3]\n[4]\n", b"\x00\xff binary\n",
            b'{"event": "run.started", "at": "2026-11-28T10:00:00Z"}\n{}\n',
            started.encode() + b'\n{"event": "step.started", "at": "noon", "step": "x"}\n{}\n',
            started.encode() + b'\n{"event": "step.fini\n{"event": "run.finished", '
            b'"at": "2026-11-28T10:05:00Z", "outcome": "succeeded"}\n']


def bad_input(world: World) -> list[str]:
    from datetime import UTC, datetime, timedelta

    import yaml

    directory = world.provision("adv-bad-input")
    config = str(world.config_path)
    (directory / "a-file").write_text("")
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi",
                                                                       strict=True)]
    (directory / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    (directory / "big.yaml").write_text(world.config_path.read_text()
                                        + ("#" + "x" * 1023 + "\n") * 16384)
    prod = directory / "prod.yaml"
    prod.write_text(yaml.safe_dump({**world.config, "environment": "prod"}, sort_keys=False))
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    failover = ["failover", "--to", "secondary", "--yes", "--config", config]
    cases: list[tuple[str, list[str], dict[str, str]]] = [
        ("future incident", [*failover, "--incident-start", future], {}),
        ("zoneless incident", [*failover, "--incident-start", "2026-11-24T21:40:00"], {}),
        ("date-only incident", [*failover, "--incident-start", "20261128"], {}),
        ("unwritable report dir", [*failover, "--report-dir", str(directory / "a-file" / "x")],
         {}),
        ("DR_CONFIG=''", ["plan", "--to", "secondary"], {"DR_CONFIG": ""}),
        ("alias bomb", ["plan", "--to", "secondary", "--config", "bomb.yaml"], {}),
        ("16 MiB dr.yaml", ["plan", "--to", "secondary", "--config", "big.yaml"], {}),
        ("--resume ..", ["failover", "--resume", "..", "--yes", "--config", config], {}),
        ("drill in prod", ["drill", "--yes", "--config", str(prod)], {}),
    ]
    for n, text in enumerate(_malformed_journals()):
        run_dir = directory / f"journal-{n}" / ".dr" / "runs" / ANY_RUN_ID
        run_dir.mkdir(parents=True)
        (run_dir / "journal.jsonl").write_bytes(text)
        cases.append((f"malformed journal {n}", ["failover", "--resume", ANY_RUN_ID, "--yes",
                                                  "--config", config], {"cwd": str(
                                                      run_dir.parents[2])}))
    problems = []
    for name, args, extra in cases:
        before = _forwarded(world)
        cwd = Path(extra.pop("cwd", directory))
        code, said = _finish(_dr(world, cwd, *args, env=extra), timeout=60)
        if code != 2:
            problems.append(f"{name}: exit {code}, not 2")
        if "Traceback" in said:
            problems.append(f"{name}: a traceback")
        if _forwarded(world) != before:
            problems.append(f"{name}: {_forwarded(world) - before} requests forwarded")
    return problems


def dry_run_notify(world: World) -> list[str]:
    directory = world.provision("adv-dry-run-notify")
    before = _ops(world).get("sns:Publish", 0)
    code, said = _finish(_dr(world, directory, "plan", "--to", "secondary",
                             "--config", str(world.config_path)))
    problems = [] if code == 0 else [f"exit {code}: {said[-300:]}"]
    if _ops(world).get("sns:Publish", 0) != before:
        problems.append("a notification was published")
    if '"notify.sent"' in said:
        problems.append("a log line says a notification was sent")
    return problems


CASES: dict[str, Callable[[World], list[str]]] = {
    "heartbeat-leak": heartbeat_leak, "heartbeat-command": heartbeat_command,
    "other-estate": other_estate, "crash-in-promotion": crash_in_promotion,
    "resume-beside": resume_beside, "lock-taken": lock_taken,
    "two-directories": two_directories, "bad-input": bad_input,
    "dry-run-notify": dry_run_notify,
}


def campaign_adversary(world: World, quick: bool) -> dict[str, Any]:
    from dr.lab import fidelity
    from dr.lab.timing import INSTANT

    rows = []
    for name, case in CASES.items():
        started = time.perf_counter()
        try:
            problems = case(world)
        except Exception as exc:  # noqa: BLE001 - a case that crashes fails, the rest go on
            problems = [f"{type(exc).__name__}: {exc}"]
        finally:
            fidelity.set_profile(INSTANT)
        rows.append({"case": name, "passed": not problems, "problems": problems,
                     "seconds": round(time.perf_counter() - started, 1)})
        print(f"  {name}: {'PASS' if not problems else 'FAIL ' + '; '.join(problems)}"
              f" ({rows[-1]['seconds']} s)", flush=True)
    return {"tried": len(rows), "passed": sum(r["passed"] for r in rows), "rows": rows}
