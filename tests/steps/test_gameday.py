"""`dr gameday` against the emulator: what it publishes is read back from S3, CloudWatch and
SNS (through an SQS queue subscribed to the topic); production is refused; a stop alarm that
goes to ALARM mid-drill stops it, and what the stopped phase changed is rolled back."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dr import config as dr_config
from dr.aws.gateway import Gateway
from dr.cli.main import main
from dr.gameday import StopConditions, run_gameday
from dr.lab.regionfront import RegionFront
from dr.runbook.waiting import PollPolicy
from tests.engine.report_checks import check_report_dir
from tests.steps.conftest import World
from tests.support import end_state
from tests.support.lab_aws import LabAws

BUCKET = "timeline-dr-reports"
ALARM = "timeline-api-5xx"
FAST = PollPolicy(floor=0.05, cap=0.2)


def with_gameday(world: World, environment: str | None = None) -> str:
    """Adds the gameday section, its bucket and its alarm; returns the recovery region."""
    recovery = world.config["regions"]["secondary"]
    world.config["gameday"] = {"report_bucket": BUCKET, "stop_alarms": [ALARM]}
    if environment:
        world.config["environment"] = environment
    world.write()
    world.aws.client("s3", recovery).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": recovery})
    world.aws.client("cloudwatch", recovery).put_metric_alarm(
        AlarmName=ALARM, Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=10,
        ComparisonOperator="GreaterThanThreshold")
    return recovery


def subscribe_queue(world: World, region: str) -> str:
    sqs = world.aws.client("sqs", region)
    url = sqs.create_queue(QueueName="gameday-summary")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    world.aws.client("sns", region).subscribe(
        TopicArn=world.config["notify"]["sns_topic_arn"]["secondary"], Protocol="sqs",
        Endpoint=arn)
    return url


def messages(world: World, region: str, url: str) -> list[dict[str, Any]]:
    received = world.aws.client("sqs", region).receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(m["Body"]) for m in received.get("Messages", [])]


def statistic(world: World, region: str, name: str, *extra: dict[str, str]) -> float:
    dims = [{"Name": "App", "Value": world.config["app"]},
            {"Name": "Environment", "Value": world.config["environment"]}, *extra]
    now = datetime.now(UTC)
    points = world.aws.client("cloudwatch", region).get_metric_statistics(
        Namespace="DR", MetricName=name, Dimensions=dims, StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5), Period=60, Statistics=["Maximum"])["Datapoints"]
    assert len(points) == 1, (name, extra, points)
    return float(points[0]["Maximum"])


def test_gameday_publishes_report_metrics_and_summary(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    recovery = with_gameday(world)
    queue = subscribe_queue(world, recovery)
    out = world.path.parent / "gameday"
    code = main(["gameday", "--config", str(world.path), "--report-dir", str(out)])
    assert code == 0, capsys.readouterr().out
    local = check_report_dir(out)
    assert local["command"] == "gameday" and local["outcome"] == "succeeded"
    # The planned form: both moves were switchovers, so nothing was lost.
    assert local["rpo"]["method"] == "switchover" and local["data_lost"] == []
    assert [p["rpo"]["method"] for p in local["phases"]] == ["switchover", "none",
                                                              "switchover"]
    prefix = f"{world.config['app']}/{world.config['environment']}/{local['run_id']}/"
    assert local["published"] == {"s3": f"s3://{BUCKET}/{prefix}", "metrics": 4 + len(
        local["steps"]), "sns": world.config["notify"]["sns_topic_arn"]["secondary"],
        "errors": []}

    s3 = world.aws.client("s3", recovery)
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=prefix + "report.json")["Body"].read())
    assert {k: v for k, v in local.items() if k != "published"} == stored
    markdown = s3.get_object(Bucket=BUCKET, Key=prefix + "report.md")["Body"].read().decode()
    assert local["run_id"] in markdown and "**succeeded**" in markdown
    page = s3.get_object(Bucket=BUCKET, Key=prefix + "report.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    html = page["Body"].read().decode()
    assert local["run_id"] in html and '<span class="outcome succeeded">' in html

    names = {m["MetricName"] for m in world.aws.client("cloudwatch", recovery).list_metrics(
        Namespace="DR")["Metrics"]}
    assert names == {"DrillSucceeded", "DataLost", "RTOSeconds", "RPOSeconds", "StepSeconds"}
    assert statistic(world, recovery, "DrillSucceeded") == 1
    assert statistic(world, recovery, "DataLost") == 0
    assert statistic(world, recovery, "RTOSeconds") == pytest.approx(
        local["rto"]["measured_seconds"])
    assert statistic(world, recovery, "RPOSeconds") == pytest.approx(
        local["rpo"]["measured_seconds"])
    step = local["steps"][0]
    assert statistic(world, recovery, "StepSeconds", {"Name": "Step", "Value": step["id"]}
                     ) == pytest.approx(step["seconds"])

    # The run's own started/finished notices go to the same topic, beside the summary.
    subject = f"dr gameday {world.config['app']}/{world.config['environment']}: succeeded"
    [summary] = [b for b in messages(world, recovery, queue) if b["Subject"] == subject]
    assert local["run_id"] in summary["Message"]
    assert f"report: s3://{BUCKET}/{prefix}" in summary["Message"]


def test_a_gameday_that_may_have_lost_a_commit_fails_and_says_so(
        small_world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Its old primary stopped (it answers, but takes no session): fenced, it is a failover,
    whose RPO is the replica's lag, not a proven switchover."""
    world = small_world
    recovery = with_gameday(world)
    queue = subscribe_queue(world, recovery)
    world.aws.client("rds", world.config["regions"]["primary"]).stop_db_instance(
        DBInstanceIdentifier=world.config["databases"][0]["primary"])
    out = world.path.parent / "gameday"
    code = main(["gameday", "--no-failback", "--config", str(world.path),
                 "--report-dir", str(out)])
    said = capsys.readouterr().out
    assert code == 1
    assert "DATA LOST  phase failover: not a switchover" in said
    local = check_report_dir(out)
    assert local["outcome"] == "failed"
    assert local["rpo"]["method"] == "replica_lag"
    assert [d.split(":")[0] for d in local["data_lost"]] == ["phase failover"]
    # Every step succeeded: the failure is the data, and the report and metrics say so.
    assert {s["status"] for s in local["steps"]} == {"succeeded"}
    prefix = f"{world.config['app']}/{world.config['environment']}/{local['run_id']}/"
    markdown = world.aws.client("s3", recovery).get_object(
        Bucket=BUCKET, Key=prefix + "report.md")["Body"].read().decode()
    assert "**data lost**: phase failover" in markdown
    assert statistic(world, recovery, "DrillSucceeded") == 0
    assert statistic(world, recovery, "DataLost") == 1
    subject = f"dr gameday {world.config['app']}/{world.config['environment']}: failed"
    [summary] = [b for b in messages(world, recovery, queue) if b["Subject"] == subject]
    assert "DATA LOST: phase failover" in summary["Message"]


@pytest.mark.parametrize("environment", ["prod", "Production"])
def test_gameday_refuses_production_without_allow_prod(
        small_world: World, environment: str, capsys: pytest.CaptureFixture[str]) -> None:
    recovery = with_gameday(small_world, environment)
    code = main(["gameday", "--config", str(small_world.path)])
    assert code == 2
    assert "--allow-prod" in capsys.readouterr().err
    assert not (small_world.path.parent / ".dr").exists()
    assert "Contents" not in small_world.aws.client("s3", recovery).list_objects_v2(
        Bucket=BUCKET)
    end_state.assert_failed_over(small_world.aws, small_world.config, "primary",
                                 other_reachable=True)


def test_gameday_needs_a_report_bucket(small_world: World,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["gameday", "--config", str(small_world.path)])
    assert code == 2
    assert "gameday.report_bucket" in capsys.readouterr().err


def test_a_stop_alarm_in_alarm_mid_drill_stops_it_and_rolls_back(small_world: World) -> None:
    # No traffic switch in this estate: what a stop can undo is then the scale-up and the
    # parameters. The promotion cannot be undone, so the fence it needs stays as well.
    small_world.config["dns"] = []
    small_world.config["cdn"] = []
    recovery = with_gameday(small_world)
    # The recovery region's app never turns healthy, so the failover waits at its health
    # check until something stops it; the stop alarm fires once that check has started, when
    # every step it needs (fence, promote, scale-up, parameters) has succeeded.
    small_world.health["secondary"].status = 503
    cloudwatch = small_world.aws.client("cloudwatch", recovery)

    fired = threading.Event()

    def fire_alarm_at_health_check(record: dict[str, Any]) -> None:
        if record["event"] == "step.started" and record["type"] == "health.verify" \
                and not fired.is_set():
            fired.set()
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM",
                                       StateReason="5xx above threshold")

    config = dr_config.load(small_world.path)
    result = run_gameday(config, allow_prod=False, report_dir=Path("out"), poll=FAST,
                         watch_seconds=0.05, after_append=fire_alarm_at_health_check)
    rep = check_report_dir(Path("out"))
    assert rep == result.report
    assert result.exit_code == 1 and rep["outcome"] == "failed"
    assert ALARM in rep["stopped_by"]
    assert [p["name"] for p in rep["phases"]] == ["failover"]
    status = {s["id"]: s["status"] for s in rep["steps"]}
    health = next(s for s in rep["steps"] if s["type"] == "health.verify")
    assert health["status"] == "failed" and ALARM in health["error"]
    rolled = {s["type"] for s in rep["steps"] if s["status"] == "rolled_back"}
    assert rolled == {"ecs.scale-up", "ssm.put-parameter"}, status
    assert all("error" not in s["detail"]["rollback"] for s in rep["steps"]
               if s["status"] == "rolled_back")
    promote = next(s for s in rep["steps"] if s["type"] == "rds.promote-replica")
    assert promote["status"] == "succeeded"
    fence = next(s for s in rep["steps"] if s["type"] == "rds.fence-primary")
    assert fence["status"] == "succeeded"
    for kept in (promote, fence):
        assert any(f.startswith(f"{kept['id']} was not rolled back") for f in rep["follow_ups"])

    regions = small_world.config["regions"]
    for svc in small_world.config["services"]:
        assert end_state.desired(small_world.aws, regions["secondary"], svc["cluster"],
                                 svc["service"]) == svc["standby_count"]
    for param in small_world.config["parameters"]:
        assert end_state.parameter(small_world.aws, regions["secondary"],
                                   param["name"]) == param["primary"]
    journal = [json.loads(line) for line in
               (Path(".dr/runs") / rep["run_id"] / "journal.jsonl").read_text().splitlines()]
    assert {r["step"] for r in journal if r["event"] == "step.rolled_back"} == {
        s["id"] for s in rep["steps"] if s["status"] == "rolled_back"}

    # The failed drill is published too: that is what the team's alarm is for.
    assert statistic(small_world, recovery, "DrillSucceeded") == 0
    stored = small_world.aws.client("s3", recovery).get_object(
        Bucket=BUCKET, Key=rep["published"]["s3"].split("/", 3)[3] + "report.json")
    assert json.loads(stored["Body"].read())["stopped_by"] == rep["stopped_by"]


def test_a_stop_alarm_already_in_alarm_means_not_ready(
        small_world: World, capsys: pytest.CaptureFixture[str]) -> None:
    recovery = with_gameday(small_world)
    small_world.aws.client("cloudwatch", recovery).set_alarm_state(
        AlarmName=ALARM, StateValue="ALARM", StateReason="already burning")
    assert main(["gameday", "--config", str(small_world.path)]) == 3
    assert ALARM in capsys.readouterr().err
    assert not (small_world.path.parent / ".dr").exists()


def test_a_stop_alarm_that_does_not_exist_is_a_configuration_error(
        small_world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with_gameday(small_world)
    small_world.config["gameday"]["stop_alarms"] = [ALARM, "timeline-api-typo"]
    small_world.write()
    assert main(["gameday", "--config", str(small_world.path)]) == 2
    assert "gameday.stop_alarms[1]" in capsys.readouterr().err


def test_stop_alarms_are_read_in_both_regions_while_the_other_answers(
        aws: LabAws, regionfront: RegionFront) -> None:
    primary, recovery = "eu-west-1", "ap-southeast-2"
    for region, name in ((primary, "primary-5xx"), (recovery, ALARM)):
        aws.client("cloudwatch", region).put_metric_alarm(
            AlarmName=name, Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold")
    aws.client("cloudwatch", primary).set_alarm_state(
        AlarmName="primary-5xx", StateValue="ALARM", StateReason="burning")
    conditions = StopConditions((ALARM, "primary-5xx"), (recovery, primary))
    gateway = Gateway(dry_run=False, patient_regions=frozenset({recovery}))
    assert conditions.firing(gateway) == [f"primary-5xx ({primary})"]

    regionfront.outage(primary)
    assert conditions.firing(gateway) == []
    assert gateway.down_regions.keys() == {primary}
