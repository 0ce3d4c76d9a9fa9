"""The critical-path bound on small graphs: the longest chain of modelled waits that every
correct order must contain, Route 53 propagation and the TTL of replaced answers included,
whatever order the runbook itself chose."""

from __future__ import annotations

import dataclasses

import pytest

from dr import runbooks
from dr.config.model import (
    Config,
    Database,
    Distribution,
    DnsRecord,
    HealthCheck,
    Parameter,
    Regions,
    Service,
    Targets,
)
from dr.lab import timing
from dr.lab.bound import critical_path_bound
from dr.runbook.graph import Node, Runbook

REALISTIC = timing.TimingProfile("realistic")
BARE = Config(app="t", environment="e", regions=Regions("us-east-1", "us-west-2"),
              targets=Targets(900, 60))
DB = Database("main", "main", "main-dr")
RECORD = DnsRecord("Z1", "api.example.com", "CNAME", 60, "a.example.net", "b.example.net")
CDN = Distribution("E1", "api", "a.example.net", "b.example.net")
PARAMETER = Parameter("/t/e/db_host", "a", "b")
SERVICE = Service("t", "api", active_count=4, standby_count=1)
HEALTH = HealthCheck("api", "http://a/health", "http://b/health",
                     public="http://api.example.com/health")


def bound(**sections: object) -> float:
    config = dataclasses.replace(BARE, **sections)
    return critical_path_bound(runbooks.failover(config, "secondary"), REALISTIC)


@pytest.mark.parametrize(("sections", "expected"), [
    ({}, 0.0),
    ({"databases": (DB,)}, 300.0),  # the fence waits for nothing; then the promotion
    ({"dns": (RECORD,)}, 60.0 + 60),  # INSYNC, then the replaced answer's TTL
    ({"dns": (dataclasses.replace(RECORD, ttl=300),)}, 60.0 + 300),
    ({"cdn": (CDN,)}, 300.0),
    # Parameters switched, then a new deployment: the 4th of 4 new tasks at 1.75 x 60 s.
    ({"parameters": (PARAMETER,), "services": (SERVICE,)}, 105.0),
    ({"parameters": (PARAMETER,),
      "services": (dataclasses.replace(SERVICE, min_running_fraction=0.5),)}, 75.0),
    # No parameter to read: the standby task stays, 3 new ones, the 3rd at 1 + 2/3.
    ({"services": (SERVICE,)}, 100.0),
    ({"health": (HEALTH,)}, 0.0),
    ({"databases": (DB,), "dns": (dataclasses.replace(RECORD, ttl=600),), "cdn": (CDN,),
      "parameters": (PARAMETER,), "services": (SERVICE,), "health": (HEALTH,)}, 660.0),
], ids=["empty", "database", "record", "record-ttl-300", "distribution", "new-deployment",
        "half-the-tasks", "scale-out-only", "health-only", "estate"])
def test_bound_of_small_graphs(sections: dict[str, object], expected: float) -> None:
    assert bound(**sections) == pytest.approx(expected)


def test_the_bound_does_not_depend_on_the_runbooks_order() -> None:
    config = dataclasses.replace(BARE, databases=(DB,), dns=(RECORD,), cdn=(CDN,),
                                 parameters=(PARAMETER,), services=(SERVICE,))
    book = runbooks.failover(config, "secondary")
    chained: list[Node] = []
    for node in book.order():  # every step after the one before: a slow, correct order
        chained.append(Node(node.step, frozenset({chained[-1].id}) if chained else frozenset()))
    serial = Runbook("serial", book.direction, tuple(chained))
    assert critical_path_bound(serial, REALISTIC) == critical_path_bound(book, REALISTIC) == 300


def test_the_bound_follows_the_time_scale() -> None:
    config = dataclasses.replace(BARE, databases=(DB,), cdn=(CDN,))
    book = runbooks.failover(config, "secondary")
    assert critical_path_bound(book, timing.TimingProfile("realistic", 0.05)) == 15.0
    assert critical_path_bound(book, timing.INSTANT) == 0.0
