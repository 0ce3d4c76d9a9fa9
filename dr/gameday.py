"""`dr gameday`: a drill with stop conditions, whose report is published for the team.

Stop conditions work like AWS FIS's: a watcher polls `gameday.stop_alarms` with
cloudwatch:DescribeAlarms while the drill runs, and the first alarm in ALARM aborts the run;
the stopped phase's changes that can be undone are rolled back, and the report's outcome is
`failed` with `stopped_by` naming the alarm. Alarms are read in the recovery region, where
the drill moves the application, and in the other region too while it answers (the drill
starts and ends there, and its alarms watch the same application); a region that stops
answering is not polled again, as in a run.

Before anything changes, every stop alarm must exist in one of the two regions (a misspelt
name would silently never stop anything: exit 2) and none may already be in ALARM (exit 3).

After the drill, publishing is best effort: report.json, .md and .html to S3, metrics in the
`DR` namespace and a summary on SNS, all in the recovery region. A failure to publish is
logged and listed in the report's `published.errors`; it never changes the drill's outcome
or exit code (a missing `DrillSucceeded` datapoint is what the scheduled alarm catches).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from dr import runbooks
from dr.aws.gateway import (
    GLOBAL_HOME,
    CallLog,
    Gateway,
    SessionFactory,
    default_session_factory,
)
from dr.config.model import Config, Role, other
from dr.errors import NotReady, RegionUnavailable, UsageError
from dr.runbook import report
from dr.runbook.journal import parse_iso
from dr.runbook.run import Request, Result, Runner
from dr.runbook.waiting import PollPolicy
from dr.steps import sns

# What a game day sends beyond the drill's own steps and run notifications (dr.iam grants it).
IAM_ACTIONS = ("s3:PutObject", "cloudwatch:PutMetricData", "cloudwatch:DescribeAlarms")
NAMESPACE = "DR"
WATCH_SECONDS = 5.0
CALL_SECONDS = 30.0
# The report files that go to S3, for people and for tools (junit.xml stays with the run).
PUBLISHED = {"report.json": "application/json", "report.md": "text/markdown; charset=utf-8",
             "report.html": "text/html; charset=utf-8"}
# PutMetricData takes up to 1000 metrics a call; a drill has a few dozen steps.
METRICS_PER_CALL = 500

log = structlog.get_logger("dr.gameday")


@dataclass(frozen=True)
class StopConditions:
    """The stop alarms and the regions they are read in (recovery region first)."""

    alarms: tuple[str, ...]
    regions: tuple[str, ...]

    def firing(self, gateway: Gateway) -> list[str]:
        """Alarms in ALARM now, as `name (region)`. The recovery region must answer; the
        other is read only while it does."""
        return [f"{alarm['AlarmName']} ({region})" for region, alarm in self._read(gateway)
                if alarm["StateValue"] == "ALARM"]

    def check_before(self, gateway: Gateway) -> None:
        from botocore.exceptions import ClientError

        try:
            seen = list(self._read(gateway))
        except (ClientError, RegionUnavailable) as exc:
            raise NotReady([f"gameday.stop_alarms cannot be read: {exc}"]) from exc
        found = {alarm["AlarmName"] for _, alarm in seen}
        missing = [f"gameday.stop_alarms[{i}]: no alarm named {name!r} in "
                   f"{' or '.join(self.regions)}"
                   for i, name in enumerate(self.alarms) if name not in found]
        if missing:
            raise UsageError("; ".join(missing))
        firing = [f"stop alarm {alarm['AlarmName']} ({region}) is in ALARM"
                  for region, alarm in seen if alarm["StateValue"] == "ALARM"]
        if firing:
            raise NotReady(firing)

    def _read(self, gateway: Gateway) -> Iterator[tuple[str, dict[str, Any]]]:
        aws = gateway.for_step(time.monotonic() + CALL_SECONDS, CallLog())
        for index, region in enumerate(self.regions):
            try:
                # DescribeAlarms takes at most 100 names a call.
                for start in range(0, len(self.alarms), 100):
                    for alarm in aws.client("cloudwatch", region).paginate(
                            "describe_alarms", "MetricAlarms",
                            AlarmNames=list(self.alarms[start:start + 100])):
                        yield region, alarm
            except RegionUnavailable:
                if index == 0:
                    raise


class Watcher:
    """Polls the stop conditions on a thread until stopped; the first firing aborts."""

    def __init__(self, conditions: StopConditions, gateway: Gateway,
                 on_stop: Callable[[str], bool], every: float) -> None:
        self.conditions = conditions
        self.gateway = gateway
        self.on_stop = on_stop
        self.every = every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dr-gameday-watch",
                                        daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(self.every):
            try:
                firing = self.conditions.firing(self.gateway)
            except Exception as exc:  # noqa: BLE001 - a failed poll is retried next time
                log.warning("gameday.watch_failed", error=str(exc))
                continue
            if firing:
                reason = f"stop alarm in ALARM: {', '.join(firing)}"
                if self.on_stop(reason):
                    log.warning("gameday.stopped", alarms=firing)
                    return


def report_bucket(config: Config, allow_prod: bool) -> str:
    """The report bucket, once the configuration allows a game day (else UsageError)."""
    if config.production and not allow_prod:
        raise UsageError(f"environment {config.environment!r} is production: a game day "
                         "there changes production", hint="pass --allow-prod if you mean it")
    if config.gameday is None or not config.gameday.report_bucket:
        raise UsageError("gameday.report_bucket: required by dr gameday "
                         "(the S3 bucket in the recovery region the report goes to)")
    return config.gameday.report_bucket


def run_gameday(config: Config, *, allow_prod: bool, report_dir: Path | None = None,
                to: Role = "secondary", no_failback: bool = False,
                session_factory: SessionFactory = default_session_factory,
                state_dir: Path = Path(".dr"), poll: PollPolicy | None = None,
                watch_seconds: float = WATCH_SECONDS,
                after_append: Callable[[dict[str, Any]], None] | None = None) -> Result:
    bucket = report_bucket(config, allow_prod)
    recovery = config.regions.of(to)
    gateway = Gateway(dry_run=False, patient_regions=frozenset({recovery}),
                      impatient_global=config.regions.of(other(to)) == GLOBAL_HOME,
                      session_factory=session_factory)
    assert config.gameday is not None
    conditions = StopConditions(config.gameday.stop_alarms,
                                (recovery, config.regions.of(other(to))))
    if conditions.alarms:
        conditions.check_before(gateway)
    runner = Runner(config, planner=runbooks.phases, notifier=sns.publish,
                    session_factory=session_factory, poll=poll, state_dir=state_dir,
                    after_append=after_append, roll_back_on_abort=True)

    def stop(reason: str) -> bool:
        # The runner makes its waiter once the run has started; until then the reason has
        # nowhere to go, and the next poll (the alarm still firing) delivers it.
        if runner.waiter is None:
            return False
        runner.waiter.request_abort(reason)
        return True

    request = Request(command="gameday", to=to, no_failback=no_failback, report_dir=report_dir,
                      lose_nothing=True)
    watching = Watcher(conditions, gateway, stop, watch_seconds) if conditions.alarms \
        else contextlib.nullcontext()
    with watching:
        result = runner.run(request)
    result.report["published"] = publish(gateway, config, to, bucket, result)
    report.write(result.report, result.paths[0].parent)
    return result


def publish(gateway: Gateway, config: Config, to: Role, bucket: str, result: Result
            ) -> dict[str, Any]:
    """Report to S3, metrics to CloudWatch, summary to SNS; each attempted, each failure kept."""
    region = config.regions.of(to)
    aws = gateway.for_step(time.monotonic() + 3 * CALL_SECONDS, CallLog())
    rep = result.report
    prefix = f"{config.app}/{config.environment}/{rep['run_id']}/"
    done: dict[str, Any] = {"s3": None, "metrics": 0, "sns": None, "errors": []}

    def attempt(what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - publishing never hides the drill's outcome
            log.error("gameday.publish_failed", what=what, error=str(exc))
            done["errors"].append(f"{what}: {exc}")
            return None

    def upload() -> str:
        s3 = aws.client("s3", region)
        for path in result.paths:
            if path.name in PUBLISHED:
                s3.put_object(Bucket=bucket, Key=prefix + path.name, Body=path.read_bytes(),
                              ContentType=PUBLISHED[path.name])
        return f"s3://{bucket}/{prefix}"

    def put_metrics() -> int:
        data = list(metrics(config, rep))
        for start in range(0, len(data), METRICS_PER_CALL):
            aws.client("cloudwatch", region).put_metric_data(
                Namespace=NAMESPACE, MetricData=data[start:start + METRICS_PER_CALL])
        return len(data)

    done["s3"] = attempt(f"s3://{bucket}/{prefix}", upload)
    done["metrics"] = attempt(f"cloudwatch {NAMESPACE} metrics", put_metrics) or 0
    if config.notify:
        topic = config.notify.sns_topic_arn.side(to)

        def notify() -> str:
            aws.client("sns", region).publish(
                TopicArn=topic, Subject=f"dr gameday {config.app}/{config.environment}: "
                f"{rep['outcome']}"[:sns.SUBJECT_LIMIT], Message=summary(rep, done["s3"]))
            return topic

        done["sns"] = attempt(f"sns {topic}", notify)
    log.info("gameday.published", s3=done["s3"], metrics=done["metrics"], sns=done["sns"],
             errors=len(done["errors"]))
    return done


def metrics(config: Config, rep: dict[str, Any]) -> Iterable[dict[str, Any]]:
    dims = [{"Name": "App", "Value": config.app},
            {"Name": "Environment", "Value": config.environment}]
    at = parse_iso(rep["finished_at"])

    def datum(name: str, value: float, unit: str, *extra: dict[str, str]) -> dict[str, Any]:
        return {"MetricName": name, "Dimensions": dims + list(extra), "Timestamp": at,
                "Value": float(value), "Unit": unit}

    # Exit code 0 is the only success: a drill that missed its RTO or RPO target failed it.
    yield datum("DrillSucceeded", 1 if report.EXIT_CODES[rep["outcome"]] == 0 else 0, "Count")
    # A move that was not a proven switchover: committed writes may have been lost.
    yield datum("DataLost", 1 if rep.get("data_lost") else 0, "Count")
    for name, key in (("RTOSeconds", "rto"), ("RPOSeconds", "rpo")):
        if rep[key]["measured_seconds"] is not None:
            yield datum(name, rep[key]["measured_seconds"], "Seconds")
    for step in rep["steps"]:
        if step["seconds"] is not None:
            yield datum("StepSeconds", step["seconds"], "Seconds",
                        {"Name": "Step", "Value": step["id"]})


def summary(rep: dict[str, Any], location: str | None) -> str:
    """The SNS message: what a person on the topic needs to know, and where the rest is."""
    lines = [f"dr gameday {rep['run_id']}: {rep['outcome']} "
             f"({rep['from_region']} -> {rep['to_region']})"]
    if rep.get("stopped_by"):
        lines.append(f"stopped by {rep['stopped_by']}")
    for key in ("rto", "rpo"):
        figure = rep[key]
        lines.append(f"{key.upper()}: {figure['measured_seconds']} s against "
                     f"{figure['target_seconds']} s (met: {figure['met']})")
    lines += [f"not ready: {p}" for p in rep.get("problems", [])]
    lines += [f"DATA LOST: {d}" for d in rep.get("data_lost", [])]
    lines += [f"{s['status']}: {s['id']}: {s.get('error') or ''}".rstrip(": ")
              for s in rep["steps"] if s["status"] in ("failed", "rolled_back")]
    lines += [f"follow-up: {f}" for f in rep.get("follow_ups", [])]
    lines.append(f"report: {location}" if location else "report: not published to S3")
    return "\n".join(lines) + "\n"

