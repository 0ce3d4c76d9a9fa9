"""SNS: tell people a run started and how it ended. Best effort: never fails a run."""

from __future__ import annotations

import structlog

from dr.aws.gateway import CallLog, Gateway
from dr.config.model import Config, Role
from dr.redact import scrub

IAM_ACTIONS = ("sns:Publish",)
SUBJECT_LIMIT = 100
TIMEOUT_SECONDS = 10.0

log = structlog.get_logger("dr.notify")


def publish(gateway: Gateway, config: Config, to: Role, subject: str, message: str) -> None:
    import time

    assert config.notify is not None
    topic = config.notify.sns_topic_arn.side(to)
    region = topic.split(":")[3]
    if gateway.dry_run:
        log.info("notify.planned", topic=topic)  # a dry run sends nothing, this included
        return
    aws = gateway.for_step(time.monotonic() + TIMEOUT_SECONDS, CallLog())
    try:
        aws.client("sns", region).publish(TopicArn=topic,
                                          Subject=scrub(subject)[:SUBJECT_LIMIT],
                                          Message=scrub(message))
        log.info("notify.sent", topic=topic)
    except Exception as exc:  # noqa: BLE001 - a notification must never fail the run
        log.warning("notify.failed", topic=topic, error=str(exc))
