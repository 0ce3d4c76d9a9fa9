"""The lab's edge (DNS, Route 53 health checkers, CloudFront edge) against the emulator, with
the realistic timings on a clock the test moves, and small HTTP apps that say which region
they are."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dr.lab.edge import Edge
from dr.lab.timing import INSTANT, TimingProfile
from tests.support.lab_aws import LabAws

REALISTIC = TimingProfile("realistic")


class RegionApp:
    """An HTTP server on `address` whose every path answers `status` with its region."""

    def __init__(self, region: str, address: str, port: int = 0) -> None:
        self.region = region
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = json.dumps({"region": owner.region, "host": self.headers["Host"]})
                self.send_response(owner.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer((address, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def edge(aws: LabAws) -> Iterator[Edge]:
    with Edge(INSTANT, edge_address="127.0.0.20") as running:
        yield running


@pytest.fixture
def apps() -> Iterator[dict[str, RegionApp]]:
    first = RegionApp("eu-west-1", "127.0.0.11")
    second = RegionApp("eu-central-1", "127.0.0.12", first.port)
    yield {"primary": first, "secondary": second}
    first.close()
    second.close()


def zone(aws: LabAws, name: str, records: list[dict[str, Any]]) -> str:
    """A public hosted zone holding `records` (ResourceRecordSets); its id."""
    route53 = aws.client("route53")
    created = route53.create_hosted_zone(Name=name, CallerReference=f"test-{name}")
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    if records:
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": r} for r in records]})
    return zone_id


def cname(name: str, value: str, ttl: int = 60) -> dict[str, Any]:
    return {"Name": name, "Type": "CNAME", "TTL": ttl, "ResourceRecords": [{"Value": value}]}


def a_record(name: str, address: str, ttl: int = 60) -> dict[str, Any]:
    return {"Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": address}]}
