"""A region loss on the real data plane: lag, true loss, heartbeat RPO, health, recovery.

Each delay runs one scenario (build the pair, write, lose the primary region, promote,
switch the parameter, start a task that reads it) whose measurements the tests below check.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from dr import heartbeat
from dr.lab.regional_app import RegionalApp
from dr.lab.replication import PostgresPair
from dr.lab.writer import LossReport, Writer

from .conftest import needs_postgres

pytestmark = needs_postgres

# The first commits after the link gets its delay arrive `delay` later; then the
# standby needs a moment of steady writes before its lag is representative.
_SETTLE_S = 1.0


@dataclass
class Scenario:
    delay: float
    lag_samples: list[float] = field(default_factory=list)
    health_before: dict[str, int] = field(default_factory=dict)
    health_after_loss: dict[str, int] = field(default_factory=dict)
    health_on_standby: dict[str, int] = field(default_factory=dict)
    health_after_promotion: dict[str, int] = field(default_factory=dict)
    health_after_switch: dict[str, int] = field(default_factory=dict)
    health_after_new_task: dict[str, int] = field(default_factory=dict)
    incident_at: datetime | None = None
    promote_seconds: float = 0.0
    loss: LossReport | None = None
    newest_heartbeat: datetime | None = None


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def run_scenario(delay: float) -> Scenario:
    scenario = Scenario(delay)
    with PostgresPair(wan_delay=delay) as pair:
        databases = {"db.primary": pair.primary_dsn, "db.secondary": pair.standby_dsn}
        # The SSM parameters, as the lab's emulator would hold them.
        parameter = {"primary": "db.primary", "secondary": "db.primary"}
        apps = {
            region: RegionalApp(region, lambda r=region: parameter[r], databases.get)
            for region in ("primary", "secondary")
        }
        with apps["primary"], apps["secondary"], Writer(pair.primary_dsn) as writer:
            for region, app in apps.items():
                app.task_started(f"{region}-1")
            time.sleep(delay + _SETTLE_S)
            for _ in range(10):
                lag = pair.replication_lag_seconds()
                assert lag is not None
                scenario.lag_samples.append(lag)
                time.sleep(0.1)
            scenario.health_before = {r: status_of(a.health_url) for r, a in apps.items()}

            scenario.incident_at = pair.lose_primary_region()
            apps["primary"].stop()
            writer.stop()
            secondary = apps["secondary"]
            scenario.health_after_loss = {"secondary": status_of(secondary.health_url)}
            # A task started after the switch reads it: the standby is still read-only.
            parameter["secondary"] = "db.secondary"
            secondary.task_started("secondary-2")
            secondary.task_leaving("secondary-1")
            scenario.health_on_standby = {"secondary": status_of(secondary.health_url)}
            parameter["secondary"] = "db.primary"
            secondary.task_started("secondary-3")
            secondary.task_leaving("secondary-2")

            started = time.monotonic()
            pair.promote_standby()
            scenario.promote_seconds = time.monotonic() - started
            scenario.health_after_promotion = {"secondary": status_of(apps["secondary"].health_url)}
            scenario.loss = writer.true_loss(pair.standby_dsn, scenario.incident_at)
            newest = heartbeat.newest(pair.standby_dsn, writer.heartbeat_table)
            scenario.newest_heartbeat = newest.writer_at if newest else None

            # The switch alone changes nothing for a running task; a new task reads it.
            parameter["secondary"] = "db.secondary"
            scenario.health_after_switch = {"secondary": status_of(secondary.health_url)}
            secondary.task_started("secondary-4")
            secondary.task_leaving("secondary-3")
            scenario.health_after_new_task = {"secondary": status_of(secondary.health_url)}
    return scenario


@pytest.fixture(scope="module", params=[0.0, 2.0], ids=["delay0", "delay2"])
def scenario(request: pytest.FixtureRequest) -> Iterator[Scenario]:
    yield run_scenario(request.param)


def test_standby_trails_by_the_wan_delay(scenario: Scenario) -> None:
    for lag in scenario.lag_samples:
        assert scenario.delay - 0.05 <= lag <= scenario.delay + 0.3, scenario.lag_samples


def test_true_loss_is_the_wan_delay(scenario: Scenario) -> None:
    loss = scenario.loss
    assert loss is not None and loss.acknowledged > 0
    if scenario.delay == 0:
        assert loss.missing == 0
        assert loss.window_seconds == 0
    else:
        assert loss.missing > 0
        assert abs(loss.window_seconds - scenario.delay) <= 0.3, loss


def test_heartbeat_rpo_agrees_with_true_loss(scenario: Scenario) -> None:
    assert scenario.incident_at is not None and scenario.newest_heartbeat is not None
    assert scenario.loss is not None
    rpo = (scenario.incident_at - scenario.newest_heartbeat).total_seconds()
    assert abs(rpo - scenario.loss.window_seconds) <= 0.5, (rpo, scenario.loss)


def test_health_needs_a_promoted_database_and_a_task_that_read_the_parameter(
        scenario: Scenario) -> None:
    # Before the loss, both regions' parameters name the primary database.
    assert scenario.health_before == {"primary": 200, "secondary": 200}
    assert scenario.health_after_loss == {"secondary": 503}
    # The parameter switched, but the standby is still read-only.
    assert scenario.health_on_standby == {"secondary": 503}
    # Promoted, but the running task's parameter names the lost primary.
    assert scenario.health_after_promotion == {"secondary": 503}
    # Switched, but the running task read the parameter before.
    assert scenario.health_after_switch == {"secondary": 503}
    assert scenario.health_after_new_task == {"secondary": 200}


def test_promotion_is_quick(scenario: Scenario) -> None:
    # Well under PostgreSQL's default wal_retrieve_retry_interval (5 s), which the lab sets
    # to 200 ms; the margin is for a loaded machine.
    assert scenario.promote_seconds < 3
