"""The region front: real boto3 clients, through the real proxy, to a real moto server."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from dr.aws.gateway import reject_unparseable_json
from dr.lab.regionfront import RegionFront, RegionFrontControl
from tests.support.lab_aws import LabAws

DOWN, UP = "us-east-1", "us-west-2"
NO_RETRY = {"retries": {"total_max_attempts": 1}}
# A call meant to hang gives up after 1 s; one meant to answer waits long enough for moto on
# a loaded machine (four test workers on two cores), where 1 s was seen to run out.
HANGS = {**NO_RETRY, "connect_timeout": 1, "read_timeout": 1}
ANSWERS = {**NO_RETRY, "connect_timeout": 5, "read_timeout": 15}


def through(aws: LabAws, front: RegionFront) -> LabAws:
    return aws.via(front.url)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_forwards_every_service_and_region(aws: LabAws, regionfront: RegionFront) -> None:
    lab = through(aws, regionfront)
    lab.client("ssm", UP).put_parameter(Name="/timeline/db_host", Value="db.usw2", Type="String")
    assert (
        aws.client("ssm", UP).get_parameter(Name="/timeline/db_host")["Parameter"]["Value"]
        == "db.usw2"
    )
    zone = lab.client("route53").create_hosted_zone(
        Name="timeline.example.com", CallerReference="z"
    )
    assert zone["HostedZone"]["Name"] == "timeline.example.com."
    assert regionfront.status()["forwarded"] == 2


def test_outage_hangs_regional_calls_instead_of_refusing_them(
    aws: LabAws, regionfront: RegionFront
) -> None:
    lab = through(aws, regionfront)
    regionfront.outage(DOWN)
    for service, call in (
        ("rds", lambda c: c.describe_db_instances()),
        ("ecs", lambda c: c.list_clusters()),
        ("cloudwatch", lambda c: c.list_metrics()),
    ):
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            call(lab.client(service, DOWN, **HANGS))
        assert time.monotonic() - started >= 0.9, f"{service} answered or was refused"
    assert regionfront.status()["hung"] == 3


def test_outage_spares_global_services_and_other_regions(
    aws: LabAws, regionfront: RegionFront
) -> None:
    lab = through(aws, regionfront)
    regionfront.outage(DOWN)
    # Global services are signed for us-east-1 and must keep answering.
    lab.client("route53", DOWN, **ANSWERS).create_hosted_zone(
        Name="timeline.example.com", CallerReference="z"
    )
    lab.client("cloudfront", DOWN, **ANSWERS).list_distributions()
    lab.client("iam", DOWN, **ANSWERS).list_roles()
    assert lab.client("sts", DOWN, **ANSWERS).get_caller_identity()["Account"]
    assert lab.client("rds", UP, **ANSWERS).describe_db_instances()["DBInstances"] == []

    regionfront.restore(DOWN)
    assert lab.client("rds", DOWN, **ANSWERS).describe_db_instances()["DBInstances"] == []


def test_outage_reads_the_region_of_presigned_requests(
    aws: LabAws, regionfront: RegionFront
) -> None:
    lab = through(aws, regionfront)
    s3 = lab.client("s3", DOWN, s3={"addressing_style": "path"}, signature_version="s3v4")
    s3.create_bucket(Bucket="reports")
    s3.put_object(Bucket="reports", Key="r.json", Body=b"{}")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "reports", "Key": "r.json"})
    assert "X-Amz-Credential" in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"{}"

    regionfront.outage(DOWN)
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        urllib.request.urlopen(url, timeout=1)


# Each protocol's throttling code as botocore reports it, one service per wire format.
PROTOCOLS: list[tuple[str, str, Callable[[Any], Any], str]] = [
    ("query", "rds", lambda c: c.describe_db_instances(), "Throttling"),
    ("query", "sns", lambda c: c.list_topics(), "Throttling"),
    ("json", "ecs", lambda c: c.list_clusters(), "ThrottlingException"),
    ("json", "ssm", lambda c: c.describe_parameters(), "ThrottlingException"),
    ("json", "dynamodb", lambda c: c.list_tables(), "ThrottlingException"),
    ("cbor", "cloudwatch", lambda c: c.list_metrics(), "ThrottlingException"),
    ("rest-xml", "route53", lambda c: c.list_hosted_zones(), "Throttling"),
    ("rest-xml", "cloudfront", lambda c: c.list_distributions(), "Throttling"),
    ("rest-json", "scheduler", lambda c: c.list_schedules(), "ThrottlingException"),
]


@pytest.mark.parametrize(
    ("protocol", "service", "call", "throttle_code"),
    PROTOCOLS,
    ids=[f"{protocol}-{service}" for protocol, service, _, _ in PROTOCOLS],
)
def test_faults_use_each_protocols_wire_format(
    aws: LabAws,
    regionfront: RegionFront,
    protocol: str,
    service: str,
    call: Callable[[Any], Any],
    throttle_code: str,
) -> None:
    client = through(aws, regionfront).client(service, DOWN, **NO_RETRY)

    regionfront.faults(1.0, kinds=("throttle",))
    with pytest.raises(ClientError) as throttled:
        call(client)
    assert throttled.value.response["Error"]["Code"] == throttle_code
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    for kind, status in (("500", 500), ("503", 503)):
        regionfront.faults(1.0, kinds=(kind,))
        with pytest.raises(ClientError) as failed:
            call(client)
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == status

    regionfront.faults(1.0, kinds=("reset",))
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        call(client)

    regionfront.faults(0.0)
    call(client)
    assert regionfront.injected == {"throttle": 1, "500": 1, "503": 1, "reset": 1}


# The operations the front can garble: one per protocol whose requests name it.
NAMED = [(p, svc, call) for p, svc, call, _ in PROTOCOLS if p in ("query", "json", "cbor")]
OPERATION = {"rds": "DescribeDBInstances", "sns": "ListTopics", "ecs": "ListClusters",
             "ssm": "DescribeParameters", "dynamodb": "ListTables", "cloudwatch": "ListMetrics"}


@pytest.mark.parametrize(("protocol", "service", "call"), NAMED,
                         ids=[f"{protocol}-{service}" for protocol, service, _ in NAMED])
def test_malformed_answers_reach_botocore_as_unparseable(
    aws: LabAws, regionfront: RegionFront, protocol: str, service: str,
    call: Callable[[Any], Any],
) -> None:
    plain = through(aws, regionfront).client(service, UP, **NO_RETRY)
    strict = through(aws, regionfront).client(service, UP, **NO_RETRY)
    strict.meta.events.register("before-parse", reject_unparseable_json)  # as dr's gateway
    regionfront.malformed([OPERATION[service]])
    with pytest.raises(ResponseParserError):
        call(strict)
    if plain.meta.service_model.resolved_protocol == "json":
        # Why the gateway needs its hook: botocore alone reads a JSON answer cut short as an
        # empty answer, with no error.
        assert set(call(plain)) == {"ResponseMetadata"}
    else:
        with pytest.raises(ResponseParserError):
            call(plain)
    regionfront.malformed([])
    call(strict)
    assert regionfront.injected == {"malformed": 2}


def test_malformed_answers_touch_only_the_named_operation(
    aws: LabAws, regionfront: RegionFront
) -> None:
    rds = through(aws, regionfront).client("rds", UP, **NO_RETRY)
    regionfront.malformed(["DescribeDBInstances"])
    rds.describe_db_subnet_groups()
    with pytest.raises(ResponseParserError):
        rds.describe_db_instances()
    assert regionfront.status()["malformed"] == ["DescribeDBInstances"]


def test_botocore_classifies_injected_faults_as_retryable(
    aws: LabAws, regionfront: RegionFront
) -> None:
    regionfront.faults(1.0, seed=7)
    client = through(aws, regionfront).client("rds", UP, retries={"total_max_attempts": 3})
    with pytest.raises((ClientError, ConnectionClosedError)) as error:
        client.describe_db_instances()
    if isinstance(error.value, ClientError):
        assert error.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert sum(regionfront.injected.values()) == 3


def test_fault_fraction_is_respected_and_repeatable(aws: LabAws, regionfront: RegionFront) -> None:
    client = through(aws, regionfront).client("ssm", UP, **NO_RETRY)

    def failures() -> list[bool]:
        outcome = []
        for _ in range(200):
            try:
                client.describe_parameters()
                outcome.append(False)
            except (ClientError, ConnectionClosedError):
                outcome.append(True)
        return outcome

    regionfront.faults(0.2, seed=42)
    first = failures()
    regionfront.faults(0.2, seed=42)
    second = failures()
    assert first == second
    assert 25 <= sum(first) <= 55
    assert sum(regionfront.injected.values()) == 2 * sum(first)


def test_control_api_drives_the_proxy_from_another_client(
    aws: LabAws, regionfront: RegionFront
) -> None:
    control = RegionFrontControl(regionfront.url)
    regionfront.faults(1.0)  # the control path is never faulted
    assert control.outage(DOWN)["down"] == [DOWN]
    status = control.faults(0.0)
    assert status["faults"]["fraction"] == 0.0
    with pytest.raises(ReadTimeoutError):
        through(aws, regionfront).client("rds", DOWN, **HANGS).describe_db_instances()
    assert control.restore(DOWN)["down"] == []
    status = control.status()
    assert status["hung"] == 1
    assert status["injected"] == {}

    with pytest.raises(urllib.error.HTTPError) as bad:
        control.faults(1.5)
    assert bad.value.code == 400


def test_stop_releases_hanging_requests_and_the_port(aws: LabAws) -> None:
    front = RegionFront(aws.endpoint_url).start()
    url = front.url
    front.outage(DOWN)
    outcome: list[BaseException] = []

    def hang() -> None:
        client = aws.via(url).client("rds", DOWN, **NO_RETRY, read_timeout=30)
        try:
            client.describe_db_instances()
        except Exception as error:  # whatever botocore makes of the closed connection
            outcome.append(error)

    caller = threading.Thread(target=hang)
    caller.start()
    deadline = time.monotonic() + 5
    while front.status()["hung"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    front.stop()
    caller.join(timeout=5)
    assert not caller.is_alive()
    assert outcome, "the hanging call should fail once the proxy stops"
    # Released by the stop, not by its own 30 s read timeout.
    assert not isinstance(outcome[0], ReadTimeoutError), outcome
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port_of(url)), timeout=1)


def test_emulator_stop_leaves_no_listening_port() -> None:
    from dr.lab.emulator import Emulator

    with Emulator() as emulator:
        port = port_of(emulator.endpoint_url)
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_forwards_streamed_uploads_and_head_lengths(aws: LabAws, regionfront: RegionFront) -> None:
    s3 = through(aws, regionfront).client("s3", UP)
    s3.create_bucket(Bucket="dr-reports", CreateBucketConfiguration={"LocationConstraint": UP})
    report = io.BytesIO(b"{}" * 100_000)
    s3.upload_fileobj(report, "dr-reports", "run/report.json")
    assert s3.head_object(Bucket="dr-reports", Key="run/report.json")["ContentLength"] == 200_000
    body = s3.get_object(Bucket="dr-reports", Key="run/report.json")["Body"].read()
    assert body == b"{}" * 100_000


def test_subprocess_environment_reaches_aws_through_the_proxy(
    aws: LabAws, regionfront: RegionFront
) -> None:
    # What a `dr` subprocess sees: only environment variables, no explicit endpoint.
    script = (
        "import boto3; boto3.client('route53').create_hosted_zone("
        "Name='timeline.example.com', CallerReference='sub')"
    )
    env = {**os.environ, **aws.via(regionfront.url).env}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    assert regionfront.status()["forwarded"] == 1
    zones = aws.client("route53").list_hosted_zones()["HostedZones"]
    assert [z["Name"] for z in zones] == ["timeline.example.com."]
