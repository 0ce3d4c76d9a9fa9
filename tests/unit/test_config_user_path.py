"""dr.yaml's user's path keys (contract 1.1): `health[].public` and `health[].region_key`."""

from __future__ import annotations

import pytest

from dr import config
from dr.errors import ConfigError

BASE = """\
version: 1
app: timeline
environment: staging
regions: {primary: us-east-1, secondary: us-west-2}
targets: {rto_seconds: 900, rpo_seconds: 60}
health:
  - name: api
    primary: https://api.use1.timeline.example.net/health
    secondary: https://api.usw2.timeline.example.net/health
"""


def test_public_and_region_key_are_read() -> None:
    parsed = config.parse(BASE + "    public: https://api.timeline.example.com/health\n"
                                 "    region_key: region\n")
    [check] = parsed.health
    assert (check.public, check.region_key) == ("https://api.timeline.example.com/health",
                                                "region")


def test_without_them_a_version_1_file_reads_as_before() -> None:
    [check] = config.parse(BASE).health
    assert check.public is None and check.region_key is None


@pytest.mark.parametrize(("extra", "problem"), [
    ("    public: api.timeline.example.com\n",
     "health[0].public: must be an http:// or https:// URL"),
    ("    region_key: ''\n", "health[0].region_key: must not be empty"),
])
def test_a_bad_value_names_its_key(extra: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        config.parse(BASE + extra)
    assert problem in error.value.problems
