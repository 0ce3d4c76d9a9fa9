"""dr.yaml into the typed model: the contract's example, immutability, defaults, heartbeat
variants, and where the file is looked for."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from dr import config
from dr.config.model import (
    Config,
    Database,
    Distribution,
    DnsRecord,
    Gameday,
    HealthCheck,
    Heartbeat,
    Lock,
    Notify,
    Parameter,
    Regions,
    Service,
    Sided,
    Targets,
)
from dr.errors import ConfigError, UsageError
from tests.support.contract import CONTRACT_YAML

MINIMAL = """\
version: 1
app: timeline
environment: staging
regions: {primary: us-east-1, secondary: us-west-2}
targets: {rto_seconds: 900, rpo_seconds: 60}
"""

CONTRACT_MODEL = Config(
    version=1,
    app="timeline",
    environment="staging",
    regions=Regions("us-east-1", "us-west-2"),
    targets=Targets(rto_seconds=900, rpo_seconds=60),
    databases=(Database("main", "timeline-main", "timeline-main-dr"),),
    dns=(DnsRecord("Z0123456789ABC", "api.timeline.example.com", "CNAME", 60,
                   "api.use1.timeline.example.net", "api.usw2.timeline.example.net"),),
    cdn=(Distribution("E2ABCDEFGHIJK", "api", "alb.use1.timeline.example.net",
                      "alb.usw2.timeline.example.net"),),
    services=(Service("timeline", "api", active_count=4, standby_count=1),),
    parameters=(Parameter("/timeline/staging/db_host",
                          "timeline-main.abc.us-east-1.rds.amazonaws.com",
                          "timeline-main-dr.abc.us-west-2.rds.amazonaws.com"),),
    health=(HealthCheck("api", "https://api.use1.timeline.example.net/health",
                        "https://api.usw2.timeline.example.net/health", expect_status=200),),
    notify=Notify(Sided("arn:aws:sns:us-east-1:123456789012:dr-events",
                        "arn:aws:sns:us-west-2:123456789012:dr-events")),
    lock=Lock("dr-locks"),
    gameday=Gameday("timeline-dr-reports-usw2", ("timeline-api-5xx",)),
)


def with_database(extra: str) -> str:
    return MINIMAL + "databases:\n  - name: main\n    primary: timeline-main\n" \
                     "    secondary: timeline-main-dr\n" + extra


def test_contract_example_parses_into_the_typed_model() -> None:
    parsed = config.parse(CONTRACT_YAML, "dr.yaml")

    assert parsed == CONTRACT_MODEL
    assert parsed.source == "dr.yaml"
    assert parsed.lock_key == "timeline/staging"
    assert parsed.regions.of("secondary") == "us-west-2"
    assert parsed.dns[0].side("primary") == "api.use1.timeline.example.net"
    assert parsed.notify is not None
    assert parsed.notify.sns_topic_arn.side("secondary").startswith("arn:aws:sns:us-west-2:")
    assert config.other("primary") == "secondary" and config.other("secondary") == "primary"


@pytest.mark.parametrize("assign", [
    lambda c: setattr(c, "app", "other"),
    lambda c: setattr(c.regions, "primary", "eu-west-1"),
    lambda c: setattr(c.targets, "rto_seconds", 1),
    lambda c: setattr(c.databases[0], "secondary", "other"),
    lambda c: setattr(c.dns[0], "ttl", 0),
    lambda c: setattr(c.notify.sns_topic_arn, "primary", "arn:x"),
], ids=["config", "regions", "targets", "database", "dns-record", "sided"])
def test_model_is_immutable(assign: Callable[[Config], None]) -> None:
    parsed = config.parse(CONTRACT_YAML)

    with pytest.raises(dataclasses.FrozenInstanceError):
        assign(parsed)

    assert parsed == CONTRACT_MODEL


def test_model_lists_are_tuples() -> None:
    parsed = config.parse(CONTRACT_YAML)

    with pytest.raises(TypeError):
        parsed.databases[0] = parsed.databases[0]  # type: ignore[index]
    assert parsed.gameday is not None and isinstance(parsed.gameday.stop_alarms, tuple)


def test_defaults_of_optional_keys() -> None:
    parsed = config.parse(MINIMAL + """\
services: [{cluster: timeline, service: api, active_count: 2, standby_count: 0}]
health:
  - {name: api, primary: "http://a.example/health", secondary: "http://b.example/health"}
lock: {dynamodb_table: dr-locks}
""")

    assert parsed.health[0] == HealthCheck("api", "http://a.example/health",
                                           "http://b.example/health", expect_status=200,
                                           consecutive=3, interval_seconds=0.5,
                                           timeout_seconds=2.0)
    assert parsed.services[0].min_running_fraction == 1.0
    assert parsed.lock == Lock("dr-locks", lease_seconds=120)
    assert (parsed.databases, parsed.dns, parsed.cdn, parsed.parameters) == ((), (), (), ())
    assert (parsed.notify, parsed.gameday) == (None, None)


def test_empty_lists_are_allowed() -> None:
    parsed = config.parse(MINIMAL + "databases: []\ndns: []\ncdn: []\nservices: []\n"
                                    "parameters: []\nhealth: []\n")

    assert parsed == config.parse(MINIMAL)


def test_heartbeat_with_dsn() -> None:
    parsed = config.parse(with_database("""\
    heartbeat:
      table: dr_heartbeat
      dsn: {primary: "host=127.0.0.1 port=5432", secondary: "host=127.0.0.1 port=5433"}
"""))

    assert parsed.databases[0].heartbeat == Heartbeat(
        "dr_heartbeat", dsn=Sided("host=127.0.0.1 port=5432", "host=127.0.0.1 port=5433"))


def test_heartbeat_with_secret() -> None:
    parsed = config.parse(with_database("""\
    heartbeat:
      table: dr_heartbeat
      secret:
        primary: arn:aws:secretsmanager:us-east-1:123456789012:secret:timeline-dr-hb
        secondary: arn:aws:secretsmanager:us-west-2:123456789012:secret:timeline-dr-hb
"""))

    heartbeat = parsed.databases[0].heartbeat
    assert heartbeat is not None and heartbeat.dsn is None
    assert heartbeat.secret == Sided(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:timeline-dr-hb",
        "arn:aws:secretsmanager:us-west-2:123456789012:secret:timeline-dr-hb")


def test_default_path_is_dr_yaml_when_dr_config_is_unset(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.delenv("DR_CONFIG", raising=False)
    assert config.default_path() == "dr.yaml"


@pytest.mark.parametrize("value", ["", "  "])
def test_dr_config_set_but_empty_is_an_error(value: str, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    """An unset shell variable passed on must not silently pick up whatever ./dr.yaml is."""
    monkeypatch.setenv("DR_CONFIG", value)
    with pytest.raises(UsageError, match="DR_CONFIG is set but empty"):
        config.default_path()


def test_dr_config_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "staging.yaml"
    path.write_text(CONTRACT_YAML)
    monkeypatch.setenv("DR_CONFIG", str(path))

    assert config.default_path() == str(path)
    loaded = config.load(config.default_path())
    assert loaded == CONTRACT_MODEL and loaded.source == str(path)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        config.parse(MINIMAL.replace("us-west-2", "us-east-1") + "colour: red\n", "x.yaml")

    assert raised.value.problems == ["colour: unknown key",
                                     "regions.secondary: must differ from regions.primary"]
    assert str(raised.value).startswith("x.yaml: ")


def test_yaml_merge_keys_share_values_between_entries() -> None:
    parsed = config.parse(MINIMAL + """\
health:
  - &check {name: api, primary: "http://a.example/h", secondary: "http://b.example/h",
            expect_status: 204}
  - <<: *check
    name: web
""")

    assert [(h.name, h.expect_status) for h in parsed.health] == [("api", 204), ("web", 204)]


def test_parameter_names_differing_in_case_are_distinct() -> None:
    """SSM parameter names are case-sensitive, so these are two parameters, not a duplicate."""
    parsed = config.parse(MINIMAL + """\
parameters:
  - {name: /timeline/db_host, primary: a, secondary: b}
  - {name: /Timeline/db_host, primary: c, secondary: d}
""")

    assert len(parsed.parameters) == 2


def test_two_entries_missing_the_same_field_are_not_called_duplicates() -> None:
    with pytest.raises(ConfigError) as raised:
        config.parse(MINIMAL + "databases: [{primary: a, secondary: b}, {primary: c, "
                               "secondary: d}]\n")

    assert raised.value.problems == ["databases[0].name: required", "databases[1].name: required"]
