"""The IAM policy against what dr really sends: real runs against the emulator, every AWS
operation recorded at botocore's `before-call` (so nothing the gateway or the lock sends past
the steps' own bookkeeping is missed).

- every operation a run sends is an action of the policy for that runbook and config (and of
  the checked-in policy);
- every action of the policy is sent by some run here, or is in JUSTIFIED with the reason.

Runs: failover, `dr reprotect` (finding the active side), failback, with a heartbeat database
whose DSN is a Secrets Manager secret and an ElastiCache global datastore; and a failover
under the DynamoDB lock (first refused by a dead run's lock, then forcing it, long enough to
renew its lease), after which every step that can roll back is rolled back; a game day (a
drill that reads its stop alarm and publishes its report, metrics and summary); and a cache's
failover with the primary region lost (run twice), then its re-protection once the region
answers again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from dr import config as dr_config
from dr import iam, runbooks
from dr.aws.gateway import CallLog, Gateway
from dr.config.model import Config
from dr.errors import LockHeld
from dr.gameday import run_gameday
from dr.lab.arc import ArcCluster
from dr.lab.emulator import Emulator
from dr.lab.estate import Shape, provision
from dr.lab.regionfront import RegionFront
from dr.lab.replication import PostgresPair
from dr.runbook.context import RunInfo, StepContext
from dr.runbook.run import Request, Result, Runner
from dr.runbook.waiting import PollPolicy, RtoBudget, Waiter
from dr.steps import sns
from tests.support.lab_aws import LabAws
from tests.support.timeouts import LEFT_REGION

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
# botocore service name -> IAM service prefix, for the services dr calls.
IAM_PREFIX = {"rds": "rds", "ec2": "ec2", "route53": "route53", "cloudfront": "cloudfront",
              "ecs": "ecs", "ssm": "ssm", "cloudwatch": "cloudwatch", "sns": "sns",
              "dynamodb": "dynamodb", "secretsmanager": "secretsmanager", "s3": "s3",
              "route53-recovery-cluster": "route53-recovery-cluster",
              "elasticache": "elasticache"}
FAST = PollPolicy(floor=0.05, cap=0.2)

# Actions a runbook is granted that it may send no operation for, each with the reason.
JUSTIFIED = {
    "ec2:CreateTags": "authorizes the TagSpecifications of ec2:CreateSecurityGroup (the fence "
                      "group is tagged on creation); IAM checks it, no CreateTags call is sent",
    "rds:AddTagsToResource": "authorizes the Tags of rds:CreateDBInstanceReadReplica "
                             "(reprotect tags the replica it creates); no call is sent",
    "dynamodb:Query": "a --resume on a machine that lacks the run's journal reads it from the "
                      "shared journal (tests/engine/test_shared_journal.py sends it)",
    "rds:DescribeEvents": "only a switchover resumed after it asked for a reboot sends it "
                          "(tests/steps/test_switchover.py, test_shared_journal.py)",
    "elasticache:AddTagsToResource": "authorizes the Tags of elasticache:CreateReplicationGroup "
                                     "(reprotect tags the member it creates); no call is sent "
                                     "there (the failover's detach sends it)",
}


class Recorder:
    """A session factory whose sessions note every operation their clients send."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self._lock = threading.Lock()

    def _note(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        with self._lock:
            self.sent.add(f"{IAM_PREFIX.get(service, '?' + service)}:{model.name}")

    def session(self) -> Any:
        session = boto3.session.Session()
        session.events.register("before-call", self._note)
        return session

    def take(self) -> set[str]:
        with self._lock:
            taken, self.sent = self.sent, set()
        return taken


@dataclass
class Scenario:
    config: Config
    runbooks: tuple[str, ...]  # whose policy must allow what it sent
    sent: set[str]
    counted: set[str]  # what the steps' own call logs counted, as IAM actions
    whole_run: bool = True  # False: steps called alone, without the run's lock or notices


@contextmanager
def health_endpoint() -> Iterator[str]:
    """An HTTP health URL that answers 200."""

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()


def estate(tmp_path: Path, app: str, *, heartbeat_dsn: str | None = None,
           edit: Callable[[dict[str, Any]], None] | None = None, shape: Shape | None = None,
           **kwargs: Any) -> Config:
    session = boto3.session.Session()
    built = provision(session, primary=PRIMARY, secondary=SECONDARY, shape=shape or Shape(),
                      app=app,
                      **kwargs)
    for db in built.config["databases"] if heartbeat_dsn is not None else ():
        db["heartbeat"] = {"table": "dr_heartbeat", "secret": {
            role: session.client("secretsmanager", region_name=region).create_secret(
                Name=f"{app}-{db['name']}-heartbeat", SecretString=heartbeat_dsn)["ARN"]
            for role, region in (("primary", PRIMARY), ("secondary", SECONDARY))}}
    if edit:
        edit(built.config)
    path = tmp_path / f"{app}.yaml"
    path.write_text(yaml.safe_dump(built.config, sort_keys=False))
    return dr_config.load(path)


def run(config: Config, recorder: Recorder, tmp_path: Path, runbook: str | tuple[str, ...],
        command: str, to: str, **request: Any) -> Scenario:
    runner = Runner(config, planner=runbooks.phases, notifier=sns.publish,
                    session_factory=recorder.session, poll=FAST, state_dir=tmp_path / ".dr",
                    impatient=LEFT_REGION)
    result = runner.run(Request(command=command, to=to, **request))  # type: ignore[arg-type]
    assert result.outcome == "succeeded", json.dumps(result.report, indent=1, default=str)
    runbooks_ = (runbook,) if isinstance(runbook, str) else runbook
    return Scenario(config, runbooks_, recorder.take(), counted(result))


def counted(result: Result) -> set[str]:
    return {f"{IAM_PREFIX[op.split(':')[0]]}:{op.split(':')[1]}"
            for step in result.report["steps"] for op in step["detail"].get("aws_calls", {})}


def roll_back_everything(config: Config, recorder: Recorder) -> set[str]:
    """Every step of the failover that can roll back, rolled back in reverse order, as the
    engine would after a failure further on."""
    gateway = Gateway(dry_run=False, patient_regions=frozenset({PRIMARY, SECONDARY}),
                      session_factory=recorder.session)
    book = runbooks.failover(config, "secondary")
    info = RunInfo(run_id="2026-01-01T00-00-00Z-0000", command="failover",
                   incident_start=None, accept_data_loss=False, dry_run=False)
    waiter = Waiter(FAST, RtoBudget(time.time(), config.targets.rto_seconds), dry_run=False)
    rolled = set()
    for node in reversed(book.order()):
        if node.step.can_roll_back():
            deadline = time.monotonic() + 60
            node.step.rollback(StepContext(
                config=config, direction=node.step.direction, run=info,
                aws=gateway.for_step(deadline, CallLog()), waiter=waiter, step_id=node.id,
                deadline=deadline))
            rolled.add(node.step.name)
    assert rolled == {"rds.fence-primary", "ecs.scale-up", "ecs.scale-down",
                      "ssm.put-parameter"}
    return recorder.take()


def slow_enough_to_renew_the_lease(config: dict[str, Any]) -> None:
    """The shortest lease dr.yaml allows, renewed every third of it, and health checks
    that take longer than that to pass; and a shared journal, put record by record."""
    config["lock"]["lease_seconds"] = 10
    config["health"][0].update(consecutive=12, interval_seconds=0.5)
    for region in (PRIMARY, SECONDARY):
        boto3.client("dynamodb", region_name=region).create_table(
            TableName="dr-journal", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "run", "KeyType": "HASH"},
                       {"AttributeName": "seq", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "run", "AttributeType": "S"},
                                  {"AttributeName": "seq", "AttributeType": "N"}])
    config["journal"] = {"dynamodb_table": "dr-journal"}


def hold_the_lock(config: Config, holder: str) -> None:
    """The lock item of a run that died holding it, in the destination region."""
    assert config.lock is not None
    boto3.client("dynamodb", region_name=SECONDARY).put_item(
        TableName=config.lock.dynamodb_table,
        Item={"LockID": {"S": f"dr/{config.lock_key}"}, "holder": {"S": holder},
              "expires_at": {"N": str(int(time.time()) + 3600)}})


def with_routing_controls(cluster: ArcCluster) -> Callable[[dict[str, Any]], None]:
    """A failover record driven by ARC routing controls, set through the lab's cluster."""
    panel = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b"
    controls = {"primary": f"{panel}/routingcontrol/aa11",
                "secondary": f"{panel}/routingcontrol/bb22"}
    for role, arn in controls.items():
        cluster.add_control(arn, role, "On" if role == "primary" else "Off", panel)

    def edit(config: dict[str, Any]) -> None:
        record = dict(config["dns"][0], name="www." + config["dns"][0]["name"].split(".", 1)[1])
        config["dns"].append({**record, "routing_control": controls})
        config["routing_control_cluster"] = {"endpoints": cluster.endpoints}

    return edit


def all_scenarios(tmp_path: Path, emulator: Emulator) -> dict[str, Scenario]:
    recorder = Recorder()
    found: dict[str, Scenario] = {}
    with PostgresPair(wan_delay=0) as pair, ArcCluster() as cluster:
        standby = pair.standby
        secret = json.dumps({"host": "127.0.0.1", "port": standby.port,
                             "username": "postgres", "password": "unused",
                             "dbname": "postgres"})
        config = estate(tmp_path, "timeline", heartbeat_dsn=secret,
                        edit=with_routing_controls(cluster), shape=Shape(caches=1))
        found["failover"] = run(config, recorder, tmp_path, "failover", "failover",
                                "secondary")
        found["reprotect"] = run(config, recorder, tmp_path, "reprotect", "reprotect",
                                 "secondary")
        found["failback"] = run(config, recorder, tmp_path, "failback", "failover", "primary")
    emulator.reset()  # two estates would share the lab's fixed names
    with health_endpoint() as url:
        locked = estate(tmp_path, "locked", lock_table="dr-locks", health={"api": (url, url)},
                        edit=slow_enough_to_renew_the_lease)
        hold_the_lock(locked, "2026-01-01T00-00-00Z-dead")
        with pytest.raises(LockHeld):
            run(locked, recorder, tmp_path, "failover", "failover", "secondary")
        found["locked failover"] = run(locked, recorder, tmp_path, "failover", "failover",
                                       "secondary", force_unlock="2026-01-01T00-00-00Z-dead")
    # The failback has the same step types, so the same rollbacks; a game day stopped by an
    # alarm sends them (dr.runbook.rollback).
    found["rollbacks"] = Scenario(locked, ("failover", "failback", "gameday"),
                                  roll_back_everything(locked, recorder), set(), whole_run=False)
    emulator.reset()
    found["gameday"] = gameday(tmp_path, recorder)
    emulator.reset()
    found.update(cache_region_lost(tmp_path, recorder, emulator))
    return found


@contextmanager
def endpoint(url: str) -> Iterator[None]:
    """This process's AWS endpoint (the recorder's sessions read it) is `url` meanwhile."""
    before = os.environ["AWS_ENDPOINT_URL"]
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        yield
    finally:
        os.environ["AWS_ENDPOINT_URL"] = before


def cache_region_lost(tmp_path: Path, recorder: Recorder, emulator: Emulator
                      ) -> dict[str, Scenario]:
    """A cache's member detached with the primary region lost (a rerun reads its detach tag),
    then the global datastore rebuilt by `dr reprotect` once the region answers. The failback
    is the same step type in the other direction: what these send, a failback with the
    secondary region lost sends."""
    config = estate(tmp_path, "cache", shape=Shape(databases=0, zones=0, distributions=0,
                                                   services=0, parameters=0, caches=1))
    found = {}
    with RegionFront(emulator.endpoint_url) as front, endpoint(front.url):
        front.outage(PRIMARY)
        for attempt in ("failover, primary lost", "failover again, primary lost"):
            found[attempt] = run(config, recorder, tmp_path, ("failover", "failback"),
                                 "failover", "secondary")
        front.restore(PRIMARY)
        found["reprotect after the loss"] = run(config, recorder, tmp_path, "reprotect",
                                                "reprotect", "secondary")
    return found


def gameday(tmp_path: Path, recorder: Recorder) -> Scenario:
    def with_gameday(config: dict[str, Any]) -> None:
        config["gameday"] = {"report_bucket": "gameday-reports", "stop_alarms": ["api-5xx"]}

    boto3.client("s3", region_name=SECONDARY).create_bucket(
        Bucket="gameday-reports", CreateBucketConfiguration={"LocationConstraint": SECONDARY})
    boto3.client("cloudwatch", region_name=SECONDARY).put_metric_alarm(
        AlarmName="api-5xx", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=10,
        ComparisonOperator="GreaterThanThreshold")
    with health_endpoint() as url:
        config = estate(tmp_path, "gameday", health={"api": (url, url)}, edit=with_gameday)
        result = run_gameday(config, allow_prod=False, report_dir=tmp_path / "gameday",
                             session_factory=recorder.session, state_dir=tmp_path / ".dr",
                             poll=FAST, watch_seconds=0.05)
    assert result.outcome == "succeeded", json.dumps(result.report, indent=1, default=str)
    assert not result.report["published"]["errors"], result.report["published"]
    return Scenario(config, ("gameday",), recorder.take(), counted(result))


_RECORDED: dict[str, dict[str, Scenario] | BaseException] = {}


@pytest.fixture
def recorded(aws: LabAws, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, Scenario]:
    # The runs take seconds; every test here reads the same record of them (or failure).
    if "runs" not in _RECORDED:
        try:
            _RECORDED["runs"] = all_scenarios(tmp_path_factory.mktemp("runs"), emulator)
        except Exception as exc:
            _RECORDED["runs"] = exc
            raise
    runs = _RECORDED["runs"]
    if isinstance(runs, BaseException):
        raise runs
    return runs


SCENARIOS = ["failover", "reprotect", "failback", "locked failover", "rollbacks", "gameday",
             "failover, primary lost", "failover again, primary lost",
             "reprotect after the loss"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_operation_sent_is_allowed_by_the_policy(recorded: dict[str, Scenario],
                                                       name: str) -> None:
    scenario = recorded[name]
    assert scenario.sent, "nothing recorded"
    for runbook in scenario.runbooks:
        narrowed = iam.actions(iam.policy(scenario.config, runbook))
        assert not scenario.sent - narrowed, (
            f"sent but not in `dr iam-policy --config ... --runbook {runbook}`: "
            f"{sorted(scenario.sent - narrowed)}")
    assert not scenario.sent - iam.actions(iam.policy()), "not in the checked-in policy"


def test_the_recorder_sees_at_least_what_the_steps_count(recorded: dict[str, Scenario]) -> None:
    for name, scenario in recorded.items():
        assert scenario.counted <= scenario.sent, name
        assert not {op for op in scenario.sent if op.startswith("?")}, name


def test_every_action_a_runbook_is_granted_is_sent_by_it_or_justified(
        recorded: dict[str, Scenario]) -> None:
    unsent_somewhere: set[str] = set()
    for runbook in sorted({r for s in recorded.values() for r in s.runbooks}):
        runs = [s for s in recorded.values() if runbook in s.runbooks]
        sent = set().union(*(s.sent for s in runs))
        granted = set().union(*(iam.actions(iam.policy(s.config, runbook))
                                for s in runs if s.whole_run))
        never_sent = granted - sent - set(JUSTIFIED)
        assert not never_sent, (f"`dr iam-policy --runbook {runbook}` grants what no "
                                f"{runbook} run sends: {sorted(never_sent)}")
        unsent_somewhere |= granted - sent
    everything = set().union(*(s.sent for s in recorded.values()))
    never_sent = iam.actions(iam.policy()) - everything - set(JUSTIFIED)
    assert not never_sent, f"in the policy but no run sends it: {sorted(never_sent)}"
    stale = set(JUSTIFIED) - unsent_somewhere
    assert not stale, f"sent by every runbook granted it: drop from JUSTIFIED {sorted(stale)}"
